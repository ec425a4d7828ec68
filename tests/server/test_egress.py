"""Accounts may point only at public hosts unless the server allows private ones."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from tests.server.conftest import Server, start_server

from pycoupa.emulator.app import Emulator
from pycoupa.server import egress
from pycoupa.server.errors import APIError


@pytest.fixture
async def strict_server(tmp_path: object, coupa: Emulator) -> AsyncIterator[Server]:
    async for s in start_server(f"sqlite:///{tmp_path}/strict.db", coupa, allow_private_instances=False):
        yield s


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9",
        "http://localhost:8765",
        "http://[::1]:8765",
        "https://10.1.2.3",
        "https://192.168.0.10:8443",
        "https://169.254.169.254",  # cloud metadata
        "https://100.64.0.1",
        "https://0.0.0.0",
    ],
)
async def test_private_hosts_are_refused(strict_server: Server, url: str) -> None:
    s = strict_server
    r = await s.http.post(
        "/integrated-accounts",
        json={"instance_url": url, "client_id": s.client_id, "client_secret": s.client_secret,
              "scopes": ["core.invoice.read"]},
        headers=s.auth(),
    )  # fmt: skip
    assert r.status_code == 400, r.text
    assert r.json()["error"] == "private_instance" and "--allow-private-instances" in r.json()["message"]
    listed = await s.http.get("/integrated-accounts", headers=s.auth())
    assert listed.json()["result"] == []


async def test_a_name_resolving_to_a_private_address_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    async def resolves_to(*_: object, **__: object) -> list[tuple[object, ...]]:
        return [(2, 1, 6, "", ("10.0.0.7", 443))]

    monkeypatch.setattr(asyncio.get_running_loop(), "getaddrinfo", resolves_to)
    with pytest.raises(APIError) as caught:
        await egress.check_public_host("https://acme.coupahost.com")
    assert caught.value.error == "private_instance" and "10.0.0.7" in caught.value.message


async def test_a_public_address_passes_and_an_unresolvable_name_is_left_to_validation(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await egress.check_public_host("https://8.8.8.8")

    async def fails(*_: object, **__: object) -> list[tuple[object, ...]]:
        raise OSError("Name or service not known")

    monkeypatch.setattr(asyncio.get_running_loop(), "getaddrinfo", fails)
    await egress.check_public_host("https://no-such-instance.coupahost.com")


async def test_allowed_private_instances_connect(server: Server) -> None:
    assert await server.connect()  # the fixture's server allows them: the emulator is on loopback
