"""Unified lists filled from concurrent Coupa pages: exact when nothing changes, and never skipping a
live record when one is deleted or stops matching between two page fetches."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from urllib.parse import parse_qsl

import httpx
import pytest
from tests.server.conftest import Server

INVOICES = "/unified/accounting/invoices"


class Racy(httpx.AsyncBaseTransport):
    """Holds the late Coupa pages of a list (offset above ``late_after``) until the ``early_pages``
    others have been answered, then runs ``change`` once before letting them through: Coupa's data
    moves between the early pages and the late ones."""

    def __init__(self, inner: httpx.AsyncBaseTransport, late_after: int = 0, early_pages: int = 1) -> None:
        self.inner = inner
        self.late_after = late_after
        self.early_pages = early_pages
        self.change: Callable[[], None] | None = None
        self.early_answered = 0
        self.early_done = asyncio.Event()
        self.calls: list[dict[str, str]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        query = dict(parse_qsl(request.url.query.decode()))
        listing = request.url.path == "/api/invoices"
        if listing:
            self.calls.append(query)
        late = listing and int(query.get("offset", "0")) > self.late_after
        if self.change is not None and late:
            await asyncio.wait_for(self.early_done.wait(), 10)
            if self.change is not None:
                change, self.change = self.change, None
                change()
        response = await self.inner.handle_async_request(request)
        if self.change is not None and listing and not late:
            await response.aread()
            self.early_answered += 1
            if self.early_answered == self.early_pages:
                self.early_done.set()
        return response


async def _racy(s: Server, late_after: int = 0, early_pages: int = 1) -> tuple[str, Racy]:
    racy = Racy(httpx.ASGITransport(app=s.coupa.app), late_after, early_pages)
    s.platform.pool._transport_factory = lambda _url: racy
    return await s.connect(), racy


def _invoice_ids(s: Server) -> list[int]:
    return [int(r[0]) for r in s.coupa.store.execute("SELECT id FROM r_InvoiceHeader ORDER BY id")]


def _set_status(s: Server, invoice_id: int, status: str) -> None:
    doc = s.coupa.store.get("InvoiceHeader", invoice_id)
    assert doc is not None
    s.coupa.store.update("InvoiceHeader", invoice_id, {**doc, "status": status})


async def _walk(s: Server, account: str, limit: int, cursor: str | None = None, **filters: str) -> list[int]:
    """Every id a cursor walk (from ``cursor``) returns, checking each answer's envelope on the way."""
    ids: list[int] = []
    for _ in range(500):
        params = {"integrated_account_id": account, "limit": str(limit), **filters}
        if cursor:
            params["next_cursor"] = cursor
        r = await s.http.get(INVOICES, params=params, headers=s.auth())
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["result_count"] == len(body["result"]) <= limit
        ids.extend(int(x["id"]) for x in body["result"])
        cursor = body["next_cursor"]
        if cursor is None:
            return ids
    raise AssertionError("the walk did not end")


@pytest.mark.parametrize("position", [10, 49, 60])
async def test_a_record_deleted_between_page_fetches_skips_no_live_record(server: Server, position: int) -> None:
    s = server
    account, racy = await _racy(s)
    before = _invoice_ids(s)
    gone = before[position]
    racy.change = lambda: s.coupa.store.delete("InvoiceHeader", gone)
    ids = await _walk(s, account, 100)
    assert racy.change is None  # the deletion did happen mid-call
    live = _invoice_ids(s)
    assert gone not in live
    assert len(ids) == len(set(ids)) and ids == sorted(ids)  # nothing twice, in order
    assert set(live) <= set(ids), sorted(set(live) - set(ids))  # every live record, in one call or the next
    assert set(ids) <= set(before)


async def test_a_record_deleted_before_a_later_page_boundary_skips_no_live_record(server: Server) -> None:
    """Pages 1 and 2 read, then a record in page 2 deleted, then the rest read: the third page shifts."""
    s = server
    account, racy = await _racy(s, late_after=60, early_pages=2)
    before = _invoice_ids(s)
    gone = before[60]
    racy.change = lambda: s.coupa.store.delete("InvoiceHeader", gone)
    first = await s.http.get(INVOICES, params={"integrated_account_id": account, "limit": "110"}, headers=s.auth())
    assert racy.change is None
    # Cut at the end of the second page (positions 0-98), the last one that checked out.
    ids = [int(x["id"]) for x in first.json()["result"]]
    assert ids == before[:99] and first.json()["result_count"] == 99
    ids += await _walk(s, account, 110, first.json()["next_cursor"])
    live = _invoice_ids(s)
    assert len(ids) == len(set(ids)) and ids == sorted(ids)
    assert set(live) <= set(ids), sorted(set(live) - set(ids))


async def test_a_record_that_stops_matching_mid_call_skips_no_live_record(server: Server) -> None:
    s = server
    all_ids = _invoice_ids(s)
    for invoice_id in all_ids:
        _set_status(s, invoice_id, "pending_approval")  # unified "submitted"
    account, racy = await _racy(s)
    changed = all_ids[20]
    racy.change = lambda: _set_status(s, changed, "approved")  # approved meanwhile: no longer submitted
    ids = await _walk(s, account, 100, status="submitted")
    assert racy.change is None
    assert all(c["status[in]"] for c in racy.calls)  # the filter went to Coupa
    still = [i for i in all_ids if i != changed]
    assert len(ids) == len(set(ids)) and ids == sorted(ids)
    assert set(still) <= set(ids), sorted(set(still) - set(ids))


@pytest.mark.parametrize("limit", [1, 49, 50, 51, 73, 99, 100, 101, 150, 500])
async def test_unchanged_data_is_walked_exactly(sqlite_server: Server, limit: int) -> None:
    s = sqlite_server
    account, racy = await _racy(s)
    expected = _invoice_ids(s)
    assert len(expected) == 120
    ids = await _walk(s, account, limit)
    assert ids == expected
    # Full pages until the end: each answer holds exactly ``limit`` records but the last.
    first = await s.http.get(INVOICES, params={"integrated_account_id": account, "limit": str(limit)},
                             headers=s.auth())  # fmt: skip
    assert first.json()["result_count"] == min(limit, len(expected))
    assert all(int(c["limit"]) <= 50 for c in racy.calls)  # Coupa's page ceiling


async def test_later_pages_overlap_the_previous_one_by_a_record(sqlite_server: Server) -> None:
    s = sqlite_server
    account, racy = await _racy(s)
    r = await s.http.get(INVOICES, params={"integrated_account_id": account, "limit": "120"}, headers=s.auth())
    assert r.status_code == 200 and r.json()["result_count"] == 120
    pages = sorted((int(c.get("offset", "0")), int(c["limit"])) for c in racy.calls)
    # Positions 0-49, 49-98, 98-119: each later page starts on the previous page's last record.
    assert pages == [(0, 50), (49, 50), (98, 22)]
    assert all(c["order_by"] == "id" and c["dir"] == "asc" for c in racy.calls)
    assert all("id" in json.loads(c["fields"]) for c in racy.calls)  # the projection keeps the ids to check
