"""Fault injection: 5xx, HTML edge pages, 429, connections cut mid-body and added latency.

Configured through ``PUT /__emulator__/faults`` (see :meth:`FaultInjector.configure` for the body)
and applied by :class:`FaultMiddleware`, a pure ASGI middleware in front of the whole emulator.
Only ``/api/...`` and ``/oauth2/...`` requests are affected and counted, in arrival order, so the
control plane stays reliable while a client under test is being hammered.

Determinism: every counted request consumes exactly one draw from ``random.Random(random_seed)``,
even when a ``script`` entry decides it, so for a given seed and request order the faults are the
same on every run, and adding a script entry does not shift the random faults of other requests.
Configuring (PUT) or clearing (DELETE) restarts the request count and the random sequence.
"""

from __future__ import annotations

import asyncio
import math
import random
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import orjson
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pycoupa.wire.errors import render_errors_json, render_errors_xml

__all__ = ["KINDS", "Decision", "FaultInjector", "FaultMiddleware", "InjectedReset", "in_scope", "routes"]

# Fixed order: the random draw is mapped onto the rates cumulatively in this order, so reordering
# it would change which faults a given seed produces.
KINDS: tuple[str, ...] = ("500", "502", "503", "html_503", "429", "reset")

SETTING_KEYS = ("rates", "latency_ms", "latency_ms_per_kb", "script", "random_seed")

# Summing float rates such as 0.1 + 0.2 + 0.7 overshoots 1 by an ulp or two.
_RATE_SUM_SLACK = 1e-9

_MESSAGES = {
    "500": "We're sorry, but something went wrong.",
    "502": "Bad Gateway",
    "503": "Service Unavailable",
    "429": "Rate limit exceeded: too many requests, slow down",
}

# What a proxy or load balancer in front of Coupa sends, not the application's envelope.
HTML_503 = (
    b"<!DOCTYPE html>\n<html>\n<head><title>503 Service Temporarily Unavailable</title></head>\n"
    b"<body>\n<center><h1>503 Service Temporarily Unavailable</h1></center>\n"
    b"<hr><center>nginx</center>\n</body>\n</html>\n"
)


class InjectedReset(ConnectionResetError):
    """Raised by the middleware after sending part of a body, so the server drops the connection.

    In-process (``httpx.ASGITransport``) the client sees this exception itself.
    """


@dataclass(frozen=True)
class Decision:
    """What to do to one request: ``n`` is its 1-based position since the last configure/clear."""

    n: int
    fault: str | None
    latency_ms: float
    latency_ms_per_kb: float


@dataclass(frozen=True)
class _Settings:
    rates: dict[str, float]
    latency_ms: float
    latency_ms_per_kb: float
    script: dict[int, str]
    random_seed: int | None


_EMPTY = _Settings(rates={}, latency_ms=0.0, latency_ms_per_kb=0.0, script={}, random_seed=None)


def _number(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"{what} must be a finite number, got {value!r}")
    return float(value)


def _kind(value: Any, what: str) -> str:
    kind = str(value)
    if isinstance(value, bool) or not isinstance(value, (str, int)) or kind not in KINDS:
        raise ValueError(f"{what}: unknown fault kind {value!r}; expected one of {', '.join(KINDS)}")
    return kind


def _parse(settings: Mapping[str, Any]) -> _Settings:
    if not isinstance(settings, Mapping):
        raise ValueError("fault settings must be a JSON object")
    unknown = sorted(set(settings) - set(SETTING_KEYS))
    if unknown:
        raise ValueError(f"unknown setting {', '.join(map(repr, unknown))}; expected {', '.join(SETTING_KEYS)}")

    raw_rates = {} if settings.get("rates") is None else settings["rates"]
    if not isinstance(raw_rates, Mapping):
        raise ValueError("rates must be an object mapping fault kinds to rates")
    rates: dict[str, float] = {}
    for key, value in raw_rates.items():
        kind = _kind(key, "rates")
        rate = _number(value, f"rates[{kind!r}]")
        if not 0.0 <= rate <= 1.0:
            raise ValueError(f"rates[{kind!r}] must be between 0 and 1, got {value!r}")
        rates[kind] = rate
    if sum(rates.values()) > 1.0 + _RATE_SUM_SLACK:
        raise ValueError(f"rates add up to {sum(rates.values()):g}; their sum must be at most 1")

    latency: dict[str, float] = {}
    for key in ("latency_ms", "latency_ms_per_kb"):
        value = _number(settings.get(key, 0), key)
        if value < 0:
            raise ValueError(f"{key} must be at least 0, got {settings[key]!r}")
        latency[key] = value

    raw_script = [] if settings.get("script") is None else settings["script"]
    if not isinstance(raw_script, list):
        raise ValueError('script must be a list of {"nth": n, "fault": kind} entries')
    script: dict[int, str] = {}
    for i, entry in enumerate(raw_script):
        where = f"script[{i}]"
        if not isinstance(entry, Mapping):
            raise ValueError(f"{where} must be an object with nth and fault")
        extra = sorted(set(entry) - {"nth", "fault"})
        if extra:
            raise ValueError(f"{where}: unknown key {', '.join(map(repr, extra))}; expected nth and fault")
        nth = entry.get("nth")
        if isinstance(nth, bool) or not isinstance(nth, int) or nth < 1:
            raise ValueError(f"{where}.nth must be a positive integer, got {nth!r}")
        if "fault" not in entry:
            raise ValueError(f"{where}.fault is required")
        if nth in script:
            raise ValueError(f"{where}.nth {nth} is already scripted")
        script[nth] = _kind(entry["fault"], f"{where}.fault")

    seed = settings.get("random_seed")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise ValueError(f"random_seed must be an integer, got {seed!r}")

    return _Settings(rates, latency["latency_ms"], latency["latency_ms_per_kb"], script, seed)


class FaultInjector:
    """The settings and counters; :meth:`decide` is called once per affected request. Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._settings = _EMPTY
        self._restart()

    def _restart(self) -> None:
        self._rng = random.Random(self._settings.random_seed)
        self._requests = 0
        self._injected = dict.fromkeys(KINDS, 0)

    def configure(self, settings: Mapping[str, Any]) -> None:
        """Replace every setting (omitted ones fall back to "no fault") and restart the counters.

        Raises ``ValueError`` naming the offending key or value; nothing changes then.
        """
        parsed = _parse(settings)
        with self._lock:
            self._settings = parsed
            self._restart()

    def clear(self) -> None:
        with self._lock:
            self._settings = _EMPTY
            self._restart()

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            s = self._settings
            return {
                "rates": {k: s.rates.get(k, 0.0) for k in KINDS},
                "latency_ms": s.latency_ms,
                "latency_ms_per_kb": s.latency_ms_per_kb,
                "script": [{"nth": n, "fault": f} for n, f in sorted(s.script.items())],
                "random_seed": s.random_seed,
                "counters": {"requests": self._requests, "injected": dict(self._injected)},
            }

    def decide(self) -> Decision:
        with self._lock:
            s = self._settings
            self._requests += 1
            n = self._requests
            draw = self._rng.random()  # always drawn: see the module docstring
            fault = s.script.get(n)
            if fault is None:
                cumulative = 0.0
                for kind in KINDS:
                    cumulative += s.rates.get(kind, 0.0)
                    if draw < cumulative:
                        fault = kind
                        break
            if fault is not None:
                self._injected[fault] += 1
            return Decision(n, fault, s.latency_ms, s.latency_ms_per_kb)


def in_scope(scope: Scope) -> bool:
    """Whether faults apply: HTTP requests to ``/api`` and ``/oauth2``, never the control plane."""
    if scope["type"] != "http":
        return False
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    if root and path.startswith(root):
        path = path[len(root) :]
    return any(path == p or path.startswith(p + "/") for p in ("/api", "/oauth2"))


def _fault_response(kind: str, scope: Scope) -> Response:
    if kind == "html_503":
        return Response(HTML_503, 503, media_type="text/html")
    accept = next((v for k, v in scope.get("headers", []) if k == b"accept"), b"").decode("latin-1")
    status = int(kind)
    headers = {"Retry-After": "1"} if status == 429 else None
    # Negotiated like the emulator's own errors: JSON when Accept mentions it, XML otherwise.
    if "json" in accept.lower():
        return Response(render_errors_json([_MESSAGES[kind]], "error"), status, headers, "application/json")
    return Response(render_errors_xml([_MESSAGES[kind]]), status, headers, "application/xml")


def _paced(send: Send, ms_per_kb: float) -> Send:
    """Delays each body chunk by its size, so the whole body takes ``ms_per_kb`` per KiB longer."""

    async def paced_send(message: Message) -> None:
        if message["type"] == "http.response.body":
            size = len(message.get("body", b""))
            if size:
                await asyncio.sleep(ms_per_kb * size / 1024 / 1000)
        await send(message)

    return paced_send


async def _cut_short(app: ASGIApp, scope: Scope, receive: Receive, send: Send, n: int) -> None:
    """Runs the app, sends its headers and the first half of its body, then raises."""
    start: Message | None = None
    chunks: list[bytes] = []

    async def buffer(message: Message) -> None:
        nonlocal start
        if message["type"] == "http.response.start":
            start = message
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))
        else:
            await send(message)

    await app(scope, receive, buffer)
    if start is None:
        raise InjectedReset(f"fault injected on request {n}: connection reset before any response")
    body = b"".join(chunks)
    if len(body) < 2:
        # Nothing to cut in half: drop Content-Length so the server frames the body as chunked and
        # closing it still leaves the client with an incomplete message rather than a short 200.
        start = {**start, "headers": [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]}
    part = body[: len(body) // 2]
    await send(start)
    await send({"type": "http.response.body", "body": part, "more_body": True})
    raise InjectedReset(f"fault injected on request {n}: connection reset after {len(part)} of {len(body)} body bytes")


def _held_until(send: Send, deadline: float) -> Send:
    """Hold the response's first message until ``deadline``: ``latency_ms`` is a round trip.

    The request is admitted (throttle, handler) as it arrives and its answer leaves ``latency_ms``
    after that, the request's own work counting towards it. Sleeping *before* the handler instead
    would let requests that arrived together reach the throttle together after the sleep and then
    queue behind each other on the emulator's one core: ten concurrent requests would see 150 ms
    plus nine renders, which a real instance, with many application servers, does not add.
    """
    held = True

    async def wrapped(message: Message) -> None:
        nonlocal held
        if held:
            held = False
            delay = deadline - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
        await send(message)

    return wrapped


class FaultMiddleware:
    """Pure ASGI middleware applying :class:`FaultInjector` decisions to the app behind it.

    Error faults answer without calling the app, so a faulted write has no side effect.
    """

    def __init__(self, app: ASGIApp, injector: FaultInjector) -> None:
        self.app = app
        self.injector = injector

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not in_scope(scope):
            await self.app(scope, receive, send)
            return
        decision = self.injector.decide()
        if decision.latency_ms:
            send = _held_until(send, time.monotonic() + decision.latency_ms / 1000)
        if decision.latency_ms_per_kb:
            send = _paced(send, decision.latency_ms_per_kb)
        if decision.fault == "reset":
            await _cut_short(self.app, scope, receive, send, decision.n)
        elif decision.fault is not None:
            await _fault_response(decision.fault, scope)(scope, receive, send)
        else:
            await self.app(scope, receive, send)


class HasFaults(Protocol):
    faults: FaultInjector


def routes(emu: HasFaults) -> list[Route]:
    """``GET|PUT|DELETE /__emulator__/faults``; each answers the settings and counters."""

    async def faults(request: Request) -> Response:
        if request.method == "PUT":
            raw = await request.body()
            try:
                data = orjson.loads(raw) if raw.strip() else {}
            except orjson.JSONDecodeError as exc:
                return JSONResponse({"error": f"body is not valid JSON: {exc}"}, 400)
            if not isinstance(data, dict):
                return JSONResponse({"error": "body must be a JSON object"}, 400)
            try:
                emu.faults.configure(data)
            except ValueError as exc:
                return JSONResponse({"error": str(exc)}, 400)
        elif request.method == "DELETE":
            emu.faults.clear()
        return JSONResponse(emu.faults.snapshot())

    return [Route("/__emulator__/faults", faults, methods=["GET", "PUT", "DELETE"])]
