"""Suppliers."""

from __future__ import annotations

from pydantic import Field

from pycoupa.client.models._base import (
    Bool,
    CoupaRecord,
    Dec,
    EnumOr,
    Int,
    Many,
    Nested,
    Text,
)
from pycoupa.client.models.addresses import Address, Contact, RemitToAddress
from pycoupa.client.models.enums import (
    InvoiceMatchingLevel,
    PoMethod,
    SupplierStatus,
)
from pycoupa.client.models.refs import (
    AccountTypeRef,
    CodeRef,
    NamedRef,
    Ref,
    SupplierRef,
    UserRef,
)


class Supplier(CoupaRecord):
    """A supplier (``/api/suppliers``, ``<supplier>``)."""

    account_number: Text = None
    account_types: Many[AccountTypeRef] = Field(default_factory=list)
    allow_change_requests: Bool = None
    allow_cn_no_backing_doc_from_connect: Bool = None
    allow_csp_access_without_two_factor: Bool = None
    allow_cxml_invoicing: Bool = None
    allow_inv_choose_billing_account: Bool = None
    allow_inv_from_connect: Bool = None
    allow_inv_no_backing_doc_from_connect: Bool = None
    allow_inv_unbacked_lines_from_connect: Bool = None
    allow_order_confirmation_item_substitutions: Bool = None
    business_entity_id: Int = None
    buyer_hold: Bool = None
    commodity: Nested[NamedRef] = None
    confirm_by_hrs: Dec = None
    contacts: Many[Contact] = Field(default_factory=list)
    content_groups: Many[NamedRef] = Field(default_factory=list)
    corporate_url: Text = None
    coupa_connect_secret: Text = None
    coupa_pay_financing_only: Bool = None
    created_by: Nested[UserRef] = None
    customer_support_contacts: Many[Ref] = Field(default_factory=list)
    cxml_domain: Text = None
    cxml_http_password: Text = None
    cxml_http_username: Text = None
    cxml_identity: Text = None
    cxml_invoice_buyer_domain: Text = None
    cxml_invoice_buyer_identity: Text = None
    cxml_invoice_secret: Text = None
    cxml_invoice_supplier_domain: Text = None
    cxml_invoice_supplier_identity: Text = None
    cxml_protocol: Text = None
    cxml_secret: Text = None
    cxml_ssl_version: Text = None
    cxml_supplier_domain: Text = None
    cxml_supplier_identity: Text = None
    cxml_url: Text = None
    dd_settings: Text = None
    default_locale: Text = None
    disable_cert_verify: Bool = None
    display_name: Text = None
    diversities: Many[Ref] = Field(default_factory=list)
    # R39 points these three back at Supplier; they are other records: plain refs.
    diversity_categories: Many[Ref] = Field(default_factory=list)
    do_not_accelerate: Bool = None
    duns: Text = None
    enterprise: Nested[Ref] = None
    hold_invoices_for_ap_review: Bool = None
    integration_contacts: Nested[Ref] = None
    inventory_organization: Nested[Ref] = None
    invoice_emails: Many[Ref] = Field(default_factory=list)
    invoice_matching_level: EnumOr[InvoiceMatchingLevel] = None
    name: Text = None
    number: Text = None
    on_hold: Bool = None
    one_time_supplier: Bool = None
    online_store: Nested[Ref] = None
    order_confirmation_level: Text = None  # R39: integer, yet enumerates not_applicable/header/line
    parent: Nested[SupplierRef] = None
    payment_method: Text = None
    payment_term: Nested[CodeRef] = None
    payment_term_id: Int = None
    payment_terms: Many[CodeRef] = Field(default_factory=list)
    po_change_method: EnumOr[PoMethod] = None
    po_email: Text = None
    po_method: EnumOr[PoMethod] = None
    preferred_commodities: Many[NamedRef] = Field(default_factory=list)
    primary_address: Nested[Address] = None
    primary_contact: Nested[Contact] = None
    remit_to_addresses: Many[RemitToAddress] = Field(default_factory=list)
    remit_to_requirement: Int = None
    restricted_account_types: Many[AccountTypeRef] = Field(default_factory=list)
    savings_pct: Dec = None
    scf_configs: Text = None
    scope_three_emissions: Bool = None
    send_invoices_to_approvals: Bool = None
    shipping_term: Nested[CodeRef] = None
    status: EnumOr[SupplierStatus] = None
    storefront_url: Text = None
    supplier_account_types: Many[Ref] = Field(default_factory=list)
    supplier_addresses: Many[Address] = Field(default_factory=list)
    supplier_classification_detail: Nested[Ref] = None
    supplier_community_enablement: Int = None
    supplier_enterprise_detail: Nested[Ref] = None
    supplier_insurance_detail: Nested[Ref] = None
    supplier_risk_detail: Nested[Ref] = None
    supplier_sites: Many[Ref] = Field(default_factory=list)
    supplier_tax_detail: Nested[Ref] = None
    taggings: Many[Ref] = Field(default_factory=list)
    tax_code: Nested[CodeRef] = None
    tax_id: Text = None
    type: Text = None
    updated_by: Nested[UserRef] = None
    website: Text = None
    whitelist_dd: Bool = None
