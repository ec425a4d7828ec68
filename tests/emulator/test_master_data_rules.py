"""Master data rules through the HTTP API: uniqueness of names and codes, read-only currencies,
purchase order ``close`` as its own route, and integration runs that end ``failed``."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from pycoupa.emulator.app import Emulator

# resource, a valid create body, the field that must be unique, its humanized name, a second value
UNIQUE_CASES = [
    ("user_groups", {"name": "AP team"}, "name", "Name", "AR team"),
    ("user_groups", {"name": "AP team", "mention-name": "apteam"}, "mention-name", "Mention name", "arteam"),
    ("departments", {"name": "Finance"}, "name", "Name", "Legal"),
    ("account_types", {"name": "Ace Corporate", "currency": {"code": "USD"}}, "name", "Name", "Ace Europe"),
    ("integrations", {"code": "ERP-INV", "name": "ERP invoices"}, "code", "Code", "ERP-PO"),
    ("integrations", {"code": "ERP-INV", "name": "ERP invoices"}, "name", "Name", "ERP orders"),
    ("payment_terms", {"code": "Net30", "type": "DaysAfterNetPaymentTerm", "days-for-net-payment": 30}, "code",
     "Code", "Net45"),
    ("items", {"name": "Pen", "description": "Blue pen", "item-number": "P-100"}, "item-number", "Item number",
     "P-200"),
]  # fmt: skip
ELEMENT = {
    "user_groups": "user_group",
    "departments": "department",
    "account_types": "account_type",
    "integrations": "integration",
    "payment_terms": "payment_term",
    "items": "item",
}
# The other fields that must be unique too, given new values so only the field under test repeats.
OTHER_UNIQUE = {"user_groups": ("name", "mention-name"), "integrations": ("code", "name")}


def _ids(r: httpx.Response) -> list[int]:
    assert r.status_code == 200, r.text
    return [rec["id"] for rec in r.json()]


@pytest.mark.parametrize(
    ("resource", "body", "field", "label", "other"), UNIQUE_CASES, ids=[f"{c[0]}-{c[2]}" for c in UNIQUE_CASES]
)
async def test_duplicates_are_refused_naming_the_field(
    api: httpx.AsyncClient, resource: str, body: dict[str, Any], field: str, label: str, other: str
) -> None:
    first = await api.post(f"/api/{resource}", json=body)
    assert first.status_code == 201, first.text
    before = _ids(await api.get(f"/api/{resource}"))

    # a second record repeating only the field under test
    dup = dict(body)
    for name in OTHER_UNIQUE.get(resource, ()):
        if name != field:
            dup[name] = f"{body.get(name) or 'x'}-2"
    r = await api.post(f"/api/{resource}", json=dup)
    assert r.status_code == 400, r.text
    assert r.json() == {"errors": {ELEMENT[resource]: [f"{label} has already been taken"]}}
    assert _ids(await api.get(f"/api/{resource}")) == before  # nothing created

    # the same value under the other spelling of the key still clashes
    underscored = {k.replace("-", "_"): v for k, v in dup.items()}
    assert (await api.post(f"/api/{resource}", json=underscored)).status_code == 400

    # a record with its own value is fine; renaming it onto the taken value is refused too (where PUT exists)
    dup[field] = other
    second = await api.post(f"/api/{resource}", json=dup)
    assert second.status_code == 201, second.text
    r = await api.put(f"/api/{resource}/{second.json()['id']}", json={field: body[field]})
    if resource == "account_types":
        assert r.status_code == 405  # R39 has no PUT for account types
    else:
        assert r.status_code == 400 and f"{label} has already been taken" in r.text, r.text
        assert (await api.get(f"/api/{resource}/{second.json()['id']}")).json()[field] == other
    # and keeping its own value on update is not a clash with itself
    if resource != "account_types":
        assert (await api.put(f"/api/{resource}/{first.json()['id']}", json={field: body[field]})).status_code == 200


async def test_duplicate_in_xml_answers_the_xml_errors_envelope(api: httpx.AsyncClient) -> None:
    assert (await api.post("/api/departments", json={"name": "Finance"})).status_code == 201
    r = await api.post(
        "/api/departments",
        content=b"<department><name>Finance</name></department>",
        headers={"Content-Type": "application/xml", "Accept": "application/xml"},
    )
    assert r.status_code == 400
    assert b"<error>Name has already been taken</error>" in r.content


# -- currencies are read-only -------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("method", "path"),
    [("POST", "/api/currencies"), ("PUT", "/api/currencies/1"), ("PATCH", "/api/currencies/1"),
     ("DELETE", "/api/currencies/1")],
)  # fmt: skip
async def test_currencies_are_read_only(emu: Emulator, api: httpx.AsyncClient, method: str, path: str) -> None:
    before = (await api.get("/api/currencies/1")).json()
    count = emu.store.count("Currency")
    r = await api.request(method, path, json={"code": "QQQ", "name": "Nope", "decimals": 5, "enabled": False})
    assert r.status_code == 405, r.text
    assert r.json() == {"errors": {"error": [f"{method} is not allowed on {path}; allowed: GET"]}}
    assert r.headers["allow"] == "GET"
    after = (await api.get("/api/currencies/1")).json()
    assert after == before and after["code"] == "USD" and after["decimals"] == 2
    assert emu.store.count("Currency") == count
    assert (await api.get("/api/currencies?code=QQQ")).json() == []


async def test_currencies_refuse_writes_in_xml_too(xml_currency_client: httpx.AsyncClient) -> None:
    r = await xml_currency_client.put(
        "/api/currencies/1",
        content=b"<currency><code>EUR</code></currency>",
        headers={"Content-Type": "application/xml"},
    )
    assert r.status_code == 405 and b"<error>PUT is not allowed on /api/currencies/1; allowed: GET</error>" in r.content
    shown = await xml_currency_client.get("/api/currencies/1")
    assert b"<code>USD</code>" in shown.content


@pytest.fixture
async def xml_currency_client(api: httpx.AsyncClient) -> httpx.AsyncClient:
    api.headers["Accept"] = "application/xml"
    return api


# -- purchase order close -----------------------------------------------------------------------------
async def _issued_po(api: httpx.AsyncClient) -> dict[str, Any]:
    assert (await api.post("/api/suppliers", json={"name": "Acme"})).status_code == 201
    r = await api.post(
        "/api/purchase_orders",
        json={
            "po-number": "EXT-9",
            "supplier": {"name": "Acme"},
            "order-lines": [{"line-num": 1, "description": "x", "price": "5", "quantity": "2"}],
        },
    )
    assert r.status_code == 201, r.text
    return dict(r.json())


async def test_purchase_order_close_route(api: httpx.AsyncClient) -> None:
    po = await _issued_po(api)
    url = f"/api/purchase_orders/{po['id']}"
    r = await api.put(f"{url}/close")
    assert r.status_code == 400
    assert r.json() == {"errors": {"order_header": ["Purchase order cannot close when it is draft"]}}
    await api.put(f"{url}/issue")
    r = await api.put(f"{url}/close", json={"reason-insight-event-comment": "Fully received"})
    assert r.status_code == 200, r.text
    closed = r.json()
    assert closed["status"] == "closed" and closed["internal-revision"] > po["internal-revision"]
    assert (await api.get(url)).json()["status"] == "closed"
    assert [p["id"] for p in (await api.get("/api/purchase_orders?status=closed")).json()] == [po["id"]]
    # closed: no second close, no edits; reopen brings it back
    again = await api.put(f"{url}/close")
    assert again.status_code == 400 and "cannot close when it is closed" in again.text
    edit = await api.put(url, json={"order-lines": [{"id": po["order-lines"][0]["id"], "quantity": "3"}]})
    assert edit.status_code == 400 and "cannot be updated when it is closed" in edit.text
    assert (await api.put(f"{url}/reopen")).json()["status"] == "issued"


# -- integration runs that fail -----------------------------------------------------------------------
async def _run(api: httpx.AsyncClient) -> dict[str, Any]:
    await api.post("/api/integrations", json={"code": "ERP-INV", "name": "ERP invoices", "direction": "from_coupa"})
    r = await api.post("/api/integration_runs", json={"integration": {"code": "ERP-INV"}})
    assert r.status_code == 201 and r.json()["status"] == "pending", r.text
    return dict(r.json())


async def test_integration_run_pending_running_failed(api: httpx.AsyncClient) -> None:
    run = await _run(api)
    url = f"/api/integration_runs/{run['id']}"
    r = await api.put(f"{url}/run", json={"total-records": 10})
    assert r.json()["status"] == "running" and r.json()["start-time"] and r.json()["end-time"] is None
    r = await api.put(f"{url}/fail", json={"records-processed": 4})
    assert r.status_code == 200, r.text
    failed = r.json()
    assert (failed["status"], failed["records-processed"], failed["total-records"]) == ("failed", 4, 10)
    assert failed["end-time"] and failed["end-time"] >= failed["start-time"]
    assert [x["id"] for x in (await api.get("/api/integration_runs?status=failed")).json()] == [run["id"]]
    # failed is final
    for move in ("run", "success", "finish", "fail", "pause"):
        refused = await api.put(f"{url}/{move}")
        assert refused.status_code == 400, (move, refused.text)
        assert refused.json() == {"errors": {"integration_run": [f"Integration run cannot {move} when failed"]}}
    assert (await api.get(url)).json()["status"] == "failed"


async def test_integration_run_finishing_with_errors_fails(api: httpx.AsyncClient) -> None:
    run = await _run(api)
    url = f"/api/integration_runs/{run['id']}"
    await api.put(f"{url}/run")
    err = await api.post(
        "/api/integration_errors",
        json={
            "integration-run": {"id": run["id"]},
            "document-type": "InvoiceHeader",
            "document-id": 1,
            "contact-alert-type": "Technical",
            "responses": [{"response-code": "E42", "response-message": "GL account closed"}],
        },
    )
    assert err.status_code == 201, err.text
    assert err.json()["integration-run-id"] == run["id"]
    shown = (await api.get(url)).json()
    assert [e["id"] for e in shown["integration-errors"]] == [err.json()["id"]]
    done = await api.put(f"{url}/finish")
    assert done.status_code == 200 and done.json()["status"] == "failed" and done.json()["end-time"], done.text
    # a run without errors finishes successful
    other = (await api.post("/api/integration_runs", json={"integration": {"code": "ERP-INV"}})).json()
    await api.put(f"/api/integration_runs/{other['id']}/run")
    assert (await api.put(f"/api/integration_runs/{other['id']}/finish")).json()["status"] == "successful"


async def test_a_pending_run_can_fail_without_running(api: httpx.AsyncClient) -> None:
    run = await _run(api)
    r = await api.put(f"/api/integration_runs/{run['id']}/fail")
    assert r.status_code == 200 and r.json()["status"] == "failed" and r.json()["end-time"], r.text
