"""Conformance tests replay many documented calls per test; Coupa's throttle (25 rps, burst 20) is
not what they check, so it is switched off through the control plane."""

from __future__ import annotations

import httpx
import pytest


@pytest.fixture(autouse=True)
async def _no_throttle(http: httpx.AsyncClient) -> None:
    r = await http.put("/__emulator__/rate-limit", json={"enabled": False})
    assert r.status_code == 200 and r.json()["enabled"] is False
