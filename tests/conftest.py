"""Shared fixtures: an in-process emulator and an authenticated async client for it."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import httpx
import pytest
import redis

from pycoupa.client.auth import PROCESS_TOKENS
from pycoupa.client.ratelimit import forget_process_limiters
from pycoupa.emulator.app import Emulator

SHARED = Path(__file__).resolve().parents[1].parent / "shared"

TokenFactory = Callable[..., Awaitable[str]]


@pytest.fixture(autouse=True)
def _no_process_state_between_tests() -> None:
    """Clients given no token store or limiter share the process's (auth.PROCESS_TOKENS,
    ratelimit.process_limiter): each test starts without what an earlier one left there."""
    PROCESS_TOKENS.clear()
    forget_process_limiters()


REDIS_URL = os.environ.get("PYCOUPA_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture
def redis_client() -> Iterator[redis.Redis]:
    """The real Redis (CI starts it): tests that share state through it must really use it."""
    client = redis.Redis.from_url(REDIS_URL, socket_timeout=5)
    try:
        client.ping()
    except redis.RedisError as exc:
        pytest.fail(f"these tests need the Redis server at {REDIS_URL} (set PYCOUPA_TEST_REDIS_URL): {exc}")
    yield client
    client.close()


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    if not SHARED.is_dir():
        pytest.fail(f"reference material not found at {SHARED}: the repo must sit beside shared/")
    return SHARED


@pytest.fixture
def emu() -> Emulator:
    return Emulator()


@pytest.fixture
async def http(emu: Emulator) -> AsyncIterator[httpx.AsyncClient]:
    """A client talking to the emulator in-process (no sockets)."""
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=emu.app), base_url="http://coupa.test") as c:
        yield c


@pytest.fixture
def token(emu: Emulator, http: httpx.AsyncClient) -> TokenFactory:
    """``await token("core.supplier.read", ...)`` mints a client-credentials token with those scopes
    (every scope when none are named)."""

    async def mint(*scopes: str) -> str:
        wanted = list(scopes) or sorted(emu.known_scopes)
        client_id, secret = emu.create_oauth_client(wanted)
        r = await http.post(
            "/oauth2/token",
            data={
                "grant_type": "client_credentials",
                "client_id": client_id,
                "client_secret": secret,
                "scope": " ".join(wanted),
            },
        )
        assert r.status_code == 200, r.text
        return str(r.json()["access_token"])

    return mint


@pytest.fixture
async def api(http: httpx.AsyncClient, token: TokenFactory) -> httpx.AsyncClient:
    """The same client, authorised with every scope and asking for JSON."""
    http.headers["Authorization"] = f"Bearer {await token()}"
    http.headers["Accept"] = "application/json"
    return http
