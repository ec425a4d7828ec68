"""``Server-Timing`` on answers that call Coupa: how long the request waited on Coupa, and how
long pycoupa itself took (routing, auth, mapping, encoding), in milliseconds.

    Server-Timing: coupa;dur=17.12, app;dur=2.95

A caller can tell the server's own cost from Coupa's without access to the server (browsers' and
most HTTP tools' timing views show the header; bench/server_overhead.py reads it). The clock
starts when the handler starts and stops when the body is encoded, so it leaves out the socket
time and what the HTTP server does before and after; ``coupa`` is wall time awaiting Coupa
(concurrent pages count once).
"""

from __future__ import annotations

from collections.abc import Awaitable
from time import perf_counter
from typing import TypeVar

T = TypeVar("T")


class Stopwatch:
    __slots__ = ("coupa", "started")

    def __init__(self) -> None:
        self.started = perf_counter()
        self.coupa = 0.0

    async def on_coupa(self, call: Awaitable[T]) -> T:
        """Await ``call`` (work that waits on Coupa), counting its time as Coupa's."""
        start = perf_counter()
        try:
            return await call
        finally:
            self.coupa += perf_counter() - start

    def header(self) -> str:
        total = perf_counter() - self.started
        return f"coupa;dur={self.coupa * 1000:.2f}, app;dur={max(0.0, total - self.coupa) * 1000:.2f}"


def parse(header: str) -> dict[str, float]:
    """``"coupa;dur=17.12, app;dur=2.95"`` -> ``{"coupa": 17.12, "app": 2.95}`` (metrics without a
    duration are left out)."""
    out: dict[str, float] = {}
    for metric in header.split(","):
        name, *params = (part.strip() for part in metric.split(";"))
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "dur" and name:
                try:
                    out[name] = float(value.strip().strip('"'))
                except ValueError:
                    continue
    return out
