"""Approvals: chains started when a document is submitted; ``approve``, ``reject`` and ``hold``
only while pending; the last approval moves its document along (coupa-api.md, Approvals)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from pycoupa.emulator.behaviours.registry import action
from pycoupa.emulator.handlers import Call, Result
from pycoupa.emulator.writes import CoupaError, Writer

if TYPE_CHECKING:
    from pycoupa.emulator.app import Emulator

# approvable-type -> storage kind of the document
APPROVABLE_KINDS = {"InvoiceHeader": "InvoiceHeader", "RequisitionHeader": "RequisitionHeader"}

# approvable-type -> what happens to the document when its chain ends: fn(writer, document, outcome)
# with outcome "approved" or "rejected". Registered by the document's behaviour module.
ON_CHAIN_END: dict[str, Callable[[Writer, dict[str, Any], str], None]] = {}

PENDING = "pending_approval"
OPEN_STATUSES = frozenset({PENDING, "on_hold"})


def chain_of(writer: Writer, approvable_type: str, approvable_id: int) -> list[dict[str, Any]]:
    return writer.store.select(
        "Approval",
        "json_extract(t.doc, '$.\"approvable-type\"') = ? AND json_extract(t.doc, '$.\"approvable-id\"') = ?",
        (approvable_type, approvable_id),
        order="json_extract(t.doc, '$.position') ASC, t.id ASC",
    )


def start_chain(writer: Writer, approvable_type: str, document: dict[str, Any], approver_ids: list[int]) -> None:
    """Replace any open chain of the document with one pending approval per approver, in order."""
    for old in chain_of(writer, approvable_type, document["id"]):
        if old.get("status") in OPEN_STATUSES or old.get("status") == "queued":
            writer.store.delete("Approval", old["id"])
    for position, approver in enumerate(approver_ids, start=1):
        writer.insert_system(
            "Approval",
            {
                "approvable-type": approvable_type,
                "approvable-id": document["id"],
                "approver-id": approver,
                "approver-type": "User",
                "approver": {"id": approver, "type": "User"},
                "position": position,
                "status": PENDING if position == 1 else "queued",
                "type": "ManagementHierarchyApproval",
                "holdable": True,
                "approval-chain-id": document["id"],
            },
        )
    document["approvals"] = [a["id"] for a in chain_of(writer, approvable_type, document["id"])]


def _finish(writer: Writer, approval: dict[str, Any], outcome: str) -> None:
    kind = APPROVABLE_KINDS.get(str(approval.get("approvable-type")))
    if kind is None:
        return
    document = writer.store.get(kind, int(approval.get("approvable-id") or 0))
    if document is None:
        return
    chain = chain_of(writer, str(approval["approvable-type"]), document["id"])
    if outcome == "approved":
        queued = [a for a in chain if a.get("status") == "queued"]
        if queued:
            queued[0]["status"] = PENDING
            writer.store.update("Approval", queued[0]["id"], queued[0])
            return
    hook = ON_CHAIN_END.get(str(approval["approvable-type"]))
    if hook:
        hook(writer, document, outcome)


@action("/approvals", "approve", "reject", "hold")
def _decide(emu: Emulator, call: Call) -> Result:
    approval = emu.load(call)
    move = call.op.action or ""
    status = approval.get("status")
    allowed = {PENDING} if move == "hold" else OPEN_STATUSES
    if status not in allowed:
        raise CoupaError(400, [f"Approval cannot be {_past(move)} when it is {status}"], key="approval")
    writer = emu.writer(call)
    note = call.body.get("note") or call.body.get("reason")
    if note is None:
        # PUT /approvals/:id/reject?reason=... (Compass example) carries the reason in the query.
        note = next((str(c.value) for c in call.query.conditions if c.path == ("reason",)), None)
    approval["status"] = {"approve": "approved", "reject": "rejected", "hold": "on_hold"}[move]
    approval["note"] = note if note is not None else approval.get("note")
    if move != "hold":
        approval["approval-date"] = writer.now
        approval["approved-by"] = call.principal.user_id
    writer.save("Approval", approval)
    if move in ("approve", "reject"):
        _finish(writer, approval, "approved" if move == "approve" else "rejected")
    return Result(record=approval)


def _past(move: str) -> str:
    return {"approve": "approved", "reject": "rejected", "hold": "held"}[move]


def approve_current(writer: Writer, approvable_type: str, document: dict[str, Any], *, all_of_them: bool) -> None:
    """Bypass: approve the current approval (or every open one) as the API user."""
    for approval in chain_of(writer, approvable_type, document["id"]):
        if approval.get("status") in (PENDING, "on_hold", "queued"):
            approval["status"] = "approved"
            approval["approval-date"] = writer.now
            approval["approved-by"] = writer.user_id
            approval["note"] = "Bypassed through the API"
            writer.save("Approval", approval)
            if not all_of_them:
                _finish(writer, approval, "approved")
                return
    hook = ON_CHAIN_END.get(approvable_type)
    if hook:
        hook(writer, document, "approved")
