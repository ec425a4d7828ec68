"""Invoices: header, lines, charges and tax lines."""

from __future__ import annotations

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
    Text,
    Timestamp,
)
from pycoupa.client.models.addresses import Address, RemitToAddress
from pycoupa.client.models.approvals import Approval
from pycoupa.client.models.enums import (
    InvoiceChargeType,
    InvoiceLineType,
    InvoiceStatus,
)
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


class TaxLine(CoupaRecord):
    """A tax line of an invoice, invoice line or charge."""

    amount: Dec = None
    amount_engine: Dec = None
    base: Dec = None
    basis: Dec = None
    code: Text = None
    code_engine: Text = None
    code_id: Int = None
    created_by: Nested[UserRef] = None
    description: Text = None
    kind_of_factor: Text = None
    nature_of_tax: Text = None
    product_tax_classification: Text = None
    rate: Dec = None
    rate_engine: Dec = None
    supplier_rate: Dec = None
    tax_code: Nested[CodeRef] = None
    tax_rate: Nested[Ref] = None
    tax_rate_type: Nested[Ref] = None
    taxable_amount: Dec = None
    type: Text = None
    updated_by: Nested[UserRef] = None
    withholding_amount: Dec = None


class InvoiceLine(CoupaRecord):
    """An invoice line (``<invoice-line>``)."""

    account: Nested[AccountRef] = None
    account_allocations: Many[Ref] = Field(default_factory=list)
    accounting_total: Dec = None
    accounting_total_currency: Nested[CurrencyRef] = None
    adjustment_type: Text = None
    billing_note: Text = None
    bulk_price: Nested[Ref] = None
    category: Text = None
    classification_of_goods: Text = None
    commodity: Nested[NamedRef] = None
    company_uom: Text = None
    contract: Nested[NamedRef] = None
    created_by: Nested[UserRef] = None
    currency: Nested[CurrencyRef] = None
    customs_declaration_number: Text = None
    deductibility: Text = None
    delivery_note_number: Text = None
    description: Text = None
    discount_amount: Dec = None
    failed_tolerances: Many[Ref] = Field(default_factory=list)
    fiscal_code: Text = None
    handling_distribution_total: Dec = None
    hsn_sac_code: Text = None
    item: Nested[NamedRef] = None
    item_barcode: Text = None
    line_num: Int = None
    line_type: Text = None
    match_reference: Text = None
    misc_distribution_total: Dec = None
    municipality_taxation_code: Text = None
    net_weight: Dec = None
    order_header_num: Text = None
    order_line_commodity: Nested[NamedRef] = None
    order_line_custom_fields: Text = None
    order_line_id: Int = None
    order_line_num: Text = None
    order_line_source_part_num: Text = None
    original_date_of_supply: DateOrTime = None
    period: Nested[Ref] = None
    po_number: Text = None
    price: Dec = None
    price_per_uom: Dec = None
    property_tax_account: Text = None
    quantity: Dec = None
    shipping_distribution_total: Dec = None
    source_part_num: Text = None
    status: Text = None
    subcategory: Text = None
    supp_aux_part_num: Text = None
    taggings: Many[Ref] = Field(default_factory=list)
    tags: Many[Ref] = Field(default_factory=list)
    # R39 types these four and tax-supply-date as strings; Coupa sends decimals, a float rate and
    # a datetime (0209-01).
    tax_amount: Dec = None
    tax_amount_engine: Dec = None
    tax_code: Nested[CodeRef] = None
    tax_code_engine: Text = None
    tax_description: Text = None
    tax_distribution_total: Dec = None
    tax_lines: Many[TaxLine] = Field(default_factory=list)
    tax_location: Text = None
    tax_rate: Dec = None
    tax_rate_engine: Dec = None
    tax_supply_date: DateOrTime = None
    total: Dec = None
    type: EnumOr[InvoiceLineType] = None
    unspsc: Text = None
    uom: Nested[CodeRef] = None
    updated_by: Nested[UserRef] = None
    weight_uom: Nested[CodeRef] = None
    withholding_tax_lines: Many[Ref] = Field(default_factory=list)


class InvoiceCharge(CoupaRecord):
    """A shipping, handling or miscellaneous charge of an invoice."""

    account: Nested[AccountRef] = None
    account_allocations: Many[Ref] = Field(default_factory=list)
    accounting_total: Dec = None
    accounting_total_currency: Nested[CurrencyRef] = None
    billing_note: Text = None
    created_by: Nested[UserRef] = None
    currency: Nested[CurrencyRef] = None
    description: Text = None
    distributed: Bool = None
    line_num: Int = None
    pct: Dec = None
    period: Nested[Ref] = None
    tax_lines: Many[TaxLine] = Field(default_factory=list)
    total: Dec = None
    type: EnumOr[InvoiceChargeType] = None
    updated_by: Nested[UserRef] = None


class Invoice(CoupaRecord):
    """An invoice (``/api/invoices``, ``<invoice-header>``)."""

    abandon_reason: Nested[CodeRef] = None
    account_type: Nested[AccountTypeRef] = None
    advance_payment_received_amount: Dec = None
    amount_due: Dec = None
    amount_due_less_discount: Dec = None
    amount_of_advance_payment: Dec = None
    approvals: Many[Approval] = Field(default_factory=list)
    archive_entity_id: Int = None
    attachments: Many[Ref] = Field(default_factory=list)
    bill_to_address: Nested[Address] = None
    buyer_representative_name: Text = None
    buyer_tax_registration: Nested[Ref] = None
    canceled: Bool = None
    cash_accounting_scheme_reference: Text = None
    cash_register_operator: Text = None
    channel: Text = None
    clearance_document: Text = None
    comments: Text = None
    compliant: Bool = None
    confirmation: Text = None
    content_validation: Bool = None
    contract: Nested[NamedRef] = None
    correct_value_of_supply: Dec = None
    coupa_accelerate_status: Text = None
    created_by: Nested[UserRef] = None
    credit_note_differences_with_original_invoice: Dec = None
    credit_reason: Text = None
    currency: Nested[CurrencyRef] = None
    currency_id: Int = None
    currency_tax_rounding_mode: Text = None
    current_integration_history_records: Many[Ref] = Field(default_factory=list)
    customer_accounting_tax: Dec = None
    customer_accounting_tax_less_discount: Dec = None
    customs_declaration_date: DateOrTime = None
    customs_declaration_number: Text = None
    customs_office: Text = None
    date_of_discovery_of_facts_decisive_for_correction: DateOrTime = None
    date_received: DateOrTime = None
    delivery_date: DateOrTime = None
    delivery_number: Text = None
    destination_country: Nested[CountryRef] = None
    discount_amount: Dec = None
    discount_due_date: DateOrTime = None
    discount_percent: Dec = None
    dispute_method: Text = None
    dispute_reasons: Many[Ref] = Field(default_factory=list)
    document_type: Text = None
    early_payment_provisions: Text = None
    endorsement_on_invoices: Text = None
    exchange_rate: Dec = None
    exported: Bool = None
    failed_tolerances: Many[Ref] = Field(default_factory=list)
    folio_number: Text = None
    form_of_payment: Text = None
    freight_type: Text = None
    gross_total: Dec = None
    gross_total_less_discount: Dec = None
    handling_amount: Dec = None
    image_scan: Text = None
    image_scan_content_type: Text = None
    image_scan_file_name: Text = None
    image_scan_file_size: Text = None
    image_scan_url: Text = None
    inbound_invoice: Nested[Ref] = None
    inbox_name: Text = None
    internal_note: Text = None
    invoice_charges: Many[InvoiceCharge] = Field(default_factory=list)
    invoice_date: DateOrTime = None
    invoice_from_address: Nested[RemitToAddress] = None
    invoice_issuance_time: Text = None
    invoice_lines: Many[InvoiceLine] = Field(default_factory=list)
    invoice_number: Text = None
    invoice_payment_receipts: Many[Ref] = Field(default_factory=list)
    invoice_reference_number: Text = None
    is_credit_note: Bool = None
    issuance_place: Text = None
    last_exported_at: Timestamp = None
    late_payment_penalties: Text = None
    legal_destination_country: Nested[CountryRef] = None
    line_count: Int = None
    line_level_taxation: Bool = None
    lock_version_key: Int = None
    margin_scheme: Text = None
    means_of_payment: Text = None
    misc_amount: Dec = None
    municipal_tax_number: Text = None
    national_enrollment_of_conveyor: Text = None
    nature_of_operation: Text = None
    net_due_date: DateOrTime = None
    net_total_less_discount: Dec = None
    new_means_of_transport: Text = None
    origin_country: Nested[CountryRef] = None
    origin_currency: Nested[CurrencyRef] = None
    origin_currency_gross: Dec = None
    origin_currency_net: Dec = None
    original_invoice_date: DateOrTime = None
    original_invoice_number: Text = None
    original_value_of_supply: Dec = None
    paid: Bool = None
    pay_invoice: Nested[Ref] = None
    payment_agreement_notes: Many[CodeRef] = Field(default_factory=list)
    payment_channel: Text = None
    payment_date: DateOrTime = None
    payment_method: Text = None
    payment_notes: Text = None
    payment_order_number: Text = None
    payment_order_reference: Text = None
    payment_term: Nested[CodeRef] = None
    payments: Many[Ref] = Field(default_factory=list)
    place_of_issuance: Text = None
    place_of_supply: Text = None
    pre_payment_date: DateOrTime = None
    protocol_number: Text = None
    reconciliation_lines: Many[Ref] = Field(default_factory=list)
    remit_to_address: Nested[RemitToAddress] = None
    requested_by: Nested[UserRef] = None
    requester_email: Text = None
    requester_lookup_name: Text = None
    requester_name: Text = None
    resolution_number: Text = None
    reverse_charge_reference: Text = None
    security_code_of_issuer: Text = None
    self_billing_reference: Text = None
    sender_email: Text = None
    serial_code_of_fiscal_invoice: Text = None
    series: Text = None
    ship_from_address: Nested[RemitToAddress] = None
    ship_to_address: Nested[Address] = None
    shipping_amount: Dec = None
    shipping_term: Nested[CodeRef] = None
    signed_qr_code: Text = None
    split_payment_mechanism: Bool = None
    state_tax_number: Text = None
    state_tax_number_for_substitute_taxpayer: Text = None
    status: EnumOr[InvoiceStatus] = None
    supplier: Nested[SupplierRef] = None
    supplier_created: Bool = None
    supplier_invoice_issuer_name: Text = None
    supplier_invoice_reviewer_name: Text = None
    supplier_note: Text = None
    supplier_payment_collector_name: Text = None
    supplier_remit_to: Nested[RemitToAddress] = None
    supplier_representative_name: Text = None
    supplier_site: Nested[Ref] = None
    supplier_tax_registration: Nested[Ref] = None
    supplier_total: Dec = None
    taggings: Many[Ref] = Field(default_factory=list)
    tags: Many[Ref] = Field(default_factory=list)
    tax_amount: Dec = None
    tax_amount_engine: Dec = None
    tax_code: Nested[CodeRef] = None
    tax_code_engine: Text = None
    tax_due_to_supplier: Dec = None
    tax_lines: Many[TaxLine] = Field(default_factory=list)
    tax_rate: Dec = None
    tax_rate_engine: Dec = None
    taxes_in_origin_country_currency: Dec = None
    tcs_tax_lines: Many[Ref] = Field(default_factory=list)
    tolerance_failures: Text = None
    total_taxes_less_discount: Dec = None
    total_with_taxes: Dec = None
    transaction_notification_date: DateOrTime = None
    transaction_uuid: Text = None
    type_of_document: Text = None
    type_of_operation: Text = None
    type_of_receipt: Text = None
    type_of_relationship: Text = None
    unique_identification_code_of_cash_receipt: Text = None
    updated_by: Nested[UserRef] = None
    use_of_invoice: Text = None
    vehicle_license_plate: Text = None
    verification_code: Text = None
    volume_amount: Text = None
    volume_brand: Text = None
    volume_gross_weight: Text = None
    volume_liquid_weight: Text = None
    volume_numbering: Text = None
    volume_type: Text = None
    withholding_tax_lines: Many[Ref] = Field(default_factory=list)
    withholding_tax_override: Dec = None
