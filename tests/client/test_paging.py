"""The full-pull plan: partitions that cover every id exactly once in whole pages, partitions that
end without an empty page, and a pull that costs no more requests than the pages it returns."""

from __future__ import annotations

import asyncio
import itertools
from collections import Counter
from collections.abc import AsyncIterator

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pycoupa.client import AsyncCoupa, Coupa
from pycoupa.client.errors import ConfigurationError
from pycoupa.client.paging import Page, Pager, partitions
from pycoupa.emulator.app import Emulator
from pycoupa.emulator.ratelimit import RateLimitSettings
from pycoupa.emulator.seed import SeedCounts, seed
from pycoupa.emulator.server import serve_in_thread


@given(
    after=st.integers(0, 10_000),
    width=st.integers(-50, 20_000),
    count=st.integers(1, 40),
    page_size=st.integers(1, 50),
)
def test_partitions_cover_each_id_once_in_whole_pages(after: int, width: int, count: int, page_size: int) -> None:
    high = after + width
    ranges = partitions(after, high, count, page_size)
    assert 1 <= len(ranges) <= count
    assert ranges[0][0] == after and ranges[-1][1] is None  # starts after the first page, ends open
    for (_, upper), (lower, _) in itertools.pairwise(ranges):
        assert upper == lower  # contiguous: no id in two ranges, none in none
    for lower, upper in ranges[:-1]:
        assert upper is not None and lower is not None
        assert (upper - lower) % page_size == 0 and upper < high
    if len(ranges) > 1:  # every closed range is as wide as the first: the work is shared evenly
        assert len({u - lo for lo, u in ranges[:-1] if u is not None and lo is not None}) == 1


def test_partitions_examples() -> None:
    # 5,000 dense ids after a first page of 50: seven ranges of 13 full pages, then the open one.
    ranges = partitions(50, 5000, 8, 50)
    assert ranges == [(50 + 650 * k, 700 + 650 * k) for k in range(7)] + [(4600, None)]
    assert partitions(50, 50, 8) == [(50, None)]  # nothing above the first page (yet)
    assert partitions(0, 10, 8, 50) == [(0, None)]
    with pytest.raises(ConfigurationError, match="partitions must be an integer >= 1"):
        partitions(0, 10, 0)


def test_a_closed_partition_ends_on_its_upper_bound_without_an_empty_page() -> None:
    pager = Pager(base=[], page_size=2, lower=10, upper=14)
    pager.feed(Page([{"id": 11}, {"id": 12}]))
    assert not pager.done and ("id[gt]", "12") in (pager.next_pairs() or [])
    pager.feed(Page([{"id": 13}, {"id": 14}]))  # a full page, but id 14 is the bound
    assert pager.done
    open_ended = Pager(base=[], page_size=2, lower=10)
    open_ended.feed(Page([{"id": 13}, {"id": 14}]))
    assert not open_ended.done  # records created during the pull may follow


@pytest.fixture(scope="module")
def dense() -> Emulator:
    emu = Emulator()
    seed(emu, SeedCounts(invoices=1000, payments=0), random_seed=8)
    # The client runs without its limiter here, so the instance's throttle is off too: a 429 and
    # its retry would be one more request than the plan makes.
    emu.buckets.configure(RateLimitSettings(enabled=False))
    return emu


def in_process(emu: Emulator, scopes: list[str]) -> AsyncCoupa:
    """A client of ``emu`` in-process, without a limiter (the instance's throttle decides)."""
    cid, secret = emu.create_oauth_client(scopes)
    return AsyncCoupa(
        "http://127.0.0.1",
        client_id=cid,
        client_secret=secret,
        scopes=scopes,
        transport=httpx.ASGITransport(app=emu.app),
        rate_limiter=None,
    )


def _requests(emu: Emulator) -> int:
    return sum(n for route, n in emu.stats.snapshot()["by_route"].items() if "oauth2" not in route)


@pytest.mark.parametrize("partitions_count", [1, 3, 8, 25])
async def test_async_full_pull_costs_the_pages_plus_two_requests(dense: Emulator, partitions_count: int) -> None:
    total = dense.store.count("InvoiceHeader")
    async with in_process(dense, ["core.invoice.read"]) as coupa:
        await coupa.invoices.list(limit=1, fields=["id"])  # the token, before counting
        dense.stats.reset()
        counts = Counter([inv.id async for inv in coupa.invoices.iter(full_pull=True, partitions=partitions_count)])
    assert len(counts) == total and set(counts.values()) == {1}
    assert dense.stats.snapshot()["by_status"] == {"200": _requests(dense)}
    pages = -(-total // 50)
    # Every page, the highest id, and one short or empty page closing the open-ended partition;
    # ids in this instance are dense, so no closed partition needs a closing page of its own.
    assert _requests(dense) <= pages + 2, (_requests(dense), pages)


def test_sync_full_pull_costs_the_same(dense: Emulator) -> None:
    cid, secret = dense.create_oauth_client(["core.invoice.read"])
    before = dense.store.count("InvoiceHeader")
    with (
        serve_in_thread(dense) as running,
        Coupa(running.url, client_id=cid, client_secret=secret, scopes=["core.invoice.read"], rate_limiter=None) as c,
    ):
        c.invoices.list(limit=1, fields=["id"])
        dense.stats.reset()
        counts = Counter(inv.id for inv in c.invoices.iter(full_pull=True, partitions=6, fields=["id"]))
        assert len(counts) == before and set(counts.values()) == {1}
        assert _requests(dense) <= -(-before // 50) + 2


async def test_full_pull_of_nothing_and_of_one_short_page() -> None:
    emu = Emulator()
    seed(emu, SeedCounts(invoices=30, payments=0), random_seed=2)
    async with in_process(emu, ["core.invoice.read"]) as coupa:
        got = [inv.id async for inv in coupa.invoices.iter(full_pull=True, fields=["id"])]
        assert sorted(got) == sorted(set(got)) and len(got) == emu.store.count("InvoiceHeader")
        assert [inv async for inv in coupa.invoices.iter(full_pull=True, status="no-such-status")] == []
        with pytest.raises(ConfigurationError, match="partitions"):
            await _first(coupa.invoices.iter(full_pull=True, partitions=0))


async def _first(items: AsyncIterator[object]) -> object:
    async for item in items:
        return item
    return None


async def test_records_created_during_a_full_pull_are_included(dense: Emulator) -> None:
    async with in_process(dense, ["core.supplier.read", "core.supplier.write"]) as coupa:
        before = {s.id async for s in coupa.suppliers.iter()}
        assert len(before) >= 20
        seen: Counter[int] = Counter()
        created: list[int] = []
        async for supplier in coupa.suppliers.iter(full_pull=True, partitions=4, page_size=5, fields=["id"]):
            seen[supplier.id] += 1
            if not created:  # above the highest id the pull started from: the open partition's
                for n in range(3):
                    created.append((await coupa.suppliers.create(name=f"Created mid-pull {n}")).id)
        assert set(seen) == before | set(created) and set(seen.values()) == {1}
        assert min(created) > max(before)


async def test_a_full_pull_the_scopes_do_not_allow_raises_and_stops(dense: Emulator) -> None:
    from pycoupa.client.errors import PermissionDeniedError

    async with in_process(dense, ["core.supplier.read"]) as coupa:
        with pytest.raises(PermissionDeniedError, match=r"core\.invoice\.read"):
            await _first(coupa.invoices.iter(full_pull=True))
    cid, secret = dense.create_oauth_client(["core.supplier.read"])
    with (
        serve_in_thread(dense) as running,
        Coupa(running.url, client_id=cid, client_secret=secret, scopes=["core.supplier.read"], rate_limiter=None) as c,
        pytest.raises(PermissionDeniedError, match=r"core\.invoice\.read"),
    ):
        next(iter(c.invoices.iter(full_pull=True)))


def test_a_sync_full_pull_left_early_stops_its_workers(dense: Emulator) -> None:
    cid, secret = dense.create_oauth_client(["core.invoice.read"])
    with (
        serve_in_thread(dense) as running,
        Coupa(running.url, client_id=cid, client_secret=secret, scopes=["core.invoice.read"], rate_limiter=None) as c,
    ):
        c.invoices.list(limit=1, fields=["id"])
        dense.stats.reset()
        for n, _ in enumerate(c.invoices.iter(full_pull=True, partitions=4, fields=["id"])):
            if n == 60:
                break
        # The generator is closed: its workers stop after the page each has in flight.
        assert _requests(dense) < -(-dense.store.count("InvoiceHeader") // 50)


async def test_an_async_full_pull_left_early_leaves_no_worker_behind(dense: Emulator) -> None:
    """Workers blocked on a full queue when the consumer leaves must end, not wait forever."""
    async with in_process(dense, ["core.invoice.read"]) as coupa:
        pull = coupa.invoices.iter(full_pull=True, partitions=8, page_size=10, fields=["id"])
        first = await anext(pull)
        for _ in range(20):  # let the workers fill the queue (16 pages) and block on it
            await asyncio.sleep(0.01)
        await pull.aclose()
        others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        assert first is not None and others == [], others
