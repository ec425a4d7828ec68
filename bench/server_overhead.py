"""How much the unified API server adds to a 50-record list, compared with the same SDK call
made directly against Coupa (the emulator), both over real sockets.

    python bench/server_overhead.py [--invoices 2000] [--calls 300]

The direct call is exactly what the server sends: invoices, limit 50, ordered by id, with the
invoice mapping's ``fields`` projection, parsed with orjson (the SDK's parser). The unified list
is called with two Python HTTP clients, each answer parsed with orjson too:

- httpx, the mainstream client (and the SDK's own);
- aiohttp, a leaner one: httpx costs about 1 ms more of the caller's CPU per request on this
  kind of host, which is the caller's cost, not the server's.

Each round makes the three calls in a rotating order, so drift in the host's speed hits them
alike. The server's own time per call is also read from its ``Server-Timing`` header (``app``:
from the handler's start to the encoded body, Coupa's wait excluded). The emulator's rate limit is
off and the server's Coupa budget is raised, so no measurement waits on a throttle.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable

import aiohttp
import httpx
import orjson
from _calibrate import calibration_line  # bench/ is on sys.path when a script here runs
from _servers import stack

from pycoupa.client.async_ import AsyncCoupa
from pycoupa.server import timing
from pycoupa.server.unified.registry import get_resource

SIDES = ("direct", "httpx", "aiohttp")


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p * len(ordered)))]


async def measure(emulator_url: str, server_url: str, key: str, account: str, client: tuple[str, str], calls: int
                  ) -> tuple[dict[str, list[float]], list[float], list[float]]:  # fmt: skip
    """Seconds per call for each side, and the server's own and its Coupa milliseconds (Server-Timing)."""
    source = get_resource("accounting", "invoices").sources[0]
    fields = list(source.fields)
    times: dict[str, list[float]] = {side: [] for side in SIDES}
    app_ms: list[float] = []
    coupa_ms: list[float] = []
    params = {"integrated_account_id": account, "limit": "50"}
    path = "/unified/accounting/invoices"
    auth = {"Authorization": f"Bearer {key}"}
    async with (
        AsyncCoupa(emulator_url, client_id=client[0], client_secret=client[1], scopes=["core.invoice.read"],
                   models=False, rps=10_000, burst=10_000) as coupa,
        httpx.AsyncClient(base_url=server_url, headers=auth) as hx,
        aiohttp.ClientSession(server_url, headers=auth) as aio,
    ):  # fmt: skip
        invoices = coupa.resource("invoices")

        async def direct() -> None:
            assert len(await invoices.list(limit=50, order_by="id", dir="asc", fields=fields)) == 50

        def check(status: int, body: bytes, server_timing: str) -> None:
            assert status == 200 and orjson.loads(body)["result_count"] == 50
            parsed = timing.parse(server_timing)
            app_ms.append(parsed["app"])
            coupa_ms.append(parsed["coupa"])

        async def via_httpx() -> None:
            r = await hx.get(path, params=params)
            check(r.status_code, r.content, r.headers["server-timing"])

        async def via_aiohttp() -> None:
            async with aio.get(path, params=params) as r:
                check(r.status, await r.read(), r.headers["server-timing"])

        run: dict[str, Callable[[], Awaitable[None]]] = {"direct": direct, "httpx": via_httpx, "aiohttp": via_aiohttp}
        for _ in range(20):  # warm every path (tokens, connections, caches)
            for side in SIDES:
                await run[side]()
        app_ms.clear()
        coupa_ms.clear()
        for i in range(calls):
            for side in SIDES[i % 3 :] + SIDES[: i % 3]:
                start = time.perf_counter()
                await run[side]()
                times[side].append(time.perf_counter() - start)
    return times, app_ms, coupa_ms


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--invoices", type=int, default=2000)
    parser.add_argument("--calls", type=int, default=300)
    args = parser.parse_args()
    unlimited = ("COUPA_RPS", "COUPA_BURST", "KEY_RPS", "KEY_BURST", "ACCOUNT_RPS", "ACCOUNT_BURST")
    env = {f"PYCOUPA_{name}": "100000" for name in unlimited}
    with stack(args.invoices, emulator_limit=False, server_env=env) as s:
        account = s.connect("overhead")
        client = s.oauth_client()
        times, app_ms, coupa_ms = asyncio.run(measure(s.emulator_url, s.server_url, s.key, account, client, args.calls))
    direct = times["direct"]
    md = statistics.median(direct) * 1000
    print(f"calls each: {args.calls}, invoices stored: {args.invoices}")
    print(f"direct SDK call           median {md:7.2f} ms  p90 {pct(direct, 0.9) * 1000:7.2f} ms")
    for side in SIDES[1:]:
        via = times[side]
        mv = statistics.median(via) * 1000
        # Each unified call runs next to a direct one, so the median of the rounds' differences
        # is shown too: it is less moved by the host's speed drifting during the run.
        paired = statistics.median(v - d for d, v in zip(direct, via, strict=True)) * 1000
        print(f"through the server, {side:7s} median {mv:7.2f} ms  p90 {pct(via, 0.9) * 1000:7.2f} ms"
              f"  -> adds {mv - md:5.2f} ms (paired {paired:5.2f} ms; target: at most 5 ms)")  # fmt: skip
    print(f"server's own time (Server-Timing app) median {statistics.median(app_ms):5.2f} ms"
          f"  p90 {pct(app_ms, 0.9):5.2f} ms")  # fmt: skip
    print(f"its Coupa call (Server-Timing coupa)  median {statistics.median(coupa_ms):5.2f} ms"
          f"  (the direct call: {md:5.2f} ms)")  # fmt: skip
    print(calibration_line())


if __name__ == "__main__":
    main()
