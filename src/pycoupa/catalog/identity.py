"""What identifies a record being created, by Coupa's uniqueness rules (coupa-api.md section 5).

When the answer to a POST is lost (timeout, dropped connection, 5xx), the SDK looks for the record
before sending it again. That lookup must use fields Coupa keeps unique, or it can find a different
record and report it as created: invoice numbers are unique per supplier only, an account's name is
a free nickname and its code is unique only within its chart of accounts (account type). Kinds not
listed here (requisitions, expense reports...) have no such key: an ambiguous create of one is
reported to the caller rather than retried.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pycoupa.wire.query import Condition

# definition -> the fields whose values, together, name at most one record. A field that is a
# reference (supplier, account-type) is matched by the referenced record's id, or by the name or
# number the body gives it by.
CREATE_IDENTITY: dict[str, tuple[str, ...]] = {
    "Supplier": ("name",),
    "User": ("login",),
    "UserGroup": ("name",),
    "AccountType": ("name",),
    "Department": ("name",),
    "Integration": ("code",),
    "Item": ("item-number",),
    "LookupValue": ("external-ref-code",),
    "Address": ("location-code",),
    "PaymentTerm": ("code",),
    "OrderHeader": ("po-number",),
    "InvoiceHeader": ("invoice-number", "supplier"),
    "Account": ("code", "account-type"),
}

REFERENCE_KEYS = ("id", "name", "number")
SEGMENTS = tuple(f"segment-{n}" for n in range(1, 21))


def account_code(body: Mapping[str, Any]) -> str | None:
    """The code Coupa gives an account: its non-blank segments joined by ``-`` (Coupa ignores a
    ``code`` sent with segments; without any segment, the code given)."""
    parts = [str(body[s]).strip() for s in SEGMENTS if body.get(s) not in (None, "") and str(body[s]).strip()]
    if parts:
        return "-".join(parts)
    return None if body.get("code") in (None, "") else str(body["code"])


def identity_of(definition: str | None, body: Any) -> dict[str, Any] | None:
    """The identifying values a create body gives (hyphenated keys), or None when it lacks any."""
    fields = CREATE_IDENTITY.get(definition or "")
    if not fields or not isinstance(body, Mapping):
        return None
    out: dict[str, Any] = {}
    for name in fields:
        value = account_code(body) if (definition, name) == ("Account", "code") else body.get(name)
        if isinstance(value, Mapping):
            ref = next(((k, value[k]) for k in REFERENCE_KEYS if value.get(k) not in (None, "")), None)
            if ref is None:
                return None
            value = {ref[0]: ref[1]}
        elif value in (None, "") or isinstance(value, list | tuple):
            return None
        out[name] = value
    return out


def identity_conditions(identity: Mapping[str, Any]) -> list[Condition]:
    """Coupa filters that find the records with this identity (``supplier[id]=5&invoice-number=...``)."""
    conditions = []
    for name, value in identity.items():
        if isinstance(value, Mapping):
            ((key, ref),) = value.items()
            conditions.append(Condition((name, key), "eq", str(ref)))
        else:
            conditions.append(Condition((name,), "eq", str(value)))
    return conditions


def has_identity(record: Any, identity: Mapping[str, Any]) -> bool:
    """Whether a record Coupa returned carries exactly this identity (a filter on a field Coupa
    ignores, or matches loosely, must not pass a different record off as the one created)."""
    if not isinstance(record, Mapping):
        return False
    for name, value in identity.items():
        found = record.get(name)
        if isinstance(value, Mapping):
            ((key, ref),) = value.items()
            if not isinstance(found, Mapping) or str(found.get(key)) != str(ref):
                return False
        elif found is None or str(found) != str(value):
            return False
    return True
