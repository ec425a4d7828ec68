"""End to end over real sockets: the emulator and the server each listen on a port and are
driven over HTTP. The slow test runs the real CLI with several worker processes sharing
PostgreSQL and Redis, and checks against the emulator's counters that the Coupa budget of the
instance was never exceeded."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from tests.server.conftest import SCOPES, stop_process

from pycoupa.emulator.app import Emulator
from pycoupa.emulator.seed import SeedCounts, seed
from pycoupa.emulator.server import RunningServer, free_port, serve_in_thread
from pycoupa.server.app import create_app
from pycoupa.server.connections import Credentials
from pycoupa.server.platform import Platform
from pycoupa.server.settings import ServerSettings
from pycoupa.server.vault import new_key_spec


@pytest.fixture
def coupa_on_socket() -> Iterator[RunningServer]:
    emu = Emulator()
    seed(emu, SeedCounts(invoices=300), 5)
    with serve_in_thread(emu) as running:
        yield running


def _wait_healthy(
    url: str, proc: subprocess.Popen[bytes] | None = None, timeout: float = 30, path: str = "/health"
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"{proc.args} exited: {proc.stdout.read().decode() if proc.stdout else ''}")
        try:
            if httpx.get(f"{url}{path}", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"{url} did not become healthy")


async def _tenant_and_key(settings: ServerSettings) -> tuple[str, str]:
    p = Platform(settings)
    await p.start()
    try:
        tenant = await p.ensure_tenant("e2e")
        _, key = await p.create_key(tenant.id, "e2e")
        return tenant.id, key
    finally:
        await p.aclose()


def test_server_and_emulator_over_sockets(tmp_path: Path, coupa_on_socket: RunningServer) -> None:
    settings = ServerSettings.load(
        {
            "database_url": f"sqlite:///{tmp_path}/e2e.db",
            "encryption_keys": new_key_spec("e2e"),
            "allow_private_instances": True,
        },  # the emulator listens on loopback
        environ={},
    )
    _, key = asyncio.run(_tenant_and_key(settings))
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(base)
        emu = coupa_on_socket.emulator
        client_id, secret = emu.create_oauth_client(list(SCOPES), name="e2e")
        hdr = {"Authorization": f"Bearer {key}"}
        with httpx.Client(base_url=base, headers=hdr, timeout=30) as http:
            r = http.post("/integrated-accounts", json={"instance_url": coupa_on_socket.url, "client_id": client_id,
                                                        "client_secret": secret, "scopes": list(SCOPES)})  # fmt: skip
            assert r.status_code == 201, r.text
            account = r.json()["id"]
            ids: list[str] = []
            cursor = None
            while True:
                params = {"integrated_account_id": account, "limit": "120"}
                if cursor:
                    params["next_cursor"] = cursor
                page = http.get("/unified/accounting/invoices", params=params)
                assert page.status_code == 200, page.text
                ids.extend(x["id"] for x in page.json()["result"])
                cursor = page.json()["next_cursor"]
                if not cursor:
                    break
            assert len(ids) == len(set(ids)) == emu.store.count("InvoiceHeader")
            one = http.get(f"/unified/accounting/invoices/{ids[7]}", params={"integrated_account_id": account})
            assert one.status_code == 200 and one.json()["id"] == ids[7]
            proxied = http.get("/proxy/invoices", params={"integrated_account_id": account, "limit": "3"})
            assert proxied.status_code == 200 and len(proxied.json()) == 3
            caps = http.get(f"/integrated-accounts/{account}/capabilities")
            assert caps.status_code == 200 and caps.json()["status"] == "active"
            assert secret not in r.text + one.text + caps.text
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture
def coupa_process() -> Iterator[str]:
    """The emulator in a process of its own, as a real Coupa is on another machine.

    In a thread of the test process it would share the GIL with the test's 24 hammering clients:
    requests held up behind them reach its throttle in bunches, which a real instance never sees
    from a client that paces correctly, and the count of 429s would measure the test, not the server.
    """
    port = free_port()
    command = ["emulator", "serve", "--port", str(port), "--seed-invoices", "300", "--random-seed", "5"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "pycoupa.cli.main", *command],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, proc, timeout=60, path="/__emulator__")
        yield url
    finally:
        stop_process(proc)


@pytest.mark.slow
@pytest.mark.parametrize("shared_by", ["redis", "splitting"])
def test_workers_together_stay_within_one_coupa_budget(pg_database: str, coupa_process: str, shared_by: str) -> None:
    """Three worker processes against one instance: with Redis they share the budget; without it,
    each keeps a third of it. Either way the emulator's request counter never sees more than it."""
    import psycopg

    with psycopg.connect(pg_database, autocommit=True) as conn:
        if conn.execute("SELECT to_regclass('public.tenants')").fetchone()[0]:  # type: ignore[index]
            conn.execute("TRUNCATE tenants, api_keys, integrated_accounts CASCADE")
    control = httpx.Client(base_url=f"{coupa_process}/__emulator__", timeout=30)
    keys = new_key_spec("w")
    env_settings = {
        "PYCOUPA_DATABASE_URL": pg_database,
        "PYCOUPA_ENCRYPTION_KEYS": keys,
        "PYCOUPA_REDIS_URL": "redis://127.0.0.1:6379/0" if shared_by == "redis" else "",
        "PYCOUPA_ALLOW_PRIVATE_INSTANCES": "true",
        "PYCOUPA_KEY_RPS": "10000",
        "PYCOUPA_KEY_BURST": "10000",
        "PYCOUPA_ACCOUNT_RPS": "10000",
        "PYCOUPA_ACCOUNT_BURST": "10000",
    }
    settings = ServerSettings.load({}, environ=env_settings)
    # What may go at once, all workers together: the slots of the burst that are not held back
    # (split three ways without Redis, rounded down: never more than with it).
    at_once = settings.coupa_burst - settings.coupa_headroom
    tenant_id, key = asyncio.run(_tenant_and_key(settings))
    made = control.post("/oauth-clients", json={"scopes": list(SCOPES), "name": "workers"})
    assert made.status_code == 201, made.text
    client_id, secret = made.json()["client_id"], made.json()["client_secret"]

    async def connect() -> str:
        p = Platform(settings)
        await p.start()
        try:
            row = await p.create_account(tenant_id, Credentials(coupa_process, client_id, secret, SCOPES))
            return row.id
        finally:
            await p.aclose()

    account = asyncio.run(connect())
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "pycoupa.cli.main", "serve", "--port", str(port), "--workers", "3"],
        env={**os.environ, **env_settings},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(base, proc, timeout=60)
        control.delete("/stats")
        statuses: list[int] = []

        async def hammer(deadline: float) -> None:
            async with httpx.AsyncClient(base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=60) as c:
                while time.monotonic() < deadline:
                    r = await c.get("/unified/accounting/invoices", params={"integrated_account_id": account,
                                                                           "limit": "100"})  # fmt: skip
                    statuses.append(r.status_code)

        async def run() -> float:
            start = time.monotonic()
            await asyncio.gather(*(hammer(start + 6) for _ in range(24)))
            return time.monotonic() - start

        elapsed = asyncio.run(run())
        stats = control.get("/stats").json()
        api_requests = sum(n for route, n in stats["by_route"].items() if "oauth2" not in route)
        assert statuses and set(statuses) == {200}, sorted(set(statuses))
        assert stats["by_status"].get("429", 0) == 0, stats["by_status"]
        # The budget's rate plus what may go at once, over the whole run, for all three workers together.
        assert api_requests <= at_once + settings.coupa_rps * elapsed + 2, (api_requests, elapsed)
        # ...and the run needed pacing: more calls than the burst and two seconds of budget allow at
        # once. (Not a share of the rate: a loaded 2-core machine can leave the workers short of CPU.)
        assert api_requests > at_once + settings.coupa_rps * 2, (api_requests, elapsed)
    finally:
        stop_process(proc)
        control.close()
