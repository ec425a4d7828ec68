"""Which model reads which resource, and parsing wire documents into models.

``model_for("invoices")`` gives :class:`Invoice`; a resource without a model of its own gets
:class:`CoupaRecord`, which types ``id`` and the timestamps and keeps the rest as it came.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

from pycoupa.client.models._base import CoupaModel, CoupaRecord
from pycoupa.client.models._fast import validate
from pycoupa.client.models.accounts import Account, AccountType
from pycoupa.client.models.addresses import Address, RemitToAddress
from pycoupa.client.models.approvals import Approval
from pycoupa.client.models.invoices import Invoice
from pycoupa.client.models.payments import Payment
from pycoupa.client.models.purchasing import OrderLine, PurchaseOrder, Requisition
from pycoupa.client.models.reference import Currency, Item, LookupValue
from pycoupa.client.models.suppliers import Supplier
from pycoupa.client.models.users import User, UserGroup
from pycoupa.wire import codec_json, codec_xml
from pycoupa.wire.errors import parse_errors

__all__ = [
    "MODEL_FOR_ELEMENT",
    "MODEL_FOR_RESOURCE",
    "NotARecordError",
    "model_for",
    "model_for_element",
    "parse_json",
    "parse_record",
    "parse_records",
    "parse_xml",
]

M = TypeVar("M", bound=CoupaModel)


class _Registry(dict[str, type[CoupaModel]]):
    """A dict whose missing keys read as :class:`CoupaRecord` (without being added)."""

    def __missing__(self, key: str) -> type[CoupaModel]:
        return CoupaRecord


# Keys are catalog resource names (``Resource.name``: the path without the leading slash).
MODEL_FOR_RESOURCE: dict[str, type[CoupaModel]] = _Registry(
    {
        "invoices": Invoice,
        "accounts": Account,
        "account_types": AccountType,
        "addresses": Address,
        "suppliers": Supplier,
        "suppliers/{supplier_id}/addresses": RemitToAddress,
        "users/{user_id}/addresses": Address,
        "invoices/{invoice_id}/remit_to_addresses": RemitToAddress,
        "purchase_orders": PurchaseOrder,
        "purchase_order_lines": OrderLine,
        "requisitions": Requisition,
        "users": User,
        "user_groups": UserGroup,
        "currencies": Currency,
        "items": Item,
        "lookup_values": LookupValue,
        "coupa_pay/payments": Payment,
        "approvals": Approval,
    }
)

# XML element names, singular (a record) and plural (a collection), from the catalog's R39 names.
MODEL_FOR_ELEMENT: dict[str, type[CoupaModel]] = _Registry(
    {
        "invoice-header": Invoice,
        "invoice-headers": Invoice,
        "account": Account,
        "accounts": Account,
        "account-type": AccountType,
        "account-types": AccountType,
        "address": Address,
        "addresses": Address,
        "remit-to-address": RemitToAddress,
        "remit-to-addresses": RemitToAddress,
        "supplier": Supplier,
        "suppliers": Supplier,
        "order-header": PurchaseOrder,
        "order-headers": PurchaseOrder,
        "order-line": OrderLine,
        "order-lines": OrderLine,
        "requisition-header": Requisition,
        "requisition-headers": Requisition,
        "user": User,
        "users": User,
        "user-group": UserGroup,
        "user-groups": UserGroup,
        "currency": Currency,
        "currencies": Currency,
        "item": Item,
        "items": Item,
        "lookup-value": LookupValue,
        "lookup-values": LookupValue,
        "coupa-pay-payment": Payment,
        "coupa-pay-payments": Payment,
        "approval": Approval,
        "approvals": Approval,
    }
)

_ID_SEGMENT = re.compile(r"^(?:[0-9]+|\{[^}]+\})$")


def model_for(resource: str) -> type[CoupaModel]:
    """The model of a resource: ``"invoices"``, ``"/api/coupa_pay/payments"``, ``"suppliers/7/addresses"``.

    Numeric segments match the catalog's ``{param}`` templates and a trailing id (``invoices/5``)
    names a record of the collection; unknown resources get CoupaRecord.
    """
    path = resource.strip("/").removeprefix("api/")
    segments = path.split("/")
    if len(segments) > 1 and segments[-1].isdigit():
        segments.pop()
        path = "/".join(segments)
    # suppliers/7/addresses -> suppliers/{supplier_id}/addresses: the parameter is the singular of
    # the segment before it, as in the catalog's templates.
    for i, seg in enumerate(segments):
        if i and _ID_SEGMENT.match(seg):
            segments[i] = "{" + segments[i - 1].removesuffix("s") + "_id}"
    return MODEL_FOR_RESOURCE[path if path in MODEL_FOR_RESOURCE else "/".join(segments)]


def model_for_element(tag: str) -> type[CoupaModel]:
    """The model of an XML root element (``invoice-header`` or ``invoice-headers``)."""
    return MODEL_FOR_ELEMENT[tag]


class NotARecordError(ValueError):
    """The document is Coupa's error envelope (or another non-record), not the expected data."""

    def __init__(self, message: str, messages: list[str] | None = None) -> None:
        super().__init__(message)
        self.messages = messages or []


def parse_record(model: type[M], data: Mapping[str, Any]) -> M:
    """One decoded record (hyphenated keys, as the codecs give them) as ``model``.

    Lossless: every key ends up in a typed field or in the extras.
    """
    if not isinstance(data, Mapping):
        raise NotARecordError(f"expected a record (mapping), got {type(data).__name__}")
    return validate(model, data)  # model.model_validate(data), built faster (see _fast)


def parse_records(model: type[M], data: Iterable[Mapping[str, Any]]) -> list[M]:
    return [parse_record(model, item) for item in data]


def parse_xml(model: type[M], data: bytes | str) -> M | list[M]:
    """A Coupa XML document as ``model``: the root element is the record, or a ``type="array"``
    collection of them (then a list). An ``<errors>`` document raises :class:`NotARecordError`."""
    tag, value = codec_xml.loads(data)
    if tag == "errors":
        raw = data.encode() if isinstance(data, str) else data
        messages = parse_errors(raw, "application/xml")
        raise NotARecordError(f"Coupa error document: {messages}", messages)
    return _parse_value(model, value, f"<{tag}>")


def parse_json(model: type[M], data: bytes | str) -> M | list[M]:
    """A Coupa JSON body as ``model``: an object is a record, an array a list of them.

    An ``{"errors": ...}`` body raises :class:`NotARecordError` with its messages.
    """
    value = codec_json.loads(data, expect_object=True)
    if isinstance(value, dict) and set(value) == {"errors"}:
        raw = data.encode() if isinstance(data, str) else data
        messages = parse_errors(raw, "application/json")
        raise NotARecordError(f"Coupa error document: {messages}", messages)
    return _parse_value(model, value, "JSON body")


def _parse_value(model: type[M], value: Any, where: str) -> M | list[M]:
    if isinstance(value, list):
        # An empty item element (<user/>) is a record with no fields; anything else is refused.
        return [parse_record(model, {} if item == "" else item) for item in value]
    if isinstance(value, dict):
        return parse_record(model, value)
    if value == "":
        return parse_record(model, {})  # <invoice-header/>: a record with nothing set
    raise NotARecordError(f"{where} holds {type(value).__name__}, not a record")
