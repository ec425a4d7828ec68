"""Serving over a real socket, the CLI's argument checks, and the pytest fixtures."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from pycoupa.cli import main as cli_main
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


def _capture_serving(monkeypatch: pytest.MonkeyPatch, invoices: list[int] | None = None) -> list[tuple[str, bool]]:
    """Stand in for uvicorn.run: note where the served emulator keeps its state, and whether that
    file existed while serving (and, in ``invoices``, how many invoices it held then)."""
    import uvicorn

    from pycoupa.emulator import app as emulator_module

    created: list[Emulator] = []
    seen: list[tuple[str, bool]] = []

    class Recorded(Emulator):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            created.append(self)

    def fake_run(asgi_app: object, **_: object) -> None:
        assert asgi_app is created[-1].app
        path = created[-1].store.path
        seen.append((path, Path(path).is_file()))
        if invoices is not None:
            invoices.append(created[-1].store.count("InvoiceHeader"))

    monkeypatch.setattr(emulator_module, "Emulator", Recorded)
    monkeypatch.setattr(cli_main, "tune_gc_for_serving", lambda: None)  # not in the test process
    monkeypatch.setattr(uvicorn, "run", fake_run)
    return seen


def test_cli_keeps_state_in_a_temporary_file_removed_at_exit(monkeypatch: pytest.MonkeyPatch) -> None:
    invoices: list[int] = []
    seen = _capture_serving(monkeypatch, invoices)
    r = CliRunner().invoke(app, ["emulator", "serve", "--port", "8799", "--seed-invoices", "3"])
    assert r.exit_code == 0, r.output
    assert invoices == [3]  # --seed-invoices 3: seeded before serving
    [(path, existed)] = seen
    assert path.endswith(".sqlite") and existed  # a file while serving, not memory
    assert not Path(path).exists()  # and gone afterwards


def test_cli_in_memory_and_data_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    seen = _capture_serving(monkeypatch)
    assert CliRunner().invoke(app, ["emulator", "serve", "--in-memory"]).exit_code == 0
    assert seen[-1] == (":memory:", False)
    data = tmp_path / "coupa.sqlite"
    assert CliRunner().invoke(app, ["emulator", "serve", "--data", str(data)]).exit_code == 0
    assert seen[-1] == (str(data), True) and data.is_file()  # kept: it is the user's file
    r = CliRunner().invoke(app, ["emulator", "serve", "--data", str(data), "--in-memory"])
    assert r.exit_code == 2 and "not both" in r.output


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
