"""Coupa's request throttle: a leaky bucket per OAuth client (coupa-api.md section 5).

Each request pours one unit in; the bucket drains at ``rps`` units per second and holds
``burst``. A request that would overflow it is answered 429 and not counted.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass


@dataclass
class RateLimitSettings:
    rps: float = 25.0
    burst: int = 20
    retry_after: bool = True  # Coupa's Retry-After header is disputed: clients must cope either way
    enabled: bool = True


class LeakyBuckets:
    def __init__(self, settings: RateLimitSettings | None = None) -> None:
        self.settings = settings or RateLimitSettings()
        self._levels: dict[str, tuple[float, float]] = {}  # key -> (level, last update)
        self._lock = threading.Lock()

    def configure(self, settings: RateLimitSettings) -> None:
        with self._lock:
            self.settings = settings
            self._levels.clear()

    def take(self, key: str, now: float | None = None) -> float | None:
        """Admit one request; returns None when admitted, else the seconds until one unit drains."""
        s = self.settings
        if not s.enabled:
            return None
        now = time.monotonic() if now is None else now
        with self._lock:
            level, last = self._levels.get(key, (0.0, now))
            level = max(0.0, level - (now - last) * s.rps)
            if level + 1 > s.burst:
                self._levels[key] = (level, now)
                return (level + 1 - s.burst) / s.rps
            self._levels[key] = (level + 1, now)
            return None

    @staticmethod
    def retry_after_header(wait: float) -> str:
        return str(max(1, math.ceil(wait)))
