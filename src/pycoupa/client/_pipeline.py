"""One implementation for sync and async: operations are generators of *effects*.

An operation (send a request with throttling and retries, fetch a page, create with a
natural-key check) is written once as a generator that yields :class:`Send`, :class:`Sleep` or
:class:`Throttle` and receives the answer; :func:`run_sync` and :func:`run_async` are the only
places that do I/O. This is how ``Coupa`` and ``AsyncCoupa`` share every line of logic (no copied
code). The rate limiter is I/O too (``RedisRateLimiter`` makes a Redis round trip per call), so it
is an effect: the async runner calls its ``a``-methods, which never block the event loop.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Generator
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

import httpx

from pycoupa.client.errors import (
    CoupaConnectionError,
    CoupaTimeoutError,
    CoupaTransportError,
    OAuthError,
    RateLimitedError,
    error_from_response,
    redact_url,
)
from pycoupa.client.ratelimit import RateLimiter
from pycoupa.client.retry import RetryPolicy

T = TypeVar("T")


@dataclass(frozen=True)
class Send:
    request: httpx.Request


@dataclass(frozen=True)
class Sleep:
    seconds: float


@dataclass(frozen=True)
class Throttle:
    """One call on the rate limiter: reserve a slot (the answer is the wait), or report a success
    or a 429. Each runner makes it its own way; an error it raises is thrown into the flow."""

    limiter: RateLimiter
    step: Literal["acquire", "success", "throttled"]
    value: float | None = None  # acquire: the longest acceptable wait; throttled: Retry-After

    def call(self) -> float | None:
        if self.step == "acquire":
            # Without max_wait the limiter is called as before: a custom limiter may not take it.
            return self.limiter.acquire_delay() if self.value is None else self.limiter.acquire_delay(self.value)
        if self.step == "success":
            self.limiter.on_success()
        else:
            self.limiter.on_throttled(self.value)
        return None

    async def acall(self) -> float | None:
        if self.step == "acquire":
            return await self.limiter.aacquire_delay(self.value)
        if self.step == "success":
            await self.limiter.aon_success()
        else:
            await self.limiter.aon_throttled(self.value)
        return None


Effect = Send | Sleep | Throttle
log = logging.getLogger(__name__)


def _retrying(request: httpx.Request, attempt: int, reason: str, delay: float) -> None:
    # INFO, as httpx logs each request: retries are normal under Coupa's throttle, but worth seeing.
    # The URL is redacted (a query can carry a secret) and the body is never logged.
    log.info("retrying %s %s (attempt %d failed: %s) in %.2f s", request.method, redact_url(str(request.url)),
             attempt, reason, delay)  # fmt: skip


Flow = Generator[Effect, Any, T]


def run_sync(flow: Flow[T], client: httpx.Client) -> T:
    value: Any = None
    error: BaseException | None = None
    while True:
        try:
            effect = flow.throw(error) if error is not None else flow.send(value)
        except StopIteration as stop:
            return stop.value  # type: ignore[no-any-return]
        value, error = None, None
        if isinstance(effect, Sleep):
            if effect.seconds > 0:
                time.sleep(effect.seconds)
            continue
        if isinstance(effect, Throttle):
            try:
                value = effect.call()
            except Exception as exc:  # RateBudgetExceededError, a Redis outage without fallback...
                error = exc
            continue
        try:
            value = client.send(effect.request)
        except (httpx.TransportError, OAuthError) as exc:
            error = exc


async def run_async(flow: Flow[T], client: httpx.AsyncClient) -> T:
    value: Any = None
    error: BaseException | None = None
    while True:
        try:
            effect = flow.throw(error) if error is not None else flow.send(value)
        except StopIteration as stop:
            return stop.value  # type: ignore[no-any-return]
        value, error = None, None
        if isinstance(effect, Sleep):
            if effect.seconds > 0:
                await asyncio.sleep(effect.seconds)
            continue
        if isinstance(effect, Throttle):
            try:
                value = await effect.acall()
            except Exception as exc:
                error = exc
            continue
        try:
            value = await client.send(effect.request)
        except (httpx.TransportError, OAuthError) as exc:
            error = exc


def _transport_error(exc: httpx.TransportError, request: httpx.Request) -> CoupaTransportError:
    if isinstance(exc, httpx.TimeoutException):
        return CoupaTimeoutError(exc, request)  # type: ignore[call-arg]
    return CoupaConnectionError(exc, request)  # type: ignore[call-arg]


def send_flow(
    request: httpx.Request,
    retry: RetryPolicy,
    limiter: RateLimiter | None,
    *,
    raise_errors: bool = True,
    max_wait: float | None = None,
) -> Flow[httpx.Response]:
    """Send one request through the throttle, retrying what the retry table allows.

    With ``raise_errors=False`` an error answer that is not retried (or that exhausted its
    retries) is returned rather than raised: a proxy passes Coupa's status through as is. With
    ``max_wait``, a request the throttle would hold longer than that raises
    ``RateBudgetExceededError`` unsent.
    """
    attempt = 0
    while True:
        attempt += 1
        if limiter is not None:
            wait = yield Throttle(limiter, "acquire", max_wait)
            if wait > 0:
                yield Sleep(wait)
        try:
            response: httpx.Response = yield Send(request)
        except OAuthError as exc:
            # Minting the token failed before the request itself went out, so retrying is safe
            # for any method when the token endpoint was only unavailable or throttled.
            if exc.status not in (429, 500, 502, 503, 504) or attempt >= retry.max_attempts:
                raise
            delay = retry.backoff(attempt)
            _retrying(request, attempt, f"token endpoint answered {exc.status}", delay)
            yield Sleep(delay)
            continue
        except httpx.TransportError as exc:
            decision = retry.decide(request.method, attempt, error=exc)
            if not decision.retry:
                raise _transport_error(exc, request) from exc
            _retrying(request, attempt, decision.reason, decision.delay)
            yield Sleep(decision.delay)
            continue
        if response.status_code < 400:
            if limiter is not None:
                yield Throttle(limiter, "success")
            return response
        error = error_from_response(response)
        if isinstance(error, RateLimitedError) and limiter is not None:
            yield Throttle(limiter, "throttled", error.retry_after)
        decision = retry.decide(request.method, attempt, response=response)
        if not decision.retry:
            if not raise_errors:
                return response
            raise error
        _retrying(request, attempt, decision.reason, decision.delay)
        yield Sleep(decision.delay)
