"""Unified Accounting over Coupa: Truto's resources, each a mapper from one raw Coupa record.

Read ``docs/unified-models.md`` for the field tables; the conventions are in ``_convert.py``
(string ids, references as ``{"id", "name"}`` objects, money as floats with Coupa's exact
decimal strings left in ``remote_data``, datetimes as Coupa gives them, null for what is absent).

Every :class:`~pycoupa.server.unified.spec.Source` declares the Coupa ``fields`` projection its
mapper reads, no more and no less (a test walks each mapper over a recording record and compares),
so a list call fetches only what is mapped.
"""

from __future__ import annotations

from collections.abc import Mapping
from operator import itemgetter
from typing import Any, Final

from pycoupa.server.unified._convert import (
    ACTIVE_FLAG_DIRECTORY,
    CODE_OPS,
    ENUM_OPS,
    ID_OPS,
    PHONE_FIELDS,
    Raw,
    active_filter,
    active_status,
    code_of,
    datetime_filter,
    enum_choices,
    enum_translator,
    guarded,
    id_filter,
    phones,
    ref,
    sid,
    text_filter,
    timestamps,
    user_ref,
)
from pycoupa.server.unified.spec import Mapper, Source, UnifiedFilter, UnifiedResource

MODEL: Final = "accounting"

# -- enum maps (Coupa value -> unified value; a value not listed passes through unchanged) ------------------
INVOICE_STATUS: Final[Mapping[str, str]] = {
    "draft": "draft",
    "new": "draft",
    "save_as_draft": "draft",
    "rejected": "draft",  # sent back by an approver: edited and resubmitted, or abandoned
    "invalid": "draft",  # failed Coupa's validation: back with its creator
    "pending_approval": "submitted",
    "pending_receipt": "submitted",
    "pending_action": "submitted",
    "on_hold": "submitted",
    "ap_hold": "submitted",
    "booking_hold": "submitted",
    "disputed": "submitted",
    "processing": "submitted",
    "approved": "authorised",  # ... or "paid" when Coupa's ``paid`` flag is true
    "voided": "voided",
    "abandoned": "deleted",
}
# Truto's vocabularies (documentation; the filters accept what the mappers can output).
INVOICE_STATUSES: Final = ("draft", "submitted", "authorised", "paid", "voided", "deleted")

PURCHASE_ORDER_STATUS: Final[Mapping[str, str]] = {
    "draft": "draft",
    "buyer_hold": "submitted",
    "currency_hold": "submitted",
    "supplier_hold": "submitted",
    "supplier_window_hold": "submitted",
    "error": "submitted",
    "issued": "authorised",
    "exported": "authorised",
    "closed": "billed",
    "expensed": "billed",
    "cancelled": "deleted",
    "canceled": "deleted",  # a Coupa example spells it so; the R39 enum says "cancelled"
}
PURCHASE_ORDER_STATUSES: Final = ("draft", "submitted", "authorised", "billed", "deleted")

REQUISITION_STATUS: Final[Mapping[str, str]] = {
    "draft": "draft",
    "cart": "draft",
    "pending_buyer_action": "submitted",
    "pending_approval": "submitted",
    "backgrounded": "submitted",
    "approved": "authorised",
    "ordered": "authorised",
    "partially_received": "partially_delivered",
    "received": "delivered",
    "abandoned": "deleted",
    "withdrawn": "deleted",
}
REQUISITION_STATUSES: Final = (
    "draft",
    "submitted",
    "authorised",
    "billed",
    "deleted",
    "delivered",
    "partially_delivered",
)

SUPPLIER_STATUS: Final[Mapping[str, str]] = {"active": "active", "inactive": "archived"}  # draft passes through
SUPPLIER_STATUSES: Final = ("active", "archived")

# Line types: Coupa's class names -> quantity / amount.
LINE_TYPE: Final[Mapping[str, str]] = {
    "InvoiceQuantityLine": "quantity",
    "InvoiceAmountLine": "amount",
    "OrderQuantityLine": "quantity",
    "OrderAmountLine": "amount",
    "RequisitionQuantityLine": "quantity",
    "RequisitionAmountLine": "amount",
}

# Catalog enums (R39 and the emulator's documented ones) whose values no map entry covers: they pass
# through, so the status filters accept them too.
_INVOICE_CATALOG: Final = (
    "new", "ap_hold", "draft", "on_hold", "pending_receipt", "rejected", "abandoned", "disputed",
    "pending_approval", "booking_hold", "pending_action", "approved", "voided", "processing", "invalid",
    "payable_adjustment",
)  # fmt: skip
_PO_CATALOG: Final = (
    "buyer_hold", "cancelled", "closed", "currency_hold", "draft", "error", "expensed", "issued",
    "supplier_hold", "supplier_window_hold", "exported",
)  # fmt: skip
_REQ_CATALOG: Final = (
    "draft", "cart", "pending_buyer_action", "pending_approval", "approved", "ordered", "partially_received",
    "received", "abandoned", "backgrounded", "withdrawn",
)  # fmt: skip
_SUPPLIER_CATALOG: Final = ("active", "inactive", "draft")


# -- shared pieces ------------------------------------------------------------------------------------------
def _address_ref(obj: Any) -> dict[str, Any] | None:
    """A document's ship-to address as Coupa nests it: by reference (id, name, location code)."""
    if not obj:
        return None
    i = obj.get("id")
    return {"id": None if i is None else str(i), "name": obj.get("name"), "location_code": obj.get("location-code")}


# The fast mappers' pieces index strictly: a malformed record raises, and ``guarded`` maps its
# cleaned copy instead (see ``_convert.guarded``).
def _ship_to(address: Any) -> dict[str, Any] | None:
    if not address:
        return None
    return {"id": str(address["id"]), "name": address["name"], "location_code": address["location-code"]}


def _person(user: Any) -> dict[str, Any] | None:
    return {"id": str(user["id"]), "name": user["fullname"], "email": user["email"]} if user else None


def _account_tracking(account: Any) -> list[dict[str, Any]]:
    """An account as the one tracking category of a line."""
    if not account:
        return []
    return [{"id": f"account:{account['id']}", "name": account["name"], "category_type": "account"}]


def _address(obj: Any, kind: str) -> dict[str, Any] | None:
    """A supplier's own (inline) address -> Truto's address object."""
    if not obj:
        return None
    i = obj.get("id")
    country = obj.get("country")
    return {
        "id": None if i is None else str(i),
        "type": kind,
        "name": obj.get("name"),
        "street_1": obj.get("street1"),
        "street_2": obj.get("street2"),
        "city": obj.get("city"),
        "state": obj.get("state"),
        "postal_code": obj.get("postal-code"),
        "country": country.get("code") if country else None,
    }


_REF = ("id", "name")
_ACCOUNT_REF = ("id", "name", "code")
_ITEM_REF = ("id", "name", "item-number")
_USER_REF = ("id", "fullname", "email")
_ADDRESS_REF = ("id", "name", "location-code")
_ADDRESS = ("id", "name", "street1", "street2", "city", "state", "postal-code", {"country": ["code"]})


# -- accounts -----------------------------------------------------------------------------------------------
SEGMENTS: Final = tuple(f"segment-{n}" for n in range(1, 21))


def segments_of(r: Raw) -> list[dict[str, Any]]:
    """The non-blank ``segment-1`` .. ``segment-20`` of an account, with their positions."""
    return [{"position": n, "value": v} for n, k in enumerate(SEGMENTS, 1) if (v := r.get(k)) not in (None, "")]


ACCOUNT_FIELDS: Final = ("id", "created-at", "updated-at", "name", "code", "active", *SEGMENTS, {"account-type": _REF})


@guarded(ACCOUNT_FIELDS)
def map_account(r: Raw) -> dict[str, Any]:
    active = r.get("active")
    chart = r.get("account-type")
    return {
        "id": sid(r.get("id")),
        "name": r.get("name") or r.get("code"),
        "description": None,
        "account_number": r.get("code"),
        "code": r.get("code"),
        "segments": segments_of(r),
        "classification": None,
        "type": None,
        "status": active_status(active),
        "remote_status": active,
        "current_balance": None,
        "currency": None,
        "parent_account": None,
        "company": ref(chart),
        "created_at": r.get("created-at"),
        "updated_at": r.get("updated-at"),
    }


ACCOUNTS = UnifiedResource(
    model=MODEL,
    name="accounts",
    description="Coupa accounts: GL account combinations of a chart of accounts (account type).",
    sources=(
        Source(
            coupa_resource="accounts",
            fields=ACCOUNT_FIELDS,
            map=map_account,
            filters={
                "id": id_filter("id", "id"),
                **timestamps(),
                "status": active_filter(),
                "name": text_filter("name", "name"),
                "account_number": text_filter("account_number", "code"),
                "company_id": id_filter("company_id", "account-type[id]"),
            },
        ),
    ),
)


# -- contacts (suppliers) -----------------------------------------------------------------------------------
CONTACT_FIELDS: Final = (
    "id", "created-at", "updated-at", "name", "display-name", "number", "status", "tax-id", "po-email", "website",
    {"primary-contact": ["email", {"phone-work": PHONE_FIELDS}, {"phone-mobile": PHONE_FIELDS},
                         {"phone-fax": PHONE_FIELDS}]},
    {"primary-address": _ADDRESS},
    {"remit-to-addresses": _ADDRESS},
    {"payment-term": ["code"]},
)  # fmt: skip


@guarded(CONTACT_FIELDS)
def map_contact(r: Raw) -> dict[str, Any]:
    status: Any = r.get("status")
    contact = r.get("primary-contact") or {}
    emails = []
    if email := contact.get("email"):
        emails.append({"email": email, "type": "primary"})
    if (po_email := r.get("po-email")) and po_email != email:
        emails.append({"email": po_email, "type": "orders"})
    addresses = []
    if primary := _address(r.get("primary-address"), "primary"):
        addresses.append(primary)
    for remit in r.get("remit-to-addresses") or ():
        if a := _address(remit, "remit_to"):
            addresses.append(a)
    return {
        "id": sid(r.get("id")),
        "name": r.get("name"),
        "display_name": r.get("display-name"),
        "number": r.get("number"),
        "type": "vendor",
        "is_supplier": True,
        "is_customer": False,
        "status": SUPPLIER_STATUS.get(status, status),
        "remote_status": status,
        "tax_number": r.get("tax-id"),
        "emails": emails,
        "phones": phones(
            (
                (contact.get("phone-work"), "work"),
                (contact.get("phone-mobile"), "mobile"),
                (contact.get("phone-fax"), "fax"),
            )
        ),
        "addresses": addresses,
        "website": r.get("website"),
        "currency": None,
        "company": None,
        "payment_term": code_of(r.get("payment-term")),
        "created_at": r.get("created-at"),
        "updated_at": r.get("updated-at"),
    }


CONTACTS = UnifiedResource(
    model=MODEL,
    name="contacts",
    description="Coupa suppliers, as contacts of type vendor.",
    sources=(
        Source(
            coupa_resource="suppliers",
            fields=CONTACT_FIELDS,
            map=map_contact,
            filters={
                "id": id_filter("id", "id"),
                **timestamps(),
                "status": UnifiedFilter(
                    name="status",
                    coupa="status",
                    ops=ENUM_OPS,
                    kind="enum",
                    translate=enum_translator(SUPPLIER_STATUS),
                    choices=enum_choices(SUPPLIER_STATUS, _SUPPLIER_CATALOG),
                ),
                "name": text_filter("name", "name"),
                "tax_number": text_filter("tax_number", "tax-id", frozenset({"eq"})),
                "number": text_filter("number", "number", frozenset({"eq", "starts_with"})),
            },
        ),
    ),
)


# -- currencies ---------------------------------------------------------------------------------------------
CURRENCY_FIELDS: Final = ("id", "name", "code", "symbol", "decimals", "enabled")


@guarded(CURRENCY_FIELDS)
def map_currency(r: Raw) -> dict[str, Any]:
    enabled = r.get("enabled")
    return {
        "id": sid(r.get("id")),
        "name": r.get("name"),
        "code": r.get("code"),
        "symbol": r.get("symbol"),
        "decimals": r.get("decimals"),
        "status": active_status(enabled),
        "remote_status": enabled,
        "created_at": None,
        "updated_at": None,
    }


CURRENCIES = UnifiedResource(
    model=MODEL,
    name="currencies",
    description="Coupa currencies; enabled ones are active. Coupa keeps no timestamps on currencies.",
    sources=(
        Source(
            coupa_resource="currencies",
            fields=CURRENCY_FIELDS,
            map=map_currency,
            filters={
                "id": id_filter("id", "id"),
                "status": active_filter("enabled"),
                "name": text_filter("name", "name"),
                "code": text_filter("code", "code", CODE_OPS),
            },
        ),
    ),
)


# -- employees (users) --------------------------------------------------------------------------------------
EMPLOYEE_FIELDS: Final = (
    "id", "created-at", "updated-at", "firstname", "lastname", "fullname", "login", "employee-number", "email",
    "active", {"phone-work": PHONE_FIELDS}, {"phone-mobile": PHONE_FIELDS}, {"default-address": _ADDRESS_REF},
    {"department": _REF}, {"manager": _USER_REF}, {"legal-entity": _REF},
)  # fmt: skip


@guarded(EMPLOYEE_FIELDS)
def map_employee(r: Raw) -> dict[str, Any]:
    active = r.get("active")
    email = r.get("email")
    return {
        "id": sid(r.get("id")),
        "first_name": r.get("firstname"),
        "last_name": r.get("lastname"),
        "name": r.get("fullname"),
        "username": r.get("login"),
        "employee_number": r.get("employee-number"),
        "emails": [{"email": email, "type": "work"}] if email else [],
        "phones": phones(((r.get("phone-work"), "work"), (r.get("phone-mobile"), "mobile"))),
        "addresses": [a] if (a := _address_ref(r.get("default-address"))) else [],
        "status": active_status(active, "inactive"),
        "remote_status": active,
        "is_contractor": None,
        "department": ref(r.get("department")),
        "manager": user_ref(r.get("manager")),
        "company": ref(r.get("legal-entity")),
        "created_at": r.get("created-at"),
        "updated_at": r.get("updated-at"),
    }


def person_filters() -> dict[str, UnifiedFilter]:
    """Filters shared by employees and directory users (both are Coupa users)."""
    return {
        **timestamps(),
        "status": active_filter("active", ACTIVE_FLAG_DIRECTORY),
        "name": text_filter("name", "fullname"),
        "first_name": text_filter("first_name", "firstname"),
        "last_name": text_filter("last_name", "lastname"),
        "email": text_filter("email", "email"),
        "username": text_filter("username", "login"),
        "employee_number": text_filter("employee_number", "employee-number", frozenset({"eq"})),
    }


EMPLOYEES = UnifiedResource(
    model=MODEL,
    name="employees",
    description="Coupa users, as employees.",
    sources=(
        Source(
            coupa_resource="users",
            fields=EMPLOYEE_FIELDS,
            map=map_employee,
            filters={
                "id": id_filter("id", "id"),
                **person_filters(),
                "department_id": id_filter("department_id", "department[id]"),
            },
        ),
    ),
)


# -- invoices -----------------------------------------------------------------------------------------------
# The hot path: fast reads (see ``_convert.guarded``), and the projection written next to the reads.
INVOICE_LINE_FIELDS: Final = (
    "id", "line-num", "type", "description", "quantity", "price", "tax-rate", "tax-amount", "total", "po-number",
    "order-line-id", {"item": _ITEM_REF}, {"account": _ACCOUNT_REF}, {"currency": ["code"]}, {"uom": ["code"]},
)  # fmt: skip
INVOICE_FIELDS: Final = (
    "id", "created-at", "updated-at", "status", "paid", "invoice-number", "invoice-date", "net-due-date",
    "payment-date", "comments", "exchange-rate", "discount-amount", "gross-total", "total-taxes-less-discount",
    "total-with-taxes", "amount-due", "is-credit-note",
    {"supplier": _REF}, {"currency": ["code"]}, {"account-type": _REF}, {"requested-by": _USER_REF},
    {"payment-term": ["code"]}, {"payments": ["id", "amount-paid", "payment-date"]},
    {"invoice-lines": INVOICE_LINE_FIELDS},
)  # fmt: skip
_invoice_values = itemgetter(
    "id", "created-at", "updated-at", "status", "paid", "invoice-number", "invoice-date", "net-due-date",
    "payment-date", "comments", "exchange-rate", "discount-amount", "gross-total", "total-taxes-less-discount",
    "total-with-taxes", "amount-due", "is-credit-note", "supplier", "currency", "account-type", "requested-by",
    "payment-term", "payments", "invoice-lines",
)  # fmt: skip
_invoice_line_values = itemgetter(
    "id", "line-num", "type", "description", "quantity", "price", "tax-rate", "tax-amount", "total", "po-number",
    "order-line-id", "item", "account", "currency", "uom",
)  # fmt: skip
_INVOICE_NUMERIC = (
    "exchange-rate", "discount-amount", "gross-total", "total-taxes-less-discount", "total-with-taxes", "amount-due",
    "quantity", "price", "tax-rate", "tax-amount", "total", "amount-paid",
)  # fmt: skip


@guarded(INVOICE_FIELDS, _INVOICE_NUMERIC)
def map_invoice(r: Raw) -> dict[str, Any]:
    (
        rid,
        created,
        updated,
        status,
        paid,
        number,
        issued,
        due,
        paid_on,
        memo,
        xrate,
        discount,
        gross,
        tax,
        total,
        amount_due,
        credit,
        supplier,
        currency,
        chart,
        requester,
        term,
        payments,
        raw_lines,
    ) = _invoice_values(r)
    unified = INVOICE_STATUS.get(status, status)
    if paid and unified == "authorised":
        unified = "paid"
    code = currency["code"] if currency else None
    rate = None if xrate is None else float(xrate)
    lines = []
    orders: list[str] = []
    for ln in raw_lines or ():
        (
            lid,
            line_num,
            line_type,
            desc,
            qty,
            price,
            tax_rate,
            tax_amount,
            line_total,
            po_number,
            order_line,
            item,
            account,
            lcur,
            uom,
        ) = _invoice_line_values(ln)
        if po_number and po_number not in orders:
            orders.append(po_number)
        lines.append(
            {
                "id": None if lid is None else str(lid),
                "line_number": line_num,
                "name": (item["name"] if item else None) or desc,
                "description": desc,
                "type": LINE_TYPE.get(line_type, line_type),
                "remote_type": line_type,
                "item": {"id": str(item["id"]), "name": item["name"], "number": item["item-number"]} if item else None,
                "account": {"id": str(account["id"]), "name": account["name"], "code": account["code"]}
                if account
                else None,
                "quantity": None if qty is None else float(qty),
                "unit_price": None if price is None else float(price),
                "unit_of_measure": uom["code"] if uom else None,
                "tax_rate": None if tax_rate is None else float(tax_rate),
                "tax_amount": None if tax_amount is None else float(tax_amount),
                "total_line_amount": None if line_total is None else float(line_total),
                "currency": lcur["code"] if lcur else code,
                "exchange_rate": rate,
                "purchase_order_number": po_number,
                "purchase_order_line_id": None if order_line is None else str(order_line),
                "tracking_categories": _account_tracking(account),
            }
        )
    return {
        "id": None if rid is None else str(rid),
        "type": "bill",
        "number": number,
        "contact": {"id": str(supplier["id"]), "name": supplier["name"], "type": "vendor"} if supplier else None,
        "company": {"id": str(chart["id"]), "name": chart["name"]} if chart else None,
        "employee": _person(requester),
        "issue_date": issued,
        "due_date": due,
        "paid_on_date": paid_on,
        "memo": memo,
        "currency": code,
        "exchange_rate": rate,
        "total_discount": None if discount is None else float(discount),
        "sub_total": None if gross is None else float(gross),
        "total_tax_amount": None if tax is None else float(tax),
        "total_amount": None if total is None else float(total),
        "balance": 0.0 if paid else (None if amount_due is None else float(amount_due)),
        "status": unified,
        "remote_status": status,
        "is_credit_note": credit,
        "payment_term": term["code"] if term else None,
        "payments": [
            {
                "id": None if p["id"] is None else str(p["id"]),
                "amount": None if p["amount-paid"] is None else float(p["amount-paid"]),
                "payment_date": p["payment-date"],
            }
            for p in payments or ()
        ],
        "tracking_categories": None,
        # Coupa's invoice lines name their order by number, not by id.
        "purchase_orders": [{"number": n} for n in orders],
        "accounting_period": None,
        "inclusive_of_tax": None,
        "applied_payments": None,
        "applied_credit_notes": None,
        "applied_vendor_credits": None,
        "line_items": lines,
        "created_at": created,
        "updated_at": updated,
    }


INVOICES = UnifiedResource(
    model=MODEL,
    name="invoices",
    description="Coupa invoices (supplier bills, type bill) with their invoice lines.",
    sources=(
        Source(
            coupa_resource="invoices",
            fields=INVOICE_FIELDS,
            map=map_invoice,
            filters={
                "id": id_filter("id", "id"),
                **timestamps(),
                "status": UnifiedFilter(
                    name="status",
                    coupa="status",
                    ops=ENUM_OPS,
                    kind="enum",
                    translate=enum_translator(INVOICE_STATUS, extra={"paid": ["approved"]}),
                    choices=enum_choices(INVOICE_STATUS, _INVOICE_CATALOG, derived=("paid",)),
                    refine={"paid": ("paid", "true"), "authorised": ("paid", "false")},
                ),
                "number": text_filter("number", "invoice-number", frozenset({"eq", "in", "contains", "starts_with"})),
                "contact_id": id_filter("contact_id", "supplier[id]"),
                "currency": text_filter("currency", "currency[code]", CODE_OPS),
                "issue_date": datetime_filter("issue_date", "invoice-date"),
                "due_date": datetime_filter("due_date", "net-due-date"),
            },
        ),
    ),
)


# -- items --------------------------------------------------------------------------------------------------
ITEM_FIELDS: Final = (
    "id", "created-at", "updated-at", "name", "description", "item-number", "item-type", "active",
    "manufacturer-name", "manufacturer-part-number", {"uom": ["code"]}, {"commodity": _REF},
)  # fmt: skip


@guarded(ITEM_FIELDS)
def map_item(r: Raw) -> dict[str, Any]:
    active = r.get("active")
    return {
        "id": sid(r.get("id")),
        "name": r.get("name"),
        "description": r.get("description"),
        "number": r.get("item-number"),
        "type": r.get("item-type"),
        "status": active_status(active),
        "remote_status": active,
        "unit_of_measure": code_of(r.get("uom")),
        "commodity": ref(r.get("commodity")),
        "manufacturer_name": r.get("manufacturer-name"),
        "manufacturer_part_number": r.get("manufacturer-part-number"),
        "quantity": None,
        "unit_price": None,
        "purchase_price": None,
        "purchase_account": None,
        "sales_account": None,
        "asset_account": None,
        "company": None,
        "purchase_tax_rate": None,
        "sales_tax_rate": None,
        "created_at": r.get("created-at"),
        "updated_at": r.get("updated-at"),
    }


ITEMS = UnifiedResource(
    model=MODEL,
    name="items",
    description="Coupa items (the item master; prices live on supplier items and contracts).",
    sources=(
        Source(
            coupa_resource="items",
            fields=ITEM_FIELDS,
            map=map_item,
            filters={
                "id": id_filter("id", "id"),
                **timestamps(),
                "status": active_filter(),
                "name": text_filter("name", "name"),
                "number": text_filter("number", "item-number", frozenset({"eq", "in", "starts_with"})),
            },
        ),
    ),
)


# -- purchase orders ----------------------------------------------------------------------------------------
ORDER_LINE_FIELDS: Final = (
    "id", "line-num", "type", "description", "quantity", "price", "total", "need-by-date",
    {"item": _ITEM_REF}, {"account": _ACCOUNT_REF}, {"department": _REF}, {"currency": ["code"]}, {"uom": ["code"]},
)  # fmt: skip
PURCHASE_ORDER_FIELDS: Final = (
    "id", "created-at", "updated-at", "po-number", "status", "version",
    {"supplier": _REF}, {"currency": ["code"]}, {"ship-to-address": _ADDRESS_REF}, {"requester": _USER_REF},
    {"payment-term": ["code"]}, {"order-lines": ORDER_LINE_FIELDS},
)  # fmt: skip
_order_values = itemgetter(
    "id", "created-at", "updated-at", "po-number", "status", "version", "supplier", "currency", "ship-to-address",
    "requester", "payment-term", "order-lines",
)  # fmt: skip
_order_line_values = itemgetter(
    "id", "line-num", "type", "description", "quantity", "price", "total", "need-by-date", "item", "account",
    "department", "currency", "uom",
)  # fmt: skip


def _line_number(value: Any) -> Any:
    """Order lines number themselves with strings (``"1"``); give whole numbers as integers."""
    return int(value) if isinstance(value, str) and value.isdigit() else value


@guarded(PURCHASE_ORDER_FIELDS, ("quantity", "price", "total"))
def map_purchase_order(r: Raw) -> dict[str, Any]:
    (rid, created, updated, number, status, version, supplier, currency, ship_to, requester, term, raw_lines) = (
        _order_values(r)
    )
    code = currency["code"] if currency else None
    lines = []
    total = 0.0
    priced = False
    delivery = None
    for ln in raw_lines or ():
        (lid, line_num, line_type, desc, qty, price, line_total, need_by, item, account, department, lcur, uom) = (
            _order_line_values(ln)
        )
        tracking = _account_tracking(account)
        if department:
            tracking.append(
                {"id": f"department:{department['id']}", "name": department["name"], "category_type": "department"}
            )
        if line_total is not None:
            line_total = float(line_total)
            total += line_total
            priced = True
        if delivery is None:
            delivery = need_by
        lines.append(
            {
                "id": None if lid is None else str(lid),
                "line_number": _line_number(line_num),
                "name": (item["name"] if item else None) or desc,
                "description": desc,
                "type": LINE_TYPE.get(line_type, line_type),
                "remote_type": line_type,
                "item": {"id": str(item["id"]), "name": item["name"], "number": item["item-number"]} if item else None,
                "account": {"id": str(account["id"]), "name": account["name"], "code": account["code"]}
                if account
                else None,
                "quantity": None if qty is None else float(qty),
                "unit_price": None if price is None else float(price),
                "unit_of_measure": uom["code"] if uom else None,
                "tax_rate": None,
                "tax_amount": None,
                "total_line_amount": line_total,
                "currency": lcur["code"] if lcur else code,
                "exchange_rate": None,
                "delivery_date": need_by,
                "tracking_categories": tracking,
            }
        )
    return {
        "id": None if rid is None else str(rid),
        "number": number,
        "status": PURCHASE_ORDER_STATUS.get(status, status),
        "remote_status": status,
        "issue_date": created,
        "delivery_date": delivery,
        "delivery_address": _ship_to(ship_to),
        "customer": None,
        "vendor": {"id": str(supplier["id"]), "name": supplier["name"], "type": "vendor"} if supplier else None,
        "employee": _person(requester),
        "company": None,
        "memo": None,
        # R39's order header has no total: the sum of the lines' totals (rounded to shed float noise).
        "total_amount": round(total, 6) if priced else None,
        "currency": code,
        "exchange_rate": None,
        "payment_term": term["code"] if term else None,
        "version": version,
        "tracking_categories": None,
        "line_items": lines,
        "created_at": created,
        "updated_at": updated,
    }


def status_filter(mapping: Mapping[str, str], catalog: tuple[str, ...]) -> UnifiedFilter:
    return UnifiedFilter(
        name="status",
        coupa="status",
        ops=ENUM_OPS,
        kind="enum",
        translate=enum_translator(mapping),
        choices=enum_choices(mapping, catalog),
    )


PURCHASE_ORDERS = UnifiedResource(
    model=MODEL,
    name="purchase_orders",
    description="Coupa purchase orders with their order lines.",
    sources=(
        Source(
            coupa_resource="purchase_orders",
            fields=PURCHASE_ORDER_FIELDS,
            map=map_purchase_order,
            filters={
                "id": id_filter("id", "id"),
                **timestamps(),
                "status": status_filter(PURCHASE_ORDER_STATUS, _PO_CATALOG),
                "number": text_filter("number", "po-number", frozenset({"eq", "in", "starts_with"})),
                "vendor_id": id_filter("vendor_id", "supplier[id]"),
                "currency": text_filter("currency", "currency[code]", CODE_OPS),
            },
        ),
    ),
)


# -- purchase order requisitions ----------------------------------------------------------------------------
REQUISITION_LINE_FIELDS: Final = (
    "id", "line-num", "line-type", "description", "quantity", "unit-price", "total", "need-by-date",
    {"item": _ITEM_REF}, {"account": _ACCOUNT_REF}, {"supplier": _REF}, {"currency": ["code"]}, {"uom": ["code"]},
)  # fmt: skip
REQUISITION_FIELDS: Final = (
    "id", "created-at", "updated-at", "status", "req-title", "submitted-at", "need-by-date", "justification", "total",
    {"currency": ["code"]}, {"ship-to-address": _ADDRESS_REF}, {"requested-by": _USER_REF}, {"department": _REF},
    {"requisition-lines": REQUISITION_LINE_FIELDS},
)  # fmt: skip
_requisition_values = itemgetter(
    "id", "created-at", "updated-at", "status", "req-title", "submitted-at", "need-by-date", "justification", "total",
    "currency", "ship-to-address", "requested-by", "department", "requisition-lines",
)  # fmt: skip
_requisition_line_values = itemgetter(
    "id", "line-num", "line-type", "description", "quantity", "unit-price", "total", "need-by-date", "item", "account",
    "supplier", "currency", "uom",
)  # fmt: skip
_MIXED: Final = object()  # lines disagree


@guarded(REQUISITION_FIELDS, ("quantity", "unit-price", "total"))
def map_requisition(r: Raw) -> dict[str, Any]:
    (
        rid,
        created,
        updated,
        status,
        title,
        submitted,
        need_by,
        memo,
        total,
        currency,
        ship_to,
        requester,
        department,
        raw_lines,
    ) = _requisition_values(r)
    header_code = currency["code"] if currency else None
    lines = []
    vendor: Any = None  # the supplier every line names (None: none does; _MIXED: they differ)
    line_code: Any = None  # likewise the lines' currency, for a header without one
    for ln in raw_lines or ():
        (lid, line_num, line_type, desc, qty, price, line_total, line_need_by, item, account, supplier, lcur, uom) = (
            _requisition_line_values(ln)
        )
        line_vendor = {"id": str(supplier["id"]), "name": supplier["name"], "type": "vendor"} if supplier else None
        if line_vendor is not None and vendor is not _MIXED:
            vendor = line_vendor if vendor is None or vendor["id"] == line_vendor["id"] else _MIXED
        code = lcur["code"] if lcur else None
        if code is not None and line_code is not _MIXED:
            line_code = code if line_code is None or line_code == code else _MIXED
        lines.append(
            {
                "id": None if lid is None else str(lid),
                "line_number": line_num,
                "name": (item["name"] if item else None) or desc,
                "description": desc,
                "type": LINE_TYPE.get(line_type, line_type),
                "remote_type": line_type,
                "item": {"id": str(item["id"]), "name": item["name"], "number": item["item-number"]} if item else None,
                "account": {"id": str(account["id"]), "name": account["name"], "code": account["code"]}
                if account
                else None,
                "vendor": line_vendor,
                "quantity": None if qty is None else float(qty),
                "unit_price": None if price is None else float(price),
                "unit_of_measure": uom["code"] if uom else None,
                "tax_rate": None,
                "total_line_amount": None if line_total is None else float(line_total),
                "currency": code or header_code,
                "exchange_rate": None,
                "delivery_date": line_need_by,
                "tracking_categories": _account_tracking(account),
            }
        )
    return {
        "id": None if rid is None else str(rid),
        "title": title,
        "status": REQUISITION_STATUS.get(status, status),
        "remote_status": status,
        "issue_date": submitted,
        "delivery_date": need_by,
        "delivery_address": _ship_to(ship_to),
        "customer": None,
        "vendor": None if vendor is _MIXED or vendor is None else dict(vendor),
        "employee": _person(requester),
        "memo": memo,
        "total_amount": None if total is None else float(total),
        "currency": header_code or (None if line_code is _MIXED else line_code),
        "exchange_rate": None,
        "tracking_categories": [
            {"id": f"department:{department['id']}", "name": department["name"], "category_type": "department"}
        ]
        if department
        else [],
        "line_items": lines,
        "created_at": created,
        "updated_at": updated,
    }


PURCHASE_ORDER_REQUISITIONS = UnifiedResource(
    model=MODEL,
    name="purchase_order_requisitions",
    description="Coupa requisitions with their lines; the employee is the requester.",
    sources=(
        Source(
            coupa_resource="requisitions",
            fields=REQUISITION_FIELDS,
            map=map_requisition,
            filters={
                "id": id_filter("id", "id"),
                **timestamps(),
                "status": status_filter(REQUISITION_STATUS, _REQ_CATALOG),
                "employee_id": id_filter("employee_id", "requested-by[id]"),
                "department_id": id_filter("department_id", "department[id]"),
                "title": text_filter("title", "req-title"),
            },
        ),
    ),
)


# -- tracking categories ------------------------------------------------------------------------------------
# One unified resource over five Coupa sources, told apart by id prefix and picked by category_type:
#   lookup        a Coupa lookup (custom dimension: Cost Center, Project ...)
#   lookup_value  a value of a lookup; its parent is its parent value, else its lookup. Values of a
#                 dynamic chart of accounts' segments are lookup values too (``company`` = that chart)
#   department    a Coupa department
#   account_type  a chart of accounts (Coupa "account type", one per legal entity)
#   account       a GL account of a chart: a combination of segment values (``segments``); its
#                 parent is its chart. Coupa's API names no segments and lists no segment values
#                 outside lookups, so an account's segments travel with it.
_STAMPS = ("id", "created-at", "updated-at", "name", "active")
LOOKUP_FIELDS: Final = (*_STAMPS, "description")
LOOKUP_VALUE_FIELDS: Final = (
    *_STAMPS, "description", "external-ref-code", {"parent": _REF}, {"lookup": _REF}, {"account-type": _REF},
)  # fmt: skip
DEPARTMENT_FIELDS: Final = _STAMPS
ACCOUNT_TYPE_FIELDS: Final = (*_STAMPS, "legal-entity-name", {"currency": ["code"]})
ACCOUNT_CATEGORY_FIELDS: Final = (*_STAMPS, "code", *SEGMENTS, {"account-type": _REF})


def _category_id(prefix: str, coupa_id: Any) -> str | None:
    return None if coupa_id is None else f"{prefix}:{coupa_id}"


def _category_ref(prefix: str, obj: Any) -> dict[str, Any] | None:
    """A reference to a tracking category (a parent): ``{"id": "lookup:3", "name": ...}``."""
    if not obj or obj.get("id") is None:
        return None
    return {"id": f"{prefix}:{obj.get('id')}", "name": obj.get("name")}


def _tracking(prefix: str, r: Raw, parent: dict[str, Any] | None, **extra: Any) -> dict[str, Any]:
    active = r.get("active")
    out = {
        "id": _category_id(prefix, r.get("id")),
        "name": r.get("name"),
        "category_type": prefix,
        "status": active_status(active),
        "remote_status": active,
        "parent_category": parent,
        "company": None,
        "created_at": r.get("created-at"),
        "updated_at": r.get("updated-at"),
    }
    out.update(extra)
    return out


@guarded(LOOKUP_FIELDS)
def map_lookup(r: Raw) -> dict[str, Any]:
    return _tracking("lookup", r, None, description=r.get("description"), code=None)


@guarded(LOOKUP_VALUE_FIELDS)
def map_lookup_value(r: Raw) -> dict[str, Any]:
    of_lookup = _category_ref("lookup", r.get("lookup"))
    up = _category_ref("lookup_value", r.get("parent")) or of_lookup
    return _tracking(
        "lookup_value",
        r,
        up,
        description=r.get("description"),
        code=r.get("external-ref-code"),
        company=ref(r.get("account-type")),
    )


@guarded(DEPARTMENT_FIELDS)
def map_department(r: Raw) -> dict[str, Any]:
    return _tracking("department", r, None, description=None, code=None)


@guarded(ACCOUNT_TYPE_FIELDS)
def map_account_type(r: Raw) -> dict[str, Any]:
    return _tracking(
        "account_type",
        r,
        None,
        description=r.get("legal-entity-name"),
        code=None,
        currency=code_of(r.get("currency")),
    )


@guarded(ACCOUNT_CATEGORY_FIELDS)
def map_account_category(r: Raw) -> dict[str, Any]:
    chart = r.get("account-type")
    out = _tracking(
        "account",
        r,
        _category_ref("account_type", chart),
        description=None,
        code=r.get("code"),
        segments=segments_of(r),
        company=ref(chart),
    )
    out["name"] = r.get("name") or r.get("code")
    return out


def _category_id_filter(
    name: str, by_prefix: Mapping[str, str], also: Mapping[str, tuple[str, str, str]] | None = None
) -> UnifiedFilter:
    """A filter on tracking category ids (``lookup:3``): each prefix names the Coupa attribute."""
    return UnifiedFilter(
        name=name, coupa=next(iter(by_prefix.values())), ops=ID_OPS, kind="int", by_prefix=dict(by_prefix),
        prefix_also=dict(also or {}),
    )  # fmt: skip


# Whose children a category is, by the parent's kind, as the mappers set ``parent_category``.
_PARENTS: Final[Mapping[str, UnifiedFilter]] = {
    # A value's parent is its parent value, else (top level) its lookup.
    "lookup_value": _category_id_filter(
        "parent_category_id",
        {"lookup:": "lookup[id]", "lookup_value:": "parent[id]"},
        {"lookup:": ("parent", "blank", "true")},
    ),
    "account": _category_id_filter("parent_category_id", {"account_type:": "account-type[id]"}),
}


def _category_source(kind: str, coupa_resource: str, fields: tuple[Any, ...], mapper: Mapper) -> Source:
    """One Coupa resource feeding tracking categories, told apart by the ``<kind>:`` id prefix."""
    filters = {
        **timestamps(),
        "status": active_filter(),
        "name": text_filter("name", "name"),
        "id": _category_id_filter("id", {f"{kind}:": "id"}),
    }
    if kind in _PARENTS:
        filters["parent_category_id"] = _PARENTS[kind]
    return Source(
        coupa_resource=coupa_resource,
        fields=fields,
        map=mapper,
        filters=filters,
        id_prefix=f"{kind}:",
        selector=kind,
    )


TRACKING_CATEGORIES = UnifiedResource(
    model=MODEL,
    name="tracking_categories",
    selector_filter="category_type",
    description="Coupa lookups, lookup values, departments, charts of accounts and GL accounts.",
    sources=(
        _category_source("lookup", "lookups", LOOKUP_FIELDS, map_lookup),
        _category_source("lookup_value", "lookup_values", LOOKUP_VALUE_FIELDS, map_lookup_value),
        _category_source("department", "departments", DEPARTMENT_FIELDS, map_department),
        _category_source("account_type", "account_types", ACCOUNT_TYPE_FIELDS, map_account_type),
        _category_source("account", "accounts", ACCOUNT_CATEGORY_FIELDS, map_account_category),
    ),
)

RESOURCES: Final = (
    ACCOUNTS,
    CONTACTS,
    CURRENCIES,
    EMPLOYEES,
    INVOICES,
    ITEMS,
    PURCHASE_ORDER_REQUISITIONS,
    PURCHASE_ORDERS,
    TRACKING_CATEGORIES,
)
