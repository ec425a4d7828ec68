"""When to retry a Coupa request, and after how long: one table, pure functions, no I/O.

Every failed attempt is first classified into an :class:`Outcome`; ``RETRY_TABLE`` then says
whether a read (``GET``/``HEAD``/``OPTIONS``, i.e. ``RetryPolicy.retry_methods``) and a write
(anything else) may be sent again:

================  =====  =====  ==============================================================
outcome           read   write  why
================  =====  =====  ==============================================================
SUCCESS           no     no     status < 400: nothing to retry
THROTTLED         yes    yes    429: the throttle refused the request *before* processing it,
                                so nothing was applied and resending a write is safe
TRANSIENT_STATUS  yes    no     500/502/503/504 (the other ``retry_statuses``): the write may
                                or may not have been applied; Coupa has no idempotency key, so
                                the caller must look the record up by natural key first
FINAL_STATUS      no     no     400/401/403/404/409/422 and any status not in the table:
                                sending the same request again gives the same answer (a 401 is
                                the auth layer's business: re-mint, then replay once)
NOT_SENT          yes    yes    connection refused, connect or pool timeout: no byte of the
                                request left this machine, so it cannot have been applied
TIMEOUT           yes    no     read/write timeout: the server may have processed the write
DROPPED           yes    no     connection lost mid-request or mid-body (RemoteProtocolError,
                                ReadError…): same uncertainty as a timeout
FATAL_ERROR       no     no     any other exception (a bug, a TLS or proxy misconfiguration)
================  =====  =====  ==============================================================

Writes *are* resent after a 429 (this goes beyond the issue's "GETs on 429", deliberately): a 429
means Coupa's throttle refused the request before processing it, so nothing was applied and
resending it cannot duplicate anything. A 503 is not treated like a 429 for writes: an edge or
gateway 503 cannot tell us whether the application saw the request. Taking 429 out of
``retry_statuses`` makes it FINAL_STATUS (and stops write retries on 429).

Delays: exponential ``base_delay * 2 ** (attempt - 1)`` capped at ``max_delay``, with full jitter
(uniform in ``[0, d]``) drawn from the policy's injectable ``random.Random``. A ``Retry-After``
header (seconds or HTTP-date), when present, wins over the computed delay and is honoured exactly,
even above ``max_delay``: retrying sooner than the server asked only earns another refusal. It is
bounded by ``RETRY_AFTER_CAP`` (120 s): a longer ``Retry-After`` (maintenance, a day-long
lockout) is not slept through; the attempt is not retried and the error, which carries
``retry_after``, goes to the caller to reschedule.
"""

from __future__ import annotations

import enum
import math
import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import httpx

from pycoupa.client.errors import (
    _NOT_SENT,
    ConfigurationError,
    CoupaAPIError,
    CoupaConnectionError,
    CoupaTimeoutError,
    CoupaTransportError,
    OAuthError,
    retry_after_from_headers,
)

__all__ = [
    "DEFAULT_RETRY_METHODS",
    "DEFAULT_RETRY_STATUSES",
    "RETRY_AFTER_CAP",
    "RETRY_TABLE",
    "Decision",
    "Outcome",
    "RetryPolicy",
    "classify",
    "is_retryable_error",
]

DEFAULT_RETRY_STATUSES: tuple[int, ...] = (429, 500, 502, 503, 504)
DEFAULT_RETRY_METHODS: tuple[str, ...] = ("GET", "HEAD", "OPTIONS")
RETRY_AFTER_CAP = 120.0


class Outcome(enum.Enum):
    """What happened to one attempt, as far as retrying is concerned."""

    SUCCESS = "success"
    THROTTLED = "throttled"
    TRANSIENT_STATUS = "transient status"
    FINAL_STATUS = "final status"
    NOT_SENT = "not sent"
    TIMEOUT = "timeout"
    DROPPED = "dropped connection"
    FATAL_ERROR = "fatal error"


# outcome -> (retry a read?, retry a write?). The module docstring explains each row.
RETRY_TABLE: Mapping[Outcome, tuple[bool, bool]] = MappingProxyType(
    {
        Outcome.SUCCESS: (False, False),
        Outcome.THROTTLED: (True, True),
        Outcome.TRANSIENT_STATUS: (True, False),
        Outcome.FINAL_STATUS: (False, False),
        Outcome.NOT_SENT: (True, True),
        Outcome.TIMEOUT: (True, False),
        Outcome.DROPPED: (True, False),
        Outcome.FATAL_ERROR: (False, False),
    }
)

_WRITE_REFUSAL = {
    Outcome.TRANSIENT_STATUS: "a write may have been applied; check by natural key before resending",
    Outcome.TIMEOUT: "a write may have been applied; check by natural key before resending",
    Outcome.DROPPED: "a write may have been applied; check by natural key before resending",
}


@dataclass(frozen=True)
class Decision:
    """The verdict on one failed attempt: ``retry`` after ``delay`` seconds, and why (for logs)."""

    retry: bool
    delay: float
    reason: str
    outcome: Outcome = Outcome.FATAL_ERROR


@dataclass(frozen=True)
class _Classified:
    outcome: Outcome
    what: str
    retry_after: float | None = None


def _status_outcome(status: int, retry_statuses: tuple[int, ...]) -> Outcome:
    if status < 400:
        return Outcome.SUCCESS
    if status not in retry_statuses:
        return Outcome.FINAL_STATUS
    return Outcome.THROTTLED if status == 429 else Outcome.TRANSIENT_STATUS


def _classify(
    response: httpx.Response | None, error: BaseException | None, retry_statuses: tuple[int, ...]
) -> _Classified:
    if isinstance(error, httpx.HTTPStatusError):  # from raise_for_status(): judge the response
        response, error = error.response, None
    if error is None:
        if response is None:
            raise ValueError("decide() needs a response or an error")
        status = response.status_code
        what = f"{status} {response.reason_phrase or httpx.codes.get_reason_phrase(status)}".strip()
        return _Classified(_status_outcome(status, retry_statuses), what, retry_after_from_headers(response.headers))
    name = type(error).__name__
    if isinstance(error, CoupaAPIError | OAuthError) and error.status is not None:
        return _Classified(_status_outcome(error.status, retry_statuses), f"{error.status} ({name})", error.retry_after)
    if isinstance(error, CoupaTransportError):
        if not error.request_sent:
            return _Classified(Outcome.NOT_SENT, name)
        if isinstance(error, CoupaTimeoutError):
            return _Classified(Outcome.TIMEOUT, name)
        if isinstance(error, CoupaConnectionError):
            return _Classified(Outcome.DROPPED, name)
        return _Classified(Outcome.FATAL_ERROR, name)
    if isinstance(error, _NOT_SENT) and not isinstance(error, httpx.UnsupportedProtocol):
        return _Classified(Outcome.NOT_SENT, name)
    if isinstance(error, httpx.TimeoutException):
        return _Classified(Outcome.TIMEOUT, name)
    if isinstance(error, httpx.NetworkError | httpx.RemoteProtocolError):
        return _Classified(Outcome.DROPPED, name)
    return _Classified(Outcome.FATAL_ERROR, name)


def classify(
    response: httpx.Response | None = None,
    error: BaseException | None = None,
    *,
    retry_statuses: tuple[int, ...] = DEFAULT_RETRY_STATUSES,
) -> Outcome:
    """The row of ``RETRY_TABLE`` an attempt falls in (``error`` wins when both are given)."""
    return _classify(response, error, retry_statuses).outcome


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


@dataclass(frozen=True)
class RetryPolicy:
    """How many attempts, which statuses and methods, and how long to wait; see the module docstring.

    ``rng`` is the randomness behind the jitter: pass ``random.Random(seed)`` for reproducible
    delays. It is left out of equality, hashing and ``repr``.
    """

    max_attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 30.0
    jitter: bool = True
    retry_statuses: tuple[int, ...] = DEFAULT_RETRY_STATUSES
    retry_methods: tuple[str, ...] = DEFAULT_RETRY_METHODS
    rng: random.Random = field(default_factory=random.Random, compare=False, hash=False, repr=False)

    def __post_init__(self) -> None:
        if not _is_int(self.max_attempts) or self.max_attempts < 1:
            raise ConfigurationError(f"max_attempts must be an integer >= 1, got {self.max_attempts!r}")
        if not _is_number(self.base_delay) or self.base_delay < 0:
            raise ConfigurationError(f"base_delay must be a number of seconds >= 0, got {self.base_delay!r}")
        if not _is_number(self.max_delay) or self.max_delay < self.base_delay:
            raise ConfigurationError(f"max_delay must be a number of seconds >= base_delay, got {self.max_delay!r}")
        statuses = tuple(self.retry_statuses)
        if not all(_is_int(s) and 100 <= s <= 599 for s in statuses):
            raise ConfigurationError(f"retry_statuses must be HTTP status codes, got {self.retry_statuses!r}")
        if isinstance(self.retry_methods, str) or not all(isinstance(m, str) and m for m in self.retry_methods):
            raise ConfigurationError(f"retry_methods must be a tuple of method names, got {self.retry_methods!r}")
        # Frozen: normalise through object.__setattr__ so lookups need no per-call work.
        object.__setattr__(self, "retry_statuses", statuses)
        object.__setattr__(self, "retry_methods", tuple(m.upper() for m in self.retry_methods))

    def backoff(self, attempt: int) -> float:
        """The computed wait after failed attempt number ``attempt`` (1-based), before any Retry-After."""
        # The exponent is clamped so a silly attempt number cannot overflow a float.
        ceiling = min(self.max_delay, self.base_delay * 2.0 ** min(attempt - 1, 64))
        return self.rng.uniform(0.0, ceiling) if self.jitter else ceiling

    def settle_delay(self, attempt: int, retry_after: float | None = None) -> float:
        """The wait after an ambiguous write (attempt ``attempt``) before looking it up by natural key.

        A timed-out create is usually still being committed, so this is the full back-off without
        jitter (a jittered wait could be drawn near zero and the lookup would miss the record), or
        the failure's ``Retry-After`` when it has one under the cap.
        """
        if retry_after is not None and 0 <= retry_after <= RETRY_AFTER_CAP:
            return retry_after
        return min(self.max_delay, self.base_delay * 2.0 ** min(attempt - 1, 64))

    def decide(
        self,
        method: str,
        attempt: int,
        *,
        response: httpx.Response | None = None,
        error: BaseException | None = None,
    ) -> Decision:
        """Whether to send ``method`` again after its attempt number ``attempt`` (1-based) failed.

        Give the ``response`` that came back, or the ``error`` raised instead (an httpx exception,
        a ``CoupaTransportError``, a ``CoupaAPIError`` or an ``httpx.HTTPStatusError``).
        """
        if not _is_int(attempt) or attempt < 1:
            raise ValueError(f"attempt is 1-based, got {attempt!r}")
        verb = method.upper()
        seen = _classify(response, error, self.retry_statuses)
        is_read = verb in self.retry_methods
        allowed = RETRY_TABLE[seen.outcome][0 if is_read else 1]
        head = f"{seen.what} on {verb}"
        if not allowed:
            if seen.outcome is Outcome.SUCCESS:
                why = "not an error"
            elif not is_read and seen.outcome in _WRITE_REFUSAL:
                why = _WRITE_REFUSAL[seen.outcome]
            else:
                why = f"{seen.outcome.value} is never retried"
            return Decision(False, 0.0, f"{head}: {why}", seen.outcome)
        if attempt >= self.max_attempts:
            return Decision(False, 0.0, f"{head}: giving up after {attempt} attempts", seen.outcome)
        if seen.retry_after is not None:
            if seen.retry_after > RETRY_AFTER_CAP:
                why = f"Retry-After {seen.retry_after:g}s is over the {RETRY_AFTER_CAP:g}s cap; left to the caller"
                return Decision(False, 0.0, f"{head}: {why}", seen.outcome)
            return Decision(
                True,
                seen.retry_after,
                f"{head}: retry {attempt + 1}/{self.max_attempts} in {seen.retry_after:.3g}s (Retry-After)",
                seen.outcome,
            )
        delay = self.backoff(attempt)
        return Decision(
            True, delay, f"{head}: retry {attempt + 1}/{self.max_attempts} in {delay:.3g}s (backoff)", seen.outcome
        )


def is_retryable_error(exc: BaseException, *, method: str = "GET") -> bool:
    """Whether an exception is worth retrying for ``method`` under the default table (attempts aside).

    True for timeouts, refused or dropped connections, 429 and 500/502/503/504 on reads; for
    writes only for 429 and failures before the request was sent.
    """
    seen = _classify(None, exc, DEFAULT_RETRY_STATUSES)
    return RETRY_TABLE[seen.outcome][0 if method.upper() in DEFAULT_RETRY_METHODS else 1]
