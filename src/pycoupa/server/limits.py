"""Request limits of the server itself: per platform API key and per integrated account.

GCRA (the leaky bucket as a virtual schedule): a request is allowed when it would not push the
bucket past ``burst``; a refused request reserves nothing and learns how long to wait, which the
server returns as ``Retry-After``. In one process the state is a dict; with Redis it is one key
per limited thing, updated atomically by a Lua script using Redis's own clock, so every worker
process shares the same limit.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from typing import Protocol

import redis.asyncio as aioredis


class Limiter(Protocol):
    async def check(self, key: str) -> float:
        """0 when the request may go ahead (and is counted), else seconds to wait."""
        ...


class LocalLimiter:
    def __init__(self, rps: float, burst: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.interval = 1.0 / rps
        self.tolerance = self.interval * burst
        self._tat: dict[str, float] = {}
        self._lock = threading.Lock()
        self._clock = clock

    def __repr__(self) -> str:
        return f"LocalLimiter(rps={1 / self.interval:g}, burst={round(self.tolerance / self.interval)})"

    async def check(self, key: str) -> float:
        now = self._clock()
        with self._lock:
            tat = max(self._tat.get(key, now), now)
            allowed_at = tat + self.interval - self.tolerance
            if allowed_at > now:
                return allowed_at - now
            self._tat[key] = tat + self.interval
            if len(self._tat) > 100_000:  # forget idle keys rather than grow without bound
                self._tat = {k: v for k, v in self._tat.items() if v > now}
            return 0.0


_LUA_CHECK = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local allowed_at = tat + interval - tolerance
if allowed_at > now then return allowed_at - now end
redis.call('SET', KEYS[1], tat + interval, 'PX', math.ceil((tat + interval - now) / 1000) + 1000)
return 0
"""


class RedisLimiter:
    def __init__(self, client: aioredis.Redis, rps: float, burst: int, prefix: str) -> None:
        self.interval_us = int(1_000_000 / rps)
        self.tolerance_us = self.interval_us * burst
        self.prefix = prefix
        self._script = client.register_script(_LUA_CHECK)

    def __repr__(self) -> str:
        return f"RedisLimiter(prefix={self.prefix!r})"

    async def check(self, key: str) -> float:
        wait_us = await self._script(keys=[self.prefix + key], args=[self.interval_us, self.tolerance_us])
        return int(wait_us) / 1_000_000


def retry_after_header(seconds: float) -> str:
    return str(max(1, math.ceil(seconds)))
