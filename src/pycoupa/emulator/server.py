"""Serving an emulator over a real socket: ``pycoupa emulator serve`` and, for tests and
third-party clients that need a URL, :func:`serve_in_thread`."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import uvicorn

from pycoupa.emulator.app import Emulator


@dataclass(frozen=True)
class RunningServer:
    emulator: Emulator
    url: str  # e.g. http://127.0.0.1:54321


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


@contextmanager
def serve_in_thread(
    emulator: Emulator | None = None, host: str = "127.0.0.1", port: int = 0
) -> Iterator[RunningServer]:
    """Run uvicorn in a background thread until the block ends."""
    emu = emulator or Emulator()
    port = port or free_port(host)
    config = uvicorn.Config(emu.app, host=host, port=port, log_level="warning", lifespan="off", access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"coupa-emulator-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"emulator did not start on {host}:{port}")
        time.sleep(0.01)
    emu.base_url = f"http://{host}:{port}"
    try:
        yield RunningServer(emu, emu.base_url)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
