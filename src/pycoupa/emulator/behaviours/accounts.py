"""Accounts (seed 002): ``code`` is the non-blank segments joined by ``-``; the account type must
exist; ``favorites``, ``recent`` and ``user_accounts`` list active accounts; ``validate_account``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson

from pycoupa.emulator.behaviours.registry import action, derive
from pycoupa.emulator.handlers import Call, Result
from pycoupa.emulator.writes import CoupaError, Writer

if TYPE_CHECKING:
    from pycoupa.emulator.app import Emulator

SEGMENTS = tuple(f"segment-{n}" for n in range(1, 21))
ACTIVE = "json_extract(t.doc, '$.active') = 1"


def account_code(doc: dict[str, Any]) -> str:
    return "-".join(str(doc[s]).strip() for s in SEGMENTS if doc.get(s) not in (None, "") and str(doc[s]).strip())


@derive("Account")
def _account(writer: Writer, doc: dict[str, Any], creating: bool) -> None:
    if creating and doc.get("active") is None:
        doc["active"] = True
    doc["code"] = account_code(doc)
    if not doc["code"]:
        writer.errors.append("Segment 1 can't be blank")
    if doc.get("account-type") is not None:
        doc["account-type-id"] = doc["account-type"]


@action("/accounts", "favorites", "user_accounts")
def _active_accounts(emu: Emulator, call: Call) -> Result:
    return Result(records=emu.query(call, ACTIVE))


@action("/accounts", "recent")
def _recent(emu: Emulator, call: Call) -> Result:
    """Most recently touched first (newest id first on ties), unless the caller orders otherwise."""
    order = None if call.query.order_by else "json_extract(t.doc, '$.\"updated-at\"') DESC, t.id DESC"
    return Result(records=emu.query(call, ACTIVE, order=order))


@action("/accounts", "validate_account")
def _validate_account(emu: Emulator, call: Call) -> Result:
    """An account is valid when an active account of that type has these segments (or code)."""
    body = call.body
    writer = emu.writer(call)
    type_ref = body.get("account-type")
    if not type_ref:
        raise CoupaError(400, ["Account type can't be blank"], key="account")
    plan = emu.schema.plan_by_name("Account")["account-type"]
    type_id = writer._reference(plan, type_ref, "Account type")
    if writer.errors:
        raise writer.fail("Account", *writer.errors)
    code = body.get("code") or account_code(body)
    if not code:
        raise CoupaError(400, ["Segment 1 can't be blank"], key="account")
    rows = (
        emu.store.execute(
            "SELECT doc FROM r_Account WHERE json_extract(doc, '$.\"account-type\"') = ? "
            "AND json_extract(doc, '$.code') = ?",
            (type_id, code),
        )
        if emu.store.has_table("Account")
        else []
    )
    if not rows:
        raise CoupaError(400, [f"Account {code} does not exist for this account type"], key="account")
    doc = orjson.loads(rows[0][0])
    if not doc.get("active"):
        raise CoupaError(400, [f"Account {code} is inactive"], key="account")
    return Result(record=doc)
