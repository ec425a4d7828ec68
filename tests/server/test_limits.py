"""The server's own limits (per API key, per integrated account), locally and through Redis, and
the one error shape."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis
from tests.server.conftest import Server, settings_for, start_server

from pycoupa.emulator.app import Emulator
from pycoupa.server.limits import LocalLimiter, RedisLimiter, retry_after_header
from pycoupa.server.platform import Platform
from pycoupa.server.unified.registry import RESOURCES


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


async def test_local_limiter_allows_burst_then_paces() -> None:
    clock = FakeClock()
    limiter = LocalLimiter(rps=10, burst=3, clock=clock)
    assert [await limiter.check("k") for _ in range(3)] == [0.0, 0.0, 0.0]
    wait = await limiter.check("k")
    assert 0.09 < wait <= 0.1 + 1e-9
    assert await limiter.check("other") == 0.0  # keys are independent
    clock.now += wait
    assert await limiter.check("k") == 0.0
    assert await limiter.check("k") > 0


async def test_refused_requests_reserve_nothing() -> None:
    clock = FakeClock()
    limiter = LocalLimiter(rps=1, burst=1, clock=clock)
    assert await limiter.check("k") == 0.0
    for _ in range(50):
        assert await limiter.check("k") > 0
    clock.now += 1.0
    assert await limiter.check("k") == 0.0


@pytest.fixture
async def redis_client() -> AsyncIterator[aioredis.Redis]:
    client = aioredis.Redis.from_url("redis://127.0.0.1:6379/0")
    yield client
    await client.aclose()


async def test_redis_limiter_is_shared_between_instances(redis_client: aioredis.Redis) -> None:
    prefix = f"pycoupa:test:{uuid.uuid4().hex}:"
    a = RedisLimiter(redis_client, rps=2, burst=3, prefix=prefix)
    b = RedisLimiter(redis_client, rps=2, burst=3, prefix=prefix)  # as another worker would
    results = [await (a if i % 2 else b).check("key") for i in range(5)]
    assert results[:3] == [0.0, 0.0, 0.0]
    assert all(r > 0 for r in results[3:])
    assert await a.check("another") == 0.0
    keys = await redis_client.keys(prefix + "*")
    assert keys
    for k in keys:
        assert await redis_client.pttl(k) > 0  # nothing lives forever
    await redis_client.delete(*keys)


def test_retry_after_is_whole_seconds_at_least_one() -> None:
    assert retry_after_header(0.01) == "1" and retry_after_header(2.2) == "3"


@pytest.fixture
async def tight_server(tmp_path: object, coupa: Emulator) -> AsyncIterator[Server]:
    async for s in start_server(f"sqlite:///{tmp_path}/s.db", coupa, key_rps=1.0, key_burst=3, account_rps=1.0,
                                account_burst=2):  # fmt: skip
        yield s


async def test_per_key_limit_answers_429_with_retry_after(tight_server: Server) -> None:
    s = tight_server
    answers = [await s.http.get("/keys", headers=s.auth()) for _ in range(4)]
    assert [a.status_code for a in answers[:3]] == [200, 200, 200]
    last = answers[3]
    assert last.status_code == 429 and last.headers["retry-after"] == "1"
    assert last.json() == {
        "status_code": 429,
        "error": "rate_limited",
        "message": "too many requests for this API key",
        "details": {"limit": "api_key"},
    }


async def test_per_account_limit(tight_server: Server) -> None:
    s = tight_server
    account = await s.connect()
    other = await s.connect()
    url = "/unified/accounting/currencies?integrated_account_id="
    codes = [(await s.http.get(url + account, headers=s.auth())).status_code for _ in range(2)]
    assert codes == [200, 200]
    refused = await s.http.get(url + account, headers=s.auth())
    assert refused.status_code == 429 and refused.json()["details"]["limit"] == "integrated_account"
    assert int(refused.headers["retry-after"]) >= 1
    _, second_key = await s.platform.create_key(s.tenant_id)  # this key has spent its own burst
    assert (await s.http.get(url + other, headers=s.auth(second_key))).status_code == 200  # per account


async def test_error_shape_for_unknown_routes_and_methods(sqlite_server: Server) -> None:
    s = sqlite_server
    r = await s.http.get("/nowhere", headers=s.auth())
    assert r.status_code == 404 and set(r.json()) == {"status_code", "error", "message", "details"}
    r = await s.http.put("/keys", headers=s.auth())
    assert r.status_code == 405 and r.json()["error"] == "method_not_allowed"


async def test_openapi_docs_are_served(sqlite_server: Server) -> None:
    s = sqlite_server
    spec = (await s.http.get("/openapi.json")).json()
    assert "/unified/accounting/invoices" in spec["paths"]
    assert "/integrated-accounts" in spec["paths"]
    assert (await s.http.get("/docs")).status_code == 200
    # Every filter of a unified list is a documented query parameter, beside the common ones.
    for (model, name), res in RESOURCES.items():
        declared = {p["name"] for p in spec["paths"][f"/unified/{model}/{name}"]["get"]["parameters"]}
        assert {"integrated_account_id", "limit", "next_cursor", "include_remote_data"} <= declared
        for f in res.filter_names:
            assert f in declared or any(d.startswith(f + "[") for d in declared), (name, f)
    invoices = {p["name"] for p in spec["paths"]["/unified/accounting/invoices"]["get"]["parameters"]}
    assert {"status", "status[in]", "updated_at[gt]", "contact_id[in]"} <= invoices


async def test_a_call_the_coupa_budget_would_hold_too_long_gets_429_at_once(tmp_path: object, coupa: Emulator) -> None:
    async for s in start_server(f"sqlite:///{tmp_path}/b.db", coupa, coupa_rps=1.0, coupa_burst=1,
                                coupa_max_wait=0.3):  # fmt: skip
        account = await s.connect()  # validation spends the instance's burst
        url = "/unified/accounting/currencies?integrated_account_id=" + account
        coupa.stats.reset()
        started = time.monotonic()
        answers = [await s.http.get(url, headers=s.auth()) for _ in range(3)]
        elapsed = time.monotonic() - started
        codes = [a.status_code for a in answers]
        assert 429 in codes, codes
        refused = answers[codes.index(429)]
        body = refused.json()
        assert body["error"] == "rate_limited" and body["details"]["limit"] == "coupa_budget"
        assert int(refused.headers["retry-after"]) >= 1
        assert elapsed < 2.5  # refused at once, not after queueing for the budget
        api_calls = sum(n for route, n in coupa.stats.snapshot()["by_route"].items() if "/api/" in route)
        assert api_calls == codes.count(200)  # a refused call never reached Coupa


async def test_workers_without_redis_split_every_budget(tmp_path: object) -> None:
    """Each worker process keeps its own budgets without Redis: together they must stay within them."""
    budgets = {"key_rps": 40, "key_burst": 8, "account_rps": 20, "account_burst": 4, "coupa_rps": 24, "coupa_burst": 12}
    for workers, burst_per_key, burst_per_account in ((1, 8, 4), (4, 2, 1)):
        platform = Platform(settings_for(f"sqlite:///{tmp_path}/w{workers}.db", workers=workers, **budgets))
        try:
            keys = [await platform.key_limiter.check("key") for _ in range(burst_per_key + 1)]
            assert keys.count(0.0) == burst_per_key and keys[-1] > 0
            accounts = [await platform.account_limiter.check("acct") for _ in range(burst_per_account + 1)]
            assert accounts.count(0.0) == burst_per_account and accounts[-1] > 0
            assert (platform.pool.rps, platform.pool.burst) == (24 / workers, 12 // workers)
            assert platform.pool.headroom == (12 // 2) // workers  # half the burst by default, split too
        finally:
            await platform.aclose()


async def test_workers_sharing_redis_keep_the_whole_budgets(tmp_path: object) -> None:
    settings = settings_for(f"sqlite:///{tmp_path}/r.db", workers=4, coupa_rps=24, coupa_burst=12,
                            redis_url="redis://127.0.0.1:6379/0")  # fmt: skip
    platform = Platform(settings)
    try:
        assert (platform.pool.rps, platform.pool.burst, platform.pool.headroom) == (24, 12, 6)
        assert isinstance(platform.key_limiter, RedisLimiter)
    finally:
        await platform.aclose()
