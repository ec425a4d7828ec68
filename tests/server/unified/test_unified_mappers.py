"""The mappers against real (seeded) Coupa records, field by field.

Each resource has a table: unified field -> how it derives from the raw Coupa record, written
independently of the mappers (it is ``docs/unified-models.md`` as code). Every record of the
seeded instance is mapped and checked against the table; the table must name every field the
mapper outputs. Then: the ``fields`` projection is sufficient (mapping the projected record gives
the same unified record) and exact (the mapper reads what it lists, nothing else); enums are
normalised with the raw value kept; broken records never raise.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from decimal import Decimal
from typing import Any

import pytest
from tests.server.unified.conftest import World, dumps

from pycoupa.server.unified.accounting import (
    CONTACTS,
    INVOICES,
    PURCHASE_ORDER_REQUISITIONS,
    PURCHASE_ORDERS,
    TRACKING_CATEGORIES,
)
from pycoupa.server.unified.registry import RESOURCES
from pycoupa.server.unified.spec import Source, UnifiedResource

Fn = Callable[[Mapping[str, Any], Any], Any]  # (raw record, parent raw record or None) -> expected value


# -- the table language -------------------------------------------------------------------------------------
def at(obj: Any, path: str) -> Any:
    for part in path.split("."):
        if not isinstance(obj, Mapping):
            return None
        obj = obj.get(part)
    return obj


def V(path: str) -> Fn:
    """The Coupa value as it is."""
    return lambda raw, parent: at(raw, path)


def S(path: str) -> Fn:
    """A Coupa id as a string."""
    return lambda raw, parent: None if at(raw, path) is None else str(at(raw, path))


def F(path: str) -> Fn:
    """A Coupa decimal (string) as a float."""
    return lambda raw, parent: None if at(raw, path) in (None, "") else float(Decimal(str(at(raw, path))))


def C(value: Any) -> Fn:
    """A constant (``None`` for a field Coupa has no source for)."""
    return lambda raw, parent: value


def REF(path: str, **more: str) -> Fn:
    """A reference object ``{"id": str, "name": ..., <more>}`` built from a nested Coupa record."""

    def fn(raw: Mapping[str, Any], parent: Any) -> Any:
        obj = at(raw, path)
        if not obj:
            return None
        out = {"id": str(obj["id"]), "name": obj.get("name")}
        out.update({k: obj.get(v) for k, v in more.items()})
        return out

    return fn


def USER(path: str) -> Fn:
    def fn(raw: Mapping[str, Any], parent: Any) -> Any:
        u = at(raw, path)
        return {"id": str(u["id"]), "name": u["fullname"], "email": u["email"]} if u else None

    return fn


def VENDOR(path: str) -> Fn:
    def fn(raw: Mapping[str, Any], parent: Any) -> Any:
        s = at(raw, path)
        return {"id": str(s["id"]), "name": s["name"], "type": "vendor"} if s else None

    return fn


def ENUM(path: str, table: Mapping[str, str]) -> Fn:
    """A normalised enum: the table's value, else the raw value unchanged."""
    return lambda raw, parent: table.get(at(raw, path), at(raw, path))


def ACTIVE(path: str, off: str = "archived") -> Fn:
    return lambda raw, parent: None if at(raw, path) is None else ("active" if at(raw, path) else off)


def HEADER(fn: Fn) -> Fn:
    """For a line: the value taken from its header record."""
    return lambda raw, parent: fn(parent, None)


def OR(first: Fn, second: Fn) -> Fn:
    return lambda raw, parent: first(raw, parent) or second(raw, parent)


def CATEGORIES(*refs: tuple[str, str]) -> Fn:
    """Tracking-category references: ``(prefix, path)`` for each nested record that is present."""

    def fn(raw: Mapping[str, Any], parent: Any) -> Any:
        out = []
        for prefix, path in refs:
            obj = at(raw, path)
            if obj:
                out.append({"id": f"{prefix}:{obj['id']}", "name": obj["name"], "category_type": prefix})
        return out

    return fn


def check_table(table: Mapping[str, Fn], unified: Mapping[str, Any], raw: Mapping[str, Any], parent: Any) -> None:
    for name, fn in table.items():
        want = fn(raw, parent)
        got = unified[name]
        assert got == want, f"{name}: got {got!r}, want {want!r} (raw id {raw.get('id')})"
    assert set(unified) == set(table), f"fields without a table entry: {set(unified) ^ set(table)}"


# -- the documented enum maps (docs/unified-models.md) ------------------------------------------------------
INVOICE_STATUS = {
    "draft": "draft", "new": "draft", "save_as_draft": "draft", "rejected": "draft", "invalid": "draft",
    "pending_approval": "submitted", "pending_receipt": "submitted", "pending_action": "submitted",
    "on_hold": "submitted", "ap_hold": "submitted", "booking_hold": "submitted", "disputed": "submitted",
    "processing": "submitted", "approved": "authorised", "voided": "voided", "abandoned": "deleted",
}  # fmt: skip
PO_STATUS = {
    "draft": "draft", "buyer_hold": "submitted", "currency_hold": "submitted", "supplier_hold": "submitted",
    "supplier_window_hold": "submitted", "error": "submitted", "issued": "authorised", "exported": "authorised",
    "closed": "billed", "expensed": "billed", "cancelled": "deleted", "canceled": "deleted",
}  # fmt: skip
REQ_STATUS = {
    "draft": "draft", "cart": "draft", "pending_buyer_action": "submitted", "pending_approval": "submitted",
    "backgrounded": "submitted", "approved": "authorised", "ordered": "authorised",
    "partially_received": "partially_delivered", "received": "delivered", "abandoned": "deleted",
    "withdrawn": "deleted",
}  # fmt: skip
SUPPLIER_STATUS = {"active": "active", "inactive": "archived"}
LINE_TYPE = {
    "InvoiceQuantityLine": "quantity", "InvoiceAmountLine": "amount", "OrderQuantityLine": "quantity",
    "OrderAmountLine": "amount", "RequisitionQuantityLine": "quantity", "RequisitionAmountLine": "amount",
}  # fmt: skip


def invoice_status(raw: Mapping[str, Any], parent: Any) -> Any:
    s = INVOICE_STATUS.get(raw.get("status"), raw.get("status"))  # type: ignore[arg-type]
    return "paid" if s == "authorised" and raw.get("paid") else s


def segments(raw: Mapping[str, Any], parent: Any) -> Any:
    return [
        {"position": n, "value": raw[f"segment-{n}"]} for n in range(1, 21) if raw.get(f"segment-{n}") not in (None, "")
    ]


def address(kind: str) -> Callable[[Mapping[str, Any]], dict[str, Any]]:
    def fn(a: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "id": str(a["id"]), "type": kind, "name": a.get("name"), "street_1": a.get("street1"),
            "street_2": a.get("street2"), "city": a.get("city"), "state": a.get("state"),
            "postal_code": a.get("postal-code"), "country": at(a, "country.code"),
        }  # fmt: skip

    return fn


def contact_addresses(raw: Mapping[str, Any], parent: Any) -> Any:
    out = [address("primary")(raw["primary-address"])] if raw.get("primary-address") else []
    return out + [address("remit_to")(a) for a in raw.get("remit-to-addresses") or []]


def contact_emails(raw: Mapping[str, Any], parent: Any) -> Any:
    out = []
    email = at(raw, "primary-contact.email")
    if email:
        out.append({"email": email, "type": "primary"})
    if raw.get("po-email") and raw.get("po-email") != email:
        out.append({"email": raw["po-email"], "type": "orders"})
    return out


def phone_list(*pairs: tuple[str, str]) -> Fn:
    def fn(raw: Mapping[str, Any], parent: Any) -> Any:
        out = []
        for path, kind in pairs:
            p = at(raw, path)
            if not p:
                continue
            parts = [f"+{p['country-code']}" if p.get("country-code") else None, p.get("area-code"), p.get("number")]
            text = " ".join(str(x) for x in parts if x)
            if text:
                out.append({"number": text, "extension": p.get("extension"), "type": kind})
        return out

    return fn


def po_total(raw: Mapping[str, Any], parent: Any) -> Any:
    totals = [Decimal(ln["total"]) for ln in raw.get("order-lines") or [] if ln.get("total") is not None]
    return float(sum(totals)) if totals else None


def first_need_by(raw: Mapping[str, Any], parent: Any) -> Any:
    return next((ln["need-by-date"] for ln in raw.get("order-lines") or [] if ln.get("need-by-date")), None)


def common_vendor(raw: Mapping[str, Any], parent: Any) -> Any:
    ids = {ln["supplier"]["id"] for ln in raw.get("requisition-lines") or [] if ln.get("supplier")}
    if len(ids) != 1:
        return None
    s = next(ln["supplier"] for ln in raw["requisition-lines"] if ln.get("supplier"))
    return {"id": str(s["id"]), "name": s["name"], "type": "vendor"}


def requisition_currency(raw: Mapping[str, Any], parent: Any) -> Any:
    if at(raw, "currency.code"):
        return at(raw, "currency.code")
    codes = {at(ln, "currency.code") for ln in raw.get("requisition-lines") or []} - {None}
    return codes.pop() if len(codes) == 1 else None


def line_number(raw: Mapping[str, Any], parent: Any) -> Any:
    n = raw.get("line-num")
    return int(n) if isinstance(n, str) and n.isdigit() else n


ADDRESS_REF = REF("ship-to-address", location_code="location-code")
ADDRESS_REF_DEFAULT = REF("default-address", location_code="location-code")
ITEM = REF("item", number="item-number")
ACCOUNT = REF("account", code="code")


def order_numbers(raw: Mapping[str, Any], parent: Any) -> list[dict[str, str]]:
    """Each distinct ``po-number`` of the lines, first seen first."""
    seen: dict[str, None] = {}
    for line in raw.get("invoice-lines") or []:
        if line.get("po-number"):
            seen.setdefault(line["po-number"], None)
    return [{"number": n} for n in seen]


# -- the tables ---------------------------------------------------------------------------------------------
INVOICE = {
    "id": S("id"), "type": C("bill"), "number": V("invoice-number"), "contact": VENDOR("supplier"),
    "company": REF("account-type"), "employee": USER("requested-by"), "issue_date": V("invoice-date"),
    "due_date": V("net-due-date"), "paid_on_date": V("payment-date"), "memo": V("comments"),
    "currency": V("currency.code"), "exchange_rate": F("exchange-rate"), "total_discount": F("discount-amount"),
    "sub_total": F("gross-total"), "total_tax_amount": F("total-taxes-less-discount"),
    "total_amount": F("total-with-taxes"),
    "balance": lambda raw, parent: 0.0 if raw.get("paid") else F("amount-due")(raw, parent),
    "status": invoice_status, "remote_status": V("status"), "is_credit_note": V("is-credit-note"),
    "payment_term": V("payment-term.code"),
    "payments": lambda raw, parent: [
        {"id": str(p["id"]), "amount": F("amount-paid")(p, None), "payment_date": p.get("payment-date")}
        for p in raw.get("payments") or []
    ],
    "tracking_categories": C(None), "line_items": C(...), "created_at": V("created-at"), "updated_at": V("updated-at"),
    "purchase_orders": order_numbers, "accounting_period": C(None), "inclusive_of_tax": C(None),
    "applied_payments": C(None), "applied_credit_notes": C(None), "applied_vendor_credits": C(None),
}  # fmt: skip
INVOICE_LINE = {
    "id": S("id"), "line_number": V("line-num"), "name": OR(V("item.name"), V("description")),
    "description": V("description"), "type": ENUM("type", LINE_TYPE), "remote_type": V("type"), "item": ITEM,
    "account": ACCOUNT, "quantity": F("quantity"), "unit_price": F("price"), "unit_of_measure": V("uom.code"),
    "tax_rate": F("tax-rate"), "tax_amount": F("tax-amount"), "total_line_amount": F("total"),
    "currency": OR(V("currency.code"), HEADER(V("currency.code"))), "exchange_rate": HEADER(F("exchange-rate")),
    "purchase_order_number": V("po-number"), "purchase_order_line_id": S("order-line-id"),
    "tracking_categories": CATEGORIES(("account", "account")),
}  # fmt: skip
PURCHASE_ORDER = {
    "id": S("id"), "number": V("po-number"), "status": ENUM("status", PO_STATUS), "remote_status": V("status"),
    "issue_date": V("created-at"), "delivery_date": first_need_by, "delivery_address": ADDRESS_REF,
    "customer": C(None), "vendor": VENDOR("supplier"), "employee": USER("requester"), "memo": C(None),
    "company": C(None), "total_amount": po_total, "currency": V("currency.code"), "exchange_rate": C(None),
    "payment_term": V("payment-term.code"), "version": V("version"), "tracking_categories": C(None),
    "line_items": C(...), "created_at": V("created-at"), "updated_at": V("updated-at"),
}  # fmt: skip
ORDER_LINE = {
    "id": S("id"), "line_number": line_number, "name": OR(V("item.name"), V("description")),
    "description": V("description"), "type": ENUM("type", LINE_TYPE), "remote_type": V("type"), "item": ITEM,
    "account": ACCOUNT, "quantity": F("quantity"), "unit_price": F("price"), "unit_of_measure": V("uom.code"),
    "tax_rate": C(None), "tax_amount": C(None), "total_line_amount": F("total"),
    "currency": OR(V("currency.code"), HEADER(V("currency.code"))), "exchange_rate": C(None),
    "delivery_date": V("need-by-date"),
    "tracking_categories": CATEGORIES(("account", "account"), ("department", "department")),
}  # fmt: skip
REQUISITION = {
    "id": S("id"), "title": V("req-title"), "status": ENUM("status", REQ_STATUS), "remote_status": V("status"),
    "issue_date": V("submitted-at"), "delivery_date": V("need-by-date"), "delivery_address": ADDRESS_REF,
    "customer": C(None), "vendor": common_vendor, "employee": USER("requested-by"), "memo": V("justification"),
    "total_amount": F("total"), "currency": requisition_currency, "exchange_rate": C(None),
    "tracking_categories": CATEGORIES(("department", "department")), "line_items": C(...),
    "created_at": V("created-at"), "updated_at": V("updated-at"),
}  # fmt: skip
REQUISITION_LINE = {
    "id": S("id"), "line_number": V("line-num"), "name": OR(V("item.name"), V("description")),
    "description": V("description"), "type": ENUM("line-type", LINE_TYPE), "remote_type": V("line-type"),
    "item": ITEM, "account": ACCOUNT, "vendor": VENDOR("supplier"), "quantity": F("quantity"),
    "unit_price": F("unit-price"), "unit_of_measure": V("uom.code"), "tax_rate": C(None),
    "total_line_amount": F("total"), "currency": OR(V("currency.code"), HEADER(V("currency.code"))),
    "exchange_rate": C(None), "delivery_date": V("need-by-date"),
    "tracking_categories": CATEGORIES(("account", "account")),
}  # fmt: skip
ACCOUNT_TABLE = {
    "id": S("id"), "name": OR(V("name"), V("code")), "description": C(None), "account_number": V("code"),
    "code": V("code"), "segments": segments, "classification": C(None), "type": C(None), "status": ACTIVE("active"),
    "remote_status": V("active"), "current_balance": C(None), "currency": C(None), "parent_account": C(None),
    "company": REF("account-type"), "created_at": V("created-at"), "updated_at": V("updated-at"),
}  # fmt: skip
CONTACT = {
    "id": S("id"), "name": V("name"), "display_name": V("display-name"), "number": V("number"), "type": C("vendor"),
    "is_supplier": C(True), "is_customer": C(False), "status": ENUM("status", SUPPLIER_STATUS),
    "remote_status": V("status"), "tax_number": V("tax-id"), "emails": contact_emails,
    "phones": phone_list(("primary-contact.phone-work", "work"), ("primary-contact.phone-mobile", "mobile"),
                         ("primary-contact.phone-fax", "fax")),
    "addresses": contact_addresses, "website": V("website"), "currency": C(None), "company": C(None),
    "payment_term": V("payment-term.code"), "created_at": V("created-at"), "updated_at": V("updated-at"),
}  # fmt: skip
CURRENCY = {
    "id": S("id"), "name": V("name"), "code": V("code"), "symbol": V("symbol"), "decimals": V("decimals"),
    "status": ACTIVE("enabled"), "remote_status": V("enabled"), "created_at": C(None), "updated_at": C(None),
}  # fmt: skip
EMPLOYEE = {
    "id": S("id"), "first_name": V("firstname"), "last_name": V("lastname"), "name": V("fullname"),
    "username": V("login"), "employee_number": V("employee-number"),
    "emails": lambda raw, parent: [{"email": raw["email"], "type": "work"}] if raw.get("email") else [],
    "phones": phone_list(("phone-work", "work"), ("phone-mobile", "mobile")),
    "addresses": lambda raw, parent: [ADDRESS_REF_DEFAULT(raw, parent)] if raw.get("default-address") else [],
    "status": ACTIVE("active", "inactive"), "remote_status": V("active"), "is_contractor": C(None),
    "department": REF("department"), "manager": USER("manager"), "company": REF("legal-entity"),
    "created_at": V("created-at"), "updated_at": V("updated-at"),
}  # fmt: skip
ITEM_TABLE = {
    "id": S("id"), "name": V("name"), "description": V("description"), "number": V("item-number"),
    "type": V("item-type"), "status": ACTIVE("active"), "remote_status": V("active"), "unit_of_measure": V("uom.code"),
    "commodity": REF("commodity"), "manufacturer_name": V("manufacturer-name"),
    "manufacturer_part_number": V("manufacturer-part-number"), "quantity": C(None), "unit_price": C(None),
    "purchase_price": C(None), "purchase_account": C(None), "sales_account": C(None), "asset_account": C(None),
    "company": C(None), "purchase_tax_rate": C(None), "sales_tax_rate": C(None), "created_at": V("created-at"),
    "updated_at": V("updated-at"),
}  # fmt: skip


def refs(path: str) -> Fn:
    return lambda raw, parent: [{"id": str(x["id"]), "name": x.get("name")} for x in raw.get(path) or []]


USER_TABLE = {
    "id": S("id"), "external_id": V("sso-identifier"), "identifiers": C(None), "username": V("login"),
    "first_name": V("firstname"), "last_name": V("lastname"), "name": V("fullname"), "title": C(None),
    "employee_number": V("employee-number"),
    "emails": lambda raw, parent: [{"email": raw["email"], "type": "work", "is_primary": True}]
    if raw.get("email") else [],
    "phones": phone_list(("phone-work", "work"), ("phone-mobile", "mobile")),
    "status": ACTIVE("active", "inactive"), "remote_status": V("active"), "is_email_verified": C(None),
    "is_2fa_enabled": C(None), "roles": refs("roles"), "groups": refs("user-groups"), "organizations": C(None),
    "created_at": V("created-at"), "updated_at": V("updated-at"),
}  # fmt: skip
GROUP_TABLE = {
    "id": S("id"), "name": V("name"), "description": V("description"), "group_type": C("group"),
    "status": ACTIVE("active", "inactive"), "remote_status": V("active"), "can_approve": V("can-approve"),
    "members": lambda raw, parent: [
        {"id": str(u["id"]), "name": u["fullname"], "email": u["email"]} for u in raw.get("users") or []
    ],
    "organization": C(None), "created_at": V("created-at"), "updated_at": V("updated-at"),
}  # fmt: skip


def category(prefix: str, parent: Fn, **extra: Fn) -> dict[str, Fn]:
    return {
        "id": lambda raw, p: None if raw.get("id") is None else f"{prefix}:{raw['id']}", "name": V("name"),
        "category_type": C(prefix),
        "status": ACTIVE("active"), "remote_status": V("active"), "parent_category": parent, "company": C(None),
        "created_at": V("created-at"), "updated_at": V("updated-at"), **extra,
    }  # fmt: skip


def lookup_value_parent(raw: Mapping[str, Any], p: Any) -> Any:
    if raw.get("parent"):
        return {"id": f"lookup_value:{raw['parent']['id']}", "name": raw["parent"]["name"]}
    if raw.get("lookup"):
        return {"id": f"lookup:{raw['lookup']['id']}", "name": raw["lookup"]["name"]}
    return None


def account_chart(raw: Mapping[str, Any], p: Any) -> Any:
    chart = raw.get("account-type")
    return {"id": f"account_type:{chart['id']}", "name": chart["name"]} if chart else None


CATEGORY_TABLES: dict[str, dict[str, Fn]] = {
    "lookups": category("lookup", C(None), description=V("description"), code=C(None)),
    "lookup_values": category(
        "lookup_value",
        lookup_value_parent,
        description=V("description"),
        code=V("external-ref-code"),
        company=REF("account-type"),
    ),
    "departments": category("department", C(None), description=C(None), code=C(None)),
    "account_types": category(
        "account_type", C(None), description=V("legal-entity-name"), code=C(None), currency=V("currency.code")
    ),
    "accounts": category(
        "account",
        account_chart,
        description=C(None),
        code=V("code"),
        segments=segments,
        company=REF("account-type"),
        name=OR(V("name"), V("code")),
    ),
}
TABLES: dict[tuple[str, str], dict[str, Fn]] = {
    ("accounting", "accounts"): ACCOUNT_TABLE,
    ("accounting", "contacts"): CONTACT,
    ("accounting", "currencies"): CURRENCY,
    ("accounting", "employees"): EMPLOYEE,
    ("accounting", "invoices"): INVOICE,
    ("accounting", "items"): ITEM_TABLE,
    ("accounting", "purchase_orders"): PURCHASE_ORDER,
    ("accounting", "purchase_order_requisitions"): REQUISITION,
    ("user-directory", "users"): USER_TABLE,
    ("user-directory", "groups"): GROUP_TABLE,
}
LINES = {
    ("accounting", "invoices"): ("invoice-lines", INVOICE_LINE),
    ("accounting", "purchase_orders"): ("order-lines", ORDER_LINE),
    ("accounting", "purchase_order_requisitions"): ("requisition-lines", REQUISITION_LINE),
}


def all_sources() -> Iterator[tuple[UnifiedResource, Source]]:
    for res in RESOURCES.values():
        for src in res.sources:
            yield res, src


SOURCES = list(all_sources())
SOURCE_IDS = [f"{res.name}:{src.coupa_resource}" for res, src in SOURCES]


def table_for(res: UnifiedResource, src: Source) -> dict[str, Fn]:
    if res is TRACKING_CATEGORIES:
        return CATEGORY_TABLES[src.coupa_resource]
    return TABLES[(res.model, res.name)]


# -- field by field -----------------------------------------------------------------------------------------
@pytest.mark.parametrize(("res", "src"), SOURCES, ids=SOURCE_IDS)
def test_every_field_follows_its_documented_source(world: World, res: UnifiedResource, src: Source) -> None:
    records = world.records(src)
    assert records, f"the seed made no {src.coupa_resource}"
    table = table_for(res, src)
    lines = LINES.get((res.model, res.name))
    for raw in records:
        unified = src.map(raw)
        check_table(table, {**unified, "line_items": ...} if lines else unified, raw, None)
        if lines:
            key, line_table = lines
            raw_lines = raw.get(key) or []
            assert len(unified["line_items"]) == len(raw_lines)
            for got, raw_line in zip(unified["line_items"], raw_lines, strict=True):
                check_table(line_table, got, raw_line, raw)


def test_the_seed_exercises_the_interesting_cases(world: World) -> None:
    """Guards the field tests against passing on data that never takes a branch."""
    invoices = [INVOICES.sources[0].map(r) for r in world.full["invoices"]]
    statuses = {i["status"] for i in invoices}
    assert {"paid", "authorised", "voided", "submitted", "deleted", "draft"} <= statuses
    assert any(ln["item"] is None for i in invoices for ln in i["line_items"])  # amount lines
    assert any(ln["item"] is not None for i in invoices for ln in i["line_items"])
    pos = {PURCHASE_ORDERS.sources[0].map(r)["status"] for r in world.full["purchase_orders"]}
    assert {"authorised", "deleted", "billed"} <= pos
    reqs = {PURCHASE_ORDER_REQUISITIONS.sources[0].map(r)["status"] for r in world.full["requisitions"]}
    assert {"authorised", "draft"} <= reqs
    contacts = {CONTACTS.sources[0].map(r)["status"] for r in world.full["suppliers"]}
    assert {"active", "archived"} <= contacts
    values = [r for r in world.full["lookup_values"] if r.get("parent")]
    assert values and len(values) < len(world.full["lookup_values"])  # both kinds of parent
    assert any(not r.get("active") for r in world.full["users"])
    assert any(r.get("user-groups") for r in world.full["users"])


# -- the projection -----------------------------------------------------------------------------------------
@pytest.mark.parametrize(("res", "src"), SOURCES, ids=SOURCE_IDS)
def test_projection_gives_the_same_unified_records(world: World, res: UnifiedResource, src: Source) -> None:
    full = {r["id"]: src.map(r) for r in world.full[src.coupa_resource]}
    projected = {r["id"]: src.map(r) for r in world.projected[id(src)]}
    assert full.keys() == projected.keys()
    for rid, record in full.items():
        assert dumps(projected[rid]) == dumps(record), f"{src.coupa_resource} {rid}"


class Recorder(Mapping[str, Any]):
    """A record that notes every attribute path read from it (also reads of absent attributes)."""

    def __init__(self, data: Mapping[str, Any], seen: set[str], prefix: str = "") -> None:
        self._data, self._seen, self._prefix = data, seen, prefix

    def __getitem__(self, key: str) -> Any:
        path = self._prefix + key
        self._seen.add(path)
        value = self._data[key]
        if isinstance(value, Mapping):
            return Recorder(value, self._seen, path + ".")
        if isinstance(value, list):
            return [Recorder(v, self._seen, path + ".") if isinstance(v, Mapping) else v for v in value]
        return value

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)


def spec_paths(fields: Any, prefix: str = "") -> set[str]:
    out: set[str] = set()
    for item in fields:
        if isinstance(item, str):
            out.add(prefix + item)
        else:
            for name, sub in item.items():
                out.add(prefix + name)
                out |= spec_paths(sub, prefix + name + ".")
    return out


def filled(fields: Any) -> dict[str, Any]:
    """A record holding every projected attribute: objects and one-element lists for associations,
    ``"1"`` for scalars (numeric, truthy, a valid id)."""
    out: dict[str, Any] = {}
    for item in fields:
        if isinstance(item, str):
            out[item] = "1"
        else:
            for name, sub in item.items():
                out[name] = filled(sub)
    return out


LIST_ATTRIBUTES = {"invoice-lines", "order-lines", "requisition-lines", "payments", "remit-to-addresses", "roles",
                   "user-groups", "users"}  # fmt: skip


def listify(record: dict[str, Any]) -> dict[str, Any]:
    return {k: ([listify(v)] if k in LIST_ATTRIBUTES else listify(v)) if isinstance(v, dict) else v
            for k, v in record.items()}  # fmt: skip


@pytest.mark.parametrize(("res", "src"), SOURCES, ids=SOURCE_IDS)
def test_mapper_reads_exactly_the_projection(world: World, res: UnifiedResource, src: Source) -> None:
    declared = spec_paths(src.fields)
    seen: set[str] = set()
    src.map(Recorder(listify(filled(src.fields)), seen))
    assert seen == declared, f"read but not projected: {seen - declared}; projected, never read: {declared - seen}"
    real: set[str] = set()
    for raw in world.records(src):
        src.map(Recorder(raw, real))
    assert real <= declared, f"read from real records but not projected: {real - declared}"


# -- robustness ---------------------------------------------------------------------------------------------
BROKEN: list[Any] = [
    {},
    {"id": None},
    {"id": 7, "status": ["x"], "active": {"a": 1}, "supplier": [1, 2], "invoice-lines": "nope"},
    {"id": 7, "invoice-lines": [None, {"price": "abc", "quantity": "", "item": {"name": "no id"}}],
     "order-lines": [{"total": "x1"}], "requisition-lines": [{"unit-price": {}}], "account-type": {}},
]  # fmt: skip


@pytest.mark.parametrize(("res", "src"), SOURCES, ids=SOURCE_IDS)
@pytest.mark.parametrize("raw", BROKEN, ids=["empty", "null-id", "wrong-types", "bad-numbers"])
def test_broken_records_map_to_nulls_never_raise(res: UnifiedResource, src: Source, raw: dict[str, Any]) -> None:
    out = src.map(raw)
    assert set(out) == set(table_for(res, src)) | ({"line_items"} if (res.model, res.name) in LINES else set())
    for value in out.values():
        assert value is None or isinstance(value, str | int | float | bool | list | dict)


@pytest.mark.parametrize(("res", "src"), SOURCES, ids=SOURCE_IDS)
def test_nulls_everywhere_give_nulls(res: UnifiedResource, src: Source) -> None:
    def nulls(fields: Any) -> dict[str, Any]:
        return {k: None for k in spec_paths(fields) if "." not in k}

    out = src.map(nulls(src.fields))
    table = table_for(res, src)
    for name, fn in table.items():
        if name == "line_items":
            assert out[name] == []
            continue
        want = fn(nulls(src.fields), {})
        assert out[name] == want, name


def test_bad_numbers_become_null_and_the_rest_still_maps(world: World) -> None:
    raw = dict(world.full["invoices"][0])
    raw["gross-total"] = "not a number"
    raw["invoice-lines"] = [dict(raw["invoice-lines"][0], price="", quantity="12x")]
    out = INVOICES.sources[0].map(raw)
    assert out["sub_total"] is None and out["number"] == raw["invoice-number"]
    line = out["line_items"][0]
    assert line["unit_price"] is None and line["quantity"] is None
    assert line["total_line_amount"] == float(raw["invoice-lines"][0]["total"])


# -- enums --------------------------------------------------------------------------------------------------
ENUMS = [
    (INVOICES, "status", INVOICE_STATUS),
    (PURCHASE_ORDERS, "status", PO_STATUS),
    (PURCHASE_ORDER_REQUISITIONS, "status", REQ_STATUS),
    (CONTACTS, "status", SUPPLIER_STATUS),
]


@pytest.mark.parametrize(("res", "attr", "table"), ENUMS, ids=[e[0].name for e in ENUMS])
def test_enum_values_normalise_and_keep_the_raw_value(
    world: World, res: UnifiedResource, attr: str, table: dict[str, str]
) -> None:
    src = res.sources[0]
    base = world.records(src)[0]
    for raw_value, unified in [*table.items(), ("brand_new_status", "brand_new_status"), (None, None)]:
        out = src.map({**base, attr: raw_value, "paid": False})
        assert out["status"] == unified, raw_value
        assert out["remote_status"] == raw_value


def test_paid_is_an_approved_invoice_with_coupas_paid_flag(world: World) -> None:
    src = INVOICES.sources[0]
    base = world.full["invoices"][0]
    assert src.map({**base, "status": "approved", "paid": True})["status"] == "paid"
    assert src.map({**base, "status": "approved", "paid": True})["balance"] == 0.0
    assert src.map({**base, "status": "approved", "paid": False})["status"] == "authorised"
    assert src.map({**base, "status": "voided", "paid": True})["status"] == "voided"
    paid = [r for r in world.full["invoices"] if r["paid"]]
    assert paid and all(src.map(r)["status"] == "paid" and src.map(r)["remote_status"] == "approved" for r in paid)


def test_line_types_normalise_with_the_raw_type_kept(world: World) -> None:
    src = INVOICES.sources[0]
    base = world.full["invoices"][0]
    line = base["invoice-lines"][0]
    for raw_type, unified in [("InvoiceQuantityLine", "quantity"), ("InvoiceAmountLine", "amount"), ("Odd", "Odd")]:
        out = src.map({**base, "invoice-lines": [{**line, "type": raw_type}]})["line_items"][0]
        assert (out["type"], out["remote_type"]) == (unified, raw_type)


@pytest.mark.parametrize(
    ("key", "coupa_resource", "flag_attr", "on", "off"),
    [
        (("accounting", "accounts"), "accounts", "active", "active", "archived"),
        (("accounting", "items"), "items", "active", "active", "archived"),
        (("accounting", "currencies"), "currencies", "enabled", "active", "archived"),
        (("accounting", "employees"), "users", "active", "active", "inactive"),
        (("user-directory", "users"), "users", "active", "active", "inactive"),
        (("user-directory", "groups"), "user_groups", "active", "active", "inactive"),
    ],
)
def test_active_flags_become_statuses(
    world: World, key: tuple[str, str], coupa_resource: str, flag_attr: str, on: str, off: str
) -> None:
    src = RESOURCES[key].sources[0]
    base = world.full[coupa_resource][0]
    for flag, status in ((True, on), (False, off), (None, None)):
        out = src.map({**base, flag_attr: flag})
        assert (out["status"], out["remote_status"]) == (status, flag)


# -- tracking categories ------------------------------------------------------------------------------------
def test_tracking_category_ids_route_back_to_their_source(world: World) -> None:
    seen_types = set()
    for src in TRACKING_CATEGORIES.sources:
        for raw in world.records(src):
            out = src.map(raw)
            found, coupa_id = TRACKING_CATEGORIES.source_for_id(out["id"])
            assert found is src and coupa_id == raw["id"]
            assert out["category_type"] == src.selector
            seen_types.add(out["category_type"])
    assert seen_types == {"lookup", "lookup_value", "department", "account_type", "account"}


def test_category_references_on_documents_name_real_categories(world: World) -> None:
    """The tracking categories a line or a requisition names are records the resource lists."""
    listed = {src.map(r)["id"] for src in TRACKING_CATEGORIES.sources for r in world.records(src)}
    named = set()
    for res, key in ((INVOICES, "invoices"), (PURCHASE_ORDERS, "purchase_orders"),
                     (PURCHASE_ORDER_REQUISITIONS, "requisitions")):  # fmt: skip
        for raw in world.full[key]:
            out = res.sources[0].map(raw)
            named |= {c["id"] for c in out["tracking_categories"] or []}
            named |= {c["id"] for ln in out["line_items"] for c in ln["tracking_categories"]}
    assert named and named <= listed
    assert {n.split(":")[0] for n in named} == {"account", "department"}
