"""Load: 50 concurrent clients over 10 integrated accounts for 60 s against the unified API
server, which talks to an emulator that enforces Coupa's rate limit (25/s, burst 20).

    python bench/server_load.py [--clients 50] [--accounts 10] [--seconds 60] [--invoices 2000]

Prints the answers by status (only 200s and the server's own budget 429s are acceptable), the
latency percentiles, the emulator's 429 count (must be 0: the shared budget keeps the server
under Coupa's limit) and the server's memory sampled every 5 s (should stay flat).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import random
import time

import httpx
from _servers import rss_mb, stack  # bench/ is on sys.path when a script here runs

CALLS = [
    ("/unified/accounting/invoices", {"limit": "50"}),
    ("/unified/accounting/contacts", {"limit": "20"}),
    ("/unified/accounting/employees", {"limit": "20"}),
    ("/unified/accounting/tracking_categories", {"limit": "50"}),
    ("/unified/accounting/purchase_orders", {"limit": "50"}),
    ("/unified/user-directory/users", {"limit": "10"}),
]


async def run(server_url: str, key: str, accounts: list[str], clients: int, seconds: float, pid: int) -> None:
    statuses: collections.Counter[str] = collections.Counter()
    latencies: list[float] = []
    memory: list[float] = []
    deadline = time.monotonic() + seconds

    async def client(n: int) -> None:
        rnd = random.Random(n)
        async with httpx.AsyncClient(base_url=server_url, headers={"Authorization": f"Bearer {key}"}, timeout=120) as c:
            while time.monotonic() < deadline:
                path, params = rnd.choice(CALLS)
                start = time.perf_counter()
                try:
                    r = await c.get(path, params={**params, "integrated_account_id": accounts[n % len(accounts)]})
                    label = str(r.status_code) if r.status_code != 429 else f"429 {r.json()['details']}"
                except httpx.HTTPError as exc:
                    label = type(exc).__name__
                statuses[label] += 1
                latencies.append(time.perf_counter() - start)
                if label.startswith("429"):
                    await asyncio.sleep(float(r.headers.get("retry-after", "1")))

    async def sample() -> None:
        while time.monotonic() < deadline:
            memory.append(rss_mb(pid))
            await asyncio.sleep(5)

    started = time.monotonic()
    await asyncio.gather(sample(), *(client(n) for n in range(clients)))
    elapsed = time.monotonic() - started
    latencies.sort()
    total = sum(statuses.values())
    print(f"{clients} clients, {len(accounts)} accounts, {elapsed:.0f} s: {total} requests ({total / elapsed:.1f}/s)")
    for label, count in statuses.most_common():
        print(f"  {label}: {count}")
    for p in (0.5, 0.9, 0.99):
        print(f"  latency p{int(p * 100)}: {latencies[int(p * (len(latencies) - 1))] * 1000:.0f} ms")
    print(f"  server RSS MB every 5 s: {', '.join(f'{m:.0f}' for m in memory)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--accounts", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--invoices", type=int, default=2000)
    args = parser.parse_args()
    with stack(args.invoices, emulator_limit=True) as s:
        accounts = [s.connect(f"load-{i}") for i in range(args.accounts)]
        httpx.delete(f"{s.emulator_url}/__emulator__/stats")
        asyncio.run(run(s.server_url, s.key, accounts, args.clients, args.seconds, s.server_pid))
        stats = httpx.get(f"{s.emulator_url}/__emulator__/stats").json()
        print(f"  emulator: {stats['requests']} requests, by status {stats['by_status']}, "
              f"max in one second {stats['max_requests_in_one_second']}")  # fmt: skip


if __name__ == "__main__":
    main()
