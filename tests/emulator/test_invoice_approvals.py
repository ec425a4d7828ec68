"""An invoice's approval chain through the HTTP API: approvers added and removed by hand, the
current approval (or all of them) bypassed, the chain restarted; approval decisions only while
pending; the same manual approvers on requisitions."""

from __future__ import annotations

from typing import Any

import httpx

from tests.emulator.test_business_rules import _req_body, _requisition_setup


async def _user(api: httpx.AsyncClient, login: str) -> dict[str, Any]:
    r = await api.post(
        "/api/users",
        json={"login": login, "email": f"{login}@example.com", "firstname": login.title(), "lastname": "Approver"},
    )
    assert r.status_code == 201, r.text
    return dict(r.json())


async def _draft_invoice(api: httpx.AsyncClient, number: str, **extra: Any) -> dict[str, Any]:
    """A draft invoice of supplier Acme (created here, active)."""
    assert (await api.post("/api/suppliers", json={"name": "Acme", "status": "active"})).status_code == 201
    body = {"invoice-number": number, "invoice-date": "2026-01-15", "supplier": {"name": "Acme"},
            "currency": {"code": "USD"}, **extra}  # fmt: skip
    r = await api.post("/api/invoices", json=body)
    assert r.status_code == 201, r.text
    return dict(r.json())


async def _pending_invoice(api: httpx.AsyncClient) -> dict[str, Any]:
    """A submitted invoice: pending approval, its chain one approval (user 1) long."""
    draft = await _draft_invoice(
        api, "INV-A", **{"invoice-lines": [{"line-num": 1, "description": "Service", "price": "100.00"}]}
    )
    r = await api.put(f"/api/invoices/{draft['id']}/submit")
    assert r.status_code == 200 and r.json()["status"] == "pending_approval", r.text
    return dict(r.json())


async def _chain(api: httpx.AsyncClient, invoice_id: int) -> list[dict[str, Any]]:
    r = await api.get(f"/api/approvals?approvable-type=InvoiceHeader&approvable-id={invoice_id}&order_by=position")
    assert r.status_code == 200, r.text
    return list(r.json())


async def _with_two_manual_approvers(api: httpx.AsyncClient) -> tuple[dict[str, Any], str]:
    """A pending invoice with jdoe, then asmith, added after its first approval; and its URL."""
    await _user(api, "jdoe")
    await _user(api, "asmith")
    inv = await _pending_invoice(api)
    url = f"/api/invoices/{inv['id']}"
    await api.put(f"{url}/add_approver", json={"approver": "jdoe"})
    await api.put(f"{url}/add_approver", json={"approver": "asmith"})
    return inv, url


def _summary(chain: list[dict[str, Any]]) -> list[tuple[int, int, str]]:
    return [(a["position"], a["approver-id"], a["status"]) for a in chain]


async def _listed(api: httpx.AsyncClient, invoice_id: int) -> list[int]:
    """The ids in the invoice's own ``approvals``."""
    return [a["id"] for a in (await api.get(f"/api/invoices/{invoice_id}")).json()["approvals"]]


def _error(r: httpx.Response) -> str:
    assert r.status_code == 400, (r.status_code, r.text)
    [message] = r.json()["errors"]["invoice_header"]
    return str(message)


# -- add_approver -------------------------------------------------------------------------------------
async def test_add_approver_joins_the_end_of_the_chain_and_must_approve(api: httpx.AsyncClient) -> None:
    jdoe = await _user(api, "jdoe")
    asmith = await _user(api, "asmith")
    inv = await _pending_invoice(api)
    [first] = await _chain(api, inv["id"])

    r = await api.put(f"/api/invoices/{inv['id']}/add_approver", json={"approver": "jdoe"})  # by login
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "pending_approval"
    r = await api.put(f"/api/invoices/{inv['id']}/add_approver?approver_id={asmith['id']}")  # by id, in the query
    assert r.status_code == 200, r.text

    chain = await _chain(api, inv["id"])
    assert _summary(chain) == [(1, 1, "pending_approval"), (2, jdoe["id"], "queued"), (3, asmith["id"], "queued")]
    assert chain[1]["approver"] == {"id": jdoe["id"], "type": "User"} and chain[1]["type"] == "ManualApproval"
    assert [a["id"] for a in r.json()["approvals"]] == [a["id"] for a in chain]
    assert await _listed(api, inv["id"]) == [a["id"] for a in chain]

    # the added approvers really hold the invoice up, in order
    assert (await api.put(f"/api/approvals/{first['id']}/approve")).status_code == 200
    assert _summary(await _chain(api, inv["id"]))[1:] == [
        (2, jdoe["id"], "pending_approval"),
        (3, asmith["id"], "queued"),
    ]
    assert (await api.put(f"/api/approvals/{chain[1]['id']}/approve")).status_code == 200
    assert (await api.get(f"/api/invoices/{inv['id']}")).json()["status"] == "pending_approval"
    assert (await api.put(f"/api/approvals/{chain[2]['id']}/approve")).status_code == 200
    assert (await api.get(f"/api/invoices/{inv['id']}")).json()["status"] == "approved"

    # only while pending approval
    r = await api.put(f"/api/invoices/{inv['id']}/add_approver", json={"approver-id": jdoe["id"]})
    assert _error(r) == "Invoice cannot add approver when it is approved"
    assert len(await _chain(api, inv["id"])) == 3


async def test_add_approver_refuses_bad_approvers(api: httpx.AsyncClient) -> None:
    jdoe = await _user(api, "jdoe")
    gone = await _user(api, "gone")
    await api.put(f"/api/users/{gone['id']}", json={"active": False})
    inv = await _pending_invoice(api)
    url = f"/api/invoices/{inv['id']}/add_approver"
    assert _error(await api.put(url)).startswith("Approver can't be blank")
    assert _error(await api.put(url, json={"approver": "nobody"})) == "Approver not found: no user with login 'nobody'"
    assert _error(await api.put(url, json={"approver": {"id": 999}})) == "Approver not found: no user with id '999'"
    assert _error(await api.put(url, json={"approver": "gone"})) == "Approver gone is inactive"
    assert "not one of User, UserGroup" in _error(await api.put(url, json={"approver": 1, "approver-type": "Robot"}))
    assert (await api.put(url, json={"approver": {"login": "jdoe", "id": jdoe["id"]}})).status_code == 200
    dup = await api.put(url, json={"approver": {"email": "jdoe@example.com"}})
    assert _error(dup) == "jdoe is already an approver of this document awaiting approval"
    assert len(await _chain(api, inv["id"])) == 2  # nothing added by the refused calls


async def test_add_approver_refused_on_a_draft(api: httpx.AsyncClient) -> None:
    await _user(api, "jdoe")
    draft = await _draft_invoice(api, "D-1")
    r = await api.put(f"/api/invoices/{draft['id']}/add_approver", json={"approver": "jdoe"})
    assert _error(r) == "Invoice cannot add approver when it is draft"
    r = await api.put(f"/api/invoices/{draft['id']}/remove_approval", json={"approver": "jdoe"})
    assert _error(r) == "Invoice cannot remove approval when it is draft"
    assert await _chain(api, draft["id"]) == []


async def test_a_user_group_can_be_added_as_approver(api: httpx.AsyncClient) -> None:
    group = (await api.post("/api/user_groups", json={"name": "AP team", "can-approve": True})).json()
    inv = await _pending_invoice(api)
    r = await api.put(
        f"/api/invoices/{inv['id']}/add_approver", json={"approver": {"name": "AP team", "type": "UserGroup"}}
    )
    assert r.status_code == 200, r.text
    added = (await _chain(api, inv["id"]))[-1]
    assert (added["approver-type"], added["approver"]) == ("UserGroup", {"id": group["id"], "type": "UserGroup"})


# -- remove_approval ----------------------------------------------------------------------------------
async def test_remove_approval_takes_out_a_manual_undecided_approval(api: httpx.AsyncClient) -> None:
    await _user(api, "jdoe")
    asmith = await _user(api, "asmith")
    inv = await _pending_invoice(api)
    url = f"/api/invoices/{inv['id']}"
    await api.put(f"{url}/add_approver", json={"approver": "jdoe"})
    await api.put(f"{url}/add_approver", json={"approver": "asmith"})
    first, manual_jdoe, manual_asmith = await _chain(api, inv["id"])

    r = await api.put(f"{url}/remove_approval", json={"approval-id": manual_jdoe["id"]})
    assert r.status_code == 200, r.text
    assert [a["id"] for a in r.json()["approvals"]] == [first["id"], manual_asmith["id"]]
    assert _summary(await _chain(api, inv["id"])) == [(1, 1, "pending_approval"), (2, asmith["id"], "queued")]
    assert (await api.get(f"/api/approvals/{manual_jdoe['id']}")).status_code == 404
    assert await _listed(api, inv["id"]) == [first["id"], manual_asmith["id"]]

    # the approval the chain was built with is not a manual one
    assert _error(await api.put(f"{url}/remove_approval", json={"approval": {"id": first["id"]}})) == (
        f"Approval {first['id']} was not added manually and cannot be removed"
    )
    assert _error(await api.put(f"{url}/remove_approval", json={"approval-id": 999})) == (
        "Approval 999 is not in this document's approval chain"
    )
    assert _error(await api.put(f"{url}/remove_approval", json={"approver": "jdoe"})) == (
        "jdoe is not an approver of this document"
    )
    assert _error(await api.put(f"{url}/remove_approval")).startswith("Approval can't be blank")

    # by approver login, in the query string
    r = await api.put(f"{url}/remove_approval?approver=asmith")
    assert r.status_code == 200, r.text
    assert [a["id"] for a in await _chain(api, inv["id"])] == [first["id"]]
    assert (await api.get(url)).json()["status"] == "pending_approval"


async def test_remove_approval_refuses_a_decided_one_and_moves_on_past_the_current_one(
    api: httpx.AsyncClient,
) -> None:
    inv, url = await _with_two_manual_approvers(api)
    first, manual_jdoe, manual_asmith = await _chain(api, inv["id"])
    await api.put(f"/api/approvals/{first['id']}/approve")
    await api.put(f"/api/approvals/{manual_jdoe['id']}/approve")
    assert _error(await api.put(f"{url}/remove_approval", json={"approval-id": manual_jdoe["id"]})) == (
        f"Approval {manual_jdoe['id']} cannot be removed when it is approved"
    )
    # asmith is current: removing the last undecided approval ends the chain, approving the invoice
    r = await api.put(f"{url}/remove_approval", json={"approver": {"login": "asmith"}})
    assert r.status_code == 200 and r.json()["status"] == "approved", r.text
    assert [a["status"] for a in await _chain(api, inv["id"])] == ["approved", "approved"]
    assert _error(await api.put(f"{url}/remove_approval", json={"approval-id": manual_jdoe["id"]})) == (
        "Invoice cannot remove approval when it is approved"
    )
    assert manual_asmith["id"] not in await _listed(api, inv["id"])


# -- bypass and restart -------------------------------------------------------------------------------
async def test_bypass_current_approval_moves_the_chain_on(api: httpx.AsyncClient) -> None:
    jdoe = await _user(api, "jdoe")
    inv = await _pending_invoice(api)
    url = f"/api/invoices/{inv['id']}"
    await api.put(f"{url}/add_approver", json={"approver": "jdoe"})
    r = await api.put(f"{url}/bypass_current_approval")
    assert r.status_code == 200 and r.json()["status"] == "pending_approval", r.text
    first, second = await _chain(api, inv["id"])
    assert _summary([first, second]) == [(1, 1, "bypassed"), (2, jdoe["id"], "pending_approval")]
    assert first["approval-date"] and first["note"] == "Bypassed through the API"
    again = await api.put(f"/api/approvals/{first['id']}/approve")
    assert again.status_code == 400 and "when it is bypassed" in again.text
    # the last one bypassed: the invoice is approved
    r = await api.put(f"{url}/bypass_current_approval")
    assert r.status_code == 200 and r.json()["status"] == "approved", r.text
    assert [a["status"] for a in await _chain(api, inv["id"])] == ["bypassed", "bypassed"]
    assert _error(await api.put(f"{url}/bypass_current_approval")) == (
        "Invoice cannot bypass current approval when it is approved"
    )


async def test_bypass_current_approval_takes_a_held_approval(api: httpx.AsyncClient) -> None:
    inv = await _pending_invoice(api)
    [approval] = await _chain(api, inv["id"])
    assert (await api.put(f"/api/approvals/{approval['id']}/hold")).json()["status"] == "on_hold"
    r = await api.put(f"/api/invoices/{inv['id']}/bypass_current_approval")
    assert r.status_code == 200 and r.json()["status"] == "approved", r.text
    assert [a["status"] for a in await _chain(api, inv["id"])] == ["bypassed"]


async def test_bypass_approvals_bypasses_every_undecided_one(api: httpx.AsyncClient) -> None:
    inv, url = await _with_two_manual_approvers(api)
    first = (await _chain(api, inv["id"]))[0]
    await api.put(f"/api/approvals/{first['id']}/approve")
    r = await api.put(f"{url}/bypass_approvals")
    assert r.status_code == 200 and r.json()["status"] == "approved", r.text
    assert [a["status"] for a in await _chain(api, inv["id"])] == ["approved", "bypassed", "bypassed"]


async def test_restart_approvals_starts_the_chain_over_from_the_first_approver(api: httpx.AsyncClient) -> None:
    jdoe = await _user(api, "jdoe")
    inv = await _pending_invoice(api)
    url = f"/api/invoices/{inv['id']}"
    await api.put(f"{url}/add_approver", json={"approver": "jdoe"})
    first, second = await _chain(api, inv["id"])
    await api.put(f"/api/approvals/{first['id']}/approve")
    assert _summary(await _chain(api, inv["id"])) == [(1, 1, "approved"), (2, jdoe["id"], "pending_approval")]

    r = await api.put(f"{url}/restart_approvals")
    assert r.status_code == 200 and r.json()["status"] == "pending_approval", r.text
    chain = await _chain(api, inv["id"])
    assert [a["id"] for a in chain] == [first["id"], second["id"]]  # the same approvers, decisions cleared
    assert _summary(chain) == [(1, 1, "pending_approval"), (2, jdoe["id"], "queued")]
    assert chain[0]["approval-date"] is None and chain[0]["approved-by"] is None
    # jdoe must wait for the first approver again
    assert "queued" in (await api.put(f"/api/approvals/{second['id']}/approve")).text
    await api.put(f"/api/approvals/{first['id']}/approve")
    await api.put(f"/api/approvals/{second['id']}/approve")
    assert (await api.get(url)).json()["status"] == "approved"
    assert _error(await api.put(f"{url}/restart_approvals")) == "Invoice cannot restart approvals when it is approved"


async def test_a_resubmitted_invoice_gets_a_new_chain_and_restart_keeps_to_it(api: httpx.AsyncClient) -> None:
    inv = await _pending_invoice(api)
    url = f"/api/invoices/{inv['id']}"
    [old] = await _chain(api, inv["id"])
    await api.put(f"/api/approvals/{old['id']}/reject")
    assert (await api.get(url)).json()["status"] == "rejected"
    await api.put(f"{url}/submit")
    chain = await _chain(api, inv["id"])
    assert [a["status"] for a in chain] == ["rejected", "pending_approval"]  # history stays queryable
    new = chain[1]
    assert await _listed(api, inv["id"]) == [new["id"]]
    await api.put(f"{url}/restart_approvals")
    assert [(a["id"], a["status"]) for a in await _chain(api, inv["id"])] == [
        (old["id"], "rejected"),
        (new["id"], "pending_approval"),
    ]


# -- approval decisions -------------------------------------------------------------------------------
async def test_reject_outside_pending_is_refused(api: httpx.AsyncClient) -> None:
    await _user(api, "jdoe")
    inv = await _pending_invoice(api)
    await api.put(f"/api/invoices/{inv['id']}/add_approver", json={"approver": "jdoe"})
    first, queued = await _chain(api, inv["id"])
    r = await api.put(f"/api/approvals/{queued['id']}/reject?reason=No")
    assert r.status_code == 400
    assert r.json() == {"errors": {"approval": ["Approval cannot be rejected when it is queued"]}}
    assert (await api.put(f"/api/approvals/{first['id']}/approve")).status_code == 200
    r = await api.put(f"/api/approvals/{first['id']}/reject")
    assert r.status_code == 400
    assert r.json() == {"errors": {"approval": ["Approval cannot be rejected when it is approved"]}}
    await api.put(f"/api/invoices/{inv['id']}/bypass_current_approval")
    r = await api.put(f"/api/approvals/{queued['id']}/reject")
    assert r.status_code == 400 and "when it is bypassed" in r.text
    # nothing changed by the refused rejections
    assert [a["status"] for a in await _chain(api, inv["id"])] == ["approved", "bypassed"]
    assert (await api.get(f"/api/invoices/{inv['id']}")).json()["status"] == "approved"


# -- requisitions -------------------------------------------------------------------------------------
async def test_requisition_approvers_added_and_removed_by_hand(api: httpx.AsyncClient) -> None:
    await _requisition_setup(api)
    jdoe = await _user(api, "jdoe")
    draft = (await api.post("/api/requisitions", json=_req_body())).json()
    r = await api.put(f"/api/requisitions/{draft['id']}/add_approver", json={"approver": "jdoe"})
    assert r.status_code == 400 and "Requisition cannot add approver when it is draft" in r.text
    req = (await api.post("/api/requisitions/submit_for_approval", json=_req_body())).json()
    url = f"/api/requisitions/{req['id']}"
    assert (await api.put(f"{url}/add_approver", json={"approver": "jdoe"})).status_code == 200
    query = f"/api/approvals?approvable-type=RequisitionHeader&approvable-id={req['id']}"
    first, manual = (await api.get(query)).json()
    assert (manual["approver-id"], manual["status"], manual["position"]) == (jdoe["id"], "queued", 2)
    await api.put(f"/api/approvals/{first['id']}/approve")
    assert (await api.get(url)).json()["status"] == "pending_approval"  # jdoe still to approve
    r = await api.put(f"{url}/remove_approval", json={"approver-id": jdoe["id"]})
    assert r.status_code == 200 and r.json()["status"] == "approved", r.text
    assert (await api.get(f"/api/purchase_orders?requisition-header[id]={req['id']}")).json()
