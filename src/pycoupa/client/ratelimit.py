"""Client-side throttle matching Coupa's leaky bucket (25 req/s, burst 20), in-process or shared via Redis.

Both limiters default to Coupa's figures, ``DEFAULT_RPS`` 25 req/s and ``DEFAULT_BURST`` 20, and keep
``headroom`` of the burst unused (by default a tenth: 2 of 20). Requests leave evenly spaced, but
CPU and network jitter can bunch them on arrival, and Coupa's bucket counts arrivals: a client that
filled the bucket exactly would turn every bunch into a 429, and each 429 halves the rate. With
the same rate as Coupa's drain, the bucket settles ``headroom`` slots below full and stays there,
so a bunch of up to that many requests still fits.

Both limiters run the same GCRA (generic cell rate algorithm, the "virtual scheduling" form of a
leaky bucket). State is one *theoretical arrival time* ``tat``; with ``T = 1/rate``, the slots the
client uses ``n = burst - headroom`` and a tolerance ``tau = (n - 1) * T``, a request arriving at
``now`` may be sent at ``max(now, tat - tau)``, and every reservation pushes ``tat`` to
``max(tat, now) + T``. From idle, ``n`` requests go at once and the rest are spaced exactly ``T``
apart, however many callers ask concurrently: at the defaults the 19th immediate call waits 0.04 s,
and 100 calls span (100-18)/25 s.

``acquire_delay()`` only *reserves*: it returns how long the caller must wait and never sleeps, so
it suits any scheduler; ``acquire()`` (threads) and ``aacquire()`` (asyncio) reserve and sleep.
A reserved slot is spent even if its caller gives up, which errs on the side of sending less.

Adapting to 429s (``on_throttled``): Coupa's real budget can be lower than configured (another
integration shares it, or the documented figures are off), so a 429 halves the effective rate
(floor 1 req/s, or the configured rate if lower) and blocks every caller until ``Retry-After``
has passed (1 s when the server sends none). A 429 that arrives while a block is already in force
is an echo of requests sent before it, so it extends the block but does not halve the rate again.
After a block the bucket restarts *full*: no burst, just spacing at the reduced rate. A caller
that slept through its reservation while a block began takes a new slot after the block, so
throttled callers do not all stampede when it lifts. ``on_success`` recovers slowly: +5 % every
50 successes, up to the configured rate.

``RedisRateLimiter`` keeps ``tat``, the effective rate, the block and the success count in one
Redis hash and updates them in Lua scripts, atomically, timed by the Redis server's clock
(``TIME``), so processes on different machines share one budget and one adaptation without
trusting their own clocks. Key it per Coupa instance with :func:`instance_key`. Every process on a
key should use the same ``rps``/``burst``/``headroom``; each call computes with the caller's own settings.
"""

from __future__ import annotations

import abc
import asyncio
import logging
import math
import threading
import time
import weakref
from collections.abc import Callable

import httpx
import redis
from redis.commands.core import Script

from pycoupa.client.errors import ConfigurationError, RateBudgetExceededError, RateLimiterError, redact

__all__ = [
    "DEFAULT_BLOCK",
    "DEFAULT_BURST",
    "DEFAULT_HEADROOM_SHARE",
    "DEFAULT_RPS",
    "MIN_RPS",
    "RECOVERY_EVERY",
    "RECOVERY_STEP",
    "THROTTLE_FACTOR",
    "LocalRateLimiter",
    "RateLimiter",
    "RedisRateLimiter",
    "forget_process_limiters",
    "instance_key",
    "process_limiter",
]

log = logging.getLogger(__name__)

# Coupa's documented 25 req/s and burst 20. Every limiter on a shared Redis key should use the same
# figures, so both classes default to these.
DEFAULT_RPS = 25.0
DEFAULT_BURST = 20
DEFAULT_HEADROOM_SHARE = 0.1  # of the burst left unused when no headroom is given (module docstring)
THROTTLE_FACTOR = 0.5  # effective rate multiplier on a fresh 429
MIN_RPS = 1.0  # the rate never adapts below this (unless configured lower)
RECOVERY_EVERY = 50  # successes per recovery step
RECOVERY_STEP = 1.05  # rate multiplier per recovery step
DEFAULT_BLOCK = 1.0  # seconds everyone waits after a 429 without Retry-After (Coupa's bucket drains in 0.8 s)
_MAX_BLOCK = 3600.0  # a Retry-After beyond an hour is a broken header, not a plan
_EPSILON = 1e-9  # float rounding in tat arithmetic; a nanosecond "wait" means "now"


def _validate(rps: object, burst: object, headroom: object) -> tuple[float, int, int]:
    """``(rps, burst, headroom)`` checked; ``headroom=None`` becomes a tenth of the burst."""
    if isinstance(rps, bool) or not isinstance(rps, int | float) or not math.isfinite(rps) or rps <= 0:
        raise ConfigurationError(f"rps must be a number of requests per second > 0, got {rps!r}")
    if isinstance(burst, bool) or not isinstance(burst, int) or burst < 1:
        raise ConfigurationError(f"burst must be an integer >= 1, got {burst!r}")
    if headroom is None:
        headroom = int(burst * DEFAULT_HEADROOM_SHARE)
    if isinstance(headroom, bool) or not isinstance(headroom, int) or not 0 <= headroom < burst:
        raise ConfigurationError(f"headroom must be an integer from 0 to burst - 1 ({burst - 1}), got {headroom!r}")
    return float(rps), burst, headroom


def _limiter_error(key: str, exc: redis.RedisError) -> RateLimiterError:
    """Redis failed and there is no fallback: the SDK's error (chain it to ``exc``). Redis names a
    host or a refusal, never a password; the text is redacted all the same (a URL password)."""
    detail = " ".join(str(exc).split())[:300] or "no detail"
    return RateLimiterError(
        redact(f"rate limiter {key}: Redis failed and no fallback is set: {type(exc).__name__}: {detail}")
    )


def _block_seconds(retry_after: float | None) -> float:
    if retry_after is None or not math.isfinite(retry_after):
        return DEFAULT_BLOCK
    return min(max(0.0, retry_after), _MAX_BLOCK)


def instance_key(instance: str | httpx.URL, *, prefix: str = "pycoupa:ratelimit") -> str:
    """The Redis key for one Coupa instance's budget, e.g. ``pycoupa:ratelimit:acme.coupahost.com``.

    Accepts a base URL or a bare host; a non-default port stays in the key (two local emulators
    are two instances).
    """
    text = str(instance).strip()
    url = httpx.URL(text if "://" in text else f"https://{text}")
    if not url.host:
        raise ConfigurationError(f"instance must be a URL or host name, got {instance!r}")
    host = url.host.lower()
    return f"{prefix}:{host}:{url.port}" if url.port else f"{prefix}:{host}"


class RateLimiter(abc.ABC):
    """What the client needs from a throttle. Implementations are thread- and task-safe.

    ``acquire_delay`` reserves a slot and returns the seconds to wait before sending (0: send now);
    ``on_throttled`` and ``on_success`` report how the request fared. The ``a``-prefixed methods
    are for asyncio callers and never block the event loop.
    """

    rps: float
    burst: int
    headroom: int

    @property
    def _slots(self) -> int:
        """The part of the burst this client fills (the rest absorbs jitter)."""
        return self.burst - self.headroom

    def __init__(self, *, sleep: Callable[[float], None] = time.sleep) -> None:
        self._sleep = sleep

    @abc.abstractmethod
    def acquire_delay(self, max_wait: float | None = None) -> float:
        """Reserve the next slot; the seconds until it (0 when the caller may send now). Never sleeps.

        With ``max_wait``, a slot further away than that is not reserved: ``RateBudgetExceededError``
        is raised instead (the caller answers "retry later" rather than queueing without end).
        """

    @abc.abstractmethod
    def blocked_for(self) -> float:
        """Seconds until the block set by a 429 lifts (0 when there is none)."""

    @abc.abstractmethod
    def on_throttled(self, retry_after: float | None = None) -> None:
        """A request got 429 anyway: slow down and hold everyone back for ``retry_after`` seconds."""

    @abc.abstractmethod
    def on_success(self) -> None:
        """A request succeeded: count it towards recovering the configured rate."""

    @abc.abstractmethod
    def effective_rps(self) -> float:
        """The rate currently enforced (the configured ``rps`` unless 429s lowered it)."""

    def acquire(self) -> float:
        """Reserve a slot and sleep until it; returns the seconds slept."""
        delay = self.acquire_delay()
        total = delay
        while delay > 0:
            self._sleep(delay)
            # A 429 elsewhere may have blocked everyone while we slept: take a fresh slot after it.
            if self.blocked_for() <= 0:
                break
            delay = self.acquire_delay()
            total += delay
        return total

    async def aacquire(self) -> float:
        """``acquire`` for asyncio: the wait is an ``asyncio.sleep``."""
        delay = await self.aacquire_delay()
        total = delay
        while delay > 0:
            await asyncio.sleep(delay)
            if await self._ablocked_for() <= 0:
                break
            delay = await self.aacquire_delay()
            total += delay
        return total

    async def aacquire_delay(self, max_wait: float | None = None) -> float:
        """``acquire_delay`` for asyncio (what ``AsyncCoupa`` calls): never blocks the event loop."""
        return await self._aacquire_delay(max_wait)

    async def aon_throttled(self, retry_after: float | None = None) -> None:
        self.on_throttled(retry_after)

    async def aon_success(self) -> None:
        self.on_success()

    async def _aacquire_delay(self, max_wait: float | None = None) -> float:
        # An in-process limiter does no I/O, so this runs inline; one that does overrides it.
        return self.acquire_delay() if max_wait is None else self.acquire_delay(max_wait)

    async def _ablocked_for(self) -> float:
        return self.blocked_for()


class LocalRateLimiter(RateLimiter):
    """The GCRA in this process, under a lock (no I/O, so asyncio callers use it directly).

    ``clock`` (monotonic seconds) and ``sleep`` are injectable so tests can run on a fake clock.
    """

    def __init__(
        self,
        rps: float = DEFAULT_RPS,
        burst: int = DEFAULT_BURST,
        *,
        headroom: int | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        super().__init__(sleep=sleep)
        self.rps, self.burst, self.headroom = _validate(rps, burst, headroom)
        self._clock = clock
        self._lock = threading.Lock()
        self._rate = self.rps
        self._tat = -math.inf
        self._blocked_until = -math.inf
        self._successes = 0

    def __repr__(self) -> str:
        return (
            f"LocalRateLimiter(rps={self.rps:g}, burst={self.burst}, headroom={self.headroom}, "
            f"effective_rps={self._rate:g})"
        )

    def acquire_delay(self, max_wait: float | None = None) -> float:
        with self._lock:
            now = self._clock()
            interval = 1.0 / self._rate
            tat = max(self._tat, now)
            send = max(now, tat - (self._slots - 1) * interval, self._blocked_until)
            delay = send - now
            if max_wait is not None and delay > max_wait + _EPSILON:
                raise RateBudgetExceededError(delay, max_wait)
            self._tat = tat + interval
            return delay if delay > _EPSILON else 0.0

    def blocked_for(self) -> float:
        with self._lock:
            return max(0.0, self._blocked_until - self._clock())

    def on_throttled(self, retry_after: float | None = None) -> None:
        with self._lock:
            now = self._clock()
            if now >= self._blocked_until:  # a fresh 429, not an echo of one already handled
                self._rate = max(self._rate * THROTTLE_FACTOR, min(MIN_RPS, self.rps))
            self._blocked_until = max(self._blocked_until, now + _block_seconds(retry_after))
            # Restart full after the block: the server's bucket is still draining, so no burst.
            self._tat = max(self._tat, self._blocked_until + (self._slots - 1) / self._rate)
            self._successes = 0

    def on_success(self) -> None:
        with self._lock:
            if self._rate >= self.rps:
                return
            self._successes += 1
            if self._successes >= RECOVERY_EVERY:
                self._successes = 0
                self._rate = min(self.rps, self._rate * RECOVERY_STEP)

    def effective_rps(self) -> float:
        with self._lock:
            return self._rate


# All times are microseconds as Lua doubles (exact below 2**53, i.e. for ~285 years of epoch
# time) and travel as "%.17g" strings: Redis would truncate a Lua number reply to an integer.
_LUA_PRELUDE = """
if redis.replicate_commands then redis.replicate_commands() end
local function fmt(x) return string.format('%.17g', x) end
local now
if ARGV[1] == '' then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000000 + tonumber(t[2])
else
  now = tonumber(ARGV[1])
end
local rps = tonumber(ARGV[2])
local burst = tonumber(ARGV[3])  -- the slots the client uses: burst - headroom
local ttl = tonumber(ARGV[4])
local st = redis.call('HMGET', KEYS[1], 'tat', 'rate', 'blocked', 'ok')
local tat = tonumber(st[1]) or now
local rate = math.min(tonumber(st[2]) or rps, rps)
local blocked = tonumber(st[3]) or 0
local ok = tonumber(st[4]) or 0
-- Keep the state while it matters: past the last reservation or block, plus the idle TTL.
local function keep(t, b)
  local horizon = math.max(t, b, now) - now
  redis.call('PEXPIRE', KEYS[1], math.ceil(horizon / 1000) + ttl)
end
"""

_LUA_RESERVE = (
    _LUA_PRELUDE
    + """
local interval = 1000000 / rate
local start = math.max(tat, now)
local send = math.max(now, start - (burst - 1) * interval, blocked)
-- ARGV[5]: the longest wait the caller accepts (us), '' for any: a later slot is not reserved.
if ARGV[5] ~= nil and ARGV[5] ~= '' and send - now > tonumber(ARGV[5]) then
  return {fmt(send - now), fmt(rate), '1'}
end
redis.call('HSET', KEYS[1], 'tat', fmt(start + interval), 'rate', fmt(rate))
keep(start + interval, blocked)
return {fmt(send - now), fmt(rate), '0'}
"""
)

# ARGV[5] block (us), ARGV[6] factor, ARGV[7] floor (req/s)
_LUA_THROTTLE = (
    _LUA_PRELUDE
    + """
if now >= blocked then
  rate = math.max(rate * tonumber(ARGV[6]), tonumber(ARGV[7]))
end
blocked = math.max(blocked, now + tonumber(ARGV[5]))
tat = math.max(tat, blocked + (burst - 1) * 1000000 / rate)
redis.call('HSET', KEYS[1], 'tat', fmt(tat), 'rate', fmt(rate), 'blocked', fmt(blocked), 'ok', '0')
keep(tat, blocked)
return fmt(rate)
"""
)

# ARGV[5] successes per step, ARGV[6] step factor
_LUA_SUCCESS = (
    _LUA_PRELUDE
    + """
if rate >= rps then return fmt(rate) end
ok = ok + 1
if ok >= tonumber(ARGV[5]) then
  ok = 0
  rate = math.min(rps, rate * tonumber(ARGV[6]))
end
redis.call('HSET', KEYS[1], 'rate', fmt(rate), 'ok', tostring(ok))
keep(tat, blocked)
return fmt(rate)
"""
)

_LUA_STATE = (
    _LUA_PRELUDE
    + """
return {fmt(math.max(0, blocked - now)), fmt(rate)}
"""
)


class RedisRateLimiter(RateLimiter):
    """The same GCRA, atomically in Redis, so every process on ``key`` shares one budget.

    ``redis_client`` is a sync ``redis.Redis`` (thread-safe through its connection pool); asyncio
    callers have each Redis round trip run in a worker thread. ``clock`` (seconds) replaces the
    Redis server's clock; every limiter on a key must then use the same one (tests, mostly).
    ``idle_ttl`` is how long the state outlives the last activity. With ``fallback`` (say a
    ``LocalRateLimiter`` with this process's share of the budget) a Redis outage degrades to it
    instead of failing requests; without one, a call fails with
    :class:`~pycoupa.client.errors.RateLimiterError` (Redis's error as its ``__cause__``).
    """

    def __init__(
        self,
        redis_client: redis.Redis,
        key: str,
        rps: float = DEFAULT_RPS,
        burst: int = DEFAULT_BURST,
        *,
        headroom: int | None = None,
        clock: Callable[[], float] | None = None,
        idle_ttl: float = 600.0,
        fallback: RateLimiter | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        super().__init__(sleep=sleep)
        self.rps, self.burst, self.headroom = _validate(rps, burst, headroom)
        if not isinstance(key, str) or not key:
            raise ConfigurationError(f"key must be a non-empty string, got {key!r}")
        if isinstance(idle_ttl, bool) or not isinstance(idle_ttl, int | float) or not idle_ttl > 0:
            raise ConfigurationError(f"idle_ttl must be a number of seconds > 0, got {idle_ttl!r}")
        self.key = key
        self._redis = redis_client
        self._clock = clock
        self._ttl_ms = math.ceil(idle_ttl * 1000)
        self._fallback = fallback
        self._reserve = redis_client.register_script(_LUA_RESERVE)
        self._throttle = redis_client.register_script(_LUA_THROTTLE)
        self._success = redis_client.register_script(_LUA_SUCCESS)
        self._state = redis_client.register_script(_LUA_STATE)
        # The rate seen by this process's last reservation: lets on_success skip a round trip
        # while nothing is being recovered (the usual case).
        self._seen_rate = self.rps

    def __repr__(self) -> str:
        return f"RedisRateLimiter(key={self.key!r}, rps={self.rps:g}, burst={self.burst}, headroom={self.headroom})"

    def _args(self, *extra: float | int) -> list[str]:
        now = "" if self._clock is None else repr(self._clock() * 1_000_000)
        return [now, repr(self.rps), str(self._slots), str(self._ttl_ms), *(repr(x) for x in extra)]

    def _call(self, script: Script, *extra: float | int) -> list[float]:
        """Runs a script; its reply (one "%.17g" string or a list of them) as floats."""
        reply = script(keys=[self.key], args=self._args(*extra))
        return [float(x) for x in (reply if isinstance(reply, list) else [reply])]

    def _degraded(self, exc: redis.RedisError) -> RateLimiter:
        if self._fallback is None:
            raise _limiter_error(self.key, exc) from exc
        log.warning("rate limiter %s: Redis unavailable (%s); using the local fallback", self.key, exc)
        return self._fallback

    def acquire_delay(self, max_wait: float | None = None) -> float:
        try:
            if max_wait is None:
                delay_us, rate, refused = self._call(self._reserve)
            else:
                delay_us, rate, refused = self._call(self._reserve, (max_wait + _EPSILON) * 1_000_000)
        except redis.RedisError as exc:
            return self._degraded(exc).acquire_delay(max_wait)
        self._seen_rate = rate
        delay = delay_us / 1_000_000
        if refused:
            raise RateBudgetExceededError(delay, max_wait or 0.0)
        return delay if delay > _EPSILON else 0.0

    def blocked_for(self) -> float:
        try:
            blocked_us, _ = self._call(self._state)
        except redis.RedisError as exc:
            return self._degraded(exc).blocked_for()
        return blocked_us / 1_000_000

    def on_throttled(self, retry_after: float | None = None) -> None:
        block_us = _block_seconds(retry_after) * 1_000_000
        try:
            (rate,) = self._call(self._throttle, block_us, THROTTLE_FACTOR, min(MIN_RPS, self.rps))
        except redis.RedisError as exc:
            self._degraded(exc).on_throttled(retry_after)
            return
        self._seen_rate = rate

    def on_success(self) -> None:
        if self._seen_rate >= self.rps:
            return
        try:
            (rate,) = self._call(self._success, RECOVERY_EVERY, RECOVERY_STEP)
        except redis.RedisError as exc:
            self._degraded(exc).on_success()
            return
        self._seen_rate = rate

    def effective_rps(self) -> float:
        try:
            _, rate = self._call(self._state)
        except redis.RedisError as exc:
            return self._degraded(exc).effective_rps()
        return rate

    def reset(self) -> None:
        """Forget the shared state (the next caller starts with a full bucket at the configured rate)."""
        try:
            self._redis.delete(self.key)
        except redis.RedisError as exc:
            raise _limiter_error(self.key, exc) from exc
        self._seen_rate = self.rps

    async def _aacquire_delay(self, max_wait: float | None = None) -> float:
        return await asyncio.to_thread(self.acquire_delay, max_wait)

    async def _ablocked_for(self) -> float:
        return await asyncio.to_thread(self.blocked_for)

    async def aon_throttled(self, retry_after: float | None = None) -> None:
        await asyncio.to_thread(self.on_throttled, retry_after)

    async def aon_success(self) -> None:
        if self._seen_rate >= self.rps:
            return
        await asyncio.to_thread(self.on_success)


# The limiters clients build when given none, one per (instance, OAuth client, settings): several
# short-lived clients of one process then draw on one budget instead of each starting with a full
# burst. Keyed per OAuth client as well as per instance because that is the bucket the emulator keeps
# (coupa-api.md section 5: whether Coupa counts per client or per instance is unconfirmed); share
# a whole instance's budget across clients and processes with RedisRateLimiter.
_LimiterKey = tuple[str, str, float, int, int]
_PROCESS_LIMITERS: dict[_LimiterKey, LocalRateLimiter] = {}
# Pruned limiters (see _prune_idle_limiters) stay reachable while a client still holds them.
_RETIRED_LIMITERS: weakref.WeakValueDictionary[_LimiterKey, LocalRateLimiter] = weakref.WeakValueDictionary()
_PROCESS_LIMITERS_LOCK = threading.Lock()


def process_limiter(
    instance: str,
    client_id: str | None,
    *,
    rps: float = DEFAULT_RPS,
    burst: int = DEFAULT_BURST,
    headroom: int | None = None,
) -> LocalRateLimiter:
    """This process's limiter for one Coupa instance and OAuth client at these settings."""
    rate, size, reserve = _validate(rps, burst, headroom)
    key = (instance_key(instance), client_id or "", rate, size, reserve)
    with _PROCESS_LIMITERS_LOCK:
        found = _PROCESS_LIMITERS.get(key) or _RETIRED_LIMITERS.get(key)
        if found is None:
            if len(_PROCESS_LIMITERS) >= _PROCESS_LIMITERS_PRUNE_ABOVE:
                _prune_idle_limiters()
            found = LocalRateLimiter(rate, size, headroom=reserve)
        _PROCESS_LIMITERS[key] = found
        return found


_PROCESS_LIMITERS_PRUNE_ABOVE = 1024
_IDLE = 60.0  # seconds after its last slot and block a limiter's state no longer matters


def _prune_idle_limiters() -> None:
    """Lets go of the shared limiters idle for a minute, once a process has met over a thousand
    clients. One a client still holds stays reachable (weakly) and is handed to the next client of
    its key, so two live clients never get two buckets. (Under ``_PROCESS_LIMITERS_LOCK``.)"""
    for key, limiter in list(_PROCESS_LIMITERS.items()):
        with limiter._lock:
            latest = max(limiter._tat, limiter._blocked_until)
            idle = limiter._clock() - latest > _IDLE
        if idle:
            _RETIRED_LIMITERS[key] = limiter
            del _PROCESS_LIMITERS[key]


def forget_process_limiters() -> None:
    """Drop the shared limiters (clients built afterwards start with full buckets); for tests."""
    with _PROCESS_LIMITERS_LOCK:
        _PROCESS_LIMITERS.clear()
        _RETIRED_LIMITERS.clear()
