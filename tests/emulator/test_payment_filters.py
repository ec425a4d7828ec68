"""Coupa Pay payments (seed 003): the ``updated-at[gt]`` and ``status`` filters integrations poll
with, over records written at different times of the emulator's clock, and the nesting of a
rendered payment (``payee``, ``payment-batch``, ``payment-details[].payable-allocations``)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import httpx

from pycoupa.emulator.app import Emulator
from pycoupa.emulator.writes import Writer
from pycoupa.wire import codec_xml

HOUR = 3600


def _payment(emu: Emulator, status: str, *, payee: int, reference: str) -> dict[str, Any]:
    """A payment as Coupa Pay makes it (the API cannot create one): a batch, a pay-from account with
    its partner, a pay-to account, and one detail paying an invoice with one payable allocation."""
    with emu.store.transaction():
        w = Writer(emu.schema, emu.store, emu.tz, emu.clock.now(), 1)
        partner = w.insert_system(
            "CoupaPay-PaymentPartner",
            {"name": "XYZ partner", "issuing-bank": "XYZBank", "type": "CoupaPay::VirtualCardPartner"},
        )
        account = w.insert_system(
            "CoupaPay-CompanyPaymentAccount", {"account-name": "Operating", "payment-partner": partner["id"]}
        )
        to_account = w.insert_system(
            "CoupaPay-PayToAccount", {"type": "CoupaPay::SupplierPaymentAccount", "account-name": "Vendor"}
        )
        batch = w.insert_system("CoupaPay-PaymentBatch", {"status": "approved", "description": f"Run {reference}"})
        allocation = w.insert_system(
            "Payables-Allocation",
            {"status": "allocated", "payable-to-amount": "20000.00", "source-transaction-to-reference": reference},
        )
        detail = w.insert_system(
            "CoupaPay-PaymentDetail",
            {
                "payable-id": 940,
                "payable-type": "CoupaPay::Invoice",
                "source-transaction-id": "940",
                "source-transaction-type": "InvoiceHeader",
                "source-transaction-reference": reference,
                "transaction-total": "20000.00",
                "discount-total": "0.00",
                "adjustment-total": "0.00",
                "payment-total": "20000.00",
                "currency": 1,
                "payable-allocations": [allocation["id"]],
            },
        )
        payment = w.insert_system(
            "CoupaPay-Payment",
            {
                "status": status,
                "pay-from-account": account["id"],
                "pay-to-account": to_account["id"],
                "payee": payee,
                "payment-batch": batch["id"],
                "payment-details": [detail["id"]],
                "pay-to-total": "20000.00",
                "exported": False,
            },
        )
    return {"id": payment["id"], "batch": batch["id"], "detail": detail["id"], "allocation": allocation["id"]}


async def _supplier(api: httpx.AsyncClient) -> dict[str, Any]:
    r = await api.post("/api/suppliers", json={"name": "Supplier Name Inc.", "number": "SUP-1", "status": "active"})
    assert r.status_code == 201, r.text
    return dict(r.json())


async def _ids(api: httpx.AsyncClient, **params: str) -> list[int]:
    r = await api.get("/api/coupa_pay/payments", params=params)
    assert r.status_code == 200, r.text
    return [p["id"] for p in r.json()]


async def _updated_at(api: httpx.AsyncClient, payment_id: int) -> datetime:
    return datetime.fromisoformat((await api.get(f"/api/coupa_pay/payments/{payment_id}")).json()["updated-at"])


async def test_updated_at_and_status_filters(emu: Emulator, api: httpx.AsyncClient) -> None:
    payee = (await _supplier(api))["id"]
    early = _payment(emu, "approved", payee=payee, reference="100")["id"]
    emu.clock.advance(2 * HOUR)
    done = _payment(emu, "completed_successfully", payee=payee, reference="101")["id"]
    late = _payment(emu, "approved", payee=payee, reference="102")["id"]
    start, last = await _updated_at(api, early), await _updated_at(api, late)
    assert timedelta(hours=2) <= last - start < timedelta(hours=2, minutes=1)  # the clock moved on

    between = (start + timedelta(hours=1)).isoformat()
    assert await _ids(api, **{"updated-at[gt]": between}) == [done, late]
    assert await _ids(api, **{"updated_at[gt]": between}) == [done, late]  # underscore spelling too
    assert await _ids(api, **{"updated-at[lt]": between}) == [early]
    assert await _ids(api, status="approved") == [early, late]
    assert await _ids(api, status="approved", **{"updated-at[gt]": between}) == [late]
    # [gt] is strict: the bound equal to the newest record's updated-at leaves it out; [gt_or_eq] keeps it
    assert await _ids(api, **{"updated-at[gt]": last.isoformat()}) == []
    assert late in await _ids(api, **{"updated-at[gt_or_eq]": last.isoformat()})

    # marking a payment exported later is a change an updated-at poll sees
    emu.clock.advance(2 * HOUR)
    r = await api.put(f"/api/coupa_pay/payments/{early}/export")
    assert r.status_code == 200, r.text
    assert datetime.fromisoformat(r.json()["updated-at"]) >= start + timedelta(hours=4)
    later = (last + timedelta(hours=1)).isoformat()
    assert await _ids(api, **{"updated-at[gt]": later}) == [early]
    assert await _ids(api, status="approved", exported="false") == [late]
    assert await _ids(api, status="approved", **{"updated-at[gt]": later}) == [early]


async def test_status_filter_forms(emu: Emulator, api: httpx.AsyncClient) -> None:
    payee = (await _supplier(api))["id"]
    made = {s: _payment(emu, s, payee=payee, reference=s)["id"] for s in ("draft", "approved", "completed_with_errors")}
    assert await _ids(api, status="approved") == [made["approved"]]
    assert await _ids(api, **{"status[in]": "approved,draft"}) == [made["draft"], made["approved"]]
    assert await _ids(api, **{"status[not_eq]": "approved"}) == [made["draft"], made["completed_with_errors"]]
    assert await _ids(api, status="payment_in_progress") == []


async def test_rendered_payment_nests_payee_batch_details_and_allocations(
    emu: Emulator, api: httpx.AsyncClient
) -> None:
    supplier = await _supplier(api)
    made = _payment(emu, "approved", payee=supplier["id"], reference="100223")
    payment = (await api.get(f"/api/coupa_pay/payments/{made['id']}")).json()

    # payee: the supplier paid, as a nested object (seed 003: "payee": {"id", "name", "number", ...})
    assert payment["payee"] == {"id": supplier["id"], "name": "Supplier Name Inc.", "number": "SUP-1"}
    # payment-batch: nested with its status and stamps (seed 003: id, created-at, updated-at, status,
    # description, created-by, updated-by)
    batch = payment["payment-batch"]
    assert {"id", "created-at", "updated-at", "status", "description", "created-by", "updated-by"} <= set(batch)
    assert (batch["id"], batch["status"], batch["description"]) == (made["batch"], "approved", "Run 100223")
    assert isinstance(batch["created-by"], dict) and batch["created-by"]["login"]
    assert payment["payment-batch-id"] == made["batch"]
    # payment-details: an array of nested objects with the seed's keys, each with payable-allocations
    [detail] = payment["payment-details"]
    seed_keys = {
        "id", "created-at", "updated-at", "payment-id", "payable-id", "payable-type", "source-transaction-id",
        "source-transaction-type", "source-transaction-reference", "transaction-total", "discount-total",
        "adjustment-total", "payment-total", "currency", "payable-allocations", "created-by", "updated-by",
    }  # fmt: skip
    assert seed_keys <= set(detail)
    assert detail["id"] == made["detail"]
    assert (detail["source-transaction-type"], detail["source-transaction-reference"]) == ("InvoiceHeader", "100223")
    assert (detail["payment-total"], detail["discount-total"]) == ("20000.00", "0.00")  # decimals as strings
    assert detail["currency"]["id"] == 1 and detail["currency"]["code"] == "USD"
    assert detail["payable-allocations"] == [{"id": made["allocation"]}]
    # and the seed's pay-from/pay-to nesting
    assert payment["pay-from-account"]["payment-partner"]["issuing-bank"] == "XYZBank"
    assert payment["pay-to-account"]["type"] == "CoupaPay::SupplierPaymentAccount"

    # the same nesting in a collection page
    [listed] = (await api.get("/api/coupa_pay/payments", params={"id": str(made["id"])})).json()
    assert listed == payment


async def test_rendered_payment_nesting_in_xml(emu: Emulator, api: httpx.AsyncClient) -> None:
    supplier = await _supplier(api)
    made = _payment(emu, "approved", payee=supplier["id"], reference="100223")
    r = await api.get(f"/api/coupa_pay/payments/{made['id']}", headers={"Accept": "application/xml"})
    assert r.status_code == 200, r.text
    root, doc = codec_xml.loads(r.content)
    assert root == "coupa-pay-payment"
    assert doc["payee"]["name"] == "Supplier Name Inc."
    assert doc["payment-batch"]["status"] == "approved"
    [detail] = doc["payment-details"]
    assert detail["source-transaction-reference"] == "100223"
    assert [a["id"] for a in detail["payable-allocations"]] == [made["allocation"]]
