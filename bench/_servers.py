"""Shared by the server benchmarks: start the emulator and the unified API server as separate
processes (as in production, so neither steals the other's interpreter) and connect them."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx

from pycoupa.server.demo import DEMO_SCOPES
from pycoupa.server.vault import new_key_spec

PYCOUPA = [sys.executable, "-m", "pycoupa.cli.main"]
SCOPES = list(DEMO_SCOPES)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(url: str, proc: subprocess.Popen[bytes], timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"{proc.args} exited with {proc.returncode}")
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.2)
    raise SystemExit(f"{url} did not come up")


@dataclass
class Stack:
    emulator_url: str
    server_url: str
    key: str
    server_pid: int
    emulator_pid: int

    def oauth_client(self) -> tuple[str, str]:
        r = httpx.post(f"{self.emulator_url}/__emulator__/oauth-clients", json={"scopes": SCOPES})
        r.raise_for_status()
        return r.json()["client_id"], r.json()["client_secret"]

    def connect(self, label: str = "") -> str:
        client_id, secret = self.oauth_client()
        r = httpx.post(
            f"{self.server_url}/integrated-accounts",
            json={"instance_url": self.emulator_url, "client_id": client_id, "client_secret": secret,
                  "scopes": SCOPES, "label": label},
            headers={"Authorization": f"Bearer {self.key}"},
            timeout=60,
        )  # fmt: skip
        r.raise_for_status()
        return str(r.json()["id"])


@contextmanager
def stack(invoices: int, *, emulator_limit: bool, server_env: dict[str, str] | None = None) -> Iterator[Stack]:
    procs: list[subprocess.Popen[bytes]] = []
    with tempfile.TemporaryDirectory() as tmp:
        db_url = f"sqlite:///{tmp}/bench.db"
        env = {**os.environ, "PYCOUPA_DATABASE_URL": db_url, "PYCOUPA_ENCRYPTION_KEYS": new_key_spec("bench"),
               "PYCOUPA_ALLOW_PRIVATE_INSTANCES": "true",
               **(server_env or {})}  # fmt: skip
        try:
            e_port, s_port = free_port(), free_port()
            emu = subprocess.Popen(
                [*PYCOUPA, "emulator", "serve", "--port", str(e_port), "--seed-invoices", str(invoices)],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )  # fmt: skip
            procs.append(emu)
            emulator_url = f"http://127.0.0.1:{e_port}"
            wait_for(f"{emulator_url}/__emulator__", emu)
            httpx.put(f"{emulator_url}/__emulator__/rate-limit", json={"enabled": emulator_limit}).raise_for_status()
            out = subprocess.run([*PYCOUPA, "keys", "create", "--tenant", "bench"], env=env, check=True,
                                 capture_output=True, text=True)  # fmt: skip
            key = out.stdout.strip().splitlines()[-1]
            server = subprocess.Popen(
                [*PYCOUPA, "serve", "--port", str(s_port)], env=env, stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )  # fmt: skip
            procs.append(server)
            server_url = f"http://127.0.0.1:{s_port}"
            wait_for(f"{server_url}/health", server)
            yield Stack(emulator_url, server_url, key, server.pid, emu.pid)
        finally:
            for p in procs:
                p.terminate()
            for p in procs:
                try:
                    p.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    p.kill()


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0
