"""Invoices (seed 001 and R39 Invoicing): a status machine, totals computed from lines, charges
and taxes as decimals, image scans, and Coupa's invoice actions.

Statuses and moves (an action in any other status answers 400 naming the status):

    POST / new            -> draft
    submit                draft, new, on_hold, ap_hold, rejected -> pending_approval (an approval chain)
    approvals done        pending_approval -> approved; rejected -> rejected
    bypass_approvals      pending_approval -> approved (every undecided approval marked bypassed)
    bypass_current_approval  pending_approval: the current approval is bypassed and the next one
                          becomes current; bypassing the last one approves the invoice
    restart_approvals     pending_approval: the chain starts over from its first approver
    add_approver          pending_approval: a manual approval joins the end of the chain
    remove_approval       pending_approval: a manually added, undecided approval leaves the chain
    void                  draft, pending_receipt, approved -> voided
    dispute               pending_approval, approved, pending_receipt, on_hold, ap_hold,
                          booking_hold, pending_action -> disputed (reason code required)
    withdraw_dispute      disputed -> the status it had before the dispute
    abandon               draft, new, disputed, rejected, invalid -> abandoned
    flip_to_advance_ship_notice  draft, new -> abandoned (the document lives on as an ASN)
    DELETE                only draft or new
    PUT                   not in voided or abandoned (except marking exported)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from pycoupa.emulator.behaviours import approvals
from pycoupa.emulator.behaviours.approvals import ON_CHAIN_END, start_chain
from pycoupa.emulator.behaviours.registry import action, derive
from pycoupa.emulator.handlers import Call, Result, generic_create, generic_update
from pycoupa.emulator.writes import CoupaError, Writer
from pycoupa.wire.values import format_decimal

if TYPE_CHECKING:
    from pycoupa.emulator.app import Emulator

KIND = "InvoiceHeader"
FINAL = frozenset({"voided", "abandoned"})
MOVES: dict[str, tuple[frozenset[str], str]] = {
    "submit": (frozenset({"draft", "new", "on_hold", "ap_hold", "rejected"}), "pending_approval"),
    "void": (frozenset({"draft", "pending_receipt", "approved"}), "voided"),
    "dispute": (
        frozenset(
            {"pending_approval", "approved", "pending_receipt", "on_hold", "ap_hold", "booking_hold", "pending_action"}
        ),
        "disputed",
    ),
    "withdraw_dispute": (frozenset({"disputed"}), ""),
    "abandon": (frozenset({"draft", "new", "disputed", "rejected", "invalid"}), "abandoned"),
    "flip_to_advance_ship_notice": (frozenset({"draft", "new"}), "abandoned"),
    "bypass_approvals": (frozenset({"pending_approval"}), "approved"),
    "bypass_current_approval": (frozenset({"pending_approval"}), ""),
    "restart_approvals": (frozenset({"pending_approval"}), "pending_approval"),
    "add_approver": (frozenset({"pending_approval"}), ""),
    "remove_approval": (frozenset({"pending_approval"}), ""),
}
# The emulator's active dispute reasons (Coupa requires an active one; instances define their own).
DISPUTE_REASONS = frozenset({"INCORRECT-QUANTITY", "INCORRECT-PRICE", "DUPLICATE", "MISSING-PO", "DAMAGED", "OTHER"})
CENT = Decimal("0.01")


def _dec(value: Any) -> Decimal:
    try:
        return Decimal(str(value)) if value not in (None, "") else Decimal(0)
    except InvalidOperation:
        return Decimal(0)


def _money(value: Decimal, places: int) -> str:
    return format_decimal(value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP))


def line_total(line: dict[str, Any]) -> Decimal:
    """Quantity lines: quantity x price; amount lines (or no quantity): the price is the amount."""
    if line.get("type") == "InvoiceAmountLine" or line.get("quantity") in (None, ""):
        return _dec(line.get("price"))
    return _dec(line.get("quantity")) * _dec(line.get("price"))


def tax_of(record: dict[str, Any], store: Any) -> Decimal:
    """A line's or header's tax: its tax lines when it has them, else its tax-amount."""
    taxes = store.get_many("TaxLine", record.get("tax-lines") or []) if record.get("tax-lines") else {}
    if taxes:
        return sum((_dec(t.get("amount")) for t in taxes.values()), Decimal(0))
    return _dec(record.get("tax-amount"))


def _settle_amounts(
    writer: Writer,
    doc: dict[str, Any],
    kind: str,
    field: str,
    amount_of: Callable[[dict[str, Any]], Decimal],
    places: int,
) -> tuple[Decimal, Decimal, int]:
    """The sum of an invoice's lines (or charges), of their own taxes, and how many there are; each
    one's ``total`` is written back in the currency's places, with the invoice's currency where it
    has none."""
    ids = doc.get(field) or []
    records = writer.store.get_many(kind, ids)
    amount_sum, tax_sum = Decimal(0), Decimal(0)
    for record_id in ids:
        record = records.get(record_id)
        if record is None:
            continue
        amount = amount_of(record)
        amount_sum += amount
        tax_sum += tax_of(record, writer.store)
        rendered = _money(amount, places)
        if record.get("total") != rendered or record.get("currency") is None:
            record["total"] = rendered
            if record.get("currency") is None:
                record["currency"] = doc.get("currency")
            writer.store.update(kind, record_id, record)
    return amount_sum, tax_sum, len(records)


@derive(KIND)
def _invoice(writer: Writer, doc: dict[str, Any], creating: bool) -> None:
    if creating:
        doc.setdefault("status", "draft")
        doc["status"] = doc.get("status") or "draft"
        if doc.get("paid") is None:
            doc["paid"] = False
    doc["document-type"] = "Credit Note" if doc.get("is-credit-note") else "Invoice"
    if doc.get("is-credit-note") and not (doc.get("original-invoice-number") and doc.get("original-invoice-date")):
        writer.errors.append("Original invoice number and date are required for a credit note")
    places = 2
    if isinstance(doc.get("currency"), int):
        cur = writer.store.get("Currency", doc["currency"]) or {}
        decimals = cur.get("decimals")
        places = int(decimals) if isinstance(decimals, int) else 2
    subtotal, line_tax, line_count = _settle_amounts(writer, doc, "InvoiceLine", "invoice-lines", line_total, places)
    # Charges (shipping, handling, misc) as lines of their own, plus the header's amount fields.
    charge_total, charge_tax, _ = _settle_amounts(
        writer, doc, "InvoiceCharge", "invoice-charges", lambda charge: _dec(charge.get("total")), places
    )
    line_tax += charge_tax
    charge_total += sum((_dec(doc.get(k)) for k in ("shipping-amount", "handling-amount", "misc-amount")), Decimal(0))
    tax = line_tax if doc.get("line-level-taxation") else tax_of(doc, writer.store)
    gross = subtotal + charge_total
    total = gross + tax
    discount = _dec(doc.get("discount-amount"))
    doc["gross-total"] = _money(gross, places)
    doc["total-with-taxes"] = _money(total, places)
    doc["amount-due"] = _money(total, places)
    doc["amount-due-less-discount"] = _money(total - discount, places)
    doc["gross-total-less-discount"] = _money(gross - discount, places)
    doc["net-total-less-discount"] = _money(subtotal - discount, places)
    doc["total-taxes-less-discount"] = _money(tax, places)
    doc["tax-due-to-supplier"] = _money(tax, places)
    doc["line-count"] = str(line_count)


@action("/invoices", "create")
def _create(emu: Emulator, call: Call) -> Result:
    call.body = {k: v for k, v in call.body.items() if k != "status"}  # POST makes a draft
    return generic_create(emu, call)


@action("/invoices", "update")
def _update(emu: Emulator, call: Call) -> Result:
    doc = emu.load(call)
    changes = {k for k in call.body if k not in ("exported",)}
    if doc.get("status") in FINAL and changes:
        raise CoupaError(400, [f"Invoice cannot be updated when it is {doc['status']}"], key="invoice_header")
    return generic_update(emu, call)


@action("/invoices", "delete")
def _delete(emu: Emulator, call: Call) -> Result:
    doc = emu.load(call)
    if doc.get("status") not in ("draft", "new"):
        raise CoupaError(
            400, [f"Only new or draft invoices can be deleted; this one is {doc.get('status')}"], key="invoice_header"
        )
    for line_id in doc.get("invoice-lines") or []:
        emu.store.delete("InvoiceLine", line_id)
    emu.store.delete(KIND, doc["id"])
    return Result(record=doc)


def _check(doc: dict[str, Any], move: str) -> None:
    allowed, _ = MOVES[move]
    if doc.get("status") not in allowed:
        raise CoupaError(
            400, [f"Invoice cannot {move.replace('_', ' ')} when it is {doc.get('status')}"], key="invoice_header"
        )


@action("/invoices", *MOVES)
def _move(emu: Emulator, call: Call) -> Result:
    doc = emu.load(call)
    move = call.op.action or ""
    _check(doc, move)
    writer = emu.writer(call)
    body = call.body
    target = MOVES[move][1]
    if move == "submit":
        if body:
            doc = writer.update(KIND, doc["id"], {k: v for k, v in body.items() if k != "status"})
        if not doc.get("invoice-lines"):
            raise writer.fail(KIND, "Invoice must have at least one line to be submitted")
        approver_id = int(body.get("approver-id") or 1)
        start_chain(writer, KIND, doc, [approver_id])
    elif move == "dispute":
        reason = body.get("dispute-reason") or {}
        code = reason.get("code") if isinstance(reason, dict) else reason
        if not code:
            raise writer.fail(KIND, "Dispute reason can't be blank")
        if str(code) not in DISPUTE_REASONS:
            raise writer.fail(KIND, f"Dispute reason {code} is not an active dispute reason")
        doc["__status-before-dispute"] = doc.get("status")
        doc["dispute-method"] = "api"
        doc["__dispute"] = {"code": code, "comment": body.get("comment")}
    elif move == "withdraw_dispute":
        target = str(doc.pop("__status-before-dispute", None) or "pending_approval")
    elif move == "abandon":
        reason = body.get("abandon-reason") or body.get("reason-insight")
        if reason:
            doc["__abandon-reason"] = reason
    elif move in ("bypass_approvals", "bypass_current_approval"):
        approvals.bypass(writer, KIND, doc, all_of_them=move == "bypass_approvals")
    elif move == "restart_approvals":
        approvals.restart_chain(writer, KIND, doc)
    elif move == "add_approver":
        given = approvals.given_values(call)
        approvals.add_approver(writer, KIND, doc, approvals.find_approver(writer, KIND, given))
    elif move == "remove_approval":
        given = approvals.given_values(call)
        approvals.remove_approval(writer, KIND, doc, approvals.find_approval(writer, KIND, doc, given))
    if target:
        doc["status"] = target
    writer.save(KIND, doc)
    return Result(record=doc)


def _chain_end(writer: Writer, doc: dict[str, Any], outcome: str) -> None:
    if doc.get("status") == "pending_approval":
        doc["status"] = "approved" if outcome == "approved" else "rejected"
        writer.save(KIND, doc)


ON_CHAIN_END[KIND] = _chain_end


@action("/invoices", "update_line_accounts")
def _update_line_accounts(emu: Emulator, call: Call) -> Result:
    """Only the accounts of existing lines may change through this action."""
    doc = emu.load(call)
    if doc.get("status") in FINAL:
        raise CoupaError(400, [f"Invoice cannot update line accounts when it is {doc['status']}"], key="invoice_header")
    lines = call.body.get("invoice-lines")
    if not isinstance(lines, list) or not lines:
        raise CoupaError(400, ["Invoice lines with id and account are required"], key="invoice_header")
    allowed = {"id", "account", "account-allocations"}
    for line in lines:
        extra = set(line) - allowed if isinstance(line, dict) else {"?"}
        if extra or not isinstance(line, dict) or "id" not in line:
            raise CoupaError(
                400,
                [f"Only line accounts can change here (got {', '.join(sorted(extra)) or 'no id'})"],
                key="invoice_header",
            )
    return generic_update(emu, replace(call, body={"invoice-lines": lines}))


@action("/invoices", "revalidate_tolerances")
def _revalidate(emu: Emulator, call: Call) -> Result:
    doc = emu.load(call)
    if doc.get("status") in FINAL:
        raise CoupaError(
            400, [f"Invoice cannot revalidate tolerances when it is {doc['status']}"], key="invoice_header"
        )
    emu.writer(call).save(KIND, doc)
    return Result(record=doc)


@action("/invoices", "image_scan")
def _image_scan(emu: Emulator, call: Call) -> Result:
    doc = emu.load(call)
    upload = call.files.get("file")
    if upload is None:
        raise CoupaError(400, ["Send the image as multipart/form-data field 'file'"], key="invoice_header")
    name, content_type, data = upload
    if not data:
        raise CoupaError(400, ["The image scan file is empty"], key="invoice_header")
    emu.store.put_blob(f"invoice-image-scan:{doc['id']}", content_type, data)
    doc.update(
        {
            "image-scan": name,
            "image-scan-file-name": name,
            "image-scan-content-type": content_type,
            "image-scan-file-size": len(data),
            "image-scan-url": f"{emu.base_url}/api/invoices/{doc['id']}/retrieve_image_scan",
        }
    )
    emu.writer(call).save(KIND, doc)
    return Result(record=doc)


@action("/invoices", "retrieve_image_scan")
def _retrieve_image_scan(emu: Emulator, call: Call) -> Result:
    doc = emu.load(call)
    blob = emu.store.get_blob(f"invoice-image-scan:{doc['id']}")
    if blob is None:
        raise CoupaError(404, [f"Invoice {doc['id']} has no image scan"], key="invoice_header")
    content_type, data = blob
    filename = str(doc.get("image-scan-file-name") or "image-scan").replace('"', "")
    return Result(
        raw=data, media_type=content_type, headers={"Content-Disposition": f'attachment; filename="{filename}"'}
    )


@action("/invoices", "retrieve_clearance_document", "retrieve_legal_invoice_pdf")
def _no_document(emu: Emulator, call: Call) -> Result:
    doc = emu.load(call)
    what = "clearance document" if call.op.action == "retrieve_clearance_document" else "legal invoice PDF"
    raise CoupaError(404, [f"Invoice {doc['id']} has no {what}"], key="invoice_header")


@action("/invoices", "new/submit_for_approval")
def _new_for_approval(emu: Emulator, call: Call) -> Result:
    """Seed 001 lists ``GET /api/invoices/new/submit_for_approval``: the emulator answers the
    template of a new invoice (nothing is stored), as Rails' ``new`` routes do."""
    return Result(record={"id": None, "status": "draft", "paid": False, "exported": False})
