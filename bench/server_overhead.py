"""How much the unified API server adds to a 50-record list, compared with the same SDK call
made directly against Coupa (the emulator), both over real sockets.

    python bench/server_overhead.py [--invoices 2000] [--calls 300]

Both sides parse their answer with orjson (the SDK's parser). The direct call is exactly what the
server sends: invoices, limit 50, ordered by id, with the
invoice mapping's ``fields`` projection. The emulator's rate limit is off and the server's Coupa
budget is raised, so that neither measurement waits on a throttle.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time

import httpx
import orjson
from _calibrate import calibration_line  # bench/ is on sys.path when a script here runs
from _servers import stack

from pycoupa.client.async_ import AsyncCoupa
from pycoupa.server.unified.registry import get_resource


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p * len(ordered)))]


async def measure(emulator_url: str, server_url: str, key: str, account: str, client: tuple[str, str], calls: int
                  ) -> tuple[list[float], list[float]]:  # fmt: skip
    source = get_resource("accounting", "invoices").sources[0]
    direct: list[float] = []
    via: list[float] = []
    async with AsyncCoupa(emulator_url, client_id=client[0], client_secret=client[1], scopes=["core.invoice.read"],
                          models=False, rps=10_000, burst=10_000) as coupa:  # fmt: skip
        invoices = coupa.resource("invoices")
        async with httpx.AsyncClient(base_url=server_url, headers={"Authorization": f"Bearer {key}"}) as http:
            params = {"integrated_account_id": account, "limit": "50"}
            for _ in range(20):  # warm both paths (tokens, connections, caches)
                await invoices.list(limit=50, order_by="id", dir="asc", fields=list(source.fields))
                (await http.get("/unified/accounting/invoices", params=params)).raise_for_status()
            for i in range(calls):
                # Alternate, so drift in the emulator's speed hits both sides alike.
                for side in (0, 1) if i % 2 else (1, 0):
                    start = time.perf_counter()
                    if side == 0:
                        records = await invoices.list(limit=50, order_by="id", dir="asc", fields=list(source.fields))
                        assert len(records) == 50
                        direct.append(time.perf_counter() - start)
                    else:
                        r = await http.get("/unified/accounting/invoices", params=params)
                        # Parsed with orjson, as the SDK parses Coupa's page on the direct side.
                        assert r.status_code == 200 and orjson.loads(r.content)["result_count"] == 50
                        via.append(time.perf_counter() - start)
    return direct, via


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--invoices", type=int, default=2000)
    parser.add_argument("--calls", type=int, default=300)
    args = parser.parse_args()
    unlimited = ("COUPA_RPS", "COUPA_BURST", "KEY_RPS", "KEY_BURST", "ACCOUNT_RPS", "ACCOUNT_BURST")
    env = {f"PYCOUPA_{name}": "100000" for name in unlimited}
    with stack(args.invoices, emulator_limit=False, server_env=env) as s:
        account = s.connect("overhead")
        direct, via = asyncio.run(measure(s.emulator_url, s.server_url, s.key, account, s.oauth_client(), args.calls))
    md, mv = statistics.median(direct) * 1000, statistics.median(via) * 1000
    print(f"calls each: {args.calls}, invoices stored: {args.invoices}")
    print(f"direct SDK call     median {md:7.2f} ms  p90 {pct(direct, 0.9) * 1000:7.2f} ms")
    print(f"through the server  median {mv:7.2f} ms  p90 {pct(via, 0.9) * 1000:7.2f} ms")
    print(f"server adds         median {mv - md:7.2f} ms  (target: at most 5 ms)")
    # Each unified call runs next to a direct one (alternating order), so the median of the pairs'
    # differences is also shown: it is less moved by the host's speed drifting during the run.
    paired = statistics.median(v - d for d, v in zip(direct, via, strict=True)) * 1000
    print(f"  median of paired differences {paired:7.2f} ms")
    print(calibration_line())


if __name__ == "__main__":
    main()
