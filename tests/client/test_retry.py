"""The retry table: methods x outcomes, backoff bounds and Retry-After precedence."""

from __future__ import annotations

import email.utils
import random
from collections.abc import Callable

import httpx
import pytest

from pycoupa.client.errors import (
    ConfigurationError,
    CoupaConnectionError,
    CoupaTimeoutError,
    error_from_response,
)
from pycoupa.client.retry import (
    RETRY_AFTER_CAP,
    RETRY_TABLE,
    Outcome,
    RetryPolicy,
    classify,
    is_retryable_error,
)

URL = "https://acme.coupahost.com/api/invoices"
READS = ("GET", "HEAD", "OPTIONS", "get")
WRITES = ("POST", "PUT", "PATCH", "DELETE")


def _response(status: int, headers: dict[str, str] | None = None, method: str = "GET") -> httpx.Response:
    return httpx.Response(status, headers=headers, request=httpx.Request(method, URL))


def _error(cls: type[httpx.TransportError]) -> httpx.TransportError:
    return cls("boom", request=httpx.Request("GET", URL))


# name -> (what decide() is given, retried for reads, retried for writes)
CASES: dict[str, tuple[Callable[[], dict[str, object]], bool, bool]] = {
    "200": (lambda: {"response": _response(200)}, False, False),
    "201": (lambda: {"response": _response(201)}, False, False),
    "429": (lambda: {"response": _response(429)}, True, True),
    "500": (lambda: {"response": _response(500)}, True, False),
    "502": (lambda: {"response": _response(502)}, True, False),
    "503": (lambda: {"response": _response(503)}, True, False),
    "504": (lambda: {"response": _response(504)}, True, False),
    "501": (lambda: {"response": _response(501)}, False, False),
    "400": (lambda: {"response": _response(400)}, False, False),
    "401": (lambda: {"response": _response(401)}, False, False),
    "403": (lambda: {"response": _response(403)}, False, False),
    "404": (lambda: {"response": _response(404)}, False, False),
    "409": (lambda: {"response": _response(409)}, False, False),
    "422": (lambda: {"response": _response(422)}, False, False),
    "ReadTimeout": (lambda: {"error": _error(httpx.ReadTimeout)}, True, False),
    "WriteTimeout": (lambda: {"error": _error(httpx.WriteTimeout)}, True, False),
    "ConnectTimeout": (lambda: {"error": _error(httpx.ConnectTimeout)}, True, True),
    "PoolTimeout": (lambda: {"error": _error(httpx.PoolTimeout)}, True, True),
    "ConnectError": (lambda: {"error": _error(httpx.ConnectError)}, True, True),
    "ReadError (dropped mid-body)": (lambda: {"error": _error(httpx.ReadError)}, True, False),
    "RemoteProtocolError (dropped mid-body)": (lambda: {"error": _error(httpx.RemoteProtocolError)}, True, False),
    "WriteError": (lambda: {"error": _error(httpx.WriteError)}, True, False),
    "UnsupportedProtocol": (lambda: {"error": _error(httpx.UnsupportedProtocol)}, False, False),
    "CoupaTimeoutError": (lambda: {"error": CoupaTimeoutError(_error(httpx.ReadTimeout))}, True, False),
    "CoupaConnectionError refused": (lambda: {"error": CoupaConnectionError(_error(httpx.ConnectError))}, True, True),
    "CoupaConnectionError dropped": (lambda: {"error": CoupaConnectionError(_error(httpx.ReadError))}, True, False),
    "RateLimitedError": (lambda: {"error": error_from_response(_response(429))}, True, True),
    "ServerError 503": (lambda: {"error": error_from_response(_response(503))}, True, False),
    "NotFoundError": (lambda: {"error": error_from_response(_response(404))}, False, False),
    "HTTPStatusError 502": (
        lambda: {"error": httpx.HTTPStatusError("bad", request=httpx.Request("GET", URL), response=_response(502))},
        True,
        False,
    ),
    "ValueError": (lambda: {"error": ValueError("a bug")}, False, False),
}


@pytest.mark.parametrize("method", READS + WRITES)
@pytest.mark.parametrize("case", list(CASES))
def test_retry_table(method: str, case: str) -> None:
    given, read_retried, write_retried = CASES[case]
    policy = RetryPolicy(rng=random.Random(1))
    expected = read_retried if method.upper() in ("GET", "HEAD", "OPTIONS") else write_retried
    decision = policy.decide(method, 1, **given())  # type: ignore[arg-type]
    assert decision.retry is expected, decision.reason
    assert decision.reason
    if decision.retry:
        assert 0.0 <= decision.delay <= policy.base_delay
    else:
        assert decision.delay == 0.0
    # The same verdict from the exception alone (responses turned into their CoupaAPIError).
    args = given()
    response = args.get("response")
    exc = error_from_response(response) if isinstance(response, httpx.Response) else args["error"]
    assert isinstance(exc, BaseException)
    assert is_retryable_error(exc, method=method) is expected


def test_table_covers_every_outcome_and_says_why_writes_are_refused() -> None:
    assert set(RETRY_TABLE) == set(Outcome)
    decision = RetryPolicy().decide("POST", 1, response=_response(503, method="POST"))
    assert not decision.retry and "natural key" in decision.reason
    assert decision.outcome is Outcome.TRANSIENT_STATUS
    assert classify(error=_error(httpx.ReadError)) is Outcome.DROPPED


def test_gives_up_after_max_attempts() -> None:
    policy = RetryPolicy(max_attempts=3, rng=random.Random(0))
    assert policy.decide("GET", 1, response=_response(503)).retry
    assert policy.decide("GET", 2, response=_response(503)).retry
    last = policy.decide("GET", 3, response=_response(503))
    assert not last.retry and "3 attempts" in last.reason
    assert not RetryPolicy(max_attempts=1).decide("GET", 1, response=_response(429)).retry
    with pytest.raises(ValueError, match="1-based"):
        policy.decide("GET", 0, response=_response(503))


def test_backoff_bounds_with_seeded_random() -> None:
    policy = RetryPolicy(max_attempts=50, base_delay=0.5, max_delay=30.0, rng=random.Random(42))
    for attempt in range(1, 12):
        ceiling = min(30.0, 0.5 * 2 ** (attempt - 1))
        delays = [policy.decide("GET", attempt, error=_error(httpx.ReadTimeout)).delay for _ in range(200)]
        assert all(0.0 <= d <= ceiling for d in delays)
        # Full jitter: spread over the whole interval, not bunched at the top.
        assert min(delays) < ceiling * 0.1 and max(delays) > ceiling * 0.9
    # Same seed, same delays: the randomness is isolated in the injected Random.
    a = [RetryPolicy(rng=random.Random(7)).backoff(n) for n in range(1, 6)]
    b = [RetryPolicy(rng=random.Random(7)).backoff(n) for n in range(1, 6)]
    assert a == b


def test_backoff_without_jitter_is_exponential_and_capped() -> None:
    policy = RetryPolicy(max_attempts=20, base_delay=0.5, max_delay=30.0, jitter=False)
    delays = [policy.decide("GET", n, response=_response(500)).delay for n in range(1, 10)]
    assert delays == [0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0, 30.0]
    assert policy.backoff(10_000) == 30.0  # no overflow on absurd attempt numbers


def test_retry_after_wins_over_backoff_even_above_max_delay() -> None:
    policy = RetryPolicy(base_delay=0.5, max_delay=2.0, rng=random.Random(0))
    decision = policy.decide("GET", 1, response=_response(429, {"Retry-After": "7"}))
    assert decision.retry and decision.delay == 7.0 and "Retry-After" in decision.reason
    # Smaller than the backoff would be: still the server's figure.
    assert policy.decide("GET", 4, response=_response(503, {"Retry-After": "0"})).delay == 0.0
    # HTTP-date, measured from the response's Date header.
    now = 1_700_000_000.0
    dated = {
        "Date": email.utils.formatdate(now, usegmt=True),
        "Retry-After": email.utils.formatdate(now + 5, usegmt=True),
    }
    assert policy.decide("POST", 1, response=_response(429, dated, "POST")).delay == pytest.approx(5.0)
    # From an already-built error too.
    error = error_from_response(_response(429, {"Retry-After": "3"}))
    assert policy.decide("PUT", 2, error=error).delay == 3.0


def test_retry_after_does_not_make_a_write_retryable() -> None:
    decision = RetryPolicy().decide("POST", 1, response=_response(503, {"Retry-After": "1"}, "POST"))
    assert not decision.retry


def test_retry_after_over_the_cap_is_left_to_the_caller() -> None:
    policy = RetryPolicy()
    decision = policy.decide("GET", 1, response=_response(429, {"Retry-After": str(int(RETRY_AFTER_CAP) + 1)}))
    assert not decision.retry and "cap" in decision.reason
    at_cap = policy.decide("GET", 1, response=_response(429, {"Retry-After": str(int(RETRY_AFTER_CAP))}))
    assert at_cap.retry and at_cap.delay == RETRY_AFTER_CAP


def test_configurable_statuses_and_methods() -> None:
    no_429 = RetryPolicy(retry_statuses=(500, 502, 503, 504))
    assert not no_429.decide("GET", 1, response=_response(429)).retry
    with_408 = RetryPolicy(retry_statuses=(408, 429), retry_methods=("get", "put"))
    assert with_408.retry_methods == ("GET", "PUT")
    assert with_408.decide("PUT", 1, response=_response(408)).retry
    assert not with_408.decide("POST", 1, response=_response(408)).retry
    assert not with_408.decide("GET", 1, response=_response(503)).retry


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"max_attempts": 0}, "max_attempts"),
        ({"max_attempts": 2.5}, "max_attempts"),
        ({"base_delay": -1}, "base_delay"),
        ({"max_delay": 0.1}, "max_delay"),
        ({"retry_statuses": (429, 1000)}, "retry_statuses"),
        ({"retry_methods": "GET"}, "retry_methods"),
    ],
)
def test_policy_validation(kwargs: dict[str, object], name: str) -> None:
    with pytest.raises(ConfigurationError, match=name):
        RetryPolicy(**kwargs)  # type: ignore[arg-type]


def test_policy_is_frozen_and_comparable() -> None:
    assert RetryPolicy(rng=random.Random(1)) == RetryPolicy(rng=random.Random(2))
    with pytest.raises(AttributeError):
        RetryPolicy().max_attempts = 3  # type: ignore[misc]


def test_each_retry_is_logged_without_secrets(caplog: pytest.LogCaptureFixture) -> None:
    import logging

    import httpx

    from pycoupa.client import Coupa
    from pycoupa.client.retry import RetryPolicy

    answers = iter([503, 429, 200])

    def coupa(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/oauth2/token":
            return httpx.Response(200, json={"access_token": "tok-SECRET", "token_type": "bearer", "expires_in": 3600})
        status = next(answers)
        return httpx.Response(status, json=[] if status == 200 else {"errors": {"invoice": ["busy"]}},
                              headers={"Retry-After": "0"} if status == 429 else {})  # fmt: skip

    caplog.set_level(logging.INFO, logger="pycoupa.client._pipeline")
    fast = RetryPolicy(base_delay=0.01, max_delay=0.02)
    with Coupa("https://acme.coupahost.com", client_id="cid", client_secret="secret-123", models=False,
               retry=fast, transport=httpx.MockTransport(coupa)) as client:  # fmt: skip
        assert client.invoices.list(limit=1) == []
    retries = [r.getMessage() for r in caplog.records if r.getMessage().startswith("retrying GET")]
    assert len(retries) == 2, caplog.text
    assert "503" in retries[0] and "429" in retries[1] and "attempt 1" in retries[0] and "attempt 2" in retries[1]
    assert "tok-SECRET" not in caplog.text and "secret-123" not in caplog.text
