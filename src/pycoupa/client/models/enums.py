"""Coupa's documented enumerations (R39 and coupa-api.md section 6).

Model fields are typed ``<Enum> | str``: a value listed here becomes the member, any other value
(a newer Coupa release, an instance-specific status) stays the raw string, so one unexpected
status never breaks a whole page of records.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "ApprovalStatus",
    "AuthenticationMethod",
    "InvoiceChargeType",
    "InvoiceLineType",
    "InvoiceMatchingLevel",
    "InvoiceStatus",
    "MatchType",
    "OrderLineType",
    "PaymentStatus",
    "PoMethod",
    "PurchaseOrderStatus",
    "RequisitionLineType",
    "RequisitionStatus",
    "SupplierStatus",
    "TransmissionStatus",
]


class InvoiceStatus(StrEnum):
    NEW = "new"
    AP_HOLD = "ap_hold"
    DRAFT = "draft"
    ON_HOLD = "on_hold"
    PENDING_RECEIPT = "pending_receipt"
    REJECTED = "rejected"
    ABANDONED = "abandoned"
    DISPUTED = "disputed"
    PENDING_APPROVAL = "pending_approval"
    BOOKING_HOLD = "booking_hold"
    PENDING_ACTION = "pending_action"
    APPROVED = "approved"
    VOIDED = "voided"
    PROCESSING = "processing"
    INVALID = "invalid"
    PAYABLE_ADJUSTMENT = "payable_adjustment"


class InvoiceLineType(StrEnum):
    QUANTITY = "InvoiceQuantityLine"
    AMOUNT = "InvoiceAmountLine"


class InvoiceChargeType(StrEnum):
    SHIPPING = "InvoiceShippingCharge"
    HANDLING = "InvoiceHandlingCharge"
    MISC = "InvoiceMiscCharge"


class PurchaseOrderStatus(StrEnum):
    BUYER_HOLD = "buyer_hold"
    CANCELLED = "cancelled"
    CLOSED = "closed"
    CURRENCY_HOLD = "currency_hold"
    DRAFT = "draft"
    ERROR = "error"
    EXPENSED = "expensed"
    ISSUED = "issued"
    SUPPLIER_HOLD = "supplier_hold"
    SUPPLIER_WINDOW_HOLD = "supplier_window_hold"
    EXPORTED = "exported"


class TransmissionStatus(StrEnum):
    CREATED = "created"
    DEFERRED = "deferred"
    DEFERRED_PROCESSING = "deferred_processing"
    PENDING_MANUAL = "pending_manual"
    PENDING_MANUAL_CANCEL = "pending_manual_cancel"
    AWAITING_ONLINE_PURCHASE = "awaiting_online_purchase"
    SCHEDULED_FOR_EMAIL = "scheduled_for_email"
    SENT_VIA_EMAIL = "sent_via_email"
    SCHEDULED_FOR_CXML = "scheduled_for_cxml"
    SCHEDULED_FOR_XML = "scheduled_for_xml"
    SENT_VIA_CXML = "sent_via_cxml"
    SENT_VIA_XML = "sent_via_xml"
    SENT_MANUALLY = "sent_manually"
    PURCHASED_ONLINE = "purchased_online"
    TRANSMISSION_FAILURE = "transmission_failure"


class OrderLineType(StrEnum):
    QUANTITY = "OrderQuantityLine"
    AMOUNT = "OrderAmountLine"


class MatchType(StrEnum):
    DIRECT_MATCHING = "direct_matching"
    THREE_WAY_FIFO = "3-way-fifo"
    THREE_WAY = "3-way"
    TWO_WAY = "2-way"
    NONE = "none"


class RequisitionStatus(StrEnum):
    DRAFT = "draft"
    CART = "cart"
    PENDING_BUYER_ACTION = "pending_buyer_action"
    PENDING_APPROVAL = "pending_approval"
    APPROVED = "approved"
    ORDERED = "ordered"
    PARTIALLY_RECEIVED = "partially_received"
    RECEIVED = "received"
    ABANDONED = "abandoned"
    BACKGROUNDED = "backgrounded"
    WITHDRAWN = "withdrawn"


class RequisitionLineType(StrEnum):
    QUANTITY = "RequisitionQuantityLine"
    AMOUNT = "RequisitionAmountLine"


class SupplierStatus(StrEnum):
    ACTIVE = "active"
    INACTIVE = "inactive"
    DRAFT = "draft"


class InvoiceMatchingLevel(StrEnum):
    TWO_WAY = "2-way"
    THREE_WAY = "3-way"
    THREE_WAY_DIRECT = "3-way-direct"
    NONE = "none"


class PoMethod(StrEnum):
    CXML = "cxml"
    XML = "xml"
    EMAIL = "email"
    PROMPT = "prompt"
    MARK_AS_SENT = "mark_as_sent"
    BUY_ONLINE = "buy_online"


class PaymentStatus(StrEnum):
    DRAFT = "draft"
    APPROVED = "approved"
    PAYMENT_INITIATED = "payment_initiated"
    PAYMENT_IN_PROGRESS = "payment_in_progress"
    COMPLETED_SUCCESSFULLY = "completed_successfully"
    COMPLETED_WITH_ERRORS = "completed_with_errors"


class ApprovalStatus(StrEnum):
    # coupa-api.md s.6 gives these as examples, not a closed list: other values stay strings.
    PENDING_APPROVAL = "pending_approval"
    APPROVED = "approved"
    REJECTED = "rejected"
    ESCALATED = "escalated"


class AuthenticationMethod(StrEnum):
    COUPA_CREDENTIALS = "coupa_credentials"
    LDAP = "ldap"
    SAML = "saml"
