"""How fast the emulator serves fully expanded JSON pages of invoices (issue 3, item 8).

Seeds N invoices (1 to 10 lines each), then pulls pages of 50 filtered by ``status`` and
``updated-at[gt]`` with keyset paging (``id[gt]``), in-process through the ASGI app on one core,
and prints pages/s, ms per page, bytes per page and peak RSS. Run it at two sizes to show that the
cost of a page does not grow with the number of stored invoices:

    .venv/bin/python bench/emulator_page_speed.py --invoices 10000
    .venv/bin/python bench/emulator_page_speed.py --invoices 100000
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import tempfile
import time

import httpx
import orjson

from pycoupa.emulator.app import Emulator
from pycoupa.emulator.seed import SeedCounts, seed


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def pull(emu: Emulator, pages: int, since: str, client_id: str, secret: str) -> tuple[int, int, float, int]:
    transport = httpx.ASGITransport(app=emu.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as http:
        token = (
            await http.post(
                "/oauth2/token",
                data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret},
            )
        ).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        last_id, served, records, size = 0, 0, 0, 0
        start = time.perf_counter()
        while served < pages:
            r = await http.get(
                "/api/invoices",
                params={"status": "approved", "updated-at[gt]": since, "id[gt]": str(last_id), "limit": "50"},
                headers=headers,
            )
            r.raise_for_status()
            page = orjson.loads(r.content)  # parse fast: measure the server, not the client
            served += 1
            size += len(r.content)
            records += len(page)
            if len(page) < 50:
                break  # the filter's last page: fewer pages than asked for
            last_id = page[-1]["id"]
        elapsed = time.perf_counter() - start
    return served, records, elapsed, size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--invoices", type=int, default=100_000)
    parser.add_argument("--pages", type=int, default=300)
    parser.add_argument("--since", default="2025-01-01T00:00:00Z", help="the updated-at[gt] filter")
    parser.add_argument(
        "--memory", action="store_true", help="keep the database in memory (default: a temporary file)"
    )
    args = parser.parse_args()

    # A file-backed instance keeps the 100k-invoice database (about 1 GB) out of the process's RSS.
    tmp = tempfile.TemporaryDirectory()
    emu = Emulator(None if args.memory else f"{tmp.name}/coupa.sqlite")
    t0 = time.perf_counter()
    made = seed(emu, SeedCounts(invoices=args.invoices), random_seed=1)
    seeded = time.perf_counter() - t0
    print(f"seeded {made.get('InvoiceHeader', args.invoices):,} invoices in {seeded:.1f} s")

    # Made before measuring: any write (an OAuth client's user too) empties the render cache.
    client_id, secret = emu.create_oauth_client(["core.invoice.read"])
    emu.buckets.settings.enabled = False  # measure the emulator, not its throttle
    for label in ("cold (first time each page)", "warm (the same pages again, no write between)"):
        served, records, elapsed, size = asyncio.run(pull(emu, args.pages, args.since, client_id, secret))
        print(f"{label}: {served} pages ({records:,} invoices) in {elapsed:.2f} s")
        print(f"  pages/s: {served / elapsed:.1f}   ms/page: {1000 * elapsed / served:.2f}")
    print(f"bytes/page: {size / served:,.0f}   bytes/invoice: {size / max(records, 1):,.0f}")
    print(f"peak RSS: {rss_mb():,.0f} MB ({'in-memory' if args.memory else 'file-backed'} database)")
    tmp.cleanup()


if __name__ == "__main__":
    main()
