"""Invoices: creation as drafts, totals from lines/charges/taxes, the status machine, image scans."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx
import pytest


async def _supplier(api: httpx.AsyncClient, name: str = "Acme") -> dict[str, Any]:
    r = await api.post("/api/suppliers", json={"name": name, "status": "active"})
    assert r.status_code == 201, r.text
    return dict(r.json())


async def _invoice(api: httpx.AsyncClient, **extra: Any) -> dict[str, Any]:
    await _supplier(api)
    body = {
        "invoice-number": "INV-1",
        "invoice-date": "2026-01-15",
        "supplier": {"name": "Acme"},
        "currency": {"code": "USD"},
        "shipping-amount": "5.00",
        "tax-amount": "3.10",
        "invoice-lines": [
            {"line-num": 1, "type": "InvoiceQuantityLine", "description": "Pens", "quantity": "3", "price": "2.50"},
            {"line-num": 2, "type": "InvoiceAmountLine", "description": "Service", "price": "100.00"},
        ],
        **extra,
    }
    r = await api.post("/api/invoices", json=body)
    assert r.status_code == 201, r.text
    return dict(r.json())


async def test_post_creates_a_draft_with_computed_totals(api: httpx.AsyncClient) -> None:
    inv = await _invoice(api, status="approved")
    assert inv["status"] == "draft"  # POST always makes a draft
    assert [line["total"] for line in inv["invoice-lines"]] == ["7.50", "100.00"]
    assert inv["gross-total"] == "112.50"  # 7.50 + 100.00 + 5.00 shipping
    assert inv["total-with-taxes"] == "115.60"
    assert inv["amount-due"] == "115.60"
    assert inv["document-type"] == "Invoice"
    assert inv["invoice-date"].startswith("2026-01-15T00:00:00-08:00")  # a bare date: midnight, instance zone
    assert inv["exported"] is False and inv["paid"] is False


async def test_totals_follow_line_changes_and_line_level_tax(api: httpx.AsyncClient) -> None:
    inv = await _invoice(api)
    line1 = inv["invoice-lines"][0]["id"]
    r = await api.put(
        f"/api/invoices/{inv['id']}",
        json={"line-level-taxation": True, "invoice-lines": [{"id": line1, "quantity": "4", "tax-amount": "1.00"}]},
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["invoice-lines"][0]["total"] == "10.00"
    assert body["gross-total"] == "115.00"
    assert body["total-with-taxes"] == "116.00"  # line taxes replace the header tax
    assert Decimal(body["total-with-taxes"]) == Decimal(body["gross-total"]) + 1


async def test_credit_note_needs_the_original_invoice(api: httpx.AsyncClient) -> None:
    await _supplier(api)
    r = await api.post(
        "/api/invoices",
        json={
            "invoice-number": "CN-1",
            "invoice-date": "2026-02-01",
            "supplier": {"name": "Acme"},
            "currency": {"code": "USD"},
            "is-credit-note": True,
        },
    )
    assert r.status_code == 400 and "Original invoice number" in r.text


async def test_submit_then_approval_approves(api: httpx.AsyncClient) -> None:
    inv = await _invoice(api)
    r = await api.put(f"/api/invoices/{inv['id']}/submit")
    assert r.status_code == 200 and r.json()["status"] == "pending_approval"
    approvals = (await api.get(f"/api/approvals?approvable-id={inv['id']}&approvable-type=InvoiceHeader")).json()
    assert len(approvals) == 1 and approvals[0]["status"] == "pending_approval"
    r = await api.put(f"/api/approvals/{approvals[0]['id']}/approve")
    assert r.status_code == 200 and r.json()["status"] == "approved"
    assert (await api.get(f"/api/invoices/{inv['id']}")).json()["status"] == "approved"
    again = await api.put(f"/api/approvals/{approvals[0]['id']}/approve")
    assert again.status_code == 400 and "approved" in again.text


async def test_rejection_and_resubmission(api: httpx.AsyncClient) -> None:
    inv = await _invoice(api)
    await api.put(f"/api/invoices/{inv['id']}/submit")
    approval = (await api.get(f"/api/approvals?approvable-id={inv['id']}")).json()[0]
    r = await api.put(f"/api/approvals/{approval['id']}/reject?reason=Rejected%20by%20Integration")
    assert r.json()["status"] == "rejected" and r.json()["note"] == "Rejected by Integration"
    assert (await api.get(f"/api/invoices/{inv['id']}")).json()["status"] == "rejected"
    assert (await api.put(f"/api/invoices/{inv['id']}/submit")).json()["status"] == "pending_approval"


@pytest.mark.parametrize(
    ("path", "expected"),
    [("void", "voided"), ("abandon", "abandoned"), ("flip_to_advance_ship_notice", "abandoned")],
)
async def test_draft_moves(api: httpx.AsyncClient, path: str, expected: str) -> None:
    inv = await _invoice(api)
    r = await api.put(f"/api/invoices/{inv['id']}/{path}")
    assert r.status_code == 200 and r.json()["status"] == expected


async def test_void_only_from_draft_pending_receipt_or_approved(api: httpx.AsyncClient) -> None:
    inv = await _invoice(api)
    await api.put(f"/api/invoices/{inv['id']}/submit")
    r = await api.put(f"/api/invoices/{inv['id']}/void")
    assert r.status_code == 400
    assert r.json() == {"errors": {"invoice_header": ["Invoice cannot void when it is pending_approval"]}}
    await api.put(f"/api/invoices/{inv['id']}/bypass_approvals")
    assert (await api.put(f"/api/invoices/{inv['id']}/void")).json()["status"] == "voided"
    # a voided invoice is final
    assert (await api.put(f"/api/invoices/{inv['id']}/void")).status_code == 400
    assert (await api.put(f"/api/invoices/{inv['id']}", json={"invoice-number": "X"})).status_code == 400
    assert (await api.put(f"/api/invoices/{inv['id']}?exported=true")).json()["exported"] is True


async def test_dispute_needs_an_active_reason_and_withdraw_restores(api: httpx.AsyncClient) -> None:
    inv = await _invoice(api)
    await api.put(f"/api/invoices/{inv['id']}/submit")
    bad = await api.put(f"/api/invoices/{inv['id']}/dispute", json={"dispute-reason": {"code": "NOPE"}})
    assert bad.status_code == 400 and "not an active dispute reason" in bad.text
    xml = (
        b"<invoice-header><dispute-reason><code>INCORRECT-QUANTITY</code></dispute-reason>"
        b"<comment>Only 2 arrived</comment></invoice-header>"
    )
    r = await api.put(f"/api/invoices/{inv['id']}/dispute", content=xml, headers={"Content-Type": "application/xml"})
    assert r.status_code == 200 and r.json()["status"] == "disputed"
    r = await api.put(f"/api/invoices/{inv['id']}/withdraw_dispute")
    assert r.json()["status"] == "pending_approval"


async def test_delete_only_new_or_draft(api: httpx.AsyncClient) -> None:
    inv = await _invoice(api)
    await api.put(f"/api/invoices/{inv['id']}/submit")
    assert (await api.delete(f"/api/invoices/{inv['id']}")).status_code == 400
    other = (
        await api.post(
            "/api/invoices",
            json={
                "invoice-number": "INV-2",
                "invoice-date": "2026-01-01",
                "supplier": {"name": "Acme"},
                "currency": {"code": "USD"},
            },
        )
    ).json()
    assert (await api.delete(f"/api/invoices/{other['id']}")).status_code == 200
    assert (await api.get(f"/api/invoices/{other['id']}")).status_code == 404


async def test_submit_needs_lines(api: httpx.AsyncClient) -> None:
    await _supplier(api)
    inv = (
        await api.post(
            "/api/invoices",
            json={
                "invoice-number": "E",
                "invoice-date": "2026-01-01",
                "supplier": {"name": "Acme"},
                "currency": {"code": "USD"},
            },
        )
    ).json()
    r = await api.put(f"/api/invoices/{inv['id']}/submit")
    assert r.status_code == 400 and "at least one line" in r.text


async def test_image_scan_upload_and_download(api: httpx.AsyncClient) -> None:
    inv = await _invoice(api)
    missing = await api.get(f"/api/invoices/{inv['id']}/retrieve_image_scan")
    assert missing.status_code == 404
    pdf = b"%PDF-1.4 fake scan"
    r = await api.put(f"/api/invoices/{inv['id']}/image_scan", files={"file": ("scan.pdf", pdf, "application/pdf")})
    assert r.status_code == 200, r.text
    assert r.json()["image-scan-file-name"] == "scan.pdf" and r.json()["image-scan-file-size"] == len(pdf)
    got = await api.get(f"/api/invoices/{inv['id']}/retrieve_image_scan")
    assert got.status_code == 200 and got.content == pdf
    assert got.headers["content-type"] == "application/pdf"
    no_file = await api.put(f"/api/invoices/{inv['id']}/image_scan", files={"other": ("x", b"1")})
    assert no_file.status_code == 400 and "'file'" in no_file.text


async def test_update_line_accounts_changes_only_accounts(api: httpx.AsyncClient) -> None:
    await api.post("/api/account_types", json={"name": "COA", "currency": {"code": "USD"}})
    acct = (
        await api.post("/api/accounts", json={"segment-1": "10", "segment-2": "200", "account-type": {"name": "COA"}})
    ).json()
    inv = await _invoice(api)
    line = inv["invoice-lines"][0]["id"]
    r = await api.put(
        f"/api/invoices/{inv['id']}/update_line_accounts",
        json={"invoice-lines": [{"id": line, "account": {"id": acct["id"]}}]},
    )
    assert r.status_code == 200 and r.json()["invoice-lines"][0]["account"]["code"] == "10-200"
    r = await api.put(
        f"/api/invoices/{inv['id']}/update_line_accounts", json={"invoice-lines": [{"id": line, "price": "1"}]}
    )
    assert r.status_code == 400 and "price" in r.text


async def test_new_submit_for_approval_template(api: httpx.AsyncClient) -> None:
    r = await api.get("/api/invoices/new/submit_for_approval")
    assert r.status_code == 200 and r.json()["status"] == "draft" and r.json()["id"] is None


async def test_totals_include_invoice_charges(api: httpx.AsyncClient) -> None:
    """Shipping, handling and misc charges sent as ``invoice-charges`` count in the gross total;
    with line-level taxation a charge's own tax lines count in the taxes."""
    charges = [
        {"line-num": 1, "type": "InvoiceShippingCharge", "description": "Freight", "total": "12.5"},
        {"line-num": 2, "type": "InvoiceHandlingCharge", "total": "3.25"},
        {"line-num": 3, "type": "InvoiceMiscCharge", "total": "0.10", "tax-lines": [{"amount": "0.02"}]},
    ]
    # lines 7.50 + 100.00, header shipping-amount 5.00, header tax 3.10 (from _invoice)
    inv = await _invoice(api, **{"invoice-charges": charges})
    assert [(c["type"], c["total"]) for c in inv["invoice-charges"]] == [
        ("InvoiceShippingCharge", "12.50"),
        ("InvoiceHandlingCharge", "3.25"),
        ("InvoiceMiscCharge", "0.10"),
    ]
    assert all(c["currency"]["code"] == "USD" for c in inv["invoice-charges"])
    assert (inv["gross-total"], inv["total-with-taxes"], inv["amount-due"]) == ("128.35", "131.45", "131.45")
    assert Decimal(inv["gross-total"]) == Decimal("7.50") + Decimal("100.00") + Decimal("5.00") + Decimal("15.85")

    # a charge edited or dropped through the invoice moves the totals with it
    shipping, handling, misc = (c["id"] for c in inv["invoice-charges"])
    r = await api.put(
        f"/api/invoices/{inv['id']}",
        json={"invoice-charges": [{"id": shipping, "total": "20.00"}, {"id": handling, "_delete": True}]},
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert [c["id"] for c in body["invoice-charges"]] == [shipping, misc]
    assert (body["gross-total"], body["total-with-taxes"], body["amount-due"]) == ("132.60", "135.70", "135.70")

    # line-level taxation: line and charge tax lines replace the header's tax-amount
    r = await api.put(f"/api/invoices/{inv['id']}", json={"line-level-taxation": True})
    body = r.json()
    assert (body["gross-total"], body["total-with-taxes"], body["amount-due"]) == ("132.60", "132.62", "132.62")
    assert body["tax-due-to-supplier"] == "0.02"
