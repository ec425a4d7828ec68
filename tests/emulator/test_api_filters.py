"""Saved API response filters (``filter=<name>``): defined through the control plane, applied as the
projection they save; the emulator's choices where Coupa's behaviour is unconfirmed are tested too."""

from __future__ import annotations

import httpx
import pytest

from pycoupa.client import Coupa
from pycoupa.emulator.app import Emulator
from pycoupa.emulator.seed import SeedCounts, seed
from pycoupa.emulator.server import serve_in_thread
from tests.conftest import TokenFactory

FIELDS = ["id", "invoice-number", {"supplier": ["name"]}]


async def _seeded(emu: Emulator, http: httpx.AsyncClient, token: TokenFactory) -> dict[str, str]:
    seed(emu, SeedCounts(invoices=5), random_seed=2)
    made = await http.put("/__emulator__/api-filters/lean_invoices", json={"resource": "invoices", "fields": FIELDS})
    assert made.status_code == 201, made.text
    assert made.json() == {"name": "lean_invoices", "resource": "invoices", "fields": FIELDS}
    return {"Authorization": f"Bearer {await token('core.invoice.read')}", "Accept": "application/json"}


async def test_a_saved_filter_shapes_the_answer(emu: Emulator, http: httpx.AsyncClient, token: TokenFactory) -> None:
    headers = await _seeded(emu, http, token)
    page = (await http.get("/api/invoices", params={"filter": "lean_invoices"}, headers=headers)).json()
    assert page and all(set(r) == {"id", "invoice-number", "supplier"} and set(r["supplier"]) == {"name"} for r in page)
    one = await http.get(f"/api/invoices/{page[0]['id']}", params={"filter": "lean_invoices"}, headers=headers)
    assert set(one.json()) == {"id", "invoice-number", "supplier"}
    xml = await http.get("/api/invoices", params={"filter": "lean_invoices"},
                         headers={**headers, "Accept": "application/xml"})  # fmt: skip
    assert xml.status_code == 200 and b"<total-with-taxes" not in xml.content and b"<invoice-number>" in xml.content
    whole = (await http.get("/api/invoices", headers=headers)).json()
    assert "total-with-taxes" in whole[0]  # without the filter, the whole record


async def test_the_calls_own_fields_win_and_bad_names_are_refused(
    emu: Emulator, http: httpx.AsyncClient, token: TokenFactory
) -> None:
    headers = await _seeded(emu, http, token)
    own = await http.get("/api/invoices", params={"filter": "lean_invoices", "fields": '["id"]'}, headers=headers)
    assert own.status_code == 200 and all(set(r) == {"id"} for r in own.json())
    unknown = await http.get("/api/invoices", params={"filter": "lean_invoice"}, headers=headers)
    assert unknown.status_code == 400 and unknown.json()["errors"]["error"] == [
        "API filter 'lean_invoice' does not exist"
    ]
    supplier_headers = {**headers, "Authorization": f"Bearer {await token('core.supplier.read')}"}
    other = await http.get("/api/suppliers", params={"filter": "lean_invoices"}, headers=supplier_headers)
    assert other.status_code == 400 and "is for invoices, not suppliers" in other.json()["errors"]["error"][0]


async def test_the_control_plane_lists_deletes_and_refuses_bad_definitions(http: httpx.AsyncClient) -> None:
    assert (
        await http.put("/__emulator__/api-filters/a", json={"resource": "invoices", "fields": ["id"]})
    ).status_code == 201
    assert [f["name"] for f in (await http.get("/__emulator__/api-filters")).json()] == ["a"]
    for body, says in (
        ({"resource": "nope", "fields": ["id"]}, "resource must name a catalog resource"),
        ({"resource": "invoices"}, "fields is required"),
        ({"resource": "invoices", "fields": []}, "at least one attribute"),
        ({"resource": "invoices", "fields": "not json"}, "not valid JSON"),
    ):
        r = await http.put("/__emulator__/api-filters/b", json=body)
        assert r.status_code == 400 and says in r.json()["error"], (body, r.text)
    bad_name = await http.put("/__emulator__/api-filters/a%20b", json={"resource": "invoices", "fields": ["id"]})
    assert bad_name.status_code == 400 and "letters, digits" in bad_name.json()["error"]
    assert (await http.delete("/__emulator__/api-filters/a")).status_code == 200
    assert (await http.delete("/__emulator__/api-filters/a")).status_code == 400
    await http.put("/__emulator__/api-filters/c", json={"resource": "invoices", "fields": ["id"]})
    await http.post("/__emulator__/reset")
    assert (await http.get("/__emulator__/api-filters")).json() == []  # a brand-new instance has none


def test_the_sdks_filter_argument_reaches_the_saved_filter() -> None:
    emu = Emulator()
    seed(emu, SeedCounts(invoices=4), random_seed=3)
    emu.api_filters.define("lean_invoices", "invoices", ["id", "status"])
    cid, secret = emu.create_oauth_client(["core.invoice.read"])
    with serve_in_thread(emu) as running, Coupa(running.url, client_id=cid, client_secret=secret,
                                                scopes=["core.invoice.read"], models=False) as coupa:  # fmt: skip
        records = coupa.invoices.list(filter="lean_invoices", limit=3)
        walked = list(coupa.invoices.iter(filter="lean_invoices"))
    assert records and all(set(r) == {"id", "status"} for r in records)
    assert len(walked) == 4 and all(set(r) == {"id", "status"} for r in walked)


@pytest.mark.parametrize("fields", [["id"], '["id"]'])
def test_a_filter_takes_its_projection_as_a_list_or_as_coupas_text(fields: object) -> None:
    saved = Emulator().api_filters.define("f", "invoices", fields)
    assert saved.fields == {"id": None}
