"""Approvals: chains started when a document is submitted; ``approve``, ``reject`` and ``hold``
only while pending; the last approval moves its document along (coupa-api.md, Approvals).

A chain is the document's approvals in ``position`` order: one is current (``pending_approval``,
or ``on_hold`` once held), the later ones wait (``queued``). Each submission starts a new chain
(its approvals carry a hidden round number); earlier chains' decided approvals stay as history but
are no longer part of the document's ``approvals``. On top of ``approve``/``reject``/``hold`` the
document's own actions work on its current chain: add a manual approver at the end, remove a
manually added approver who has not decided yet, bypass the current approval (or all of them),
and restart the chain from its first approver.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
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
QUEUED = "queued"
BYPASSED = "bypassed"
OPEN_STATUSES = frozenset({PENDING, "on_hold"})
UNDECIDED = OPEN_STATUSES | {QUEUED}
APPROVER_KINDS = {"User": "User", "UserGroup": "UserGroup"}
# Hidden fields (not in R39's Approval, so never rendered): the submission an approval belongs to,
# and whether it was added by hand (only those can be removed again).
ROUND = "__round"
MANUAL = "__manual"


def chain_of(writer: Writer, approvable_type: str, approvable_id: int) -> list[dict[str, Any]]:
    """Every approval ever made for the document, current chain and history, in position order."""
    return writer.store.select(
        "Approval",
        "json_extract(t.doc, '$.\"approvable-type\"') = ? AND json_extract(t.doc, '$.\"approvable-id\"') = ?",
        (approvable_type, approvable_id),
        order="json_extract(t.doc, '$.position') ASC, t.id ASC",
    )


def _round(approval: Mapping[str, Any]) -> int:
    return int(approval.get(ROUND) or 0)


def current_chain(writer: Writer, approvable_type: str, approvable_id: int) -> list[dict[str, Any]]:
    """The approvals of the document's latest submission, in position order."""
    chain = chain_of(writer, approvable_type, approvable_id)
    if not chain:
        return []
    latest = max(_round(a) for a in chain)
    return [a for a in chain if _round(a) == latest]


def _list_on(writer: Writer, approvable_type: str, document: dict[str, Any]) -> None:
    document["approvals"] = [a["id"] for a in current_chain(writer, approvable_type, document["id"])]


def start_chain(writer: Writer, approvable_type: str, document: dict[str, Any], approver_ids: list[int]) -> None:
    """Replace any open chain of the document with one pending approval per approver, in order."""
    old = chain_of(writer, approvable_type, document["id"])
    next_round = max((_round(a) for a in old), default=0) + 1
    for approval in old:
        if approval.get("status") in UNDECIDED:
            writer.store.delete("Approval", approval["id"])
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
                "status": PENDING if position == 1 else QUEUED,
                "type": "ManagementHierarchyApproval",
                "holdable": True,
                "approval-chain-id": document["id"],
                ROUND: next_round,
            },
        )
    _list_on(writer, approvable_type, document)


def _end(writer: Writer, approvable_type: str, document: dict[str, Any], outcome: str) -> None:
    hook = ON_CHAIN_END.get(approvable_type)
    if hook:
        hook(writer, document, outcome)


def advance(writer: Writer, approvable_type: str, document: dict[str, Any]) -> None:
    """After the current approval went away (approved, bypassed, removed): the next waiting one
    becomes current; with none left the chain is done and the document approved."""
    chain = current_chain(writer, approvable_type, document["id"])
    if any(a.get("status") in OPEN_STATUSES for a in chain):
        return
    waiting = [a for a in chain if a.get("status") == QUEUED]
    if waiting:
        waiting[0]["status"] = PENDING
        writer.save("Approval", waiting[0])
        return
    _end(writer, approvable_type, document, "approved")


def _finish(writer: Writer, approval: dict[str, Any], outcome: str) -> None:
    kind = APPROVABLE_KINDS.get(str(approval.get("approvable-type")))
    if kind is None:
        return
    document = writer.store.get(kind, int(approval.get("approvable-id") or 0))
    if document is None:
        return
    if outcome == "approved":
        advance(writer, str(approval["approvable-type"]), document)
    else:
        _end(writer, str(approval["approvable-type"]), document, outcome)


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


def _bypassed(writer: Writer, approval: dict[str, Any]) -> None:
    approval["status"] = BYPASSED
    approval["approval-date"] = writer.now
    approval["approved-by"] = writer.user_id
    approval["note"] = "Bypassed through the API"
    writer.save("Approval", approval)


def bypass(writer: Writer, approvable_type: str, document: dict[str, Any], *, all_of_them: bool) -> None:
    """Mark the current approval (or every undecided one) ``bypassed`` and move the chain on: past
    the last one the document is approved."""
    chain = current_chain(writer, approvable_type, document["id"])
    undecided = [a for a in chain if a.get("status") in UNDECIDED]
    if not all_of_them:
        current = [a for a in undecided if a.get("status") in OPEN_STATUSES] or undecided
        undecided = current[:1]
    for approval in undecided:
        _bypassed(writer, approval)
    if all_of_them:
        _end(writer, approvable_type, document, "approved")
    else:
        advance(writer, approvable_type, document)


def restart_chain(writer: Writer, approvable_type: str, document: dict[str, Any]) -> None:
    """Every approval of the current chain waits again, the first one current, decisions cleared."""
    chain = current_chain(writer, approvable_type, document["id"])
    if not chain:
        start_chain(writer, approvable_type, document, [writer.user_id or 1])
        return
    for position, approval in enumerate(chain, start=1):
        approval.update(
            {
                "status": PENDING if position == 1 else QUEUED,
                "position": position,
                "approval-date": None,
                "approved-by": None,
                "note": None,
            }
        )
        writer.save("Approval", approval)
    _list_on(writer, approvable_type, document)


# -- approvers added and removed by hand ---------------------------------------------------------------
def given_values(call: Call) -> dict[str, Any]:
    """An action's parameters: the body's, or else the query string's (``?approver_id=5``)."""
    query = {"-".join(c.path).replace("_", "-"): c.value for c in call.query.conditions if c.op == "eq"}
    return {**query, **call.body}


def _find(writer: Writer, kind: str, field: str, value: Any) -> dict[str, Any] | None:
    if field == "id":
        try:
            return writer.store.get(kind, int(value))
        except (TypeError, ValueError):
            return None
    rows = writer.store.select(kind, f"json_extract(t.doc, '$.\"{field}\"') = ?", (str(value),), limit=1)
    return rows[0] if rows else None


def find_approver(writer: Writer, definition: str, given: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """The approver an action names: ``approver-id``, or ``approver`` as an id, a login (a user
    group's name) or an object of them; ``approver-type`` is ``User`` (default) or ``UserGroup``.
    Answers (approver type, record); a 400 naming the problem otherwise."""
    raw = given.get("approver")
    typ = given.get("approver-type") or (raw.get("type") if isinstance(raw, Mapping) else None) or "User"
    kind = APPROVER_KINDS.get(str(typ))
    if kind is None:
        raise writer.fail(definition, f"Approver type {typ} is not one of {', '.join(APPROVER_KINDS)}")
    keys: list[tuple[str, Any]] = []
    if given.get("approver-id") not in (None, ""):
        keys.append(("id", given["approver-id"]))
    elif isinstance(raw, Mapping):
        natural = ("login", "email") if kind == "User" else ("name",)
        keys.extend((k, raw[k]) for k in ("id", *natural) if raw.get(k) not in (None, ""))
    elif isinstance(raw, int) or (isinstance(raw, str) and raw.strip().isdigit()):
        keys.append(("id", raw))
    elif isinstance(raw, str) and raw.strip():
        keys.append(("login" if kind == "User" else "name", raw.strip()))
    elif given.get("approver-login") not in (None, ""):
        keys.append(("login", given["approver-login"]))
    if not keys:
        raise writer.fail(definition, "Approver can't be blank: give approver-id or approver (an id or a login)")
    found: dict[str, Any] | None = None
    for field, value in keys:
        record = _find(writer, kind, field, value)
        if record is None or (found is not None and record["id"] != found["id"]):
            described = " and ".join(f"{f} '{v}'" for f, v in keys)
            what = "user" if kind == "User" else "user group"
            raise writer.fail(definition, f"Approver not found: no {what} with {described}")
        found = record
    assert found is not None
    name = found.get("login") or found.get("name") or found["id"]
    if found.get("active") is False:
        raise writer.fail(definition, f"Approver {name} is inactive")
    if kind == "UserGroup" and found.get("can-approve") is False:
        raise writer.fail(definition, f"User group {name} cannot approve")
    return kind, found


def add_approver(
    writer: Writer, approvable_type: str, document: dict[str, Any], approver: tuple[str, dict[str, Any]]
) -> dict[str, Any]:
    """Add a manual approval for ``approver`` at the end of the current chain: current if nobody
    else is waiting, else queued behind the others."""
    kind, record = approver
    chain = current_chain(writer, approvable_type, document["id"])
    for approval in chain:
        same = approval.get("approver-type") == kind and approval.get("approver-id") == record["id"]
        if same and approval.get("status") in UNDECIDED:
            name = record.get("login") or record.get("name") or record["id"]
            raise writer.fail(approvable_type, f"{name} is already an approver of this document awaiting approval")
    waiting = any(a.get("status") in UNDECIDED for a in chain)
    added = writer.insert_system(
        "Approval",
        {
            "approvable-type": approvable_type,
            "approvable-id": document["id"],
            "approver-id": record["id"],
            "approver-type": kind,
            "approver": {"id": record["id"], "type": kind},
            "position": max((int(a.get("position") or 0) for a in chain), default=0) + 1,
            "status": QUEUED if waiting else PENDING,
            "type": "ManualApproval",
            "holdable": True,
            "approval-chain-id": document["id"],
            ROUND: max((_round(a) for a in chain), default=1),
            MANUAL: True,
        },
    )
    _list_on(writer, approvable_type, document)
    return added


def find_approval(
    writer: Writer, approvable_type: str, document: dict[str, Any], given: Mapping[str, Any]
) -> dict[str, Any]:
    """The approval ``remove_approval`` names: ``approval-id`` (or ``approval`` as an id or
    ``{"id": ...}``), or the approver whose undecided approval it is."""
    raw = given.get("approval-id")
    if raw in (None, ""):
        approval = given.get("approval")
        raw = approval.get("id") if isinstance(approval, Mapping) else approval
    chain = current_chain(writer, approvable_type, document["id"])
    if raw not in (None, ""):
        try:
            wanted = int(raw)
        except (TypeError, ValueError):
            raise writer.fail(approvable_type, f"Approval id {raw!r} is not a number") from None
        for approval in chain:
            if approval["id"] == wanted:
                return approval
        raise writer.fail(approvable_type, f"Approval {wanted} is not in this document's approval chain")
    if not any(given.get(k) not in (None, "") for k in ("approver-id", "approver", "approver-login")):
        raise writer.fail(approvable_type, "Approval can't be blank: give approval-id or the approver to remove")
    kind, record = find_approver(writer, approvable_type, given)
    mine = [a for a in chain if a.get("approver-type") == kind and a.get("approver-id") == record["id"]]
    for approval in mine:
        if approval.get(MANUAL) and approval.get("status") in UNDECIDED:
            return approval
    name = record.get("login") or record.get("name") or record["id"]
    if not mine:
        raise writer.fail(approvable_type, f"{name} is not an approver of this document")
    return mine[-1]


def remove_approval(writer: Writer, approvable_type: str, document: dict[str, Any], approval: dict[str, Any]) -> None:
    """Remove a manually added approval that has not been decided; the chain closes up behind it."""
    if not approval.get(MANUAL):
        raise writer.fail(approvable_type, f"Approval {approval['id']} was not added manually and cannot be removed")
    if approval.get("status") not in UNDECIDED:
        raise writer.fail(
            approvable_type, f"Approval {approval['id']} cannot be removed when it is {approval.get('status')}"
        )
    was_current = approval.get("status") in OPEN_STATUSES
    writer.store.delete("Approval", approval["id"])
    for position, other in enumerate(current_chain(writer, approvable_type, document["id"]), start=1):
        if other.get("position") != position:
            other["position"] = position
            writer.save("Approval", other)
    _list_on(writer, approvable_type, document)
    if was_current:
        advance(writer, approvable_type, document)
