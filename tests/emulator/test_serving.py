"""Serving over a real socket, the CLI's argument checks, and the pytest fixtures."""

from __future__ import annotations

import httpx
from typer.testing import CliRunner

from pycoupa.cli.main import app
from pycoupa.emulator.app import Emulator
from pycoupa.emulator.demo import load_demo_data
from pycoupa.emulator.server import serve_in_thread


def test_serve_in_thread_answers_over_a_socket() -> None:
    emu = Emulator()
    cid, secret = emu.create_oauth_client(["core.common.read"])
    with serve_in_thread(emu) as running:
        assert running.url.startswith("http://127.0.0.1:")
        tok = httpx.post(
            f"{running.url}/oauth2/token",
            data={"grant_type": "client_credentials", "client_id": cid, "client_secret": secret},
        ).json()["access_token"]
        r = httpx.get(f"{running.url}/api/currencies/1", headers={"Authorization": f"Bearer {tok}"})
        assert r.status_code == 200 and b"<code>USD</code>" in r.content


def test_fixtures_give_a_fresh_instance_and_a_url(coupa_emulator: Emulator, coupa_emulator_url: str) -> None:
    assert httpx.get(f"{coupa_emulator_url}/__emulator__").json()["release"] == "R39"
    assert coupa_emulator.store.count("Supplier") == 0


def test_demo_data_is_idempotent() -> None:
    emu = Emulator()
    load_demo_data(emu)
    load_demo_data(emu)
    assert emu.store.count("Supplier") == 3 and emu.store.count("Account") == 3


def test_cli_refuses_bad_arguments_with_a_clear_message() -> None:
    runner = CliRunner()
    r = runner.invoke(app, ["emulator", "serve", "--port", "0"])
    assert r.exit_code == 2 and "port" in r.output.lower()
    r = runner.invoke(app, ["emulator", "serve", "--time-zone", "Mars/Olympus", "--port", "8799"])
    assert r.exit_code == 2 and "unknown time zone" in r.output


async def test_seed_route_validates_and_seeds(http: httpx.AsyncClient, emu: Emulator) -> None:
    bad = await http.post("/__emulator__/seed", json={"invoices": -1})
    assert bad.status_code == 400 and "invoices" in bad.json()["error"]
    bad = await http.post("/__emulator__/seed", json={"invoices": 3, "colour": "red"})
    assert bad.status_code == 400 and "colour" in bad.json()["error"]
    r = await http.post("/__emulator__/seed", json={"invoices": 20, "random_seed": 7})
    assert r.status_code == 201
    assert r.json()["made"]["InvoiceHeader"] == 20 == emu.store.count("InvoiceHeader")
