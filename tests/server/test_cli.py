"""The server's CLI: keys, vault and database commands."""

from __future__ import annotations

import asyncio
from dataclasses import fields
from pathlib import Path

import pytest
import typer.core
import typer.main
from typer.testing import CliRunner

from pycoupa.cli.main import app
from pycoupa.server.platform import Platform
from pycoupa.server.settings import ServerSettings
from pycoupa.server.vault import new_key_spec

runner = CliRunner()


def test_keys_create_prints_the_key_last_and_it_works(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/cli.db"
    result = runner.invoke(app, ["keys", "create", "--tenant", "acme", "--database-url", url])
    assert result.exit_code == 0, result.output
    key = result.output.strip().splitlines()[-1]
    assert key.startswith("pck_")

    async def check() -> object:
        p = Platform(ServerSettings.load({"database_url": url}, environ={}))
        await p.start()
        try:
            return await p.authenticate(key)
        finally:
            await p.aclose()

    who = asyncio.run(check())
    assert who is not None
    listed = runner.invoke(app, ["keys", "list", "--tenant", "acme", "--database-url", url])
    assert key[:10] in listed.output and key not in listed.output
    key_id = listed.output.split()[0]
    assert runner.invoke(app, ["keys", "revoke", key_id, "--database-url", url]).exit_code == 0
    assert asyncio.run(check()) is None
    again = runner.invoke(app, ["keys", "revoke", key_id, "--database-url", url])
    assert again.exit_code == 1
    typo = runner.invoke(app, ["keys", "list", "--tenant", "acmee", "--database-url", url])
    assert typo.exit_code == 1 and "no tenant named 'acmee'" in typo.output

    async def tenant_names() -> list[str]:
        p = Platform(ServerSettings.load({"database_url": url}, environ={}))
        await p.start()
        try:
            return [t for t in ("acme", "acmee") if await p.find_tenant(t) is not None]
        finally:
            await p.aclose()

    assert asyncio.run(tenant_names()) == ["acme"]  # the typo made no tenant


def test_keys_create_needs_a_tenant() -> None:
    result = runner.invoke(app, ["keys", "create"])
    assert result.exit_code != 0 and "--tenant" in result.output


def test_vault_new_key_and_re_encrypt_without_keys(tmp_path: Path) -> None:
    result = runner.invoke(app, ["vault", "new-key", "--kid", "k9"])
    assert result.exit_code == 0 and result.output.startswith("k9:")
    url = f"sqlite:///{tmp_path}/cli.db"
    missing = runner.invoke(app, ["vault", "re-encrypt", "--database-url", url, "--key-file", str(tmp_path / "none")],
                            env={"PYCOUPA_ENCRYPTION_KEYS": ""})  # fmt: skip
    assert missing.exit_code == 1 and "key file" in missing.output


def test_bad_database_url_is_named(tmp_path: Path) -> None:
    result = runner.invoke(app, ["db", "upgrade", "--database-url", "mysql://x"])
    assert result.exit_code != 0 and "database_url" in result.output


def test_db_upgrade_is_idempotent(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/up.db"
    for _ in range(2):
        result = runner.invoke(app, ["db", "upgrade", "--database-url", url])
        assert result.exit_code == 0, result.output


# -- serve: every setting is a flag ------------------------------------------------------------------


def _serve_params() -> dict[str, typer.core.TyperOption]:
    command = typer.main.get_command(app)
    assert isinstance(command, typer.core.TyperGroup)
    return {p.name: p for p in command.commands["serve"].params if p.name and isinstance(p, typer.core.TyperOption)}


def test_every_setting_has_a_serve_flag_naming_its_variable() -> None:
    # Every field is a setting with a variable...
    assert {f.name for f in fields(ServerSettings)} == set(ServerSettings.ENV)
    params = _serve_params()
    for name, env in ServerSettings.ENV.items():
        # ...and a flag of the same name, whose help says which variable sets it and the default.
        assert name in params, f"pycoupa serve has no flag for setting {name!r} ({env})"
        param = params[name]
        assert f"--{name.replace('_', '-')}" in param.opts, (name, param.opts)
        assert param.default is None, f"--{name} must default to None so {env} and the default apply"
        assert param.help and f"env {env}" in param.help and "default" in param.help, (name, param.help)


def test_serve_help_shows_the_variables() -> None:
    # Help is rendered with rich markup, which swallows "[...]": the variables must survive it.
    result = runner.invoke(app, ["serve", "--help"], env={"COLUMNS": "200", "TERMINAL_WIDTH": "200"})
    assert result.exit_code == 0, result.output
    for env in ServerSettings.ENV.values():
        assert env in result.output, env


KEYS = new_key_spec("k9")
# A value other than the default for every setting: (the flag's argument, the setting it makes).
SAMPLE: dict[str, tuple[str | None, object]] = {
    "host": ("127.0.0.2", "127.0.0.2"),
    "port": ("8123", 8123),
    "database_url": ("sqlite:///{tmp}/flags.db", "sqlite:///{tmp}/flags.db"),
    "encryption_keys": (KEYS, KEYS),
    "key_file": ("{tmp}/keys", "{tmp}/keys"),
    "redis_url": ("redis://127.0.0.1:1/3", "redis://127.0.0.1:1/3"),
    "coupa_rps": ("7.5", 7.5),
    "coupa_burst": ("3", 3),
    "coupa_headroom": ("2", 2),
    "coupa_max_wait": ("0", 0.0),
    "key_rps": ("11", 11.0),
    "key_burst": ("12", 12),
    "account_rps": ("13", 13.0),
    "account_burst": ("14", 14),
    "workers": ("1", 1),
    "demo": (None, False),  # --no-demo: the demo would start an emulator
    "allow_private_instances": ("", True),  # a switch: the flag alone
    "log_level": ("debug", "debug"),
}


@pytest.fixture
def no_server(monkeypatch: pytest.MonkeyPatch) -> dict[str, object]:
    """``serve`` up to the point it would listen: what it passes to the app and to uvicorn."""
    import uvicorn

    import pycoupa.cli.main as cli
    import pycoupa.server.app as server_app

    for env in ServerSettings.ENV.values():
        monkeypatch.delenv(env, raising=False)
    seen: dict[str, object] = {}

    def create_app(settings: ServerSettings) -> object:
        seen["settings"] = settings
        return object()

    def run(target: object, **kwargs: object) -> None:
        seen["target"], seen["uvicorn"] = target, kwargs

    monkeypatch.setattr(server_app, "create_app", create_app)
    monkeypatch.setattr(uvicorn, "run", run)
    monkeypatch.setattr(cli, "tune_gc_for_serving", lambda: None)
    return seen


def test_every_serve_flag_reaches_the_settings(no_server: dict[str, object], tmp_path: Path) -> None:
    assert set(SAMPLE) == set(ServerSettings.ENV)
    args = ["serve", "--no-demo"]
    for name, (raw, _) in SAMPLE.items():
        if raw == "":
            args.append(f"--{name.replace('_', '-')}")
        elif raw is not None:
            args += [f"--{name.replace('_', '-')}", raw.format(tmp=tmp_path)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    settings = no_server["settings"]
    assert isinstance(settings, ServerSettings)
    for name, (_, value) in SAMPLE.items():
        expected = value.format(tmp=tmp_path) if isinstance(value, str) else value
        assert getattr(settings, name) == expected, name
    assert no_server["uvicorn"] == {"host": "127.0.0.2", "port": 8123, "log_level": "debug", "access_log": False}


def test_flags_win_over_the_environment(no_server: dict[str, object], tmp_path: Path) -> None:
    env = {
        "PYCOUPA_KEY_BURST": "5",
        "PYCOUPA_ACCOUNT_BURST": "6",
        "PYCOUPA_LOG_LEVEL": "warning",
        "PYCOUPA_ENCRYPTION_KEYS": KEYS,
        "PYCOUPA_DATABASE_URL": f"sqlite:///{tmp_path}/e.db",
    }
    assert runner.invoke(app, ["serve"], env=env).exit_code == 0
    settings = no_server["settings"]
    assert isinstance(settings, ServerSettings)
    assert (settings.key_burst, settings.account_burst, settings.log_level) == (5, 6, "warning")
    result = runner.invoke(app, ["serve", "--key-burst", "7", "--account-burst", "8", "--log-level", "error"], env=env)
    assert result.exit_code == 0, result.output
    settings = no_server["settings"]
    assert isinstance(settings, ServerSettings)
    assert (settings.key_burst, settings.account_burst, settings.log_level) == (7, 8, "error")


@pytest.mark.parametrize(
    ("args", "env", "named"),
    [
        (["--key-burst", "0"], {}, ["key_burst", "PYCOUPA_KEY_BURST"]),
        (["--account-burst", "-3"], {}, ["account_burst", "PYCOUPA_ACCOUNT_BURST"]),
        (["--account-burst", "many"], {}, ["--account-burst", "integer"]),
        (["--log-level", "loud"], {}, ["log_level", "PYCOUPA_LOG_LEVEL", "loud"]),
        ([], {"PYCOUPA_LOG_LEVEL": "loud"}, ["log_level", "PYCOUPA_LOG_LEVEL", "loud"]),
        ([], {"PYCOUPA_KEY_BURST": "lots"}, ["PYCOUPA_KEY_BURST", "number"]),
    ],
)
def test_bad_serve_values_answer_2_naming_the_problem(
    no_server: dict[str, object], args: list[str], env: dict[str, str], named: list[str]
) -> None:
    result = runner.invoke(app, ["serve", "--no-demo", *args], env={"COLUMNS": "200", "TERMINAL_WIDTH": "200", **env})
    assert result.exit_code == 2, result.output
    for word in named:
        assert word in result.output, (word, result.output)
    assert "settings" not in no_server  # nothing started
