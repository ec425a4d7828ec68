"""Typed pydantic models of Coupa's records.

Attributes are snake_case (``invoice.total_with_taxes``), wire names hyphenated
(``model_dump(by_alias=True)`` gives ``total-with-taxes``). Decimals are ``Decimal``, timestamps
aware ``datetime``, statuses ``<Enum> | str``. Every field is optional and unknown keys, custom
fields included, are kept: parsing a Coupa document and dumping it back loses nothing.

Field lists follow R39 (``pycoupa.catalog``); where Coupa's payloads contradict R39 the field says
so in a comment. ``model_for(resource)`` picks the model, ``parse_xml``/``parse_json`` read bodies.
"""

from __future__ import annotations

from pycoupa.client.models._base import CoupaModel, CoupaRecord
from pycoupa.client.models.accounts import Account, AccountType
from pycoupa.client.models.addresses import Address, Contact, PhoneNumber, RemitToAddress
from pycoupa.client.models.approvals import Approval
from pycoupa.client.models.enums import (
    ApprovalStatus,
    AuthenticationMethod,
    InvoiceChargeType,
    InvoiceLineType,
    InvoiceMatchingLevel,
    InvoiceStatus,
    MatchType,
    OrderLineType,
    PaymentStatus,
    PoMethod,
    PurchaseOrderStatus,
    RequisitionLineType,
    RequisitionStatus,
    SupplierStatus,
    TransmissionStatus,
)
from pycoupa.client.models.invoices import Invoice, InvoiceCharge, InvoiceLine, TaxLine
from pycoupa.client.models.payments import PayFromAccount, Payment, PaymentDetail, PaymentPartner, PayToAccount
from pycoupa.client.models.purchasing import OrderLine, PurchaseOrder, Requisition, RequisitionLine
from pycoupa.client.models.reference import Currency, Item, LookupValue
from pycoupa.client.models.refs import (
    AccountRef,
    AccountTypeRef,
    CodeRef,
    CountryRef,
    CurrencyRef,
    NamedRef,
    Ref,
    SupplierRef,
    UserRef,
)
from pycoupa.client.models.registry import (
    MODEL_FOR_ELEMENT,
    MODEL_FOR_RESOURCE,
    NotARecordError,
    model_for,
    model_for_element,
    parse_json,
    parse_record,
    parse_records,
    parse_xml,
)
from pycoupa.client.models.suppliers import Supplier
from pycoupa.client.models.users import User, UserGroup

__all__ = [
    "MODEL_FOR_ELEMENT",
    "MODEL_FOR_RESOURCE",
    "Account",
    "AccountRef",
    "AccountType",
    "AccountTypeRef",
    "Address",
    "Approval",
    "ApprovalStatus",
    "AuthenticationMethod",
    "CodeRef",
    "Contact",
    "CountryRef",
    "CoupaModel",
    "CoupaRecord",
    "Currency",
    "CurrencyRef",
    "Invoice",
    "InvoiceCharge",
    "InvoiceChargeType",
    "InvoiceLine",
    "InvoiceLineType",
    "InvoiceMatchingLevel",
    "InvoiceStatus",
    "Item",
    "LookupValue",
    "MatchType",
    "NamedRef",
    "NotARecordError",
    "OrderLine",
    "OrderLineType",
    "PayFromAccount",
    "PayToAccount",
    "Payment",
    "PaymentDetail",
    "PaymentPartner",
    "PaymentStatus",
    "PhoneNumber",
    "PoMethod",
    "PurchaseOrder",
    "PurchaseOrderStatus",
    "Ref",
    "RemitToAddress",
    "Requisition",
    "RequisitionLine",
    "RequisitionLineType",
    "RequisitionStatus",
    "Supplier",
    "SupplierRef",
    "SupplierStatus",
    "TaxLine",
    "TransmissionStatus",
    "User",
    "UserGroup",
    "UserRef",
    "model_for",
    "model_for_element",
    "parse_json",
    "parse_record",
    "parse_records",
    "parse_xml",
]
