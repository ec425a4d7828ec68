"""Coupa Pay payments (``/api/coupa_pay/payments``)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from pycoupa.client.models._base import (
    Bool,
    CoupaRecord,
    DateOrTime,
    Dec,
    EnumOr,
    Int,
    Many,
    Nested,
    Strings,
    Text,
    Timestamp,
)
from pycoupa.client.models.addresses import RemitToAddress
from pycoupa.client.models.enums import (
    PaymentStatus,
)
from pycoupa.client.models.refs import (
    AccountRef,
    AccountTypeRef,
    CurrencyRef,
    Ref,
    SupplierRef,
    UserRef,
)


class PaymentPartner(CoupaRecord):
    """The bank or card partner behind a payment account."""

    account_types: Many[AccountTypeRef] = Field(default_factory=list)
    card_network: Text = None
    configuration: Nested[dict[str, Any]] = None  # partner settings, an object in seed 003
    coupa_pay_id: Int = None
    created_by: Nested[UserRef] = None
    currency: Nested[CurrencyRef] = None
    currency_id: Int = None
    financial_counterparty: Nested[Ref] = None
    financial_counterparty_id: Int = None
    issuing_bank: Text = None
    name: Text = None
    notes: Text = None
    payment_partner_type: Text = None
    po_charge_holding_account: Nested[AccountRef] = None
    product_names: Text = None
    products: Many[Ref] = Field(default_factory=list)  # R39 points this at the partner itself
    status: Text = None
    support_contact: Nested[UserRef] = None
    type: Text = None
    updated_by: Nested[UserRef] = None


class PayFromAccount(CoupaRecord):
    """The company account a payment is made from."""

    account_kind: Text = None
    account_name: Text = None
    account_type_ids: Many[int] = Field(default_factory=list)
    account_types: Many[AccountTypeRef] = Field(default_factory=list)
    coupa_pay_id: Int = None
    created_by: Nested[UserRef] = None
    currency: Nested[CurrencyRef] = None
    digital_check_signature_viewpost_status: Text = None
    document_types: Strings = Field(default_factory=list)
    payment_option: Text = None
    payment_partner: Nested[PaymentPartner] = None
    physical_check_signature_presence: Bool = None
    source_name: Text = None
    source_reference: Text = None
    status: Text = None
    supported_transfer_types: Strings = Field(default_factory=list)
    updated_by: Nested[UserRef] = None


class PayToAccount(CoupaRecord):
    """The account a payment goes to: a supplier's (or employee's) payment account.

    R39 leaves this shape empty; the fields are those of Coupa's Payments API page (seed 003).
    ``type`` tells invoice payments (``CoupaPay::SupplierPaymentAccount``) from expense payments.
    """

    type: Text = None
    coupa_pay_id: Int = None
    account_name: Text = None
    source_name: Text = None
    account_kind: Text = None
    payment_option: Text = None
    status: Text = None
    document_types: Strings = Field(default_factory=list)
    virtual_card_days_valid: Int = None
    include_cvv_in_cxml: Bool = None
    connect_remit_to_address_id: Int = None
    currency: Nested[CurrencyRef] = None
    supplier: Nested[SupplierRef] = None
    remit_to_address: Nested[RemitToAddress] = None
    created_by: Nested[UserRef] = None
    updated_by: Nested[UserRef] = None


class PaymentDetail(CoupaRecord):
    """What a payment pays: one invoice (or other payable) and its amounts."""

    adjustment_total: Dec = None
    created_by: Nested[UserRef] = None
    currency: Nested[CurrencyRef] = None
    discount_total: Dec = None
    payable_allocations: Many[Ref] = Field(default_factory=list)
    payable_document_type: Text = None
    payable_id: Int = None
    payable_type: Text = None
    payment_id: Text = None
    payment_total: Dec = None
    source_transaction_id: Int = None  # the invoice id (R39 says string; seed 003 sends 940)
    source_transaction_reference: Text = None
    source_transaction_type: Text = None
    supplier_site: Text = None
    transaction_total: Dec = None
    updated_by: Nested[UserRef] = None


class Payment(CoupaRecord):
    """A Coupa Pay payment (``<coupa-pay-payment>``)."""

    created_by: Nested[UserRef] = None
    description: Text = None
    digital_check: Nested[Ref] = None
    error_text: Text = None
    estimated_pay_from_total: Dec = None
    exchange_rate: Dec = None
    exported: Bool = None
    external_ref_id: Int = None
    last_exported_at: Timestamp = None
    legal_entity_name: Text = None
    line_num: Int = None
    pay_from_account: Nested[PayFromAccount] = None
    pay_from_currency: Nested[CurrencyRef] = None
    pay_from_external_gl_account: Nested[Ref] = None
    pay_from_total: Dec = None
    pay_to_account: Nested[PayToAccount] = None
    pay_to_currency: Nested[CurrencyRef] = None
    pay_to_external_gl_account: Nested[Ref] = None
    pay_to_total: Dec = None
    payee: Nested[SupplierRef] = None  # R39 leaves the type open; seed 003 shows a supplier
    payment_batch: Nested[Ref] = None
    payment_batch_id: Int = None
    payment_details: Many[PaymentDetail] = Field(default_factory=list)
    payment_identifier: Text = None
    released_at: Timestamp = None
    reporting_currency: Nested[CurrencyRef] = None
    reporting_pay_from_total: Dec = None
    reporting_pay_to_total: Dec = None
    requested_execution_date: DateOrTime = None
    source_name: Text = None
    source_reference: Text = None
    status: EnumOr[PaymentStatus] = None
    supplier_site: Nested[Ref] = None
    transfer_type: Text = None
    type: Text = None
    updated_by: Nested[UserRef] = None
    # Not in R39 at the top level; Coupa filters payments by payment-partner[issuing-bank] (seed 003).
    payment_partner: Nested[PaymentPartner] = None
