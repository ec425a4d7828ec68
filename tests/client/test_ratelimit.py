"""The client-side leaky bucket: exact spacing on a fake clock, adaptation to 429s, real threads,
asyncio tasks, and two "processes" sharing one budget through the real Redis server."""

from __future__ import annotations

import asyncio
import gc
import itertools
import math
import os
import random
import threading
import time
import uuid
import weakref
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from pycoupa.client import AsyncCoupa, Coupa
from pycoupa.client.config import DEFAULT_BURST, DEFAULT_RPS
from pycoupa.client.errors import ConfigurationError, RateBudgetExceededError, RateLimiterError
from pycoupa.client.ratelimit import (
    DEFAULT_BLOCK,
    RECOVERY_EVERY,
    RECOVERY_STEP,
    LocalRateLimiter,
    RateLimiter,
    RedisRateLimiter,
    instance_key,
)

REDIS_URL = os.environ.get("PYCOUPA_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


class FakeClock:
    """Seconds that only move when ``sleep`` (or a test) moves them."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@pytest.fixture
def redis_key(redis_client: redis.Redis) -> Iterator[str]:
    key = f"pycoupa:test:ratelimit:{uuid.uuid4().hex}"
    yield key
    redis_client.delete(key)


Factory = Callable[..., RateLimiter]


@pytest.fixture(params=["local", "redis"])
def make(request: pytest.FixtureRequest, redis_client: redis.Redis, redis_key: str) -> Factory:
    """Builds either limiter on a shared fake clock, so one test checks both implementations."""

    def build(clock: FakeClock, rps: float = 25.0, burst: int = 20, headroom: int | None = 0) -> RateLimiter:
        # headroom 0 by default here: these tests check the bucket's arithmetic at its edge.
        if request.param == "local":
            return LocalRateLimiter(rps, burst, headroom=headroom, clock=clock, sleep=clock.sleep)
        return RedisRateLimiter(redis_client, redis_key, rps, burst, headroom=headroom, clock=clock, sleep=clock.sleep)

    return build


# --------------------------------------------------------------------------------------------
# Spacing (fake clock, both implementations)
# --------------------------------------------------------------------------------------------


def test_burst_then_exact_spacing(make: Factory) -> None:
    clock = FakeClock()
    limiter = make(clock)
    delays = [limiter.acquire_delay() for _ in range(100)]
    assert delays[:20] == [0.0] * 20
    assert delays[20] == pytest.approx(1 / 25)
    for n, delay in enumerate(delays):  # the (n+1)th immediate call waits (n+1-burst)/rps
        assert delay == pytest.approx(max(0, n + 1 - 20) / 25, abs=1e-6)
    assert delays[-1] == pytest.approx((100 - 20) / 25)


def test_default_headroom_keeps_a_tenth_of_the_burst_unused(make: Factory) -> None:
    clock = FakeClock()
    limiter = make(clock, headroom=None)  # Coupa's 25 req/s and burst 20, as by default
    assert (limiter.burst, limiter.headroom) == (20, 2)
    delays = [limiter.acquire_delay() for _ in range(100)]
    assert delays[:18] == [0.0] * 18
    assert delays[18] == pytest.approx(1 / 25)
    assert delays[-1] == pytest.approx((100 - 18) / 25)  # the rate itself is Coupa's, not less
    assert make(FakeClock(), burst=5, headroom=None).headroom == 0  # a tenth of 5, rounded down


def _coupa_bucket_refusals(sends: list[float], latencies: list[float], rps: float, burst: int) -> int:
    """How many requests a leaky bucket at the server (Coupa's: GCRA on arrival times) refuses."""
    interval, tolerance, tat, refused = 1 / rps, (burst - 1) / rps, -math.inf, 0
    for arrival in sorted(s + lat for s, lat in zip(sends, latencies, strict=True)):
        if arrival < max(tat, arrival) - tolerance - 1e-9:
            refused += 1
            continue
        tat = max(tat, arrival) + interval
    return refused


@pytest.mark.parametrize(("headroom", "expect_refusals"), [(0, True), (2, False)])
def test_headroom_absorbs_jitter_that_bunches_requests_on_arrival(headroom: int, expect_refusals: bool) -> None:
    # Requests leave exactly on the limiter's schedule and reach Coupa 100-130 ms later. A client that
    # fills Coupa's bucket to the brim (headroom 0) is refused whenever a request travels faster than
    # the first did; two slots in reserve (80 ms at 25/s) absorb 30 ms of jitter entirely.
    rng = random.Random(7)
    clock = FakeClock()
    limiter = LocalRateLimiter(25, 20, headroom=headroom, clock=clock, sleep=clock.sleep)
    sends = []
    for _ in range(300):
        limiter.acquire()
        sends.append(clock.now)
    latencies = [0.100 + rng.uniform(0, 0.030) for _ in sends]
    assert (_coupa_bucket_refusals(sends, latencies, 25, 20) > 0) is expect_refusals


def test_acquire_sleeps_and_100_calls_take_80_intervals(make: Factory) -> None:
    clock = FakeClock()
    limiter = make(clock)
    start = clock.now
    sent = []
    for _ in range(100):
        limiter.acquire()
        sent.append(clock.now - start)
    assert clock.now - start == pytest.approx((100 - 20) / 25, abs=1e-5)
    gaps = [b - a for a, b in itertools.pairwise(sent[20:])]
    assert all(g == pytest.approx(1 / 25, abs=1e-5) for g in gaps)


def test_idle_time_refills_the_bucket(make: Factory) -> None:
    clock = FakeClock()
    limiter = make(clock, rps=10, burst=5)
    assert [limiter.acquire_delay() for _ in range(5)] == [0.0] * 5
    assert limiter.acquire_delay() == pytest.approx(0.1)
    clock.now += 10.0  # long idle: a full burst again, but never more
    assert [limiter.acquire_delay() for _ in range(5)] == [0.0] * 5
    assert limiter.acquire_delay() == pytest.approx(0.1, abs=1e-6)


# --------------------------------------------------------------------------------------------
# Adapting to 429s and recovering (fake clock, both implementations)
# --------------------------------------------------------------------------------------------


def test_throttle_halves_rate_and_blocks_everyone(make: Factory) -> None:
    clock = FakeClock()
    limiter = make(clock, rps=20, burst=5)
    for _ in range(5):
        limiter.acquire_delay()
    limiter.on_throttled(2.0)
    assert limiter.effective_rps() == pytest.approx(10.0)
    assert limiter.blocked_for() == pytest.approx(2.0)
    # Nothing goes before the block lifts, and after it the bucket restarts full: no burst,
    # one request every 1/10 s.
    delays = [limiter.acquire_delay() for _ in range(4)]
    assert delays == pytest.approx([2.0, 2.1, 2.2, 2.3], abs=1e-6)
    clock.now += 2.5
    assert limiter.blocked_for() == 0.0


def test_429_echoes_during_a_block_do_not_halve_again(make: Factory) -> None:
    clock = FakeClock()
    limiter = make(clock, rps=20, burst=5)
    limiter.on_throttled(1.0)
    clock.now += 0.2
    limiter.on_throttled(1.0)  # sent before the first 429 was seen: same episode
    assert limiter.effective_rps() == pytest.approx(10.0)
    assert limiter.blocked_for() == pytest.approx(1.0)  # extended from the later 429
    clock.now += 1.5
    limiter.on_throttled(None)  # a fresh 429 after the block: halve again, default block
    assert limiter.effective_rps() == pytest.approx(5.0)
    assert limiter.blocked_for() == pytest.approx(DEFAULT_BLOCK)


def test_rate_never_adapts_below_one_per_second(make: Factory) -> None:
    clock = FakeClock()
    limiter = make(clock, rps=25, burst=20)
    for _ in range(10):
        limiter.on_throttled(0.5)
        clock.now += 1.0
    assert limiter.effective_rps() == pytest.approx(1.0)
    slow = make(FakeClock(), rps=0.5, burst=1)
    slow.on_throttled(0.0)
    assert slow.effective_rps() == pytest.approx(0.5)  # a configured rate below the floor stays


def test_success_recovers_slowly_up_to_the_configured_rate(make: Factory) -> None:
    clock = FakeClock()
    limiter = make(clock, rps=20, burst=5)
    limiter.acquire_delay()
    limiter.on_throttled(0.0)
    limiter.acquire_delay()  # the Redis limiter learns the reduced rate from its reservations
    assert limiter.effective_rps() == pytest.approx(10.0)
    for _ in range(RECOVERY_EVERY - 1):
        limiter.on_success()
    assert limiter.effective_rps() == pytest.approx(10.0)
    limiter.on_success()
    assert limiter.effective_rps() == pytest.approx(10.0 * RECOVERY_STEP)
    for _ in range(RECOVERY_EVERY * 20):
        limiter.on_success()
    assert limiter.effective_rps() == pytest.approx(20.0)  # capped at the configured rate


def test_a_block_that_starts_while_sleeping_makes_the_caller_queue_again() -> None:
    clock = FakeClock()
    limiter = LocalRateLimiter(10, 1, clock=clock)

    def sleep(seconds: float) -> None:
        if not clock.slept:
            limiter.on_throttled(5.0)  # another caller's request got a 429 meanwhile
        clock.sleep(seconds)

    limiter._sleep = sleep
    limiter.acquire_delay()
    waited = limiter.acquire()
    assert clock.now - 1000.0 >= 5.0
    assert waited == pytest.approx(clock.now - 1000.0)


# --------------------------------------------------------------------------------------------
# Validation and keys
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rps", "burst", "name", "headroom"),
    [
        (0, 20, "rps", None),
        (-1.0, 20, "rps", None),
        (float("nan"), 20, "rps", None),
        (float("inf"), 20, "rps", None),
        ("25", 20, "rps", None),
        (True, 20, "rps", None),
        (25.0, 0, "burst", None),
        (25.0, 1.5, "burst", None),
        (25.0, 20.0, "burst", None),
        (25.0, True, "burst", None),
        (25.0, 20, "headroom", -1),
        (25.0, 20, "headroom", 20),
        (25.0, 20, "headroom", 1.5),
        (25.0, 20, "headroom", True),
    ],
)
def test_validation_names_the_argument(
    rps: object, burst: object, name: str, headroom: object, redis_client: redis.Redis, redis_key: str
) -> None:
    with pytest.raises(ValueError, match=name) as info:
        LocalRateLimiter(rps, burst, headroom=headroom)  # type: ignore[arg-type]
    assert isinstance(info.value, ConfigurationError)
    with pytest.raises(ValueError, match=name):
        RedisRateLimiter(redis_client, redis_key, rps, burst, headroom=headroom)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="key"):
        RedisRateLimiter(redis_client, "")


def test_instance_key() -> None:
    assert instance_key("https://ACME.coupahost.com/api") == "pycoupa:ratelimit:acme.coupahost.com"
    assert instance_key("acme.coupahost.com") == "pycoupa:ratelimit:acme.coupahost.com"
    assert instance_key("http://127.0.0.1:8765") == "pycoupa:ratelimit:127.0.0.1:8765"


# --------------------------------------------------------------------------------------------
# Real clocks: threads, asyncio tasks, and two processes sharing Redis
# --------------------------------------------------------------------------------------------


def test_threads_are_spaced_exactly() -> None:
    rps, burst, threads, calls = 200.0, 5, 8, 25
    limiter = LocalRateLimiter(rps, burst)
    reserved: list[float] = []
    sent: list[float] = []
    lock = threading.Lock()
    start = threading.Barrier(threads)
    t0 = time.monotonic()

    def worker() -> None:
        start.wait()
        for _ in range(calls):
            now = time.monotonic()
            delay = limiter.acquire_delay()
            if delay > 0:
                time.sleep(delay)
            with lock:
                reserved.append(now + delay)
                sent.append(time.monotonic())

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    elapsed = max(sent) - t0
    total = threads * calls
    assert elapsed >= (total - burst) / rps
    # The first instant lets through at most the burst...
    first = min(sent)
    assert sum(1 for s in sent if s - first < 0.5 / rps) <= burst
    # ...and the schedule itself never beats the bucket: the k-th slot is at least (k - burst) / rps in.
    schedule = sorted(reserved)
    for k, at in enumerate(schedule):
        assert at - schedule[0] >= (k + 1 - burst) / rps - 1e-3


async def test_asyncio_tasks_share_the_bucket() -> None:
    limiter = LocalRateLimiter(100, 10)
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    sent: list[float] = []

    async def task() -> None:
        await limiter.aacquire()
        sent.append(loop.time() - t0)

    await asyncio.gather(*(task() for _ in range(40)))
    assert max(sent) >= (40 - 10) / 100 - 0.005
    assert sum(1 for s in sent if s < 0.005) <= 10


async def test_redis_limiter_from_asyncio(redis_client: redis.Redis, redis_key: str) -> None:
    limiter = RedisRateLimiter(redis_client, redis_key, rps=100, burst=5)
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    waits = await asyncio.gather(*(limiter.aacquire() for _ in range(25)))
    assert loop.time() - t0 >= (25 - 5) / 100 - 0.01
    assert sorted(waits)[:5] == pytest.approx([0.0] * 5, abs=0.01)
    await limiter.aon_throttled(0.2)
    assert limiter.blocked_for() > 0.1
    await limiter.aon_success()
    await loop.shutdown_default_executor()  # join the worker threads before other tests run


class LoopWatch:
    """Wraps a limiter's blocking methods to record calls made on the event loop's own thread."""

    BLOCKING = ("acquire_delay", "on_success", "on_throttled", "blocked_for", "effective_rps")

    def __init__(self, limiter: RateLimiter) -> None:
        self.loop_thread: int | None = None
        self.on_loop: list[str] = []
        self.off_loop: list[str] = []
        for name in self.BLOCKING:
            setattr(limiter, name, self._watch(name, getattr(limiter, name)))

    def _watch(self, name: str, method: Callable[..., object]) -> Callable[..., object]:
        def watched(*args: object) -> object:
            (self.on_loop if threading.get_ident() == self.loop_thread else self.off_loop).append(name)
            return method(*args)

        return watched


def _scripted_coupa_answers(throttle_once: bool) -> Callable[[httpx.Request], httpx.Response]:
    answered = {"429": not throttle_once}

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/oauth2/token":
            return httpx.Response(200, json={"access_token": "tok-abcdefgh", "expires_in": 3600})
        if not answered["429"]:
            answered["429"] = True
            return httpx.Response(429, json={"errors": {"error": ["slow down"]}}, headers={"Retry-After": "0"})
        return httpx.Response(200, json=[{"id": 1}])

    return answer


def _mocked(limiter: RedisRateLimiter, *, throttle_once: bool) -> dict[str, Any]:
    """A client's arguments: scripted Coupa answers over a mock transport, paced by ``limiter``."""
    return {
        "instance_url": "https://acme.coupahost.com",
        "client_id": "cid",
        "client_secret": "secret-123",
        "transport": httpx.MockTransport(_scripted_coupa_answers(throttle_once=throttle_once)),
        "rate_limiter": limiter,
        "models": False,
    }


async def test_async_client_never_calls_redis_on_the_event_loop(redis_client: redis.Redis, redis_key: str) -> None:
    # 4 req/s, burst 2: 8 concurrent calls (one answered 429 and resent) take 1.5 s or more if paced.
    limiter = RedisRateLimiter(redis_client, redis_key, rps=4, burst=2)
    watch = LoopWatch(limiter)
    watch.loop_thread = threading.get_ident()
    loop = asyncio.get_running_loop()
    async with AsyncCoupa(**_mocked(limiter, throttle_once=True)) as coupa:
        t0 = loop.time()
        await asyncio.gather(*(coupa.invoices.list(limit=1) for _ in range(8)))
        elapsed = loop.time() - t0
    # Join the worker threads now: left to exit later, they would free objects under other tests.
    await loop.shutdown_default_executor()
    assert watch.on_loop == []  # every Redis round trip ran off the event loop's thread
    assert watch.off_loop.count("acquire_delay") == 9 and "on_throttled" in watch.off_loop
    # Paced by the shared budget: 2 at once, then one every 0.25 s; the 429 halved the shared rate.
    assert elapsed >= (8 - 2) / 4 - 0.05
    assert float(redis_client.hget(redis_key, "rate") or 0) == pytest.approx(2.0)  # the 429 reached Redis


def test_sync_client_paces_through_redis_too(redis_client: redis.Redis, redis_key: str) -> None:
    limiter = RedisRateLimiter(redis_client, redis_key, rps=10, burst=2)
    watch = LoopWatch(limiter)  # no event loop here: every call is "off the loop"
    with Coupa(**_mocked(limiter, throttle_once=False)) as coupa:
        t0 = time.monotonic()
        for _ in range(6):
            coupa.invoices.list(limit=1)
        elapsed = time.monotonic() - t0
    assert watch.off_loop.count("acquire_delay") == 6 and elapsed >= (6 - 2) / 10 - 0.02


def test_redis_limiter_defaults_match_the_local_limiter(redis_client: redis.Redis, redis_key: str) -> None:
    local, shared = LocalRateLimiter(), RedisRateLimiter(redis_client, redis_key)
    assert (shared.rps, shared.burst, shared.headroom) == (local.rps, local.burst, local.headroom)
    assert (local.rps, local.burst, local.headroom) == (DEFAULT_RPS, DEFAULT_BURST, 2) == (25.0, 20, 2)  # Coupa's
    client = Coupa("https://acme.coupahost.com", client_id="cid", client_secret="secret-123")
    try:
        assert isinstance(client.settings.limiter, LocalRateLimiter)
        assert (client.settings.limiter.rps, client.settings.limiter.burst) == (shared.rps, shared.burst)
    finally:
        client.close()


def test_two_processes_never_exceed_the_shared_budget(redis_client: redis.Redis, redis_key: str) -> None:
    rps, burst, window = 50.0, 5, 1.0
    # Two limiters with their own connection pools stand in for two processes on one Coupa instance.
    clients = [redis.Redis.from_url(REDIS_URL) for _ in range(2)]
    limiters = [RedisRateLimiter(c, redis_key, rps, burst) for c in clients]
    admitted = [0, 0]
    lock = threading.Lock()
    go = threading.Barrier(8)

    def hammer(which: int) -> None:
        limiter = limiters[which]
        go.wait()
        end = t0 + window
        while True:
            now = time.monotonic()
            delay = limiter.acquire_delay()
            if now + delay >= end:
                return
            if delay > 0:
                time.sleep(delay)
            with lock:
                admitted[which] += 1

    t0 = time.monotonic()
    threads = [threading.Thread(target=hammer, args=(i % 2,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for c in clients:
        c.close()
    total = sum(admitted)
    assert total <= rps * window + burst + 2
    assert total >= rps * window * 0.8  # the budget is used, not starved
    assert min(admitted) > 0  # both processes got a share
    assert 0 < redis_client.pttl(redis_key) <= 600_000 + 5_000  # the state expires when idle


def test_adaptive_state_is_shared_between_processes(redis_client: redis.Redis, redis_key: str) -> None:
    a = RedisRateLimiter(redis_client, redis_key, rps=50, burst=5)
    b = RedisRateLimiter(redis.Redis.from_url(REDIS_URL), redis_key, rps=50, burst=5)
    assert b.acquire_delay() == 0.0
    a.on_throttled(0.3)  # process A got a 429...
    assert b.effective_rps() == pytest.approx(25.0)  # ...and process B slows down too
    assert 0.2 < b.blocked_for() <= 0.3
    assert b.acquire_delay() >= 0.2
    b.reset()
    assert a.effective_rps() == pytest.approx(50.0) and a.blocked_for() == 0.0


def test_redis_outage_uses_the_fallback_or_raises() -> None:
    # Nothing listens on port 1; no client-side retries, so the outage is seen at once.
    dead = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2, retry=Retry(NoBackoff(), 0))
    fallback = LocalRateLimiter(5, 2)
    limiter = RedisRateLimiter(dead, "pycoupa:test:dead", 5, 2, fallback=fallback)
    assert [limiter.acquire_delay() for _ in range(3)][:2] == [0.0, 0.0]
    assert fallback.acquire_delay() > 0  # the reservations went to the fallback
    limiter.on_throttled(1.0)
    assert fallback.effective_rps() == pytest.approx(2.5)
    with pytest.raises(RateLimiterError) as caught:  # the SDK's error, Redis's as its cause
        RedisRateLimiter(dead, "pycoupa:test:dead", 5, 2).acquire_delay()
    assert isinstance(caught.value.__cause__, redis.ConnectionError)


# --------------------------------------------------------------------------------------------
# A cap on the wait: a slot further away than max_wait is refused, not reserved
# --------------------------------------------------------------------------------------------


def test_a_slot_beyond_max_wait_is_refused_and_not_reserved(make: Factory) -> None:
    clock = FakeClock()
    limiter = make(clock, rps=10, burst=2)
    assert [limiter.acquire_delay(0.15) for _ in range(2)] == [0.0, 0.0]  # the burst
    assert limiter.acquire_delay(0.15) == pytest.approx(0.1)  # within the cap: reserved
    with pytest.raises(RateBudgetExceededError) as refused:
        limiter.acquire_delay(0.15)  # 0.2 s away: over the cap
    assert refused.value.wait == pytest.approx(0.2) and refused.value.retry_after == pytest.approx(0.05)
    # Nothing was booked by the refusal: the next caller without a cap gets that same slot.
    assert limiter.acquire_delay() == pytest.approx(0.2)
    clock.now += 1.0
    assert limiter.acquire_delay(0.0) == 0.0  # idle time refilled the bucket


def test_max_wait_counts_a_429_block_too(make: Factory) -> None:
    clock = FakeClock()
    limiter = make(clock, rps=10, burst=5)
    limiter.on_throttled(3.0)
    with pytest.raises(RateBudgetExceededError) as refused:
        limiter.acquire_delay(1.0)
    assert refused.value.wait == pytest.approx(3.0)
    assert "max_rate_wait=1" in str(refused.value)


def test_clients_given_no_limiter_share_one_per_instance_and_oauth_client() -> None:
    def build(client_id: str, url: str = "https://acme.coupahost.com", **options: Any) -> Coupa:
        return Coupa(url, client_id=client_id, client_secret="s", scopes=["core.invoice.read"], **options)

    first, second = build("job"), build("job")
    assert first.settings.limiter is second.settings.limiter  # one budget for short-lived clients alike
    assert first.settings.limiter is not build("other").settings.limiter  # another OAuth client
    assert first.settings.limiter is not build("job", "https://globex.coupahost.com").settings.limiter
    assert first.settings.limiter is not build("job", rps=5).settings.limiter  # other settings, own bucket
    own = LocalRateLimiter()
    assert build("job", rate_limiter=own).settings.limiter is own
    # The shared bucket really is shared: the second client's first call waits behind the first's burst.
    limiter = first.settings.limiter
    assert limiter is not None
    delays = [limiter.acquire_delay() for _ in range(18)]
    assert delays == [0.0] * 18 and second.settings.limiter.acquire_delay() > 0  # type: ignore[union-attr]


def test_a_process_that_met_many_clients_forgets_the_idle_limiters_only(monkeypatch: pytest.MonkeyPatch) -> None:
    from pycoupa.client import ratelimit

    monkeypatch.setattr(ratelimit, "_PROCESS_LIMITERS_PRUNE_ABOVE", 3)
    idle = [ratelimit.process_limiter("https://acme.coupahost.com", f"idle-{n}") for n in range(2)]
    for limiter in idle:
        limiter.acquire_delay()
        limiter._tat -= 120  # its last slot two minutes ago
    busy = ratelimit.process_limiter("https://acme.coupahost.com", "busy")
    busy.acquire_delay()
    ratelimit.process_limiter("https://acme.coupahost.com", "newcomer")  # the fourth: prunes first
    assert set(ratelimit._PROCESS_LIMITERS) == {k for k in ratelimit._PROCESS_LIMITERS if k[1] in ("busy", "newcomer")}
    assert ratelimit.process_limiter("https://acme.coupahost.com", "busy") is busy
    # A pruned limiter a client still holds is handed out again: two live clients, one bucket.
    assert ratelimit.process_limiter("https://acme.coupahost.com", "idle-0") is idle[0]
    dropped = weakref.ref(idle[1])
    del idle[:], limiter
    gc.collect()
    assert dropped() is None  # nobody held it, so it is gone...
    fresh = ratelimit.process_limiter("https://acme.coupahost.com", "idle-1")
    assert fresh.acquire_delay() == 0.0  # ...and the next client of its key starts a full bucket


def test_a_memory_store_holding_many_tokens_drops_the_expired_ones_it_cannot_refresh(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from pycoupa.client import token_store
    from pycoupa.client.errors import Secret
    from pycoupa.client.token_store import MemoryTokenStore, Token

    monkeypatch.setattr(token_store, "_PRUNE_ABOVE", 2)
    store = MemoryTokenStore()
    past, future, long_ago = time.time() - 10, time.time() + 3600, time.time() - 8 * 86400
    with store.lock("expired", 1.0):  # a mint lock, released: it goes with its key
        pass
    store.set("expired", Token(Secret("a-token-1"), expires_at=past))
    store.set("refreshable", Token(Secret("a-token-2"), expires_at=past, refresh_token=Secret("r-token-2")))
    store.set("abandoned", Token(Secret("a-token-4"), expires_at=long_ago, refresh_token=Secret("r-token-4")))
    store.set("live", Token(Secret("a-token-3"), expires_at=future))
    assert store.get("expired") is None and store.get("abandoned") is None  # gone: nobody can use them
    assert store.get("refreshable") is not None and store.get("live") is not None  # a week's grace; live
    assert "expired" not in store._locks
