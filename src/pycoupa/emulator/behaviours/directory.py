"""Rules for the master data integrations touch (coupa-api.md section 6): suppliers, users, user
groups, addresses, lookups and lookup values, departments, integrations, integration runs and
history records."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from pycoupa.emulator.behaviours.registry import action, derive
from pycoupa.emulator.handlers import Call, Result, generic_create, generic_list, generic_update
from pycoupa.emulator.reference_data import USD_CURRENCY_ID
from pycoupa.emulator.writes import CoupaError, Writer
from pycoupa.wire.query import Condition

if TYPE_CHECKING:
    from pycoupa.emulator.app import Emulator

USER_ROLE_ID = 2


def _default(doc: dict[str, Any], key: str, value: Any) -> None:
    if doc.get(key) is None:
        doc[key] = value


@derive("Supplier")
def _supplier(writer: Writer, doc: dict[str, Any], creating: bool) -> None:
    if creating:
        _default(doc, "status", "draft")  # documented default when omitted
        _default(doc, "payment-method", "invoice")


@derive("User")
def _user(writer: Writer, doc: dict[str, Any], creating: bool) -> None:
    if creating:
        for key, value in (
            ("active", True),
            ("api-user", False),
            ("expense-user", False),
            ("sourcing-user", False),
            ("inventory-user", False),
            ("account-security-type", 0),
            ("authentication-method", "coupa_credentials"),
            ("default-currency", USD_CURRENCY_ID),
        ):
            _default(doc, key, value)
        if not doc.get("roles"):
            doc["roles"] = [USER_ROLE_ID]
        if not doc.get("mention-name") and doc.get("login"):
            doc["mention-name"] = _unique_mention(writer, re.sub(r"[^a-z0-9]", "", str(doc["login"]).lower()))
    names = [str(doc[k]) for k in ("firstname", "lastname") if doc.get(k)]
    doc["fullname"] = " ".join(names) or None
    for k in ("firstname", "lastname"):
        if doc.get(k) and len(str(doc[k])) > 40:
            writer.errors.append(f"{k.capitalize()} is too long (maximum is 40 characters)")


def _unique_mention(writer: Writer, base: str) -> str:
    candidate, n = base or "user", 1
    while writer.store.has_table("User") and writer.store.execute(
        "SELECT 1 FROM r_User WHERE json_extract(doc, '$.\"mention-name\"') = ?", (candidate,)
    ):
        n += 1
        candidate = f"{base}{n}"
    return candidate


@action("/users", "list")
def _users(emu: Emulator, call: Call) -> Result:
    """``?status=active`` (what Compass suggests) means ``active=true``."""
    conditions = []
    for c in call.query.conditions:
        if c.path == ("status",) and c.op == "eq" and str(c.value) in ("active", "inactive"):
            conditions.append(Condition(("active",), "eq", "true" if c.value == "active" else "false"))
        else:
            conditions.append(c)
    call.query = replace(call.query, conditions=tuple(conditions))
    return generic_list(emu, call)


@derive("UserGroup", "Department", "Lookup", "Integration", "Item")
def _active_by_default(writer: Writer, doc: dict[str, Any], creating: bool) -> None:
    if creating:
        _default(doc, "active", True)


@derive("Address")
def _address(writer: Writer, doc: dict[str, Any], creating: bool) -> None:
    if creating:
        _default(doc, "active", True)


@action("/addresses", "update")
def _update_address(emu: Emulator, call: Call) -> Result:
    doc = emu.load(call)
    reactivating = set(call.body) == {"active"} and call.body["active"] in (True, "true", "yes", "1")
    if doc.get("active") is False and not reactivating:
        raise CoupaError(400, ["Inactive addresses cannot be updated"], key="address")
    return generic_update(emu, call)


@derive("LookupValue")
def _lookup_value(writer: Writer, doc: dict[str, Any], creating: bool) -> None:
    if creating:
        _default(doc, "active", True)
    doc["lookup-id"] = doc.get("lookup")
    parent_id = doc.get("parent")
    doc["parent-id"] = parent_id
    if parent_id is None:
        doc["depth"] = 1
        return
    parent = writer.store.get("LookupValue", parent_id) or {}
    if parent.get("lookup") != doc.get("lookup"):
        writer.errors.append("Parent must belong to the same lookup")
    if parent_id == doc.get("id"):
        writer.errors.append("Parent cannot be the value itself")
    doc["depth"] = int(parent.get("depth") or 1) + 1


# -- integration runs: pending -> running -> successful | failed ---------------------------------
RUN_MOVES: dict[str, tuple[frozenset[str], str]] = {
    "run": (frozenset({"pending", "paused"}), "running"),
    "pause": (frozenset({"running"}), "paused"),
    "pending": (frozenset({"paused", "running"}), "pending"),
    "success": (frozenset({"running"}), "successful"),
    "fail": (frozenset({"pending", "running", "paused"}), "failed"),
    "finish": (frozenset({"running"}), "successful"),  # or failed when it has errors
}


@action("/integration_runs", "create")
def _create_run(emu: Emulator, call: Call) -> Result:
    call.body = {k: v for k, v in call.body.items() if k != "status"}
    if not call.body.get("integration"):
        raise CoupaError(400, ["Integration can't be blank"], key="integration_run")
    result = generic_create(emu, call)
    assert result.record is not None
    result.record["status"] = "pending"
    emu.store.update("IntegrationRun", result.record["id"], result.record)
    return result


@action("/integration_runs", *RUN_MOVES)
def _move_run(emu: Emulator, call: Call) -> Result:
    doc = emu.load(call)
    move = call.op.action or ""
    allowed, target = RUN_MOVES[move]
    status = doc.get("status") or "pending"
    if status not in allowed:
        raise CoupaError(400, [f"Integration run cannot {move} when {status}"], key="integration_run")
    writer = emu.writer(call)
    body = {k: v for k, v in call.body.items() if k in ("total-records", "records-processed")}
    if body:
        doc = writer.update("IntegrationRun", doc["id"], body)
    now = writer.now
    if move == "run" and not doc.get("start-time"):
        doc["start-time"] = now
    if move == "finish" and doc.get("integration-errors"):
        target = "failed"
    if target in ("successful", "failed"):
        doc["end-time"] = now
    doc["status"] = target
    writer.save("IntegrationRun", doc)
    return Result(record=doc)


@action("/integration_errors", "create", "create_alert")
def _create_error(emu: Emulator, call: Call) -> Result:
    """An error naming its run joins the run's ``integration-errors``, so that ``finish`` on that
    run ends it ``failed``."""
    result = generic_create(emu, call)
    record = result.record or {}
    run = emu.store.get("IntegrationRun", record["integration-run"]) if record.get("integration-run") else None
    if run is not None and record["id"] not in (run.get("integration-errors") or []):
        run["integration-errors"] = [*(run.get("integration-errors") or []), record["id"]]
        emu.writer(call).save("IntegrationRun", run)
    return result


# -- integration history records ------------------------------------------------------------------
@derive("IntegrationHistoryRecord")
def _history(writer: Writer, doc: dict[str, Any], creating: bool) -> None:
    if creating:
        _default(doc, "resolved", False)
    doc["integration-run-id"] = doc.get("integration-run")
    if doc.get("contact-alert-type") not in (None, "Functional", "Technical", "Both"):
        writer.errors.append("Contact alert type is not included in the list")


@action("/integration_history_records", "resolve", "unresolve")
def _resolve(emu: Emulator, call: Call) -> Result:
    doc = emu.load(call)
    doc["resolved"] = call.op.action == "resolve"
    emu.writer(call).save("IntegrationHistoryRecord", doc)
    return Result(record=doc)


# What document-type names in a history record, as storage kinds.
DOCUMENT_KINDS = {
    "InvoiceHeader": "InvoiceHeader",
    "OrderHeader": "OrderHeader",
    "RequisitionHeader": "RequisitionHeader",
    "Supplier": "Supplier",
    "User": "User",
    "Account": "Account",
    "LookupValue": "LookupValue",
    "CoupaPay::Payment": "CoupaPay-Payment",
    "ExpenseReport": "ExpenseReport",
}


@action("/integration_history_records", "create_alert", "mark_exported", "create_alert_and_mark_exported")
def _history_actions(emu: Emulator, call: Call) -> Result:
    """Record the outcome of an export and, for the ``mark_exported`` forms, mark the document."""
    move = call.op.action or ""
    body = dict(call.body)
    body.setdefault("contact-alert-type", "Functional")
    result = generic_create(emu, replace(call, body=body))
    if "mark_exported" in move:
        kind = DOCUMENT_KINDS.get(str(body.get("document-type")))
        writer = emu.writer(call)
        if kind is None:
            raise writer.fail(
                "IntegrationHistoryRecord", f"Document type {body.get('document-type')} cannot be exported"
            )
        document = emu.store.get(kind, int(body.get("document-id") or 0))
        if document is None:
            raise writer.fail("IntegrationHistoryRecord", "Document not found")
        writer.mark_exported(kind, document, True)
    return result


@derive("QuoteRequest")
def _quote_request(writer: Writer, doc: dict[str, Any], creating: bool) -> None:
    if creating:
        _default(doc, "event-type", "rfi")  # Compass: a new event without a type is an RFI
