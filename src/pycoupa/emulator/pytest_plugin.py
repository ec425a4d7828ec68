"""pytest fixtures for testing Coupa integrations against the emulator.

Enabled automatically when pycoupa is installed (entry point ``pytest11``):

- ``coupa_emulator``: a fresh in-memory :class:`~pycoupa.emulator.Emulator` per test;
  call it in-process with ``httpx.AsyncClient(transport=httpx.ASGITransport(app=emu.app))``;
- ``coupa_emulator_url``: the same instance served by uvicorn on 127.0.0.1, for clients that
  need a real URL.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from pycoupa.emulator.app import Emulator
from pycoupa.emulator.server import serve_in_thread


@pytest.fixture
def coupa_emulator() -> Emulator:
    return Emulator()


@pytest.fixture
def coupa_emulator_url(coupa_emulator: Emulator) -> Iterator[str]:
    with serve_in_thread(coupa_emulator) as running:
        yield running.url
