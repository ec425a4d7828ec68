"""How the CLI fails: ``serve`` refuses to start without a usable vault key, and commands that hit a
bad tenant name or an unreachable database print one line on stderr (no traceback, no password)
and exit non-zero. Commands that never touch credentials stay keyless."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner, Result

from pycoupa.cli.main import app
from pycoupa.emulator.server import free_port
from pycoupa.server.app import create_app
from pycoupa.server.settings import ServerSettings
from pycoupa.server.vault import VaultError, new_key_spec

runner = CliRunner()
KEYS = new_key_spec("k1")
PASSWORD = "Sup3r-Secret-Pw"
UNREACHABLE_PG = f"postgresql://pycoupa:{PASSWORD}@127.0.0.1:1/pycoupa"
NO_KEYS = {"PYCOUPA_ENCRYPTION_KEYS": ""}


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for env in ServerSettings.ENV.values():
        monkeypatch.delenv(env, raising=False)


def one_line_failure(result: Result) -> str:
    """The single stderr line of a command that failed cleanly (``typer.Exit``, not an exception)."""
    assert result.exit_code != 0, result.output
    assert isinstance(result.exception, SystemExit), repr(result.exception)  # not a crash
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.output
    return lines[0]


# -- serve without a key -------------------------------------------------------------------------------


@pytest.fixture
def nothing_served(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """What ``serve`` started: the app and uvicorn are replaced by recorders."""
    import uvicorn

    import pycoupa.cli.main as cli
    import pycoupa.server.app as server_app

    started: list[str] = []
    monkeypatch.setattr(server_app, "create_app", lambda *a, **k: started.append("app"))
    monkeypatch.setattr(uvicorn, "run", lambda *a, **k: started.append("uvicorn"))
    monkeypatch.setattr(cli, "tune_gc_for_serving", lambda: None)
    return started


@pytest.mark.parametrize(
    ("args", "says"),
    [
        ([], "vault: no encryption keys"),
        (["--workers", "2"], "vault: no encryption keys"),
        (["--encryption-keys", "k1:c2hvcnQ"], "vault: encryption key 'k1' must be 32 bytes"),
    ],
)
def test_serve_without_a_usable_key_refuses_to_start(
    nothing_served: list[str], tmp_path: Path, args: list[str], says: str
) -> None:
    result = runner.invoke(
        app,
        ["serve", "--no-demo", "--database-url", f"sqlite:///{tmp_path}/s.db", "--key-file", str(tmp_path / "none"),
         *args],
        env=NO_KEYS,
    )  # fmt: skip
    line = one_line_failure(result)
    assert line.startswith(says), line
    assert "c2hvcnQ" not in result.output  # key material is never echoed
    assert nothing_served == []  # neither the app nor uvicorn was started


def test_serve_with_a_key_file_starts(nothing_served: list[str], tmp_path: Path) -> None:
    key_file = tmp_path / "keys"
    key_file.write_text(KEYS + "\n")
    key_file.chmod(0o600)
    result = runner.invoke(
        app, ["serve", "--no-demo", "--database-url", f"sqlite:///{tmp_path}/s.db", "--key-file", str(key_file)],
        env=NO_KEYS,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert nothing_served == ["app", "uvicorn"]


def test_serve_process_without_a_key_exits_at_once(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYCOUPA_")}
    done = subprocess.run(
        [sys.executable, "-m", "pycoupa.cli.main", "serve", "--port", str(free_port()),
         "--database-url", f"sqlite:///{tmp_path}/s.db"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert done.returncode == 1, done.stdout + done.stderr
    assert done.stderr.strip().splitlines() == [done.stderr.strip()]
    assert done.stderr.startswith("vault: no encryption keys"), done.stderr
    assert "Traceback" not in done.stderr + done.stdout


async def test_the_app_loads_its_keys_at_startup(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/app.db"
    keyless = create_app(ServerSettings.load({"database_url": url, "key_file": str(tmp_path / "none")}, environ={}))
    with pytest.raises(VaultError, match="no encryption keys"):
        async with keyless.router.lifespan_context(keyless):
            pass
    keyed = create_app(ServerSettings.load({"database_url": url, "encryption_keys": KEYS}, environ={}))
    async with keyed.router.lifespan_context(keyed):
        transport = httpx.ASGITransport(app=keyed)
        async with httpx.AsyncClient(transport=transport, base_url="http://pycoupa.test") as http:
            assert (await http.get("/health")).status_code == 200


def test_key_commands_need_no_vault_key(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/keys.db"
    env = {**NO_KEYS, "PYCOUPA_KEY_FILE": str(tmp_path / "none")}
    made = runner.invoke(app, ["keys", "create", "--tenant", "acme", "--database-url", url], env=env)
    assert made.exit_code == 0, made.output
    listed = runner.invoke(app, ["keys", "list", "--tenant", "acme", "--database-url", url], env=env)
    assert listed.exit_code == 0, listed.output
    revoked = runner.invoke(app, ["keys", "revoke", listed.output.split()[0], "--database-url", url], env=env)
    assert revoked.exit_code == 0, revoked.output


# -- one line, no traceback, no password -----------------------------------------------------------------


@pytest.mark.parametrize("tenant", ["   ", "", "x" * 201])
def test_a_bad_tenant_name_is_one_line(tmp_path: Path, tenant: str) -> None:
    result = runner.invoke(app, ["keys", "create", "--tenant", tenant, "--database-url", f"sqlite:///{tmp_path}/t.db"])
    assert one_line_failure(result) == "error: tenant name must be 1-200 characters"


@pytest.mark.parametrize(
    "args",
    [
        ["vault", "re-encrypt", "--encryption-keys", KEYS],
        ["keys", "create", "--tenant", "acme"],
        ["keys", "list", "--tenant", "acme"],
        ["keys", "revoke", "some-key-id"],
        ["db", "upgrade"],
    ],
)
def test_an_unreachable_database_is_one_line_without_its_password(args: list[str]) -> None:
    result = runner.invoke(app, [*args, "--database-url", UNREACHABLE_PG])
    line = one_line_failure(result)
    assert line.startswith("database postgresql://pycoupa:**********@127.0.0.1:1/pycoupa: "), line
    assert "127.0.0.1" in line and "port 1" in line  # what failed, and where
    assert PASSWORD not in result.output
    assert KEYS.split(":")[1] not in result.output


@pytest.mark.parametrize(
    ("url", "says"),
    [
        (f"postgresql://pycoupa:{PASSWORD}@db:port/pycoupa", "port"),  # SQLAlchemy cannot parse it
        (f"postgresql+nodriver://pycoupa:{PASSWORD}@db/pycoupa", "nodriver"),  # no such driver
        (f"postgresql+asyncpg://pycoupa:{PASSWORD}@db/pycoupa", "No module named 'asyncpg'"),  # not installed
        (f"postgresql://pycoupa:{PASSWORD.replace('-', '%2D')}@127.0.0.1:1/pycoupa", "127.0.0.1"),  # %-encoded
        ("sqlite:////nonexistent-pycoupa-dir/x.db", "unable to open database file"),
    ],
)
def test_a_bad_database_url_is_one_line_without_its_password(url: str, says: str) -> None:
    result = runner.invoke(app, ["keys", "create", "--tenant", "acme", "--database-url", url])
    line = one_line_failure(result)
    assert line.startswith("database ") and says in line, line
    assert PASSWORD not in result.output and PASSWORD.replace("-", "%2D") not in result.output


def test_re_encrypt_against_an_unreachable_database_prints_no_traceback(tmp_path: Path) -> None:
    # The real entry point, where typer would render an uncaught exception as a long traceback.
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYCOUPA_")}
    done = subprocess.run(
        [sys.executable, "-m", "pycoupa.cli.main", "vault", "re-encrypt", "--database-url", UNREACHABLE_PG,
         "--encryption-keys", KEYS],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert done.returncode == 1, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert done.stderr.startswith("database postgresql://pycoupa:**********@127.0.0.1:1/pycoupa: ")
    for secret in (PASSWORD, KEYS.split(":")[1]):
        assert secret not in done.stdout + done.stderr
