"""Accounts, requisitions to purchase orders, purchase order versions, payments, master data rules."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from pycoupa.emulator.app import Emulator
from pycoupa.emulator.writes import Writer


async def _account_type(api: httpx.AsyncClient, name: str = "Ace Corporate") -> dict[str, Any]:
    r = await api.post("/api/account_types", json={"name": name, "currency": {"code": "USD"}})
    assert r.status_code == 201, r.text
    return dict(r.json())


# -- accounts ----------------------------------------------------------------------------------------
async def test_account_code_is_the_non_blank_segments_joined(api: httpx.AsyncClient) -> None:
    await _account_type(api)
    r = await api.post(
        "/api/accounts",
        json={
            "segment-1": "SF",
            "segment-2": "",
            "segment-3": "Marketing",
            "segment-4": "Indirect",
            "account-type": {"name": "Ace Corporate"},
            "code": "ignored",
        },
    )
    assert r.status_code == 201, r.text
    acct = r.json()
    assert acct["code"] == "SF-Marketing-Indirect" and acct["active"] is True
    r = await api.put(f"/api/accounts/{acct['id']}", json={"segment-2": "West"})
    assert r.json()["code"] == "SF-West-Marketing-Indirect"
    r = await api.get("/api/accounts?code=SF-West-Marketing-Indirect")
    assert [a["id"] for a in r.json()] == [acct["id"]]


async def test_account_needs_a_segment(api: httpx.AsyncClient) -> None:
    await _account_type(api)
    r = await api.post("/api/accounts", json={"name": "x", "account-type": {"name": "Ace Corporate"}})
    assert r.status_code == 400 and "Segment 1 can't be blank" in r.json()["errors"]["account"]


async def test_inactive_accounts_leave_favorites_recent_and_user_accounts(api: httpx.AsyncClient) -> None:
    await _account_type(api)
    ids = []
    for seg in ("A", "B", "C"):
        ids.append(
            (
                await api.post("/api/accounts", json={"segment-1": seg, "account-type": {"name": "Ace Corporate"}})
            ).json()["id"]
        )
    await api.put(f"/api/accounts/{ids[1]}", json={"active": False})
    for route in ("favorites", "recent", "user_accounts"):
        got = {a["id"] for a in (await api.get(f"/api/accounts/{route}")).json()}
        assert got == {ids[0], ids[2]}, route
    assert (await api.get("/api/accounts/recent")).json()[0]["id"] == ids[2]  # most recently changed first
    assert {a["id"] for a in (await api.get("/api/accounts")).json()} == set(ids)


async def test_validate_account(api: httpx.AsyncClient) -> None:
    await _account_type(api)
    acct = (
        await api.post(
            "/api/accounts", json={"segment-1": "10", "segment-2": "20", "account-type": {"name": "Ace Corporate"}}
        )
    ).json()
    ok = await api.post(
        "/api/accounts/validate_account",
        json={"account-type": {"name": "Ace Corporate"}, "segment-1": "10", "segment-2": "20"},
    )
    assert ok.status_code == 200 and ok.json()["id"] == acct["id"]
    nope = await api.post(
        "/api/accounts/validate_account",
        json={"account-type": {"name": "Ace Corporate"}, "segment-1": "10", "segment-2": "99"},
    )
    assert nope.status_code == 400 and "does not exist" in nope.text
    await api.put(f"/api/accounts/{acct['id']}", json={"active": False})
    inactive = await api.post(
        "/api/accounts/validate_account", json={"account-type": {"name": "Ace Corporate"}, "code": "10-20"}
    )
    assert inactive.status_code == 400 and "inactive" in inactive.text


# -- requisitions, approvals, purchase orders ------------------------------------------------------------
async def _requisition_setup(api: httpx.AsyncClient) -> None:
    await api.post("/api/suppliers", json={"name": "Acme", "status": "active"})
    await api.post("/api/suppliers", json={"name": "Globex", "status": "active"})
    await api.post(
        "/api/users", json={"login": "kyle", "email": "kyle@example.com", "firstname": "Kyle", "lastname": "E"}
    )


def _req_body(**extra: Any) -> dict[str, Any]:
    return {
        "requested-by": {"login": "kyle"},
        "requisition-lines": [
            {
                "line-num": 1,
                "description": "Pens",
                "quantity": "10",
                "unit-price": "1.50",
                "supplier": {"name": "Acme"},
                "currency": {"code": "USD"},
            },
            {
                "line-num": 2,
                "description": "Desk",
                "quantity": "1",
                "unit-price": "300.00",
                "supplier": {"name": "Globex"},
                "currency": {"code": "USD"},
            },
        ],
        **extra,
    }


async def test_requisition_line_rules(api: httpx.AsyncClient) -> None:
    await _requisition_setup(api)
    assert "at least one line" in (await api.post("/api/requisitions", json={"requisition-lines": []})).text
    r = await api.post("/api/requisitions", json={"requisition-lines": [{"line-num": 1, "quantity": "1"}]})
    assert r.status_code == 400 and "description or item" in r.text
    r = await api.post(
        "/api/requisitions",
        json={"requisition-lines": [{"line-num": 1, "description": "a"}, {"line-num": 3, "description": "b"}]},
    )
    assert r.status_code == 400 and "increment by 1" in r.text
    body = _req_body()
    body["requisition-lines"].append({"line-num": 2, "description": "duplicate", "unit-price": "9"})
    r = await api.post("/api/requisitions", json=body)
    assert r.status_code == 201, r.text
    req = r.json()
    assert req["status"] == "draft"
    assert [line["description"] for line in req["requisition-lines"]] == ["Pens", "Desk"]  # duplicate ignored
    assert req["total"] == "315.00" and req["requested-by"]["login"] == "kyle"


async def test_requisition_refuses_an_inactive_requester(api: httpx.AsyncClient) -> None:
    await _requisition_setup(api)
    user = (await api.get("/api/users?login=kyle")).json()[0]
    await api.put(f"/api/users/{user['id']}", json={"active": False})
    r = await api.post("/api/requisitions", json=_req_body())
    assert r.status_code == 400 and "inactive" in r.text


async def test_approved_requisition_creates_one_purchase_order_per_supplier(api: httpx.AsyncClient) -> None:
    await _requisition_setup(api)
    r = await api.post("/api/requisitions/submit_for_approval", json=_req_body())
    assert r.status_code == 201, r.text
    req = r.json()
    assert req["status"] == "pending_approval"
    approval = (await api.get(f"/api/approvals?approvable-type=RequisitionHeader&approvable-id={req['id']}")).json()[0]
    held = await api.put(f"/api/approvals/{approval['id']}/hold")
    assert held.json()["status"] == "on_hold"
    assert (await api.put(f"/api/approvals/{approval['id']}/hold")).status_code == 400  # only while pending
    assert (await api.put(f"/api/approvals/{approval['id']}/approve")).status_code == 200
    assert (await api.get(f"/api/requisitions/{req['id']}")).json()["status"] == "approved"
    pos = (await api.get(f"/api/purchase_orders?requisition-header[id]={req['id']}")).json()
    assert sorted(po["supplier"]["name"] for po in pos) == ["Acme", "Globex"]
    assert all(po["status"] == "issued" and po["version"] == 1 and po["exported"] is False for po in pos)
    acme = next(po for po in pos if po["supplier"]["name"] == "Acme")
    assert [(line["description"], line["price"]) for line in acme["order-lines"]] == [("Pens", "1.50")]


async def test_draft_requisition_update_and_submit(api: httpx.AsyncClient) -> None:
    await _requisition_setup(api)
    req = (await api.post("/api/requisitions", json=_req_body())).json()
    r = await api.put(f"/api/requisitions/{req['id']}/update_and_submit_for_approval", json={"justification": "needed"})
    assert r.status_code == 200 and r.json()["status"] == "pending_approval" and r.json()["justification"] == "needed"
    assert (await api.put(f"/api/requisitions/{req['id']}", json={"justification": "x"})).status_code == 400
    assert (await api.delete(f"/api/requisitions/{req['id']}")).status_code == 400


async def test_purchase_order_versions_exported_and_actions(api: httpx.AsyncClient) -> None:
    await api.post("/api/suppliers", json={"name": "Acme"})
    await _account_type(api)
    acct = (await api.post("/api/accounts", json={"segment-1": "1", "account-type": {"name": "Ace Corporate"}})).json()
    r = await api.post(
        "/api/purchase_orders",
        json={
            "po-number": "EXT-1",
            "supplier": {"name": "Acme"},
            "order-lines": [{"line-num": 1, "description": "x", "price": "5", "quantity": "1"}],
        },
    )
    assert r.status_code == 201, r.text
    po = r.json()
    assert (po["type"], po["status"], po["version"], po["internal-revision"]) == ("ExternalOrderHeader", "draft", 1, 1)
    assert (
        await api.post("/api/purchase_orders", json={"type": "OrderHeader", "supplier": {"name": "Acme"}})
    ).status_code == 400
    po = (await api.put(f"/api/purchase_orders/{po['id']}/issue")).json()
    assert po["status"] == "issued" and po["transmission-status"] == "sent_via_email"
    po = (await api.put(f"/api/purchase_orders/{po['id']}?exported=true")).json()
    assert po["exported"] is True
    line_id = po["order-lines"][0]["id"]
    # an account-only change is internal: no new supplier version, still exported
    po = (
        await api.put(
            f"/api/purchase_orders/{po['id']}", json={"order-lines": [{"id": line_id, "account": {"id": acct["id"]}}]}
        )
    ).json()
    assert (po["version"], po["exported"]) == (1, True) and po["internal-revision"] > 2
    # a supplier-facing change makes a new version that must be exported again
    po = (
        await api.put(f"/api/purchase_orders/{po['id']}", json={"order-lines": [{"id": line_id, "quantity": "3"}]})
    ).json()
    assert (po["version"], po["exported"]) == (2, False)
    assert [p["id"] for p in (await api.get("/api/purchase_orders?exported=false")).json()] == [po["id"]]
    assert (await api.put(f"/api/purchase_orders/{po['id']}/reopen")).status_code == 400
    closed = await api.put(
        f"/api/purchase_orders/{po['id']}",
        content=b"<order-header><_close>true</_close></order-header>",
        headers={"Content-Type": "application/xml"},
    )
    assert closed.json()["status"] == "closed"
    assert (await api.put(f"/api/purchase_orders/{po['id']}/reopen")).json()["status"] == "issued"
    assert (await api.put(f"/api/purchase_orders/{po['id']}/cancel")).json()["status"] == "cancelled"
    assert (await api.put(f"/api/purchase_orders/{po['id']}/issue")).status_code == 400


async def test_order_line_soft_close_and_reopen(api: httpx.AsyncClient) -> None:
    await api.post("/api/suppliers", json={"name": "Acme"})
    po = (
        await api.post(
            "/api/purchase_orders",
            json={
                "supplier": {"name": "Acme"},
                "order-lines": [{"line-num": 1, "description": "x", "price": "1", "quantity": "1"}],
            },
        )
    ).json()
    line = po["order-lines"][0]["id"]
    assert (await api.put(f"/api/purchase_order_lines/{line}/reopen_for_receiving")).status_code == 400
    assert (await api.put(f"/api/purchase_order_lines/{line}/soft_close_for_receiving")).status_code == 200
    assert (await api.put(f"/api/purchase_order_lines/{line}/reopen_for_receiving")).status_code == 200


# -- payments ------------------------------------------------------------------------------------------
def _payment(emu: Emulator, *, bank: str, status: str, pay_to_type: str) -> int:
    with emu.store.transaction():
        w = Writer(emu.schema, emu.store, emu.tz, emu.clock.now(), 1)
        partner = w.insert_system(
            "CoupaPay-PaymentPartner",
            {"name": f"{bank} partner", "issuing-bank": bank, "type": "CoupaPay::VirtualCardPartner"},
        )
        account = w.insert_system(
            "CoupaPay-CompanyPaymentAccount", {"account-name": "Operating", "payment-partner": partner["id"]}
        )
        to_account = w.insert_system("CoupaPay-PayToAccount", {"type": pay_to_type, "account-name": "Vendor"})
        payment = w.insert_system(
            "CoupaPay-Payment",
            {
                "status": status,
                "pay-from-account": account["id"],
                "pay-to-account": to_account["id"],
                "pay-to-total": "10.00",
                "exported": False,
            },
        )
    return int(payment["id"])


async def test_payment_queries_from_the_seed_work_as_written(emu: Emulator, api: httpx.AsyncClient) -> None:
    want = _payment(
        emu, bank="XYZBank", status="completed_successfully", pay_to_type="CoupaPay::SupplierPaymentAccount"
    )
    _payment(emu, bank="OtherBank", status="completed_successfully", pay_to_type="CoupaPay::SupplierPaymentAccount")
    _payment(emu, bank="XYZBank", status="approved", pay_to_type="CoupaPay::SupplierPaymentAccount")
    _payment(emu, bank="XYZBank", status="completed_with_errors", pay_to_type="CoupaPay::EmployeePaymentAccount")
    query = (
        "/api/coupa_pay/payments?status[in]=completed_successfully,completed_with_errors&exported=false"
        "&payment-partner[issuing-bank]=XYZBank&pay_to_account[type]=CoupaPay::SupplierPaymentAccount"
    )
    r = await api.get(query)
    assert [p["id"] for p in r.json()] == [want]
    payment = r.json()[0]
    assert payment["pay-from-account"]["payment-partner"]["issuing-bank"] == "XYZBank"
    assert payment["pay-to-account"]["type"] == "CoupaPay::SupplierPaymentAccount"


@pytest.mark.parametrize("how", ["query", "body", "export"])
async def test_payment_marked_exported_three_ways(emu: Emulator, api: httpx.AsyncClient, how: str) -> None:
    pid = _payment(emu, bank="XYZBank", status="completed_successfully", pay_to_type="CoupaPay::SupplierPaymentAccount")
    if how == "query":
        r = await api.put(f"/api/coupa_pay/payments/{pid}?exported=true")
    elif how == "body":
        r = await api.put(
            f"/api/coupa_pay/payments/{pid}",
            headers={"Content-Type": "application/xml"},
            content=b"<coupa-pay-payment><exported>true</exported></coupa-pay-payment>",
        )
    else:
        r = await api.put(f"/api/coupa_pay/payments/{pid}/export")
    assert r.status_code == 200 and r.json()["exported"] is True and r.json()["last-exported-at"]
    assert (await api.get("/api/coupa_pay/payments?exported=false")).json() == []


async def test_payments_accept_no_other_change(emu: Emulator, api: httpx.AsyncClient) -> None:
    pid = _payment(emu, bank="B", status="approved", pay_to_type="CoupaPay::SupplierPaymentAccount")
    r = await api.put(f"/api/coupa_pay/payments/{pid}", json={"status": "completed_successfully"})
    assert r.status_code == 400 and "only be marked exported" in r.text


# -- master data ---------------------------------------------------------------------------------------
async def test_supplier_defaults_and_users_rules(api: httpx.AsyncClient) -> None:
    sup = (await api.post("/api/suppliers", json={"name": "Acme"})).json()
    assert sup["status"] == "draft" and sup["payment-method"] == "invoice"
    user = {"login": "testuser1", "email": "t@example.com", "firstname": "Test", "lastname": "User"}
    u = (await api.post("/api/users", json=user)).json()
    assert u["fullname"] == "Test User" and u["active"] is True and u["mention-name"] == "testuser1"
    assert u["default-currency"]["code"] == "USD" and [r["name"] for r in u["roles"]] == ["User"]
    dup = await api.post("/api/users", json=user)
    assert dup.json() == {"errors": {"user": ["Login has already been taken", "Email has already been taken"]}}
    await api.put(f"/api/users/{u['id']}", json={"active": False})
    assert (await api.get("/api/users?status=inactive&login=testuser1")).json()[0]["id"] == u["id"]
    assert (await api.get("/api/users?status=active&login=testuser1")).json() == []
    assert (await api.delete(f"/api/users/{u['id']}")).status_code == 405  # deactivate, never delete


async def test_inactive_addresses_cannot_be_updated(api: httpx.AsyncClient) -> None:
    addr = (
        await api.post(
            "/api/addresses",
            json={"street1": "2 W 5th Ave", "city": "San Mateo", "postal-code": "94404", "country": {"code": "US"}},
        )
    ).json()
    assert addr["country"]["id"] == 223
    await api.put(f"/api/addresses/{addr['id']}", json={"active": False})
    r = await api.put(f"/api/addresses/{addr['id']}", json={"city": "Palo Alto"})
    assert r.status_code == 400 and "Inactive addresses" in r.text
    assert (await api.put(f"/api/addresses/{addr['id']}", json={"active": True})).json()["active"] is True


async def test_lookup_value_hierarchy_by_external_ref_code(api: httpx.AsyncClient) -> None:
    await api.post("/api/lookups", json={"name": "Cost centers"})
    top = (
        await api.post(
            "/api/lookup_values", json={"name": "US", "external-ref-code": "US", "lookup": {"name": "Cost centers"}}
        )
    ).json()
    child = await api.post(
        "/api/lookup_values",
        json={
            "name": "West",
            "external-ref-code": "US-W",
            "lookup": {"name": "Cost centers"},
            "parent": {"external-ref-code": "US"},
            "active": "yes",
        },
    )
    assert child.status_code == 201, child.text
    assert child.json()["parent-id"] == top["id"] and child.json()["depth"] == 2 and child.json()["active"] is True
    dup = await api.post(
        "/api/lookup_values", json={"name": "Dup", "external-ref-code": "US", "lookup": {"name": "Cost centers"}}
    )
    assert dup.status_code == 400 and "External ref code has already been taken" in dup.text


async def test_integration_run_lifecycle(api: httpx.AsyncClient) -> None:
    await api.post("/api/integrations", json={"code": "ERP-INV", "name": "ERP invoices", "direction": "from_coupa"})
    run = (await api.post("/api/integration_runs", json={"integration": {"code": "ERP-INV"}})).json()
    assert run["status"] == "pending"
    assert (await api.put(f"/api/integration_runs/{run['id']}/success")).status_code == 400
    r = await api.put(f"/api/integration_runs/{run['id']}/run", json={"total-records": 5})
    assert r.json()["status"] == "running" and r.json()["total-records"] == 5 and r.json()["start-time"]
    assert (await api.put(f"/api/integration_runs/{run['id']}/pause")).json()["status"] == "paused"
    assert (await api.put(f"/api/integration_runs/{run['id']}/run")).json()["status"] == "running"
    done = (await api.put(f"/api/integration_runs/{run['id']}/finish")).json()
    assert done["status"] == "successful" and done["end-time"]
    assert (await api.put(f"/api/integration_runs/{run['id']}/fail")).status_code == 400


async def test_history_records_resolve_and_mark_exported(api: httpx.AsyncClient) -> None:
    await api.post("/api/suppliers", json={"name": "Acme"})
    po = (await api.post("/api/purchase_orders", json={"supplier": {"name": "Acme"}})).json()
    rec = await api.post(
        "/api/integration_history_records/mark_exported",
        json={"document-type": "OrderHeader", "document-id": po["id"], "status": "Success"},
    )
    assert rec.status_code == 201, rec.text
    assert (await api.get(f"/api/purchase_orders/{po['id']}")).json()["exported"] is True
    no_flag = await api.post(
        "/api/integration_history_records/mark_exported", json={"document-type": "Supplier", "document-id": 1}
    )
    assert no_flag.status_code == 400 and "no exported flag" in no_flag.text
    rid = rec.json()["id"]
    assert rec.json()["resolved"] is False
    assert (await api.put(f"/api/integration_history_records/{rid}/resolve")).json()["resolved"] is True
    assert (await api.put(f"/api/integration_history_records/{rid}/unresolve")).json()["resolved"] is False
