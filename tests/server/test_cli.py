"""The server's CLI: keys, vault and database commands."""

from __future__ import annotations

import asyncio
from pathlib import Path

from typer.testing import CliRunner

from pycoupa.cli.main import app
from pycoupa.server.platform import Platform
from pycoupa.server.settings import ServerSettings

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
