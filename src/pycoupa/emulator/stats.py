"""Request counters for ``GET /__emulator__/stats``: by route, status and OAuth client, and the
highest number of requests served in any one wall-clock second."""

from __future__ import annotations

import threading
import time
from collections import Counter
from typing import Any


class Stats:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        self.total = 0
        self.by_route: Counter[str] = Counter()
        self.by_status: Counter[int] = Counter()
        self.by_client: Counter[str] = Counter()
        self._second = 0
        self._in_second = 0
        self.peak_per_second = 0

    def record(self, route: str, status: int, client: str | None) -> None:
        now = int(time.time())
        with self._lock:
            self.total += 1
            self.by_route[route] += 1
            self.by_status[status] += 1
            self.by_client[client or "-"] += 1
            if now != self._second:
                self._second, self._in_second = now, 0
            self._in_second += 1
            self.peak_per_second = max(self.peak_per_second, self._in_second)

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "requests": self.total,
                "by_route": dict(self.by_route.most_common()),
                "by_status": {str(k): v for k, v in sorted(self.by_status.items())},
                "by_client": dict(self.by_client.most_common()),
                "max_requests_in_one_second": self.peak_per_second,
            }
