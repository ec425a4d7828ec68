"""Process settings for the emulator's server process.

Not used by the unified API server: there, under 50 concurrent clients, the frozen heap and rarer
collections let its resident memory climb steadily (126 -> 174 MB in 60 s, bench/server_load.py),
where CPython's defaults keep it flat at ~133 MB. The emulator's memory stays level with them.
"""

from __future__ import annotations

import gc


def tune_gc_for_serving() -> None:
    """Collect less often while serving.

    A request builds tens of thousands of short-lived dicts and lists (a 50-invoice page is about
    30,000 values) that reference counting frees without help; at CPython's default threshold the
    cycle collector would still run dozens of times per request, each time walking the young
    objects. Freezing what exists at startup (modules, catalog, seeded caches) takes it out of every
    later full collection too. Reference cycles are still collected, just in larger batches.
    """
    gc.freeze()
    gc.set_threshold(50_000, 10, 10)
