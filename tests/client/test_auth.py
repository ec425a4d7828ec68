"""CoupaOAuth and the token stores: against the emulator (in-process, and over sockets for the sync
flow), a real Redis, and MockTransport where the emulator cannot produce the case (rotation, odd
token answers)."""

from __future__ import annotations

import asyncio
import json
import logging
import stat
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import redis
import redis.asyncio

from pycoupa.client import AsyncCoupa, Coupa
from pycoupa.client.auth import PROCESS_TOKENS, CoupaOAuth, parse_token_response, scopes_for
from pycoupa.client.errors import (
    ConfigurationError,
    InvalidClientError,
    InvalidScopeError,
    OAuthError,
    Secret,
)
from pycoupa.client.token_store import (
    FileTokenStore,
    MemoryTokenStore,
    RedisTokenStore,
    Token,
    TokenLockTimeout,
    TokenStore,
)
from pycoupa.emulator.app import Emulator
from pycoupa.emulator.server import serve_in_thread

BASE = "http://127.0.0.1"  # loopback: the only host plain http is allowed for
TOKEN_ROUTE = "POST /oauth2/token"
READ = ["core.invoice.read"]
REDIRECT = "https://app.example.com/callback"
LIFETIME = 86399


class FakeClock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def token_requests(emu: Emulator) -> int:
    return int(emu.stats.snapshot()["by_route"].get(TOKEN_ROUTE, 0))


class SlowTokenEndpoint(httpx.AsyncBaseTransport):
    """The emulator in-process, with a token endpoint that takes a while like a real one: without
    it the in-process call never yields to the event loop and concurrent callers never overlap."""

    def __init__(self, app: Any, delay: float = 0.02) -> None:
        self.inner = httpx.ASGITransport(app=app)
        self.delay = delay

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/oauth2/token":
            await asyncio.sleep(self.delay)
        return await self.inner.handle_async_request(request)


def api_client(emu: Emulator, auth: httpx.Auth, **kwargs: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=SlowTokenEndpoint(emu.app),
        base_url=BASE,
        auth=auth,
        headers={"Accept": "application/json"},
        **kwargs,
    )


def stored(auth: CoupaOAuth) -> Token:
    token = auth.store.get(auth.store_key)
    assert token is not None
    return token


@pytest.fixture
def client_creds(emu: Emulator) -> tuple[str, str]:
    return emu.create_oauth_client(READ)


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    """A key prefix of its own in the real Redis, cleaned up afterwards."""
    client = redis.Redis(host="127.0.0.1", port=6379)
    try:
        client.ping()
    except redis.ConnectionError as exc:
        pytest.fail(f"these tests need the Redis at 127.0.0.1:6379: {exc}")
    prefix = f"pycoupa-test:{uuid.uuid4().hex}:"
    yield prefix
    for key in client.scan_iter(match=prefix + "*"):
        client.delete(key)
    client.close()


def _redis_store(prefix: str, *, with_async: bool = False) -> RedisTokenStore:
    # A client of its own per store: two stores stand for two processes.
    async_client = redis.asyncio.Redis(host="127.0.0.1", port=6379) if with_async else None
    return RedisTokenStore(redis.Redis(host="127.0.0.1", port=6379), prefix=prefix, async_client=async_client)


async def _close(store: TokenStore) -> None:
    if isinstance(store, RedisTokenStore):
        store.redis.close()
        if store.async_redis is not None:
            await store.async_redis.aclose()


StoreFactory = Callable[[], TokenStore]


@pytest.fixture(params=["memory", "file", "redis", "redis-asyncio"])
def store_factory(request: pytest.FixtureRequest, tmp_path: Path, redis_prefix: str) -> StoreFactory:
    """Makes stores that share state like separate processes would (memory: one shared object)."""
    kind = request.param
    memory = MemoryTokenStore()
    factories: dict[str, StoreFactory] = {
        "memory": lambda: memory,
        "file": lambda: FileTokenStore(tmp_path / "tokens" / "coupa.json"),
        "redis": lambda: _redis_store(redis_prefix),
        "redis-asyncio": lambda: _redis_store(redis_prefix, with_async=True),
    }
    return factories[kind]


# -- caching and refreshing -------------------------------------------------------------------------


async def test_token_is_cached_and_sent_as_bearer(emu: Emulator, client_creds: tuple[str, str]) -> None:
    cid, secret = client_creds
    auth = CoupaOAuth(BASE, cid, secret, READ)
    async with api_client(emu, auth) as c:
        first = await c.get("/api/invoices")
        second = await c.get("/api/invoices")
    assert first.status_code == second.status_code == 200
    assert token_requests(emu) == 1
    token = stored(auth)
    assert first.request.headers["authorization"] == second.request.headers["authorization"]
    assert first.request.headers["authorization"] == f"Bearer {token.access_token.get()}"
    assert token.scopes == ("core.invoice.read",)
    assert token.expires_at == pytest.approx(time.time() + LIFETIME, abs=5)


def test_sync_flow_over_sockets_caches_the_token(emu: Emulator, client_creds: tuple[str, str]) -> None:
    cid, secret = client_creds
    with serve_in_thread(emu) as server:
        auth = CoupaOAuth(server.url, cid, secret, READ)
        with httpx.Client(base_url=server.url, auth=auth, headers={"Accept": "application/json"}) as c:
            statuses = [c.get("/api/invoices").status_code for _ in range(3)]
    assert statuses == [200, 200, 200]
    assert token_requests(emu) == 1


async def test_new_token_when_fewer_than_margin_seconds_remain(emu: Emulator, client_creds: tuple[str, str]) -> None:
    cid, secret = client_creds
    clock = FakeClock()
    auth = CoupaOAuth(BASE, cid, secret, READ, clock=clock, refresh_margin=300)
    async with api_client(emu, auth) as c:
        first = await c.get("/api/invoices")
        clock.advance(LIFETIME - 300 - 1)  # 301 s left: still good
        second = await c.get("/api/invoices")
        assert token_requests(emu) == 1
        clock.advance(2)  # 299 s left: inside the margin
        third = await c.get("/api/invoices")
    assert [r.status_code for r in (first, second, third)] == [200, 200, 200]
    assert token_requests(emu) == 2
    assert first.request.headers["authorization"] == second.request.headers["authorization"]
    assert third.request.headers["authorization"] != second.request.headers["authorization"]
    assert stored(auth).expires_at == pytest.approx(clock.now + LIFETIME)


async def test_short_lived_tokens_are_not_reminted_on_every_call() -> None:
    clock = FakeClock()
    minted: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/oauth2/token":
            minted.append(1)
            return httpx.Response(200, json={"access_token": f"t{len(minted)}", "expires_in": 100})
        return httpx.Response(200, json=[])

    auth = CoupaOAuth(BASE, "cid", "secret-value", READ, clock=clock, refresh_margin=300)
    async with httpx.AsyncClient(transport=httpx.MockTransport(handler), auth=auth) as c:
        await c.get(BASE + "/api/invoices")
        await c.get(BASE + "/api/invoices")
        assert len(minted) == 1  # the margin shrinks to half the lifetime
        clock.advance(51)
        await c.get(BASE + "/api/invoices")
    assert len(minted) == 2


# -- 401 handling -----------------------------------------------------------------------------------


async def test_revoked_token_is_reminted_once_and_the_call_replayed(
    emu: Emulator, http: httpx.AsyncClient, client_creds: tuple[str, str]
) -> None:
    cid, secret = client_creds
    auth = CoupaOAuth(BASE, cid, secret, READ)
    async with api_client(emu, auth) as c:
        assert (await c.get("/api/invoices")).status_code == 200
        before = stored(auth)
        assert (await http.post("/__emulator__/revoke-tokens")).status_code == 200
        r = await c.get("/api/invoices")
    assert r.status_code == 200
    assert token_requests(emu) == 2
    assert emu.stats.snapshot()["by_status"].get("401") == 1
    assert not stored(auth).same_access_token(before)
    assert r.request.headers["authorization"] == f"Bearer {stored(auth).access_token.get()}"


def test_a_second_401_goes_back_to_the_caller() -> None:
    minted: list[int] = []
    presented: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/oauth2/token":
            minted.append(1)
            return httpx.Response(200, json={"access_token": f"t{len(minted)}", "expires_in": LIFETIME})
        presented.append(request.headers["authorization"])
        return httpx.Response(401, json={"errors": {"error": ["Invalid access token"]}})

    auth = CoupaOAuth(BASE, "cid", "secret-value", READ)
    with httpx.Client(transport=httpx.MockTransport(handler), auth=auth) as c:
        r = c.get(BASE + "/api/invoices")
    assert r.status_code == 401
    assert len(minted) == 2
    assert presented == ["Bearer t1", "Bearer t2"]


def test_401_with_a_token_someone_else_replaced_retries_without_minting() -> None:
    store = MemoryTokenStore()
    auth = CoupaOAuth(BASE, "cid", "secret-value", READ, store=store)
    valid = {"t1"}
    minted: list[int] = []
    presented: list[str] = []
    revoked = False

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/oauth2/token":
            minted.append(1)
            return httpx.Response(200, json={"access_token": f"t{len(minted)}", "expires_in": LIFETIME})
        bearer = request.headers["authorization"].removeprefix("Bearer ")
        presented.append(bearer)
        if bearer == "t1" and revoked:
            # Meanwhile another process saw the revocation and stored a fresh token.
            valid.clear()
            valid.add("t-other")
            store.set(auth.store_key, Token(Secret("t-other"), expires_at=time.time() + LIFETIME))
        return httpx.Response(200 if bearer in valid else 401, json=[])

    with httpx.Client(transport=httpx.MockTransport(handler), auth=auth) as c:
        assert c.get(BASE + "/api/invoices").status_code == 200
        revoked = True
        r = c.get(BASE + "/api/invoices")
    assert r.status_code == 200
    assert len(minted) == 1
    assert presented == ["t1", "t1", "t-other"]


# -- no thundering herd -----------------------------------------------------------------------------


async def test_twenty_concurrent_tasks_mint_one_token(emu: Emulator, client_creds: tuple[str, str]) -> None:
    cid, secret = client_creds
    auth = CoupaOAuth(BASE, cid, secret, READ)
    async with api_client(emu, auth) as c:
        responses = await asyncio.gather(*(c.get("/api/invoices") for _ in range(20)))
    assert [r.status_code for r in responses] == [200] * 20
    assert token_requests(emu) == 1
    assert len({r.request.headers["authorization"] for r in responses}) == 1


async def test_two_instances_sharing_a_store_mint_one_token_async(
    emu: Emulator, client_creds: tuple[str, str], store_factory: StoreFactory
) -> None:
    cid, secret = client_creds
    store_a, store_b = store_factory(), store_factory()
    auth_a = CoupaOAuth(BASE, cid, secret, READ, store=store_a)
    auth_b = CoupaOAuth(BASE, cid, secret, READ, store=store_b)
    try:
        async with api_client(emu, auth_a) as a, api_client(emu, auth_b) as b:
            calls = [client.get("/api/invoices") for _ in range(8) for client in (a, b)]
            responses = await asyncio.gather(*calls)
    finally:
        await _close(store_a)
        await _close(store_b)
    assert [r.status_code for r in responses] == [200] * 16
    assert token_requests(emu) == 1
    assert len({r.request.headers["authorization"] for r in responses}) == 1


def test_threads_of_two_instances_sharing_a_store_mint_one_token(
    emu: Emulator, client_creds: tuple[str, str], store_factory: StoreFactory
) -> None:
    cid, secret = client_creds
    stores = [store_factory(), store_factory()]
    start = threading.Barrier(12)
    with serve_in_thread(emu) as server:
        clients = [
            httpx.Client(
                base_url=server.url,
                auth=CoupaOAuth(server.url, cid, secret, READ, store=store),
                headers={"Accept": "application/json"},
            )
            for store in stores
        ]

        def call(i: int) -> httpx.Response:
            start.wait()
            return clients[i % 2].get("/api/invoices")

        with ThreadPoolExecutor(12) as pool:
            responses = list(pool.map(call, range(12)))
        for c in clients:
            c.close()
    for store in stores:
        asyncio.run(_close(store))
    assert [r.status_code for r in responses] == [200] * 12
    assert token_requests(emu) == 1


# -- errors and secrets -----------------------------------------------------------------------------


async def test_wrong_secret_is_invalid_client_without_the_secret_in_sight(
    emu: Emulator, client_creds: tuple[str, str]
) -> None:
    cid, _ = client_creds
    wrong = "wrong-secret-Zq8xv3"
    auth = CoupaOAuth(BASE, cid, wrong, READ)
    async with api_client(emu, auth) as c:
        with pytest.raises(InvalidClientError) as caught:
            await c.get("/api/invoices")
    error = caught.value
    assert error.status == 401 and error.error == "invalid_client"
    assert wrong not in str(error) and wrong not in repr(error)
    assert error.request is None or wrong.encode() not in error.request.content
    assert auth.store.get(auth.store_key) is None
    with auth.store.lock(auth.store_key, timeout=0.1):  # the failed mint released the lock
        pass


async def test_unknown_scope_is_invalid_scope(emu: Emulator, client_creds: tuple[str, str]) -> None:
    cid, secret = client_creds
    auth = CoupaOAuth(BASE, cid, secret, ["core.nothing.read"])
    async with api_client(emu, auth) as c:
        with pytest.raises(InvalidScopeError) as caught:
            await c.get("/api/invoices")
    assert caught.value.status == 400 and caught.value.error == "invalid_scope"


async def test_secrets_stay_out_of_reprs_and_logs(
    emu: Emulator, http: httpx.AsyncClient, client_creds: tuple[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    cid, secret = client_creds
    auth = CoupaOAuth(BASE, cid, secret, READ)
    text = repr(auth)
    assert cid in text and BASE in text and secret not in text and "**********" in text
    caplog.set_level(logging.DEBUG)
    async with api_client(emu, auth) as c:
        await c.get("/api/invoices")
        await http.post("/__emulator__/revoke-tokens")
        await c.get("/api/invoices")
    access = stored(auth).access_token.get()
    assert "minted a token" in caplog.text and "401" in caplog.text  # the flow did log
    assert secret not in caplog.text and access not in caplog.text
    assert access not in repr(stored(auth)) and secret not in repr(auth.store)


@pytest.mark.parametrize(
    "answer",
    [
        httpx.Response(200, json={"token_type": "bearer", "expires_in": LIFETIME}),
        httpx.Response(200, text="<html>maintenance</html>"),
        httpx.Response(200, json=["not", "an", "object"]),
    ],
)
def test_a_200_without_an_access_token_is_invalid_response(answer: httpx.Response) -> None:
    transport = httpx.MockTransport(lambda request: answer)
    auth = CoupaOAuth(BASE, "cid", "secret-value", READ)
    with httpx.Client(transport=transport, auth=auth) as c, pytest.raises(OAuthError) as caught:
        c.get(BASE + "/api/invoices")
    assert caught.value.error == "invalid_response" and caught.value.status == 200


def test_token_request_shape_and_defaults_for_a_sparse_answer() -> None:
    clock = FakeClock()
    forms: list[dict[str, list[str]]] = []
    content_types: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/oauth2/token":
            assert request.method == "POST"
            content_types.append(request.headers["content-type"])
            forms.append(parse_qs(request.content.decode()))
            # no expires_in: Coupa's 86399 is assumed; the scope granted comes from the answer
            return httpx.Response(200, json={"access_token": "abc", "scope": "core.invoice.read core.user.read"})
        return httpx.Response(200, json=[])

    auth = CoupaOAuth(BASE, "cid", "secret-value", ["core.invoice.read", "core.user.read"], clock=clock)
    with httpx.Client(transport=httpx.MockTransport(handler), auth=auth) as c:
        assert c.get(BASE + "/api/users").status_code == 200
    assert content_types == ["application/x-www-form-urlencoded"]
    assert forms == [
        {
            "grant_type": ["client_credentials"],
            "client_id": ["cid"],
            "client_secret": ["secret-value"],
            "scope": ["core.invoice.read core.user.read"],
        }
    ]
    token = stored(auth)
    assert token.expires_at == clock.now + LIFETIME
    assert token.scopes == ("core.invoice.read", "core.user.read")
    assert token.refresh_token is None


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"scopes": "core.invoice.read core.user.read"}, "not one string"),
        ({"scopes": ["core.invoice.read,core.user.read"]}, "invalid scope"),
        ({"client_secret": ""}, "client_secret"),
        ({"instance_url": "http://acme.coupahost.com"}, "(?i)https"),
        ({"refresh_margin": -1}, "refresh_margin"),
        ({"store": object()}, "TokenStore"),
    ],
)
def test_configuration_is_checked_up_front(kwargs: dict[str, Any], fragment: str) -> None:
    args: dict[str, Any] = {"instance_url": BASE, "client_id": "cid", "client_secret": "secret-value", "scopes": READ}
    with pytest.raises(ConfigurationError, match=fragment):
        CoupaOAuth(**(args | kwargs))


# -- refresh tokens (authorization-code grant) ------------------------------------------------------


async def _authorization_code(http: httpx.AsyncClient, cid: str, scope: str) -> str:
    params = {"client_id": cid, "response_type": "code", "scope": scope, "redirect_uri": REDIRECT, "state": "s"}
    page = await http.get("/oauth2/authorizations/new", params=params)
    assert page.status_code == 200 and "Allow" in page.text
    r = await http.post("/oauth2/authorizations", data={**params, "decision": "allow"})
    assert r.status_code == 302
    return parse_qs(urlsplit(r.headers["location"]).query)["code"][0]


async def _user_grant(emu: Emulator, http: httpx.AsyncClient, scopes: list[str]) -> tuple[str, str, str]:
    """A client of the emulator and a refresh token a user granted it: (client_id, secret, refresh token)."""
    cid, secret = emu.create_oauth_client(scopes, redirect_uris=[REDIRECT])
    code = await _authorization_code(http, cid, " ".join(scopes))
    form = {"grant_type": "authorization_code", "code": code, "client_id": cid, "client_secret": secret,
            "redirect_uri": REDIRECT}  # fmt: skip
    grant = await http.post("/oauth2/token", data=form)
    assert grant.status_code == 200, grant.text
    return cid, secret, grant.json()["refresh_token"]


async def test_refresh_token_grant_against_the_emulator(emu: Emulator, http: httpx.AsyncClient) -> None:
    scopes = ["core.invoice.read", "offline_access"]
    cid, secret, refresh = await _user_grant(emu, http, scopes)
    forms: list[dict[str, list[str]]] = []

    async def record(request: httpx.Request) -> None:
        if request.url.path == "/oauth2/token":
            forms.append(parse_qs(request.content.decode()))

    auth = CoupaOAuth(BASE, cid, secret, scopes, refresh_token=refresh)
    async with api_client(emu, auth, event_hooks={"request": [record]}) as c:
        assert (await c.get("/api/invoices")).status_code == 200
        assert (await c.get("/api/invoices")).status_code == 200
    assert len(forms) == 1
    assert forms[0]["grant_type"] == ["refresh_token"] and forms[0]["refresh_token"] == [refresh]
    token = stored(auth)
    assert token.refresh_token is not None and token.refresh_token.get() == refresh
    # tokens granted by a user are not shared with the client-credentials tokens of the same client
    assert auth.store_key != CoupaOAuth(BASE, cid, secret, scopes).store_key


def test_a_rotated_refresh_token_is_kept_and_used_next() -> None:
    clock = FakeClock()
    used: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/oauth2/token":
            form = parse_qs(request.content.decode())
            assert form["grant_type"] == ["refresh_token"]
            used.append(form["refresh_token"][0])
            return httpx.Response(
                200, json={"access_token": f"a{len(used)}", "expires_in": 3600, "refresh_token": f"rt-{len(used) + 1}"}
            )
        return httpx.Response(200, json=[])

    auth = CoupaOAuth(BASE, "cid", "secret-value", READ, refresh_token="rt-1", clock=clock)
    with httpx.Client(transport=httpx.MockTransport(handler), auth=auth) as c:
        c.get(BASE + "/api/invoices")
        clock.advance(3600)
        c.get(BASE + "/api/invoices")
    assert used == ["rt-1", "rt-2"]
    token = stored(auth)
    assert token.refresh_token is not None and token.refresh_token.get() == "rt-3"


# -- the stores themselves --------------------------------------------------------------------------


def _token(seconds: float = 100.0, access: str = "access-abc123") -> Token:
    now = time.time()
    return Token(Secret(access), now + seconds, ("core.invoice.read",), Secret("refresh-xyz789"), now)


async def test_store_round_trip_and_delete(store_factory: StoreFactory) -> None:
    store = store_factory()
    try:
        token = _token()
        assert store.get("k") is None
        store.set("k", token)
        assert store.get("k") == token
        assert await store.aget("k") == token
        await store.adelete("k")
        assert store.get("k") is None
        await store.aset("k", token)
        assert store.get("k") == token
        store.delete("k")
        assert await store.aget("k") is None
    finally:
        await _close(store)


async def test_a_held_lock_excludes_others_until_released(store_factory: StoreFactory) -> None:
    holder, other = store_factory(), store_factory()
    try:
        with holder.lock("k", timeout=1.0):
            started = time.monotonic()
            with pytest.raises(TokenLockTimeout), other.lock("k", timeout=0.05):
                pass
            assert time.monotonic() - started >= 0.05
            with pytest.raises(TokenLockTimeout):
                async with other.alock("k", timeout=0.05):
                    pass
            with other.lock("another-key", timeout=0.05):  # locks are per key
                pass
        async with other.alock("k", timeout=0.5):
            pass
    finally:
        await _close(holder)
        await _close(other)


def test_token_repr_hides_secrets() -> None:
    text = repr(_token())
    assert "access-abc123" not in text and "refresh-xyz789" not in text and "expires_at" in text


def test_file_store_is_private_and_replaced_atomically(tmp_path: Path) -> None:
    path = tmp_path / "tokens.json"
    store = FileTokenStore(path)
    store.set("a", _token(access="first-token"))
    store.set("b", _token(access="second-token"))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    data = json.loads(path.read_text())
    assert data["version"] == 1 and set(data["tokens"]) == {"a", "b"}
    reread = FileTokenStore(path).get("b")  # a fresh reader, as another process would be
    assert reread is not None and reread.access_token.get() == "second-token"
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_file_store_ignores_a_garbled_file(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "tokens.json"
    path.write_text("{not json, but a secret-ish s3cr3t")
    store = FileTokenStore(path)
    assert store.get("k") is None
    assert "s3cr3t" not in caplog.text and "not a pycoupa token file" in caplog.text
    store.set("k", _token())
    assert store.get("k") is not None


def test_file_lock_excludes_another_process(tmp_path: Path) -> None:
    path = tmp_path / "tokens.json"
    holder = (
        "import sys\n"
        "from pycoupa.client.token_store import FileTokenStore\n"
        "with FileTokenStore(sys.argv[1]).lock('k', timeout=5):\n"
        "    print('locked', flush=True)\n"
        "    sys.stdin.readline()\n"
    )
    with subprocess.Popen(
        [sys.executable, "-c", holder, str(path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    ) as child:
        assert child.stdout is not None and child.stdin is not None
        try:
            assert child.stdout.readline().strip() == "locked"
            store = FileTokenStore(path)
            with pytest.raises(TokenLockTimeout), store.lock("k", timeout=0.1):
                pass
            child.stdin.write("\n")  # let the other process go
            child.stdin.flush()
            with store.lock("k", timeout=5):
                pass
        finally:
            if child.poll() is None:
                child.kill()


def test_redis_entries_expire_with_the_token(redis_prefix: str) -> None:
    store = _redis_store(redis_prefix)
    try:
        store.set("k", _token(100))
        ttl = store.redis.pttl(redis_prefix + "k")
        assert 98_000 <= ttl <= 100_000
        store.set("old", _token(-1))  # already expired: not stored at all
        assert store.get("old") is None and not store.redis.exists(redis_prefix + "old")
    finally:
        store.redis.close()


def test_redis_lock_release_never_frees_a_later_holders_lock(redis_prefix: str) -> None:
    first, second = _redis_store(redis_prefix), _redis_store(redis_prefix)
    try:
        stale = first.lock("k", timeout=0.05)
        stale.__enter__()
        time.sleep(0.1)  # the lease lapses, as if the holder hung
        with second.lock("k", timeout=1.0):
            stale.__exit__(None, None, None)  # the first holder wakes up and "releases"
            assert first.redis.exists(redis_prefix + "k:lock")
            with pytest.raises(TokenLockTimeout), first.lock("k", timeout=0.05):
                pass
        assert not first.redis.exists(redis_prefix + "k:lock")
    finally:
        first.redis.close()
        second.redis.close()


# -- scopes for declared calls ----------------------------------------------------------------------


def test_scopes_for_declared_calls() -> None:
    assert scopes_for(["invoices.list", "invoices.void"]) == ["core.invoice.read", "core.invoice.delete"]
    assert scopes_for(["invoices.iter", "invoices.get", "invoices.list", "suppliers.create"]) == [
        "core.invoice.read",
        "core.supplier.write",
    ]
    assert scopes_for(["coupa_pay/payments.mark_exported"]) == ["core.pay.payments.write"]
    assert scopes_for([]) == []


@pytest.mark.parametrize(
    ("call", "fragments"),
    [
        ("invoice.list", ["unknown resource 'invoice'", "invoices"]),
        ("invoices.vodi", ["unknown verb 'vodi'", "void"]),
        ("coupa_pay/payments.create", ["unknown verb 'create'", "update"]),
        ("invoices", ["'<resource>.<verb>'"]),
    ],
)
def test_scopes_for_names_unknown_calls_and_close_matches(call: str, fragments: list[str]) -> None:
    with pytest.raises(ConfigurationError) as caught:
        scopes_for(["invoices.list", call])
    for fragment in fragments:
        assert fragment in str(caught.value)


@pytest.mark.parametrize(
    ("expires_in", "lifetime"),
    [(3600, 3600.0), ("1800", 1800.0), (None, 86399.0), (-5, 86399.0), ("nan", 86399.0), (True, 86399.0)],
)
def test_expires_in_is_read_leniently(expires_in: Any, lifetime: float) -> None:
    body: dict[str, Any] = {"access_token": "abc"}
    if expires_in is not None:
        body["expires_in"] = expires_in
    token = parse_token_response(
        httpx.Response(200, json=body), requested_scopes=READ, sent_at=1000.0, refresh_token=None
    )
    assert token.expires_at == 1000.0 + lifetime and token.scopes == ("core.invoice.read",)


async def test_a_public_client_refreshes_without_a_secret(emu: Emulator, http: httpx.AsyncClient) -> None:
    # A PKCE client holds a refresh token but no secret: the SDK must not demand one, nor send one.
    scopes = ["core.invoice.read", "offline_access"]
    cid, _, refresh = await _user_grant(emu, http, scopes)
    forms: list[dict[str, list[str]]] = []

    async def record(request: httpx.Request) -> None:
        if request.url.path == "/oauth2/token":
            forms.append(parse_qs(request.content.decode()))

    auth = CoupaOAuth(BASE, cid, None, scopes, refresh_token=refresh)
    assert "client_secret=None" in repr(auth)
    async with api_client(emu, auth, event_hooks={"request": [record]}) as c:
        assert (await c.get("/api/invoices")).status_code == 200
    assert forms[0]["grant_type"] == ["refresh_token"] and "client_secret" not in forms[0]
    with pytest.raises(ConfigurationError, match="only a public client with a refresh_token has none"):
        CoupaOAuth(BASE, cid, None, scopes)  # no secret and no refresh token: nothing to mint with
    client = AsyncCoupa(BASE, client_id=cid, refresh_token=refresh, scopes=scopes)  # the client agrees
    await client.aclose()
    with pytest.raises(ConfigurationError, match="a public client with a refresh_token needs no secret"):
        AsyncCoupa(BASE, client_id=cid, scopes=scopes)


def test_clients_given_no_store_share_the_process_token_only_with_the_same_secret() -> None:
    mints: list[str] = []

    def coupa(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/oauth2/token":
            form = parse_qs(request.content.decode())
            if form["client_secret"] != ["right-secret-4711"]:
                return httpx.Response(401, json={"error": "invalid_client"})
            mints.append(form["client_id"][0])
            return httpx.Response(200, json={"access_token": f"tok-{len(mints)}", "token_type": "bearer",
                                             "expires_in": 3600})  # fmt: skip
        return httpx.Response(200, json=[])

    client_id = f"shared-{uuid.uuid4().hex}"
    for _ in range(3):  # one client per job, one after another
        with Coupa(BASE, client_id=client_id, client_secret="right-secret-4711", scopes=["core.invoice.read"],
                   transport=httpx.MockTransport(coupa)) as job:  # fmt: skip
            job.invoices.list(limit=1)
    assert mints == [client_id]  # minted once for the three
    impostor = Coupa(BASE, client_id=client_id, client_secret="wrong-secret-0815", scopes=["core.invoice.read"],
                     transport=httpx.MockTransport(coupa))  # fmt: skip
    with impostor, pytest.raises(OAuthError):  # a wrong secret never borrows the token the right one minted
        impostor.invoices.list(limit=1)


def test_a_store_key_without_a_store_never_shares_the_process_token_across_instances_or_secrets() -> None:
    a = CoupaOAuth("https://tenant-a.coupahost.com", "cid", "secret-A-1234", READ, store_key="coupa")
    b = CoupaOAuth("https://tenant-b.coupahost.com", "cid", "wrong-B-5678", READ, store_key="coupa")
    c = CoupaOAuth("https://tenant-a.coupahost.com", "cid", "secret-A-1234", READ, store_key="coupa")
    assert a.store is b.store is PROCESS_TOKENS
    assert a.store_key != b.store_key and a.store_key == c.store_key
    own = MemoryTokenStore()  # with a store of its own, the key is the caller's, as given
    assert CoupaOAuth(BASE, "cid", "secret-A-1234", READ, store=own, store_key="coupa").store_key == "coupa"
