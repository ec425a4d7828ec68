"""``pycoupa serve --demo`` (what ``make run`` runs), as a real process on a real socket: it prints an
API key and a ready ``curl`` line, and that request works as printed."""

from __future__ import annotations

import itertools
import os
import queue
import re
import shlex
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import httpx
import pytest
import typer.core
import typer.main
from tests.server.conftest import stop_process

from pycoupa.cli.main import app
from pycoupa.emulator.server import free_port
from pycoupa.server.demo import demo_settings
from pycoupa.server.settings import ServerSettings

STARTUP_TIMEOUT = 60.0


@dataclass
class Demo:
    process: subprocess.Popen[str]
    lines: list[str]  # everything printed so far
    database: Path
    key_file: Path


def _pump(stream: IO[str], into: queue.Queue[str | None]) -> None:
    for line in iter(stream.readline, ""):
        into.put(line)
    into.put(None)


# Where the demo keeps its database and vault key, relative to the temporary working directory: its
# defaults under ./.pycoupa (what `make run` uses); the key file the environment names, but never
# the database the environment names (it may be production's: "env" sets PYCOUPA_DATABASE_URL to
# ENV_DATABASE, which must stay untouched); the database given by --database-url on the command line.
PLACES = {
    "env": (".pycoupa/demo.db", "vault/encryption.keys"),
    "flag": ("flag.db", ".pycoupa/encryption.keys"),
    "defaults": (".pycoupa/demo.db", ".pycoupa/encryption.keys"),
}
ENV_DATABASE = "production.db"


@pytest.fixture(params=sorted(PLACES))
def demo_process(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Demo, queue.Queue[str | None], int]]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYCOUPA_")}
    env["PYTHONUNBUFFERED"] = "1"
    database, key_file = PLACES[request.param]
    args = []
    if request.param == "env":
        env.update(
            PYCOUPA_DATABASE_URL=f"sqlite:///{tmp_path / ENV_DATABASE}", PYCOUPA_KEY_FILE=str(tmp_path / key_file)
        )
    if request.param == "flag":
        env.update(PYCOUPA_DATABASE_URL=f"sqlite:///{tmp_path / ENV_DATABASE}")  # the flag wins
        args = ["--database-url", f"sqlite:///{tmp_path / database}"]
    command = [sys.executable, "-m", "pycoupa.cli.main", "serve", "--demo", "--host", "127.0.0.1", "--port", str(port)]
    process = subprocess.Popen(
        [*command, *args],
        cwd=tmp_path,  # demo mode writes under ./.pycoupa by default: never in the repository
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: queue.Queue[str | None] = queue.Queue()
    threading.Thread(target=_pump, args=(process.stdout, lines), daemon=True).start()
    try:
        yield Demo(process, [], tmp_path / database, tmp_path / key_file), lines, port
    finally:
        stop_process(process)


def _read_until(demo: Demo, lines: queue.Queue[str | None], done: re.Pattern[str], deadline: float) -> re.Match[str]:
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError("the demo did not print what was expected in time:\n" + "".join(demo.lines))
        try:
            line = lines.get(timeout=left)
        except queue.Empty:
            continue
        if line is None:
            raise AssertionError(f"the demo exited ({demo.process.wait()}):\n" + "".join(demo.lines))
        demo.lines.append(line)
        found = done.search(line)
        if found:
            return found


def _get_when_up(client: httpx.Client, url: str, headers: dict[str, str], deadline: float) -> httpx.Response:
    """The demo prints its lines just before uvicorn binds the port: retry until it answers."""
    while True:
        try:
            return client.get(url, headers=headers)
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def test_demo_prints_a_key_and_a_curl_line_that_works(
    demo_process: tuple[Demo, queue.Queue[str | None], int], tmp_path: Path
) -> None:
    demo, lines, port = demo_process
    deadline = time.monotonic() + STARTUP_TIMEOUT
    key = _read_until(demo, lines, re.compile(r"^\s*export PYCOUPA_KEY=(\S+)\s*$"), deadline).group(1)
    curl = _read_until(demo, lines, re.compile(r"^\s*(curl .*/unified/accounting/invoices.*)$"), deadline).group(1)
    assert key.startswith("pck_")

    # Run the printed request as a shell would: the quoted URL, each -H header, $PYCOUPA_KEY expanded.
    words = shlex.split(curl)
    assert words[0] == "curl"
    url = next(w for w in words[1:] if w.startswith("http"))
    headers = {}
    for flag, value in itertools.pairwise(words):
        if flag == "-H":
            name, _, text = value.partition(":")
            headers[name.strip()] = text.strip().replace("$PYCOUPA_KEY", key)
    assert headers["Authorization"] == f"Bearer {key}"
    assert url.startswith(f"http://127.0.0.1:{port}/")

    with httpx.Client(timeout=30) as client:
        r = _get_when_up(client, url, headers, deadline)
        assert r.status_code == 200, r.text
        body = r.json()
        invoices = body["result"]
        assert isinstance(invoices, list) and invoices
        assert all(inv["id"] and "status" in inv for inv in invoices)
        assert set(body) >= {"result", "next_cursor", "result_count"}

        docs = client.get(f"http://127.0.0.1:{port}/docs")
        assert docs.status_code == 200 and "swagger" in docs.text.lower()
        # The key is the platform's, not a free pass: without it the same request is refused.
        assert client.get(url).status_code == 401

    # The demo made its own vault key, readable by its owner only, and its database, both where
    # its defaults, the environment (for the key) or --database-url say (inside the temporary
    # directory, never the repository); the database PYCOUPA_DATABASE_URL names was not touched.
    key_file = demo.key_file
    assert key_file.is_file()
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert demo.database.is_file()
    assert not (tmp_path / ENV_DATABASE).exists()
    printed = "".join(demo.lines)
    assert key_file.read_text().strip() not in printed
    assert demo.process.poll() is None, printed


def test_demo_settings_never_use_the_database_the_environment_names(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    production = "postgresql://app:pw@db/pycoupa"
    from_env = ServerSettings.load({"demo": True}, environ={"PYCOUPA_DATABASE_URL": production})
    assert demo_settings(from_env).database_url == "sqlite:///.pycoupa/demo.db"
    mine = f"sqlite:///{tmp_path}/mine.db"
    given = ServerSettings.load({"demo": True, "database_url": mine}, environ={"PYCOUPA_DATABASE_URL": production})
    assert demo_settings(given, database_url_given=True).database_url == mine


def test_the_demo_flag_says_which_database_it_uses() -> None:
    command = typer.main.get_command(app)
    assert isinstance(command, typer.core.TyperGroup)
    demo = next(p for p in command.commands["serve"].params if p.name == "demo")
    assert isinstance(demo, typer.core.TyperOption) and demo.help
    for words in ("own SQLite database", "PYCOUPA_DATABASE_URL", "--database-url"):
        assert words in demo.help, demo.help
