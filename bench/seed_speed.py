"""How fast ``pycoupa.emulator.seed`` fills a fresh in-memory emulator.

    .venv/bin/python bench/seed_speed.py                  # 100,000 invoices (the target: < 2 minutes)
    .venv/bin/python bench/seed_speed.py --invoices 20000 --profile

Prints the elapsed time, records per second, peak RSS and how many records of each kind were made.
Peak RSS includes the in-memory SQLite database itself (about 1.1 GB for 100,000 invoices: some
770 MB of JSON documents, the rest indexes and page slack), so an instance that size belongs in a
file: pass ``--data FILE`` to seed a file-backed instance instead and see the generator's own
footprint.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import resource
import sqlite3
import sys
import time
from pathlib import Path

from pycoupa.emulator.app import Emulator
from pycoupa.emulator.seed import SeedCounts, seed


def peak_rss_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024  # bytes on macOS, KiB elsewhere


def split_of(emu: Emulator) -> str:
    """How much of the database is documents and how much indexes (where SQLite has dbstat)."""
    try:
        rows = emu.store.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name")
    except sqlite3.OperationalError:
        return ""
    tables = {name for (name,) in emu.store.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    in_tables = sum(size for name, size in rows if name in tables)
    in_indexes = sum(size for name, size in rows if name not in tables)
    return f"  (tables {in_tables / 1e6:,.0f} MB, indexes {in_indexes / 1e6:,.0f} MB)"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--invoices", type=int, default=100_000, help="invoices to seed (default 100000)")
    parser.add_argument("--random-seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--data", type=Path, help="seed a new SQLite file instead of memory (must not exist)")
    parser.add_argument("--profile", action="store_true", help="run under cProfile and print the hot spots")
    args = parser.parse_args(argv)
    if args.data is not None and args.data.exists():
        parser.error(f"{args.data} exists; give a new file")

    emu = Emulator(str(args.data) if args.data else None)
    counts = SeedCounts(invoices=args.invoices)
    rss_before = peak_rss_mb()
    profiler = cProfile.Profile() if args.profile else None
    start = time.perf_counter()
    if profiler:
        profiler.enable()
    made = seed(emu, counts, args.random_seed)
    if profiler:
        profiler.disable()
    elapsed = time.perf_counter() - start
    total = sum(made.values())
    pages = emu.store.execute("PRAGMA page_count")[0][0] * emu.store.execute("PRAGMA page_size")[0][0]

    print(f"seeded {args.invoices:,} invoices (random seed {args.random_seed}) into {args.data or 'memory'}")
    print(f"elapsed        {elapsed:8.1f} s")
    print(f"records        {total:>10,}  ({total / elapsed:,.0f} records/s, {args.invoices / elapsed:,.0f} invoices/s)")
    print(f"peak RSS       {peak_rss_mb():8.0f} MB  (emulator before seeding: {rss_before:.0f} MB)")
    print(f"database       {pages / 1e6:8.0f} MB{split_of(emu)}")
    print("per kind:")
    for kind, n in sorted(made.items(), key=lambda kv: -kv[1]):
        print(f"  {kind:32} {n:>10,}")
    if profiler:
        pstats.Stats(profiler).sort_stats("tottime").print_stats(20)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
