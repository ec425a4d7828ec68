"""Corrections of R39's definitions where they contradict Coupa's documented payloads.

Shared by the emulator (what it stores and renders) and the SDK (what it validates queries and
projections against), so that both agree with Coupa rather than with the OpenAPI files' slips.
"""

from __future__ import annotations

from dataclasses import replace

from pycoupa.catalog.model import Catalog, Definition, Field, Operation


def _field(
    name: str,
    type_: str | None = None,
    fmt: str | None = None,
    ref: str | None = None,
    read_only: bool = False,
    items: str | None = None,
) -> Field:
    return Field(name=name, type=type_, format=fmt, enum=None, read_only=read_only, ref=ref, items=items)


def _simple_fields(*names: str) -> dict[str, Field]:
    return {n: _field(n, "string", "string(255)") for n in names}


# Corrections of R39 definitions that contradict Coupa's documented payloads (seed 003: a payment's
# pay-to-account is an account with a type, a supplier and a remit-to address; R39 points it back
# at the payment and leaves the serializer empty). ``None`` drops a field.
PATCHES: dict[str, dict[str, Field | None]] = {
    "CoupaPay-Payment": {
        "pay-to-account": _field("pay-to-account", ref="CoupaPay-PayToAccount"),
        "payee": _field("payee", ref="Supplier"),
        # The seed filters payments by payment-partner[issuing-bank]: the pay-from account's partner.
        "payment-partner": _field("payment-partner", ref="CoupaPay-PaymentPartner"),
    },
    "CoupaPay-PaymentDetail": {"currency": _field("currency", ref="Currency")},
    # Coupa's samples nest the requisition's currency ({id, code}) and give these user fields as arrays.
    "RequisitionHeader": {"currency": _field("currency", ref="Currency")},
    "User": {
        "expenses-delegated-to": _field("expenses-delegated-to", "array", ref="UserSimple"),
        "can-expense-for": _field("can-expense-for", "array", ref="UserSimple"),
    },
    "CoupaPay-PaymentPartner": {
        "account-types": _field("account-types", "array", ref="AccountType"),
        "products": None,
        "configuration": _field("configuration", "object"),
    },
}
NEW_DEFINITIONS: dict[str, dict[str, Field]] = {
    "CoupaPay-PayToAccount": {
        "id": _field("id", "integer", "integer", read_only=True),
        "created-at": _field("created-at", "string", "datetime", read_only=True),
        "updated-at": _field("updated-at", "string", "datetime", read_only=True),
        "coupa-pay-id": _field("coupa-pay-id", "integer", "integer"),
        **_simple_fields("account-name", "source-name", "account-kind", "status", "type"),
        "document-types": _field("document-types", "array", items="string"),
        "virtual-card-days-valid": _field("virtual-card-days-valid", "integer", "integer"),
        "currency": _field("currency", ref="Currency"),
        "supplier": _field("supplier", ref="Supplier"),
        "remit-to-address": _field("remit-to-address", ref="RemitToAddress"),
        "created-by": _field("created-by", ref="UserSimple"),
        "updated-by": _field("updated-by", ref="UserSimple"),
    },
}


# Definitions whose every field R39 marks read-only although Coupa's documented writes set them
# (a supplier contact's phone numbers in the supplier samples).
WRITABLE_DEFINITIONS: frozenset[str] = frozenset({"PhoneNumber"})
# Fields R39 marks read-only that Coupa documents as writable (coupa-api.md section 6).
WRITABLE: frozenset[tuple[str, str]] = frozenset(
    {
        ("LookupValue", "external-ref-code"),
        ("User", "api-user"),
        ("UserGroup", "mention-name"),
        ("AccountType", "legal-entity-name"),
        ("AccountType", "dynamic-flag"),
    }
)


def patched_definitions(catalog: Catalog) -> dict[str, Definition]:
    # Rails predicate methods (``active?``, ``exported?``) leak into R39 as fields; Coupa's payloads
    # never carry them, and ``?`` is not legal in an XML element name.
    out = {
        name: Definition(
            name=name, fields={k: f for k, f in d.fields.items() if not k.endswith("?")}, required=d.required
        )
        for name, d in catalog.definitions.items()
    }
    for name in WRITABLE_DEFINITIONS:
        base = out[name]
        fields = {
            k: (f if k in ("id", "created-at", "updated-at") else replace(f, read_only=False))
            for k, f in base.fields.items()
        }
        out[name] = Definition(name=name, fields=fields, required=base.required)
    for name, fname in WRITABLE:
        base = out[name]
        fields = dict(base.fields)
        fields[fname] = replace(fields[fname], read_only=False)
        out[name] = Definition(name=name, fields=fields, required=base.required)
    for name, changes in PATCHES.items():
        base = out[name]
        fields = dict(base.fields)
        for fname, f in changes.items():
            if f is None:
                fields.pop(fname, None)
            else:
                fields[fname] = f
        out[name] = Definition(name=name, fields=dict(sorted(fields.items())), required=base.required)
    for name, fields in NEW_DEFINITIONS.items():
        out[name] = Definition(name=name, fields=dict(sorted(fields.items())), required=())
    return out


# Documented Coupa routes that R39's OpenAPI lacks: invoices are created with POST /api/invoices as
# drafts (coupa-api.md section 6; seed 001 notes Coupa once refused it), and seed 001 lists
# GET /api/invoices/new/submit_for_approval. The emulator serves them; the SDK offers them.
_COMPASS = {"area": "Compass", "tag": None, "params": (), "response": None,
            "consumes": ("application/xml", "application/json"), "statuses": (200, 201, 400)}  # fmt: skip
DOCUMENTED_OPERATIONS: tuple[Operation, ...] = (
    Operation(method="POST", path="/invoices", body="InvoiceHeader", kind="create", resource="/invoices",
              scopes=("core.invoice.create", "core.invoice.write"), **_COMPASS),  # type: ignore[arg-type]
    Operation(method="GET", path="/invoices/new/submit_for_approval", body=None, kind="collection_action",
              resource="/invoices", action="new/submit_for_approval", scopes=("core.invoice.create",),
              **_COMPASS),  # type: ignore[arg-type]
)  # fmt: skip


def documented_operations() -> list[Operation]:
    return list(DOCUMENTED_OPERATIONS)
