"""What the client's own machinery raises reaches the caller inside the SDK's error tree.

The token store (Redis, a file), the mint lock, the shared rate limiter and httpx's body decoding
each used to let their own exception through (``redis.ConnectionError``, a plain ``TimeoutError``,
``httpx.DecodingError``). Each now arrives as a ``CoupaError`` subclass with the original as its
``__cause__``, and without the Redis password a URL may carry. Redis cases run against the real
server at 127.0.0.1:6379 (a failing connection: a closed port next to it).
"""

from __future__ import annotations

import logging
import pickle
import secrets
import socket
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
import redis.asyncio

from pycoupa.client import AsyncCoupa, Coupa
from pycoupa.client import token_store as token_store_module
from pycoupa.client.auth import CoupaOAuth
from pycoupa.client.errors import (
    CoupaConnectionError,
    CoupaError,
    CoupaTimeoutError,
    CoupaTransportError,
    RateLimiterError,
    TokenLockTimeout,
    TokenStoreError,
)
from pycoupa.client.ratelimit import LocalRateLimiter, RedisRateLimiter
from pycoupa.client.retry import RetryPolicy
from pycoupa.client.token_store import FileTokenStore, MemoryTokenStore, RedisTokenStore, Token

HOST = "https://acme.coupahost.com"
PASSWORD = "s3cret-redis-pass"


@pytest.fixture
def closed_port() -> int:
    """A local port nothing listens on: connecting is refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def prefix(redis_client: redis.Redis) -> Iterator[str]:
    name = f"pycoupa:test:wrapped:{secrets.token_hex(4)}:"
    yield name
    for key in redis_client.scan_iter(match=name + "*"):
        redis_client.delete(key)


def _unreachable(port: int) -> redis.Redis:
    # The password sits in the URL, as it often does in a deployment's REDIS_URL.
    return redis.Redis.from_url(f"redis://:{PASSWORD}@127.0.0.1:{port}/0", socket_connect_timeout=1)


class Answers:
    """A MockTransport handler: a token, then ``api`` for every API call (recorded)."""

    def __init__(self, api: Callable[[httpx.Request], httpx.Response] | None = None) -> None:
        self.api = api or (lambda request: httpx.Response(200, json=[{"id": 1, "name": "Acme"}]))
        self.calls: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/oauth2/token":
            return httpx.Response(200, json={"access_token": "tok-abcdefgh", "expires_in": 3600})
        self.calls.append(request.method)
        return self.api(request)


def _coupa(answers: Answers | None = None, **options: Any) -> Coupa:
    options.setdefault("rate_limiter", None)
    if "auth" not in options:
        options.update(client_id="cid", client_secret="secret-123")
    return Coupa(HOST, transport=httpx.MockTransport(answers or Answers()), models=False, **options)


def _async_coupa(answers: Answers | None = None, **options: Any) -> AsyncCoupa:
    options.setdefault("rate_limiter", None)
    options.update(client_id="cid", client_secret="secret-123")
    return AsyncCoupa(HOST, transport=httpx.MockTransport(answers or Answers()), models=False, **options)


def _no_secret(error: BaseException) -> None:
    for text in (str(error), repr(error), repr(vars(error))):
        assert PASSWORD not in text and "tok-abcdefgh" not in text


def test_the_new_classes_sit_in_the_tree() -> None:
    assert issubclass(TokenStoreError, CoupaError) and issubclass(RateLimiterError, CoupaError)
    assert issubclass(TokenLockTimeout, TokenStoreError) and issubclass(TokenLockTimeout, TimeoutError)
    assert token_store_module.TokenLockTimeout is TokenLockTimeout  # still importable where it was
    copy = pickle.loads(pickle.dumps(TokenLockTimeout("could not take the token lock")))
    assert type(copy) is TokenLockTimeout and str(copy) == "could not take the token lock"


# -- the token store -------------------------------------------------------------------------------
def test_an_unreachable_redis_token_store_is_a_token_store_error(closed_port: int) -> None:
    store = RedisTokenStore(_unreachable(closed_port))
    answers = Answers()
    with _coupa(answers, token_store=store) as coupa, pytest.raises(TokenStoreError) as caught:
        coupa.suppliers.list(limit=1)
    error = caught.value
    assert isinstance(error.__cause__, redis.ConnectionError)
    assert str(error).startswith("Redis token store: could not read a token: ConnectionError: Error 111")
    assert answers.calls == []  # nothing was sent
    _no_secret(error)


@pytest.mark.parametrize("native_async", [False, True])
async def test_the_async_client_gets_a_token_store_error_too(closed_port: int, native_async: bool) -> None:
    async_client = (
        redis.asyncio.Redis.from_url(f"redis://:{PASSWORD}@127.0.0.1:{closed_port}/0") if native_async else None
    )
    store = RedisTokenStore(_unreachable(closed_port), async_client=async_client)
    async with _async_coupa(token_store=store) as coupa:
        with pytest.raises(TokenStoreError) as caught:
            await coupa.suppliers.list(limit=1)
    assert isinstance(caught.value.__cause__, redis.ConnectionError)
    _no_secret(caught.value)
    if async_client is not None:
        await async_client.aclose()


def test_a_failing_redis_command_is_a_token_store_error(redis_client: redis.Redis, prefix: str) -> None:
    # A real Redis that answers with an error: the token's key holds a hash, not a string.
    auth = CoupaOAuth(HOST, "cid", "secret-123", store=RedisTokenStore(redis_client, prefix=prefix))
    redis_client.hset(prefix + auth.store_key, "not", "a token")
    with _coupa(auth=auth) as coupa, pytest.raises(TokenStoreError) as caught:
        coupa.suppliers.list(limit=1)
    assert isinstance(caught.value.__cause__, redis.ResponseError) and "WRONGTYPE" in str(caught.value)


def test_a_mint_lock_held_too_long_is_a_coupa_error(redis_client: redis.Redis, prefix: str) -> None:
    store = RedisTokenStore(redis_client, prefix=prefix)
    auth = CoupaOAuth(HOST, "cid", "secret-123", store=store, lock_timeout=0.05)
    answers = Answers()
    with (
        _coupa(answers, auth=auth) as coupa,
        store.lock(auth.store_key, timeout=5),  # another minter holds it
        pytest.raises(CoupaError) as caught,
    ):
        coupa.suppliers.list(limit=1)
    assert isinstance(caught.value, TokenLockTimeout) and isinstance(caught.value, TimeoutError)
    assert "could not take the token lock" in str(caught.value) and answers.calls == []


def test_a_token_file_that_cannot_be_read_is_a_token_store_error(tmp_path: Path) -> None:
    (tmp_path / "not-a-directory").write_text("")
    store = FileTokenStore(tmp_path / "not-a-directory" / "tokens.json")
    with _coupa(token_store=store) as coupa, pytest.raises(TokenStoreError) as caught:
        coupa.suppliers.list(limit=1)
    assert isinstance(caught.value.__cause__, OSError)
    assert str(caught.value).startswith(f"token file {store.path}: could not read a token: NotADirectoryError")


def test_a_custom_store_raising_redis_errors_is_wrapped_by_the_client() -> None:
    class Broken(MemoryTokenStore):
        def get(self, key: str) -> Token | None:
            raise redis.ConnectionError(f"Error 111 connecting to redis://:{PASSWORD}@10.0.0.9:6379")

    with _coupa(token_store=Broken()) as coupa, pytest.raises(TokenStoreError) as caught:
        coupa.suppliers.list(limit=1)
    assert isinstance(caught.value.__cause__, redis.ConnectionError)
    _no_secret(caught.value)


# -- the rate limiter ------------------------------------------------------------------------------
def test_an_unreachable_redis_limiter_without_fallback_is_a_rate_limiter_error(closed_port: int) -> None:
    limiter = RedisRateLimiter(_unreachable(closed_port), "pycoupa:ratelimit:acme.coupahost.com")
    answers = Answers()
    with _coupa(answers, rate_limiter=limiter) as coupa, pytest.raises(RateLimiterError) as caught:
        coupa.suppliers.list(limit=1)
    error = caught.value
    assert isinstance(error.__cause__, redis.ConnectionError) and answers.calls == []
    assert "rate limiter pycoupa:ratelimit:acme.coupahost.com: Redis failed and no fallback is set" in str(error)
    _no_secret(error)
    with pytest.raises(RateLimiterError):
        limiter.reset()


async def test_the_async_client_gets_a_rate_limiter_error_too(closed_port: int) -> None:
    limiter = RedisRateLimiter(_unreachable(closed_port), "pycoupa:ratelimit:acme.coupahost.com")
    async with _async_coupa(rate_limiter=limiter) as coupa:
        with pytest.raises(RateLimiterError) as caught:
            await coupa.suppliers.list(limit=1)
    assert isinstance(caught.value.__cause__, redis.ConnectionError)


def test_a_redis_limiter_whose_script_fails_is_a_rate_limiter_error(redis_client: redis.Redis, prefix: str) -> None:
    redis_client.set(prefix + "bucket", "a string where the limiter keeps a hash")
    with (
        _coupa(rate_limiter=RedisRateLimiter(redis_client, prefix + "bucket")) as coupa,
        pytest.raises(RateLimiterError) as caught,
    ):
        coupa.suppliers.list(limit=1)
    assert isinstance(caught.value.__cause__, redis.ResponseError)


class FlakyLimiter(LocalRateLimiter):
    """A custom limiter that lets Redis's errors through, at one step."""

    def __init__(self, failing: str) -> None:
        super().__init__()
        self.failing = failing

    def _fail(self, step: str) -> None:
        if step == self.failing:
            raise redis.ConnectionError(f"Error 111 connecting to redis://:{PASSWORD}@10.0.0.9:6379")

    def acquire_delay(self, max_wait: float | None = None) -> float:
        self._fail("acquire")
        return super().acquire_delay(max_wait)

    def on_success(self) -> None:
        self._fail("success")
        super().on_success()


def test_a_custom_limiter_raising_redis_errors_is_wrapped_by_the_client() -> None:
    with _coupa(rate_limiter=FlakyLimiter("acquire")) as coupa, pytest.raises(RateLimiterError) as caught:
        coupa.suppliers.list(limit=1)
    assert isinstance(caught.value.__cause__, redis.ConnectionError)
    _no_secret(caught.value)


@pytest.mark.parametrize("client", ["sync", "async"])
async def test_a_limiter_failing_to_record_a_success_does_not_lose_the_answer(
    client: str, caplog: pytest.LogCaptureFixture
) -> None:
    # The create went through: reporting it to the limiter failing must not make it look failed
    # (the caller would send it again).
    answers = Answers(lambda request: httpx.Response(201, json={"id": 9, "name": "Acme"}))
    with caplog.at_level(logging.WARNING, logger="pycoupa.client._pipeline"):
        if client == "sync":
            with _coupa(answers, rate_limiter=FlakyLimiter("success")) as coupa:
                made = coupa.suppliers.create(name="Acme")
        else:
            async with _async_coupa(answers, rate_limiter=FlakyLimiter("success")) as acoupa:
                made = await acoupa.suppliers.create(name="Acme")
    assert made["id"] == 9 and answers.calls == ["POST"]
    assert "could not record a success" in caplog.text and PASSWORD not in caplog.text


# -- a body that does not match its Content-Encoding ----------------------------------------------
def _bad_gzip(request: httpx.Request) -> httpx.Response:
    ctype = "application/xml" if request.headers["accept"] == "application/xml" else "application/json"
    return httpx.Response(200, content=b"this is not gzip", headers={"content-type": ctype, "content-encoding": "gzip"})


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_an_undecodable_body_is_a_transport_error_and_not_retried(fmt: str) -> None:
    answers = Answers(_bad_gzip)
    retry = RetryPolicy(base_delay=0.001, max_delay=0.01)
    with _coupa(answers, format=fmt, retry=retry) as coupa, pytest.raises(CoupaTransportError) as caught:
        coupa.suppliers.list(limit=1)
    error = caught.value
    assert not isinstance(error, CoupaTimeoutError | CoupaConnectionError)
    assert isinstance(error.__cause__, httpx.DecodingError)
    assert error.cause == "DecodingError" and error.request_sent and error.method == "GET"
    assert str(error).startswith(f"DecodingError on GET {HOST}/api/suppliers?limit=1: ")
    assert answers.calls == ["GET"]


async def test_the_async_client_reports_an_undecodable_body_the_same_way() -> None:
    async with _async_coupa(Answers(_bad_gzip)) as coupa:
        with pytest.raises(CoupaTransportError) as caught:
            await coupa.suppliers.get(1)
    assert isinstance(caught.value.__cause__, httpx.DecodingError) and caught.value.cause == "DecodingError"


def test_a_create_whose_answer_cannot_be_decoded_is_looked_up() -> None:
    # The answer to the POST is lost as surely as a dropped connection's: the record is looked up.
    def api(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            return _bad_gzip(request)
        created = datetime.now(UTC).isoformat(timespec="seconds")
        return httpx.Response(200, json=[{"id": 4, "name": "Acme", "created-at": created}])

    answers = Answers(api)
    with _coupa(answers, retry=RetryPolicy(base_delay=0.001, max_delay=0.01)) as coupa:
        assert coupa.suppliers.create(name="Acme")["id"] == 4
    assert answers.calls == ["POST", "GET"]
