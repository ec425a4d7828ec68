"""One seeded emulator for the mapper tests, with every raw record read once through the SDK.

The emulator is seeded through its control plane (``POST /__emulator__/seed``) with more master
data than the defaults, so that inactive and draft records exist, then a few documents are moved
through Coupa's actions (cancelled and closed purchase orders, an abandoned invoice) so that every
status family shows up. Tests only read: the world is built once per session.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from pycoupa.client import AsyncCoupa
from pycoupa.emulator.app import Emulator
from pycoupa.server.unified.registry import RESOURCES
from pycoupa.server.unified.spec import Source

SEED = {
    "invoices": 160,
    "payments": 60,
    "suppliers": 40,
    "users": 40,
    "user_groups": 6,
    "departments": 12,
    "accounts": 40,
    "account_types": 2,
    "items": 40,
    "lookups": 3,
    "random_seed": 7,
}
BASE = "http://coupa.test"


@dataclass
class World:
    emu: Emulator
    client_id: str
    secret: str
    scopes: list[str]
    full: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # Coupa resource -> raw records
    projected: dict[int, list[dict[str, Any]]] = field(default_factory=dict)  # id(source) -> raw records

    def sdk(self) -> AsyncCoupa:
        return AsyncCoupa(
            "http://127.0.0.1",
            client_id=self.client_id,
            client_secret=self.secret,
            scopes=self.scopes,
            transport=httpx.ASGITransport(app=self.emu.app),
            models=False,
        )

    def records(self, source: Source) -> list[dict[str, Any]]:
        return self.full[source.coupa_resource]

    def query(self, resource: str, pairs: Sequence[tuple[str, str]]) -> tuple[int, list[dict[str, Any]] | str]:
        """Every record Coupa's ``GET /api/<resource>?<pairs>`` answers (all pages), or the error."""
        return asyncio.run(self._query(resource, list(pairs)))

    async def _query(self, resource: str, pairs: list[tuple[str, str]]) -> tuple[int, list[dict[str, Any]] | str]:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=self.emu.app), base_url=BASE) as http:
            token = await _token(http, self.client_id, self.secret, self.scopes)
            headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
            out: list[dict[str, Any]] = []
            while True:
                page: list[tuple[str, Any]] = [*pairs, ("limit", "50"), ("offset", str(len(out))), ("order_by", "id")]
                r = await http.get(f"/api/{resource}", params=page, headers=headers)
                if r.status_code != 200:
                    return r.status_code, r.text
                records = r.json()
                out.extend(records)
                if len(records) < 50:
                    return 200, out


async def _token(http: httpx.AsyncClient, client_id: str, secret: str, scopes: list[str]) -> str:
    r = await http.post(
        "/oauth2/token",
        data={
            "grant_type": "client_credentials",
            "client_id": client_id,
            "client_secret": secret,
            "scope": " ".join(scopes),
        },
    )
    assert r.status_code == 200, r.text
    return str(r.json()["access_token"])


async def _build(world: World) -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=world.emu.app), base_url=BASE) as http:
        r = await http.post("/__emulator__/seed", json=SEED)
        assert r.status_code in (200, 201), r.text
        # The filter tests send a few hundred queries in a burst: Coupa's throttle is not their subject.
        r = await http.put("/__emulator__/rate-limit", json={"enabled": False})
        assert r.status_code == 200, r.text
    async with world.sdk() as coupa:
        # Move a few documents so that every status family is present.
        orders = [o async for o in coupa.purchase_orders.iter(fields=["id", "status"])]
        issued = [o["id"] for o in orders if o["status"] == "issued"]
        for po in issued[:4]:
            await coupa.purchase_orders.cancel(po)
        for po in issued[4:7]:
            await coupa.purchase_orders.close(po)
        drafts = [i["id"] async for i in coupa.invoices.iter(status="draft", fields=["id"])]
        for inv in drafts[:1]:
            await coupa.invoices.abandon(inv)
        approved = [i["id"] async for i in coupa.invoices.iter(status="approved", paid=False, fields=["id"])]
        for inv in approved[:2]:
            await coupa.invoices.void(inv)
        names = {src.coupa_resource for res in RESOURCES.values() for src in res.sources}
        for name in sorted(names):
            world.full[name] = [r async for r in coupa.resource(name).iter(page_size=50)]
        for res in RESOURCES.values():
            for src in res.sources:
                world.projected[id(src)] = [
                    r async for r in coupa.resource(src.coupa_resource).iter(page_size=50, fields=list(src.fields))
                ]


@pytest.fixture(scope="session")
def world() -> World:
    emu = Emulator()
    scopes = sorted(emu.known_scopes)
    client_id, secret = emu.create_oauth_client(scopes)
    w = World(emu, client_id, secret, scopes)
    asyncio.run(_build(w))
    return w


def dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)
