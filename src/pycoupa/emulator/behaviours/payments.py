"""Coupa Pay payments (seed 003): read-only but for the exported flag, with the nesting of the
seed's examples; ``payment-partner`` mirrors the pay-from account's partner so that the seed's
``payment-partner[issuing-bank]=...`` query works as written."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pycoupa.emulator.behaviours.registry import action, derive
from pycoupa.emulator.handlers import Call, Result, generic_update
from pycoupa.emulator.writes import CoupaError, Writer

if TYPE_CHECKING:
    from pycoupa.emulator.app import Emulator

STATUSES = (
    "draft",
    "approved",
    "payment_initiated",
    "payment_in_progress",
    "completed_successfully",
    "completed_with_errors",
)


@derive("CoupaPay-Payment")
def _payment(writer: Writer, doc: dict[str, Any], creating: bool) -> None:
    account_id = doc.get("pay-from-account")
    if isinstance(account_id, int):
        account = writer.store.get("CoupaPay-CompanyPaymentAccount", account_id) or {}
        doc["payment-partner"] = account.get("payment-partner")
    batch = doc.get("payment-batch")
    doc["payment-batch-id"] = batch if isinstance(batch, int) else None


@action("/coupa_pay/payments", "update")
def _update(emu: Emulator, call: Call) -> Result:
    """PUT and PATCH only mark a payment exported (seed 003: "PUT (only to mark exported)")."""
    emu.load(call)  # 404 for an unknown payment comes before any complaint about the body
    others = sorted(k for k in call.body if k not in ("exported", "id"))
    if others:
        raise CoupaError(
            400,
            [f"Payments can only be marked exported through the API; not allowed: {', '.join(others)}"],
            key="coupa_pay_payment",
        )
    if call.query.exported is None and "exported" not in call.body:
        raise CoupaError(400, ["Nothing to update: send exported=true"], key="coupa_pay_payment")
    return generic_update(emu, call)
