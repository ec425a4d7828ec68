"""Requisitions and purchase orders (coupa-api.md, Requisitions and Purchase orders).

Requisitions are created as drafts (``POST``) or submitted at once (``submit_for_approval``);
their lines follow Coupa's rules; the last approval makes a requisition ``approved`` and creates
one purchase order per supplier; approvers can be added to (and manually added ones removed from)
a pending requisition's chain. Purchase orders ``issue``, ``cancel``, ``close`` and ``reopen``;
``version`` counts supplier-facing revisions and ``internal-revision`` every change; a new
supplier version resets ``exported`` to false.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from pycoupa.emulator.behaviours import approvals
from pycoupa.emulator.behaviours.approvals import ON_CHAIN_END, start_chain
from pycoupa.emulator.behaviours.registry import action, derive
from pycoupa.emulator.handlers import Call, Result, generic_create, generic_update
from pycoupa.emulator.writes import CoupaError, Writer
from pycoupa.wire.values import format_decimal

if TYPE_CHECKING:
    from pycoupa.emulator.app import Emulator

REQ = "RequisitionHeader"
PO = "OrderHeader"


def _dec(value: Any) -> Decimal:
    try:
        return Decimal(str(value)) if value not in (None, "") else Decimal(0)
    except InvalidOperation:
        return Decimal(0)


# -- requisitions -------------------------------------------------------------------------------------
def _check_lines(writer: Writer, body: dict[str, Any]) -> dict[str, Any]:
    """Coupa's create rules: at least one line; a description or an item on each; line-num
    increments by 1 and a repeated line-num is ignored."""
    lines = body.get("requisition-lines")
    if not isinstance(lines, list) or not lines:
        raise writer.fail(REQ, "Requisition must have at least one line")
    kept: list[dict[str, Any]] = []
    seen: set[int] = set()
    errors: list[str] = []
    for n, line in enumerate(lines, start=1):
        if not isinstance(line, dict):
            raise writer.fail(REQ, f"Requisition line {n} must be an object")
        num = line.get("line-num")
        if num not in (None, ""):
            try:
                num = int(num)
            except (TypeError, ValueError):
                errors.append(f"Requisition line {n}: line num is not a number")
                continue
            if num in seen:
                continue  # duplicates are ignored
            seen.add(num)
        if not line.get("description") and not line.get("item"):
            errors.append(f"Requisition line {n}: description or item is required")
        kept.append(line)
    nums = [int(line["line-num"]) for line in kept if line.get("line-num") not in (None, "")]
    if nums and sorted(nums) != list(range(1, len(nums) + 1)):
        errors.append("Line num must start at 1 and increment by 1")
    if errors:
        raise writer.fail(REQ, *errors)
    return {**body, "requisition-lines": kept}


def _check_active(writer: Writer, doc: dict[str, Any]) -> None:
    user = writer.store.get("User", doc["requested-by"]) if isinstance(doc.get("requested-by"), int) else None
    if user is not None and user.get("active") is False:
        writer.errors.append("Requested by user is inactive")
    for line_id in doc.get("requisition-lines") or []:
        line = writer.store.get("RequisitionLine", line_id) or {}
        supplier = writer.store.get("Supplier", line["supplier"]) if isinstance(line.get("supplier"), int) else None
        if supplier is not None and supplier.get("status") == "inactive":
            writer.errors.append(f"Supplier {supplier.get('name')} is inactive")
        currency = writer.store.get("Currency", line["currency"]) if isinstance(line.get("currency"), int) else None
        if currency is not None and currency.get("enabled") is False:
            writer.errors.append(f"Currency {currency.get('code')} is not enabled")


@derive(REQ)
def _requisition(writer: Writer, doc: dict[str, Any], creating: bool) -> None:
    if creating:
        doc["status"] = doc.get("status") or "draft"
        if doc.get("requested-by") is None:
            doc["requested-by"] = writer.user_id
        doc["requester"] = doc.get("requested-by")
    total = Decimal(0)
    lines = writer.store.get_many("RequisitionLine", doc.get("requisition-lines") or [])
    for line_id in doc.get("requisition-lines") or []:
        line = lines.get(line_id)
        if line is None:
            continue
        if line.get("item") and not line.get("description"):
            item = writer.store.get("Item", line["item"]) or {}
            line["description"] = item.get("name")
        amount_line = line.get("line-type") == "RequisitionAmountLine" or line.get("quantity") in (None, "")
        line_total = _dec(line.get("unit-price")) * (1 if amount_line else _dec(line.get("quantity")))
        line["total"] = format_decimal(line_total.quantize(Decimal("0.01")))
        line.setdefault("line-type", "RequisitionAmountLine" if amount_line else "RequisitionQuantityLine")
        line["status"] = line.get("status") or doc.get("status")
        writer.store.update("RequisitionLine", line_id, line)
        total += line_total
    doc["total"] = format_decimal(total.quantize(Decimal("0.01")))
    doc["line-count"] = len(lines)
    _check_active(writer, doc)


@action("/requisitions", "create", "create_as_cart")
def _create_requisition(emu: Emulator, call: Call) -> Result:
    body = {k: v for k, v in call.body.items() if k != "status"}
    body = _check_lines(emu.writer(call), body)
    result = generic_create(emu, replace(call, body=body))
    if call.op.action == "create_as_cart" and result.record is not None:
        result.record["status"] = "cart"
        emu.store.update(REQ, result.record["id"], result.record)
    return result


def _submit(emu: Emulator, call: Call, doc: dict[str, Any]) -> dict[str, Any]:
    writer = emu.writer(call)
    if doc.get("status") not in ("draft", "cart", "withdrawn"):
        raise writer.fail(REQ, f"Requisition cannot be submitted when it is {doc.get('status')}")
    if not doc.get("requisition-lines"):
        raise writer.fail(REQ, "Requisition must have at least one line")
    approver = int(call.body.get("approver-id") or 1)
    start_chain(writer, "RequisitionHeader", doc, [approver])
    doc["status"] = "pending_approval"
    doc["submitted-at"] = writer.now
    writer.save(REQ, doc)
    return doc


@action("/requisitions", "submit_for_approval")
def _create_and_submit(emu: Emulator, call: Call) -> Result:
    created = _create_requisition(emu, call)
    assert created.record is not None
    return Result(status=201, record=_submit(emu, call, created.record))


@action("/requisitions", "update_and_submit_for_approval")
def _update_and_submit(emu: Emulator, call: Call) -> Result:
    doc = emu.load(call)
    if call.body:
        doc = generic_update(emu, call).record or doc
    return Result(record=_submit(emu, call, doc))


@action("/requisitions", "save_for_later")
def _save_for_later(emu: Emulator, call: Call) -> Result:
    doc = emu.load(call)
    if doc.get("status") not in ("draft", "cart", "pending_approval"):
        raise emu.writer(call).fail(REQ, f"Requisition cannot be saved for later when it is {doc.get('status')}")
    if call.body:
        doc = generic_update(emu, call).record or doc
    doc["status"] = "draft"
    emu.writer(call).save(REQ, doc)
    return Result(record=doc)


@action("/requisitions", "add_approver", "remove_approval")
def _requisition_approvers(emu: Emulator, call: Call) -> Result:
    """Manual approvers, as on invoices: only while the requisition is pending approval."""
    doc = emu.load(call)
    writer = emu.writer(call)
    move = call.op.action or ""
    if doc.get("status") != "pending_approval":
        raise writer.fail(REQ, f"Requisition cannot {move.replace('_', ' ')} when it is {doc.get('status')}")
    given = approvals.given_values(call)
    if move == "add_approver":
        approvals.add_approver(writer, REQ, doc, approvals.find_approver(writer, REQ, given))
    else:
        approvals.remove_approval(writer, REQ, doc, approvals.find_approval(writer, REQ, doc, given))
    writer.save(REQ, doc)
    return Result(record=doc)


@action("/requisitions", "update")
def _update_requisition(emu: Emulator, call: Call) -> Result:
    doc = emu.load(call)
    if doc.get("status") not in ("draft", "cart", "pending_buyer_action") and set(call.body) - {"exported"}:
        raise emu.writer(call).fail(REQ, f"Requisition cannot be updated when it is {doc.get('status')}")
    return generic_update(emu, call)


@action("/requisitions", "delete")
def _delete_requisition(emu: Emulator, call: Call) -> Result:
    doc = emu.load(call)
    if doc.get("status") not in ("draft", "cart"):
        raise emu.writer(call).fail(REQ, f"Requisition cannot be deleted when it is {doc.get('status')}")
    for line_id in doc.get("requisition-lines") or []:
        emu.store.delete("RequisitionLine", line_id)
    emu.store.delete(REQ, doc["id"])
    return Result(record=doc)


def _requisition_chain_end(writer: Writer, doc: dict[str, Any], outcome: str) -> None:
    if doc.get("status") != "pending_approval":
        return
    if outcome == "rejected":
        doc["status"] = "draft"
        writer.save(REQ, doc)
        return
    doc["status"] = "approved"
    writer.save(REQ, doc)
    _order(writer, doc)


ON_CHAIN_END[REQ] = _requisition_chain_end


def _next_po_number(writer: Writer) -> str:
    rows = writer.store.execute("SELECT count(*) FROM r_OrderHeader") if writer.store.has_table(PO) else [(0,)]
    return str(int(rows[0][0]) + 1)


def _order(writer: Writer, req: dict[str, Any]) -> None:
    """An approved requisition becomes one issued purchase order per supplier."""
    lines = writer.store.get_many("RequisitionLine", req.get("requisition-lines") or [])
    by_supplier: dict[Any, list[dict[str, Any]]] = {}
    for line_id in req.get("requisition-lines") or []:
        line = lines.get(line_id)
        if line is not None:
            by_supplier.setdefault(line.get("supplier"), []).append(line)
    for supplier, group in by_supplier.items():
        order_line_ids = []
        for n, line in enumerate(group, start=1):
            order_line = writer.insert_system(
                "OrderLine",
                {
                    "line-num": str(n),
                    "description": line.get("description"),
                    "quantity": line.get("quantity"),
                    "price": line.get("unit-price"),
                    "total": line.get("total"),
                    "currency": line.get("currency"),
                    "account": line.get("account"),
                    "supplier": supplier,
                    "uom": line.get("uom"),
                    "need-by-date": line.get("need-by-date"),
                    "type": "OrderAmountLine"
                    if line.get("line-type") == "RequisitionAmountLine"
                    else "OrderQuantityLine",
                    "requisition-line-id": str(line["id"]),
                    "status": "created",
                    "version": 1,
                    "match-type": "2-way",
                },
            )
            order_line_ids.append(order_line["id"])
            line["order-line-id"] = order_line["id"]
            line["status"] = "ordered"
            writer.store.update("RequisitionLine", line["id"], line)
        currency = group[0].get("currency")
        writer.insert_system(
            PO,
            {
                "po-number": _next_po_number(writer),
                "status": "issued",
                "transmission-status": "sent_via_email",
                "type": "OrderHeader",
                "supplier": supplier,
                "currency": currency,
                "requisition-header": req["id"],
                "requester": req.get("requested-by"),
                "ship-to-address": req.get("ship-to-address"),
                "ship-to-user": req.get("requested-by"),
                "order-lines": order_line_ids,
                "version": 1,
                "internal-revision": 1,
                "acknowledged-flag": False,
            },
        )


# -- purchase orders ----------------------------------------------------------------------------------
PO_MOVES: dict[str, tuple[frozenset[str], str, str | None]] = {
    # action: (from statuses, to status, transmission status)
    "issue": (
        frozenset({"draft", "buyer_hold", "supplier_hold", "currency_hold", "error"}),
        "issued",
        "sent_via_email",
    ),
    "issue_without_send": (
        frozenset({"draft", "buyer_hold", "supplier_hold", "currency_hold", "error"}),
        "issued",
        "sent_manually",
    ),
    "ignore_window_and_issue": (frozenset({"supplier_window_hold"}), "issued", "sent_via_email"),
    "release_from_buyer_hold": (frozenset({"buyer_hold"}), "issued", "sent_via_email"),
    "cancel": (
        frozenset({"draft", "issued", "buyer_hold", "supplier_hold", "supplier_window_hold", "currency_hold", "error"}),
        "cancelled",
        None,
    ),
    "close": (frozenset({"issued"}), "closed", None),
    "reopen": (frozenset({"closed"}), "issued", None),
}
# Changes to these do not make a new supplier version (coupa-api.md: account-only changes do not resend).
INTERNAL_ONLY = frozenset({"exported", "last-exported-at", "account", "account-allocations"})


@derive(PO)
def _purchase_order(writer: Writer, doc: dict[str, Any], creating: bool) -> None:
    if creating:
        doc["status"] = doc.get("status") or "draft"
        doc["version"] = doc.get("version") or 1
        doc["internal-revision"] = doc.get("internal-revision") or 1
        doc.setdefault("acknowledged-flag", False)
        if not doc.get("po-number"):
            doc["po-number"] = _next_po_number(writer)


@action("/purchase_orders", "create")
def _create_po(emu: Emulator, call: Call) -> Result:
    """POST is only for external purchase orders (Coupa makes the others from requisitions)."""
    body = {k: v for k, v in call.body.items() if k not in ("status", "version")}
    kind = body.setdefault("type", "ExternalOrderHeader")
    if kind != "ExternalOrderHeader":
        raise emu.writer(call).fail(PO, "Only external purchase orders (type ExternalOrderHeader) can be created")
    return generic_create(emu, replace(call, body=body))


def _line_fields(body: dict[str, Any]) -> set[str]:
    fields: set[str] = set()
    for line in body.get("order-lines") or []:
        if isinstance(line, dict):
            fields |= {k for k in line if k != "id"}
    return fields


@action("/purchase_orders", "update")
def _update_po(emu: Emulator, call: Call) -> Result:
    doc = emu.load(call)
    body = dict(call.body)
    for flag, move in (("_cancel", "cancel"), ("_close", "close")):
        if str(body.pop(flag, "")).lower() in ("true", "1", "yes"):
            return _po_move(emu, replace(call, body=body), doc, move)
    if doc.get("status") in ("cancelled", "closed") and set(body) - {"exported"}:
        raise emu.writer(call).fail(PO, f"Purchase order cannot be updated when it is {doc.get('status')}")
    changed = set(body) - {"exported"}
    if not changed:
        return generic_update(emu, call)
    supplier_facing = bool((changed - {"order-lines"}) - INTERNAL_ONLY) or bool(_line_fields(body) - INTERNAL_ONLY)
    result = generic_update(emu, replace(call, body=body))
    record = result.record or doc
    record["internal-revision"] = int(record.get("internal-revision") or 1) + 1
    if supplier_facing:
        record["version"] = int(record.get("version") or 1) + 1
        record["exported"] = False  # a new supplier version must be exported again
    emu.store.update(PO, record["id"], record)
    return Result(record=record, headers=result.headers)


def _po_move(emu: Emulator, call: Call, doc: dict[str, Any], move: str) -> Result:
    allowed, target, transmission = PO_MOVES[move]
    writer = emu.writer(call)
    if doc.get("status") not in allowed:
        raise writer.fail(PO, f"Purchase order cannot {move.replace('_', ' ')} when it is {doc.get('status')}")
    reason = {
        k: call.body[k]
        for k in ("reason-insight-id", "reason-insight-code", "reason-insight-event-comment")
        if k in call.body
    }
    if reason:
        doc["__reason-insight"] = reason
    doc["status"] = target
    if transmission:
        doc["transmission-status"] = transmission
    doc["internal-revision"] = int(doc.get("internal-revision") or 1) + 1
    writer.save(PO, doc)
    return Result(record=doc)


@action("/purchase_orders", *PO_MOVES)
def _po_action(emu: Emulator, call: Call) -> Result:
    return _po_move(emu, call, emu.load(call), call.op.action or "")


LINE_MOVES = {
    "soft_close_for_receiving": ("open", "soft_closed_for_receiving"),
    "soft_close_for_invoicing": ("open", "soft_closed_for_invoicing"),
    "reopen_for_receiving": ("soft_closed_for_receiving", "open"),
    "reopen_for_invoicing": ("soft_closed_for_invoicing", "open"),
}


@action("/purchase_order_lines", *LINE_MOVES)
def _line_action(emu: Emulator, call: Call) -> Result:
    line = emu.load(call)
    source, target = LINE_MOVES[call.op.action or ""]
    current = line.get("__closure") or "open"
    if current != source:
        raise CoupaError(
            400, [f"Order line cannot {call.op.action} when it is {current.replace('_', ' ')}"], key="order_line"
        )
    line["__closure"] = target
    emu.writer(call).save("OrderLine", line)
    return Result(record=line)
