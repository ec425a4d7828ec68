"""A fixed pure-Python workload, timed, printed beside every benchmark's figures.

This machine's speed drifts with its host's load (the same code measured up to ~1.7x apart within
one day), so figures from different runs compare only next to this number: a run where it reads
0.55 s had a faster machine than one where it reads 0.90 s.
"""

from __future__ import annotations

import time


def python_loop_seconds(iterations: int = 10_000_000) -> float:
    """Best of three timings of a plain loop adding integers."""
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        total = 0
        for i in range(iterations):
            total += i
        best = min(best, time.perf_counter() - start)
    return best


def calibration_line() -> str:
    return f"calibration: a 10M-iteration Python loop takes {python_loop_seconds():.3f} s here now (lower is faster)"
