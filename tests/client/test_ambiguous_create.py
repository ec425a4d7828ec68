"""A create whose answer is lost is checked by the fields Coupa keeps unique before it is resent.

Over a real socket: the emulator's ``503`` fault answers before the record is saved, its ``reset``
fault saves the record and then drops the connection mid-answer. Either way the caller must end
with exactly one record, the right one.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from pycoupa.catalog.identity import account_code, has_identity, identity_of
from pycoupa.client import Coupa
from pycoupa.client.errors import CoupaConnectionError
from pycoupa.client.retry import RetryPolicy
from pycoupa.emulator.app import Emulator
from pycoupa.emulator.server import serve_in_thread

SCOPES = ["core.invoice.read", "core.invoice.write", "core.invoice.create", "core.supplier.read",
          "core.supplier.write", "core.common.read", "core.accounting.read", "core.accounting.write",
          "core.requisition.read", "core.requisition.write", "core.user.read"]  # fmt: skip


@pytest.fixture
def emu() -> Emulator:
    return Emulator()


@pytest.fixture
def coupa(emu: Emulator) -> Iterator[Coupa]:
    cid, secret = emu.create_oauth_client(SCOPES)
    retry = RetryPolicy(base_delay=0.01, max_delay=0.05, max_attempts=4)
    with serve_in_thread(emu) as running, Coupa(running.url, client_id=cid, client_secret=secret, scopes=SCOPES,
                                                retry=retry, models=False) as client:  # fmt: skip
        client.suppliers.list(limit=1)  # mint the token now: the scripted fault must hit the create
        yield client


def fault_on_next_request(emu: Emulator, fault: str) -> None:
    emu.faults.configure({"script": [{"nth": 1, "fault": fault}]})  # configuring restarts the count


def invoice(number: str, supplier_id: int) -> dict[str, Any]:
    return {
        "invoice-number": number,
        "invoice-date": "2026-01-15",
        "supplier": {"id": supplier_id},
        "currency": {"code": "USD"},
        "invoice-lines": [{"line-num": 1, "type": "InvoiceAmountLine", "description": "Service", "price": "10.00"}],
    }


def invoices_numbered(emu: Emulator, number: str) -> list[dict[str, Any]]:
    return [d for d in emu.store.documents("InvoiceHeader").values() if d.get("invoice-number") == number]


def test_a_lost_answer_never_returns_another_suppliers_invoice(coupa: Coupa, emu: Emulator) -> None:
    a = coupa.suppliers.create({"name": "Supplier A", "status": "active"})
    b = coupa.suppliers.create({"name": "Supplier B", "status": "active"})
    first = coupa.invoices.create(invoice("INV-1", a["id"]))
    fault_on_next_request(emu, "503")  # refused before saving: the lookup must not find A's INV-1
    made = coupa.invoices.create(invoice("INV-1", b["id"]))
    assert made["id"] != first["id"] and made["supplier"]["id"] == b["id"]
    assert sorted(d["supplier"] for d in invoices_numbered(emu, "INV-1")) == sorted([a["id"], b["id"]])


def test_a_create_saved_but_cut_off_is_found_not_duplicated(coupa: Coupa, emu: Emulator) -> None:
    b = coupa.suppliers.create({"name": "Supplier B", "status": "active"})
    fault_on_next_request(emu, "reset")  # saved, then the connection drops mid-answer
    made = coupa.invoices.create(invoice("INV-7", b["id"]))
    [stored] = invoices_numbered(emu, "INV-7")
    assert made["id"] == stored["id"]
    assert emu.faults.snapshot()["counters"]["injected"]["reset"] == 1


def test_accounts_are_identified_by_code_within_their_chart(coupa: Coupa, emu: Emulator) -> None:
    for name in ("Chart A", "Chart B"):
        coupa.resource("account_types").create({"name": name, "currency": {"code": "USD"}})
    same_name = {"name": "Travel", "segment-1": "10", "segment-2": "20"}
    first = coupa.accounts.create({**same_name, "account-type": {"name": "Chart A"}})
    fault_on_next_request(emu, "503")
    # Same name and same segments, other chart: a different account, which must be created.
    other = coupa.accounts.create({**same_name, "account-type": {"name": "Chart B"}})
    assert other["id"] != first["id"] and other["account-type"]["name"] == "Chart B"
    fault_on_next_request(emu, "reset")
    third = coupa.accounts.create({"name": "Travel", "segment-1": "10", "segment-2": "30",
                                   "account-type": {"name": "Chart A"}})  # fmt: skip
    codes = sorted((d["code"], d["account-type"]) for d in emu.store.documents("Account").values())
    assert len(codes) == 3 and third["code"] == "10-30"


def test_a_kind_without_unique_fields_is_not_resent_blindly(coupa: Coupa, emu: Emulator) -> None:
    user = emu.store.documents("User")
    requester = next(iter(user.values()))["login"] if user else None
    body = {"requested-by": {"login": requester}} if requester else {}
    before = emu.store.count("RequisitionHeader")
    fault_on_next_request(emu, "reset")
    with pytest.raises(CoupaConnectionError):
        coupa.resource("requisitions").create(body)
    assert emu.store.count("RequisitionHeader") <= before + 1  # sent once, never twice


def test_identity_needs_every_field_and_matches_exactly() -> None:
    assert identity_of("InvoiceHeader", {"invoice-number": "X"}) is None  # no supplier: no lookup
    ident = identity_of("InvoiceHeader", {"invoice-number": "X", "supplier": {"name": "Acme", "id": None}})
    assert ident == {"invoice-number": "X", "supplier": {"name": "Acme"}}
    assert has_identity({"invoice-number": "X", "supplier": {"id": 3, "name": "Acme"}}, ident)
    assert not has_identity({"invoice-number": "X", "supplier": {"id": 4, "name": "Acme Ltd"}}, ident)
    assert not has_identity({"invoice-number": "X2", "supplier": {"name": "Acme"}}, ident)
    assert identity_of("RequisitionHeader", {"id": 1}) is None
    assert account_code({"segment-1": "SF", "segment-2": " ", "segment-3": "Mkt", "code": "ignored"}) == "SF-Mkt"
    assert account_code({"code": "A-1"}) == "A-1"
