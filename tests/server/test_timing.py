"""Server-Timing on unified answers: Coupa's share and pycoupa's own, told apart."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from tests.server.conftest import Server

from pycoupa.server import timing
from pycoupa.server.timing import Stopwatch

DELAY = 0.3  # seconds each Coupa request is held up


class Slow(httpx.AsyncBaseTransport):
    """Holds every request to Coupa for DELAY seconds first, as a distant instance would."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.api_requests = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.startswith("/api/"):
            self.api_requests += 1
            await asyncio.sleep(DELAY)
        return await self.inner.handle_async_request(request)


async def _slow_account(s: Server) -> tuple[str, Slow]:
    account = await s.connect()  # validated over the fast transport
    slow = Slow(httpx.ASGITransport(app=s.coupa.app))
    s.platform.pool._transport_factory = lambda _url: slow
    return account, slow


def test_parse_reads_durations_and_skips_the_rest() -> None:
    assert timing.parse("coupa;dur=17.12, app;dur=2.95") == {"coupa": 17.12, "app": 2.95}
    assert timing.parse('db;desc="x";dur="3.5",cache;desc=hit, ;dur=1, bad;dur=abc') == {"db": 3.5}
    assert timing.parse("") == {}


async def test_stopwatch_counts_coupa_time_and_the_rest_as_the_apps() -> None:
    watch = Stopwatch()
    await watch.on_coupa(asyncio.sleep(0.05))
    await asyncio.sleep(0.05)  # the app's own time
    with pytest.raises(RuntimeError):  # a failed call still counts
        await watch.on_coupa(_fail_after(0.05))
    parsed = timing.parse(watch.header())
    assert parsed.keys() == {"coupa", "app"}
    assert 100 <= parsed["coupa"] < 100 + 50
    assert 50 <= parsed["app"] < parsed["coupa"]


async def _fail_after(seconds: float) -> None:
    await asyncio.sleep(seconds)
    raise RuntimeError("Coupa failed")


async def test_a_unified_list_reports_coupa_and_app_time(sqlite_server: Server) -> None:
    s = sqlite_server
    account, slow = await _slow_account(s)
    r = await s.http.get("/unified/accounting/invoices", params={"integrated_account_id": account, "limit": "10"},
                         headers=s.auth())  # fmt: skip
    assert r.status_code == 200, r.text
    parsed = timing.parse(r.headers["server-timing"])
    assert slow.api_requests == 1
    assert parsed["coupa"] >= DELAY * 1000
    assert parsed["app"] < parsed["coupa"] - DELAY * 1000 / 2  # the wait is not charged to the app


async def test_concurrent_coupa_pages_count_once(sqlite_server: Server) -> None:
    s = sqlite_server
    account, slow = await _slow_account(s)
    r = await s.http.get("/unified/accounting/invoices", params={"integrated_account_id": account, "limit": "100"},
                         headers=s.auth())  # fmt: skip
    assert r.status_code == 200 and r.json()["result_count"] == 100
    assert slow.api_requests == 3  # pages overlapping by one record: 0-49, 49-98, 98-99
    coupa = timing.parse(r.headers["server-timing"])["coupa"]
    assert DELAY * 1000 <= coupa < 2 * DELAY * 1000  # waited for together, not one after the other


async def test_a_unified_get_reports_timing_and_an_error_does_not(sqlite_server: Server) -> None:
    s = sqlite_server
    account, _ = await _slow_account(s)
    params = {"integrated_account_id": account}
    r = await s.http.get("/unified/accounting/invoices/1", params=params, headers=s.auth())
    assert r.status_code == 200, r.text
    assert timing.parse(r.headers["server-timing"])["coupa"] >= DELAY * 1000
    missing = await s.http.get("/unified/accounting/invoices/999999", params=params, headers=s.auth())
    assert missing.status_code == 404
    assert "server-timing" not in missing.headers
