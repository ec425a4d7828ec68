"""Server fixtures: the platform on SQLite and on PostgreSQL, an emulator behind it in-process,
a tenant with an API key, and an HTTP client for the server app."""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import httpx
import psycopg
import pytest

from pycoupa.emulator.app import Emulator
from pycoupa.emulator.seed import SeedCounts, seed
from pycoupa.server.app import create_app
from pycoupa.server.connections import Credentials
from pycoupa.server.demo import DEMO_SCOPES
from pycoupa.server.platform import Platform
from pycoupa.server.settings import ServerSettings
from pycoupa.server.vault import new_key_spec

PG_ADMIN = os.environ.get("PYCOUPA_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
INSTANCE = "http://127.0.0.1:9"  # loopback, so plain http is allowed; requests go in-process
SCOPES = DEMO_SCOPES  # every read the unified models need, and supplier writes for the proxy tests


@pytest.fixture(scope="session")
def pg_database(worker_id: str) -> Iterator[str]:
    """A fresh PostgreSQL database for this test worker, dropped at the end."""
    name = f"pycoupa_t_{worker_id}_{os.getpid()}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN.rsplit("/", 1)[0]
    yield f"{base}/{name}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: object) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/server.db"
    url: str = request.getfixturevalue("pg_database")
    with psycopg.connect(url, autocommit=True) as conn:
        exists = conn.execute("SELECT to_regclass('public.tenants')").fetchone()
        if exists and exists[0]:
            conn.execute("TRUNCATE tenants, api_keys, integrated_accounts CASCADE")
    return url


@pytest.fixture
def coupa() -> Emulator:
    emu = Emulator()
    seed(emu, SeedCounts(invoices=120), 11)
    return emu


def stop_process(proc: subprocess.Popen[bytes] | subprocess.Popen[str]) -> None:
    """Terminate a server started for a test; kill it if it does not stop in time."""
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)


def settings_for(database_url: str, **extra: object) -> ServerSettings:
    # The in-process emulator stands at a loopback address (INSTANCE).
    base = {"database_url": database_url, "encryption_keys": new_key_spec("k1"), "allow_private_instances": True}
    return ServerSettings.load({**base, **extra}, environ={})


@dataclass
class Server:
    platform: Platform
    http: httpx.AsyncClient
    coupa: Emulator
    tenant_id: str
    key: str
    client_id: str
    client_secret: str

    def auth(self, key: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {key or self.key}"}

    async def connect(self, scopes: tuple[str, ...] = SCOPES, tenant_id: str | None = None) -> str:
        """An integrated account for the emulator, made through the platform; returns its id."""
        row = await self.platform.create_account(
            tenant_id or self.tenant_id, Credentials(INSTANCE, self.client_id, self.client_secret, scopes)
        )
        return row.id


async def start_server(database_url: str, coupa: Emulator, **extra: object) -> AsyncIterator[Server]:
    settings = settings_for(database_url, **extra)
    # Port 1 is left to the real network (nothing listens there): an unreachable instance.
    platform = Platform(
        settings,
        transport_factory=lambda url: None if url.endswith(":1") else httpx.ASGITransport(app=coupa.app),
    )
    await platform.start()
    app = create_app(settings, platform=platform)
    tenant = await platform.ensure_tenant(f"tenant-{uuid.uuid4().hex[:8]}")
    _, key = await platform.create_key(tenant.id, "test")
    client_id, secret = coupa.create_oauth_client(list(SCOPES), name="server-tests")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://pycoupa.test") as http:
        yield Server(platform, http, coupa, tenant.id, key, client_id, secret)
    await platform.aclose()


@pytest.fixture
async def server(database_url: str, coupa: Emulator) -> AsyncIterator[Server]:
    async for s in start_server(database_url, coupa):
        yield s


@pytest.fixture
async def sqlite_server(tmp_path: object, coupa: Emulator) -> AsyncIterator[Server]:
    """For tests whose subject does not depend on the database."""
    async for s in start_server(f"sqlite:///{tmp_path}/server.db", coupa):
        yield s
