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
from redis.exceptions import RedisError

from pycoupa.client.errors import (
    CoupaConnectionError,
    CoupaError,
    CoupaTimeoutError,
    CoupaTransportError,
    OAuthError,
    RateLimitedError,
    RateLimiterError,
    TokenStoreError,
    error_from_response,
    redact,
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

# What ``client.send`` may raise that the flows handle or that must reach the caller as the SDK's:
# httpx's transport and decoding errors (``send_flow`` wraps them), the SDK's own (OAuthError,
# TokenStoreError and TokenLockTimeout from the auth flow's token store), and Redis's own from a
# token store that does not wrap them (a custom one).
_SEND_ERRORS = (httpx.TransportError, httpx.DecodingError, CoupaError, RedisError)


def _send_failure(exc: Exception) -> BaseException:
    """What a failed ``client.send`` throws into the flow."""
    if isinstance(exc, RedisError):  # only the auth flow's token store talks to Redis during a send
        wrapped = TokenStoreError(redact(f"token store: Redis failed: {type(exc).__name__}: {_one_line(exc)}"))
        wrapped.__cause__ = exc
        return wrapped
    return exc


def _limiter_failure(effect: Throttle, exc: Exception) -> BaseException | None:
    """What a failed rate-limiter call throws into the flow (None: nothing).

    Redis's own error (from a limiter that does not wrap it) becomes ``RateLimiterError``. A failure
    to *report* an answer (a success, a 429) throws nothing: the request's outcome is known and must
    reach the caller (a create that succeeded must not look failed, or it would be sent again);
    missing one report costs the shared budget a little accuracy, and the next reservation, which
    needs the limiter, fails if it is still down.
    """
    if isinstance(exc, RedisError):
        wrapped = RateLimiterError(
            redact(f"rate limiter {effect.limiter!r}: Redis failed: {type(exc).__name__}: {_one_line(exc)}")
        )
        wrapped.__cause__ = exc
        exc = wrapped
    if effect.step != "acquire" and isinstance(exc, RateLimiterError):
        what = "success" if effect.step == "success" else "429"
        log.warning("the rate limiter could not record a %s (%s); the request's answer stands", what, exc)
        return None
    return exc


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:300] or "no detail"


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
                error = _limiter_failure(effect, exc)
            continue
        try:
            value = client.send(effect.request)
        except _SEND_ERRORS as exc:
            error = _send_failure(exc)


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
                error = _limiter_failure(effect, exc)
            continue
        try:
            value = await client.send(effect.request)
        except _SEND_ERRORS as exc:
            error = _send_failure(exc)


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
        except httpx.DecodingError as exc:
            # An answer came, but its body does not match its Content-Encoding: no usable answer, and
            # its status is unknown. Not retried (a write may have been applied, and a server that
            # mislabels its encoding does it again); a create's lookup by natural key still applies.
            raise CoupaTransportError(exc, request, request_sent=True) from exc
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
