"""Client CPU of a typed full pull under two ways of ending the SDK's GC pause (issue 4, item 9).

``gc_paused`` (``pycoupa.client.models._fast``) pauses the cyclic collector while a page of
records becomes models. This compares, alternating in one process:

- ``enable``: the pause just re-enables the collector (the old way): the next young pass then
  walks the whole page's objects;
- ``promote``: the current way: ``gc.freeze(); gc.unfreeze()`` first lands them in the oldest
  generation.

The emulator runs in its own process without throttle or latency, so the client's CPU is what is
measured (process CPU time per 50-invoice page).

    .venv/bin/python bench/gc_pause_ab.py [--invoices 3000] [--rounds 8]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import statistics
import time
from collections.abc import Iterator

import httpx
from _calibrate import calibration_line  # bench/ is on sys.path when a script here runs
from client_full_pull import client, emulator

import pycoupa.client.models._fast as fast
from pycoupa.client import AsyncCoupa


@contextlib.contextmanager
def pause_then_enable() -> Iterator[None]:
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--invoices", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=8)
    args = parser.parse_args()
    variants = {"enable (old)": pause_then_enable, "promote (now)": fast.gc_paused}
    pages = -(-args.invoices // 50)
    with emulator(args.invoices) as url:
        httpx.put(f"{url}/__emulator__/rate-limit", json={"enabled": False}).raise_for_status()
        cid, secret = client(url)

        async def pull() -> int:
            n = 0
            async with AsyncCoupa(url, client_id=cid, client_secret=secret, scopes=["core.invoice.read"],
                                  rps=1000, burst=1000) as coupa:  # fmt: skip
                async for _ in coupa.invoices.iter(full_pull=True, partitions=4):
                    n += 1
            return n

        asyncio.run(pull())  # warm the emulator's caches and this process's imports
        spent: dict[str, list[float]] = {name: [] for name in variants}
        for _ in range(args.rounds):
            for name, pause in variants.items():
                fast.gc_paused = pause  # type: ignore[assignment]
                start = time.process_time()
                got = asyncio.run(pull())
                spent[name].append((time.process_time() - start) * 1000 / pages)
                assert got == args.invoices, got
    wins = sum(p < e for e, p in zip(*spent.values(), strict=True))
    for name, values in spent.items():
        print(f"{name:<14} client CPU per page: median {statistics.median(values):5.1f} ms "
              f"(range {min(values):.1f}-{max(values):.1f})")  # fmt: skip
    print(f"promote cheaper in {wins} of {args.rounds} paired rounds")
    print(calibration_line())


if __name__ == "__main__":
    main()
