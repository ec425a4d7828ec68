"""A create whose answer is lost is checked by the fields Coupa keeps unique before it is resent.

Over a real socket: the emulator's ``503`` fault answers before the record is saved, its ``reset``
fault saves the record and then drops the connection mid-answer. Either way the caller must end
with exactly one record, the right one.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest

from pycoupa.catalog.identity import account_code, has_identity, identity_of
from pycoupa.client import AsyncCoupa, Coupa
from pycoupa.client.errors import (
    CoupaConnectionError,
    CoupaTimeoutError,
    CoupaTransportError,
    ServerError,
    ValidationError,
    WriteOutcomeUnknownError,
)
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


# -- the order of wait and lookup, and what a failed lookup reports (scripted answers) -----------
SETTLE = 0.2  # base_delay: the first wait after an ambiguous create, with no jitter


class ScriptedCoupa:
    """A MockTransport handler: the POST fails as told, the lookups answer as told; times each call."""

    def __init__(self, post_failure: str, lookup: str, records: list[dict[str, Any]] | None = None) -> None:
        self.post_failure = post_failure
        self.lookup = lookup
        self.records = [{"id": 6, "name": "Acme Ltd"}, {"id": 7, "name": "Acme"}] if records is None else records
        self.calls: list[tuple[str, float]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/oauth2/token":
            return httpx.Response(200, json={"access_token": "tok-abcdefgh", "expires_in": 3600})
        self.calls.append((request.method, time.monotonic()))
        if request.method == "POST":
            if self.post_failure == "503":
                return httpx.Response(503, json={"errors": {"error": ["busy"]}})
            if self.post_failure == "429":
                if len(self.calls) == 1:
                    return httpx.Response(429, json={"errors": {"error": ["slow"]}}, headers={"Retry-After": "0"})
                return httpx.Response(201, json={"id": 7, "name": "Acme"})
            exc = {"timeout": httpx.ReadTimeout, "refused": httpx.ConnectError}.get(
                self.post_failure, httpx.RemoteProtocolError
            )
            raise exc("lost", request=request)
        if self.lookup == "found":
            return httpx.Response(200, json=self.records)
        return httpx.Response(503, json={"errors": {"error": ["lookup busy"]}})

    def methods(self) -> list[str]:
        return [m for m, _ in self.calls]


def scripted_client(handler: Callable[[httpx.Request], httpx.Response]) -> Coupa:
    return Coupa(
        "https://acme.coupahost.com",
        client_id="cid",
        client_secret="secret-123",
        transport=httpx.MockTransport(handler),
        retry=RetryPolicy(base_delay=SETTLE, max_delay=1.0, max_attempts=3),
        rate_limiter=None,
        models=False,
    )


def async_scripted_client(handler: Callable[[httpx.Request], httpx.Response]) -> AsyncCoupa:
    return AsyncCoupa(
        "https://acme.coupahost.com",
        client_id="cid",
        client_secret="secret-123",
        transport=httpx.MockTransport(handler),
        retry=RetryPolicy(base_delay=0.01, max_delay=0.05, max_attempts=2),
        rate_limiter=None,
        models=False,
    )


@pytest.mark.parametrize("failure", ["503", "timeout", "dropped"])
def test_an_ambiguous_create_waits_its_backoff_before_the_lookup(failure: str) -> None:
    script = ScriptedCoupa(failure, lookup="found")
    with scripted_client(script) as coupa:
        made = coupa.suppliers.create(name="Acme")
    assert made["id"] == 7  # the lookup's match, not the other supplier it listed
    assert script.methods() == ["POST", "GET"]  # found: never sent again
    (_, posted), (_, looked_up) = script.calls
    # A create that timed out is usually still committing: looking at once would miss it.
    assert looked_up - posted >= SETTLE - 0.01


@pytest.mark.parametrize("failure", ["503", "timeout"])
def test_a_failed_lookup_says_the_outcome_is_unknown_and_carries_the_post_failure(failure: str) -> None:
    script = ScriptedCoupa(failure, lookup="fails")
    with scripted_client(script) as coupa, pytest.raises(WriteOutcomeUnknownError) as caught:
        coupa.suppliers.create(name="Acme")
    error = caught.value
    assert script.methods() == ["POST", "GET", "GET", "GET"]  # the lookup's own retries, no second POST
    assert error.__cause__ is error.write_error
    expected = ServerError if failure == "503" else CoupaTimeoutError
    assert isinstance(error.write_error, expected) and error.write_error.method == "POST"
    assert isinstance(error.lookup_error, ServerError) and error.lookup_error.method == "GET"
    assert "outcome is unknown" in str(error) and "POST" in str(error)


async def test_the_async_client_reports_an_unknown_outcome_too() -> None:
    script = ScriptedCoupa("dropped", lookup="fails")
    async with async_scripted_client(script) as coupa:
        with pytest.raises(WriteOutcomeUnknownError) as caught:
            await coupa.suppliers.create(name="Acme")
    assert isinstance(caught.value.write_error, CoupaTransportError)
    assert script.methods() == ["POST", "GET", "GET"]


def test_a_create_refused_with_429_is_resent_without_a_lookup() -> None:
    # 429: Coupa's throttle refused it before processing it, so resending cannot duplicate it.
    script = ScriptedCoupa("429", lookup="fails")
    with scripted_client(script) as coupa:
        made = coupa.suppliers.create(name="Acme")
    assert made["id"] == 7 and script.methods() == ["POST", "POST"]


def test_a_create_that_never_left_is_not_looked_up() -> None:
    # Connection refused: nothing reached Coupa, so the outcome is known (not saved) and no lookup is due.
    script = ScriptedCoupa("refused", lookup="fails")
    with scripted_client(script) as coupa, pytest.raises(CoupaConnectionError) as caught:
        coupa.suppliers.create(name="Acme")
    assert not caught.value.request_sent and script.methods() == ["POST", "POST", "POST"]


# -- a record found by natural key is returned only if it plausibly is the one this POST made -------
def test_a_pre_existing_supplier_with_the_same_name_is_never_returned_as_created(coupa: Coupa, emu: Emulator) -> None:
    # The audit's reproduction: same name (the natural key), other number.
    pre = coupa.suppliers.create(name="Acme Pre-existing", number="PRE-1")
    with pytest.raises(ValidationError):  # without a fault, Coupa refuses the second one
        coupa.suppliers.create(name="Acme Pre-existing", number="NEW-2")
    fault_on_next_request(emu, "503")
    with pytest.raises(WriteOutcomeUnknownError) as caught:
        coupa.suppliers.create(name="Acme Pre-existing", number="NEW-2")
    error = caught.value
    assert error.found_id == pre["id"] and error.lookup_error is None
    assert isinstance(error.write_error, ServerError) and error.__cause__ is error.write_error
    assert error.mismatches == ["number: sent 'NEW-2', found 'PRE-1'"]
    assert "a record with that natural key exists (id 1) but does not match what was sent" in str(error)
    named = [d["number"] for d in emu.store.documents("Supplier").values() if d["name"] == "Acme Pre-existing"]
    assert named == ["PRE-1"]


def test_an_old_record_matching_every_value_sent_is_not_returned_either(coupa: Coupa, emu: Emulator) -> None:
    emu.clock.advance(-3600)  # made an hour before the create below
    old = coupa.suppliers.create(name="Acme Old", number="OLD-1")
    emu.clock.advance(3600)
    fault_on_next_request(emu, "503")
    with pytest.raises(WriteOutcomeUnknownError) as caught:
        coupa.suppliers.create(name="Acme Old", number="OLD-1")
    assert caught.value.found_id == old["id"]
    [why] = caught.value.mismatches
    assert why.startswith(f"created-at {old['created-at']} is before this create was first sent")


def test_a_supplier_saved_but_cut_off_is_still_returned(coupa: Coupa, emu: Emulator) -> None:
    # The true positive: the POST went through, then the connection dropped mid-answer.
    coupa.suppliers.create(name="Acme Other", number="OTHER-1")
    fault_on_next_request(emu, "reset")
    made = coupa.suppliers.create(name="Acme New", number="NEW-2", status="active", on_hold=False)
    [stored] = [d for d in emu.store.documents("Supplier").values() if d["name"] == "Acme New"]
    assert made["id"] == stored["id"] and made["number"] == "NEW-2"
    assert emu.faults.snapshot()["counters"]["injected"]["reset"] == 1


def _at_run(record: dict[str, Any]) -> dict[str, Any]:
    """A ``created-at`` given as an offset from now becomes that moment, when the test runs (not
    when it is collected, maybe minutes earlier)."""
    return {k: (datetime.now(UTC) + v).isoformat(timespec="seconds") if isinstance(v, timedelta) else v
            for k, v in record.items()}  # fmt: skip


SUPPLIER_SENT = {"name": "Acme", "number": "N-7", "on_hold": True, "savings_pct": 12.5, "type": "ignored"}
SUPPLIER_FOUND = {"id": 7, "name": "Acme", "number": "N-7", "on-hold": True, "savings-pct": "12.50", "type": None}
INVOICE_SENT = {"invoice-number": "I-1", "supplier": {"id": 3}, "invoice-date": date(2026, 1, 15), "shipping-amount": 5}
INVOICE_FOUND = {"id": 9, "invoice-number": "I-1", "supplier": {"id": 3, "name": "Acme"},
                 "invoice-date": "2026-01-15T00:00:00-08:00", "shipping-amount": "5.00"}  # fmt: skip


@pytest.mark.parametrize(
    ("resource", "sent", "found"),
    [
        # decimals as numbers, a boolean, a read-only field Coupa ignores, a fresh created-at
        ("suppliers", SUPPLIER_SENT, {**SUPPLIER_FOUND, "created-at": timedelta()}),
        ("suppliers", SUPPLIER_SENT, {**SUPPLIER_FOUND, "on-hold": "true", "created-at": -timedelta(minutes=4)}),
        ("suppliers", SUPPLIER_SENT, {"id": 7, "name": "Acme"}),  # keys the record does not return are skipped
        # a date sent for a datetime field: that datetime's date, in its own offset
        ("invoices", INVOICE_SENT, INVOICE_FOUND),
        ("invoices", {**INVOICE_SENT, "invoice-date": "2026-01-15T08:00:00Z"}, INVOICE_FOUND),
    ],
)
def test_a_found_record_matching_what_was_sent_is_returned(resource: str, sent: dict[str, Any], found: Any) -> None:
    script = ScriptedCoupa("503", lookup="found", records=[_at_run(found)])
    with scripted_client(script) as coupa:
        assert coupa.resource(resource).create(sent)["id"] == found["id"]
    assert script.methods() == ["POST", "GET"]


@pytest.mark.parametrize(
    ("resource", "sent", "found", "why"),
    [
        ("suppliers", SUPPLIER_SENT, {**SUPPLIER_FOUND, "number": "N-8"}, "number: sent 'N-7', found 'N-8'"),
        ("suppliers", {**SUPPLIER_SENT, "number": "007"}, {**SUPPLIER_FOUND, "number": "7"},
         "number: sent '007', found '7'"),  # strings compare exactly, even when they look like numbers
        ("suppliers", SUPPLIER_SENT, {**SUPPLIER_FOUND, "on-hold": False}, "on-hold: sent True, found False"),
        ("suppliers", SUPPLIER_SENT, {**SUPPLIER_FOUND, "savings-pct": "12.40"},
         "savings-pct: sent 12.5, found '12.40'"),
        ("suppliers", SUPPLIER_SENT, {**SUPPLIER_FOUND, "savings-pct": None}, "savings-pct: sent 12.5, found None"),
        ("suppliers", SUPPLIER_SENT, {**SUPPLIER_FOUND, "created-at": "2020-03-01T10:00:00-08:00"},
         "created-at 2020-03-01T10:00:00-08:00 is before this create was first sent"),
        ("suppliers", SUPPLIER_SENT, {**SUPPLIER_FOUND, "created-at": -timedelta(minutes=6)},
         "is before this create was first sent"),
        ("invoices", INVOICE_SENT, {**INVOICE_FOUND, "invoice-date": "2026-01-16T00:00:00-08:00"},
         "invoice-date: sent 2026-01-15, found '2026-01-16T00:00:00-08:00'"),
        ("invoices", INVOICE_SENT, {**INVOICE_FOUND, "shipping-amount": "5.01"},
         "shipping-amount: sent 5, found '5.01'"),
    ],
)  # fmt: skip
def test_a_found_record_that_differs_from_what_was_sent_is_refused(
    resource: str, sent: dict[str, Any], found: Any, why: str
) -> None:
    script = ScriptedCoupa("503", lookup="found", records=[_at_run(found)])
    with scripted_client(script) as coupa, pytest.raises(WriteOutcomeUnknownError) as caught:
        coupa.resource(resource).create(sent)
    error = caught.value
    assert script.methods() == ["POST", "GET"]  # not sent again: a record holds the natural key
    assert error.found_id == found["id"] and error.lookup_error is None
    assert isinstance(error.write_error, ServerError) and error.__cause__ is error.write_error
    assert any(why in m for m in error.mismatches), error.mismatches
    assert "does not match what was sent" in str(error) and why in str(error)


def test_the_matching_record_wins_over_an_older_one_with_the_same_key() -> None:
    stale = {**SUPPLIER_FOUND, "id": 6, "number": "N-6"}
    fresh = _at_run({**SUPPLIER_FOUND, "created-at": timedelta()})
    script = ScriptedCoupa("timeout", lookup="found", records=[stale, fresh])
    with scripted_client(script) as coupa:
        assert coupa.suppliers.create(SUPPLIER_SENT)["id"] == 7


async def test_the_async_client_refuses_a_record_that_is_not_its_own() -> None:
    script = ScriptedCoupa("dropped", lookup="found", records=[{**SUPPLIER_FOUND, "number": "PRE-1"}])
    async with async_scripted_client(script) as coupa:
        with pytest.raises(WriteOutcomeUnknownError) as caught:
            await coupa.suppliers.create(SUPPLIER_SENT)
    assert isinstance(caught.value.write_error, CoupaConnectionError) and caught.value.found_id == 7
