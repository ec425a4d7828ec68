"""Purchase orders and requisitions with their lines."""

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
    Text,
    Timestamp,
)
from pycoupa.client.models.addresses import Address
from pycoupa.client.models.approvals import Approval
from pycoupa.client.models.enums import (
    MatchType,
    OrderLineType,
    PurchaseOrderStatus,
    RequisitionLineType,
    RequisitionStatus,
    TransmissionStatus,
)
from pycoupa.client.models.refs import (
    AccountRef,
    AccountTypeRef,
    CodeRef,
    CurrencyRef,
    NamedRef,
    Ref,
    SupplierRef,
    UserRef,
)


class OrderLine(CoupaRecord):
    """A purchase order line (``<order-line>``, ``/api/purchase_order_lines``)."""

    account: Nested[AccountRef] = None
    account_allocations: Many[Ref] = Field(default_factory=list)
    account_type: Nested[AccountTypeRef] = None
    accounting_total: Dec = None
    accounting_total_currency: Nested[CurrencyRef] = None
    amount_components: Many[Ref] = Field(default_factory=list)
    asset_tags: Many[Ref] = Field(default_factory=list)
    attachments: Many[Ref] = Field(default_factory=list)
    bulk_price: Nested[Ref] = None
    commodity: Nested[NamedRef] = None
    contract: Nested[NamedRef] = None
    created_by: Nested[UserRef] = None
    currency: Nested[CurrencyRef] = None
    department: Nested[NamedRef] = None
    description: Text = None
    easy_form_response_id: Int = None
    external_reference_number: Text = None
    external_reference_type: Text = None
    extra_line_attribute: Nested[Ref] = None
    form_response: Nested[Ref] = None
    invoice_stop: Bool = None
    invoiced: Dec = None
    item: Nested[NamedRef] = None
    line_num: Int = None  # R39 says string on order lines only; every sample numbers lines with integers
    line_owner: Nested[UserRef] = None
    manufacturer_name: Text = None
    manufacturer_part_number: Text = None
    match_type: EnumOr[MatchType] = None
    milestones: Many[Ref] = Field(default_factory=list)
    minimum_order_quantity: Dec = None
    need_by_date: DateOrTime = None
    order_header_id: Int = None
    order_header_number: Text = None
    order_increment: Dec = None
    order_line_tax_detail: Nested[Ref] = None
    period: Nested[Ref] = None
    price: Dec = None
    quantity: Dec = None
    receipt_approval_required: Bool = None
    receipt_required: Bool = None
    received: Text = None
    receiving_warehouse: Nested[Ref] = None
    recurring_rules: Many[Ref] = Field(default_factory=list)
    reporting_total: Dec = None
    requester: Nested[UserRef] = None
    requisition_line_id: Text = None
    rfq_easy_form_response_id: Nested[Ref] = None
    rfq_form_response: Nested[Ref] = None
    savings_pct: Dec = None
    service_type: Text = None
    source_part_num: Text = None
    status: Text = None
    sub_line_num: Int = None
    supp_aux_part_num: Text = None
    supplier: Nested[SupplierRef] = None
    supplier_order_number: Text = None
    supplier_schedule_lines: Many[Ref] = Field(default_factory=list)
    supplier_site_id: Int = None
    third_party_supplier: Nested[SupplierRef] = None
    total: Dec = None
    total_invoiced: Text = None
    type: EnumOr[OrderLineType] = None
    uom: Nested[CodeRef] = None
    updated_by: Nested[UserRef] = None
    version: Int = None


class PurchaseOrder(CoupaRecord):
    """A purchase order (``/api/purchase_orders``, ``<order-header>``)."""

    acknowledged_at: Timestamp = None
    acknowledged_flag: Bool = None
    attachments: Many[Ref] = Field(default_factory=list)
    change_type: Text = None
    classification: Text = None
    confirm_by_hrs: Int = None
    coupa_accelerate_status: Text = None
    created_by: Nested[UserRef] = None
    currency: Nested[CurrencyRef] = None
    current_integration_history_records: Many[Ref] = Field(default_factory=list)
    exported: Bool = None
    # R39 points this at the header itself and says nothing more; price-hidden is the flag.
    hide_price: Any = None
    internal_revision: Int = None
    invoice_stop: Bool = None
    last_exported_at: Timestamp = None
    milestones: Many[Ref] = Field(default_factory=list)
    # not_applicable/header/line (the supplier's enum): text, though R39 says integer in places
    order_confirmation_level: Text = None
    order_header_confirmations: Many[Ref] = Field(default_factory=list)
    order_lines: Many[OrderLine] = Field(default_factory=list)
    payment_method: Text = None
    payment_term: Nested[CodeRef] = None
    pcard: Nested[Ref] = None
    po_number: Text = None
    price_hidden: Bool = None
    reason_insight_events: Many[Ref] = Field(default_factory=list)
    recurring_rules: Many[Ref] = Field(default_factory=list)
    requester: Nested[UserRef] = None
    requisition_header: Nested[Ref] = None
    ship_to_address: Nested[Address] = None
    ship_to_attention: Text = None
    ship_to_user: Nested[UserRef] = None
    shipping_term: Nested[CodeRef] = None
    status: EnumOr[PurchaseOrderStatus] = None
    supplier: Nested[SupplierRef] = None
    supplier_site: Nested[Ref] = None
    transmission_emails: Text = None
    transmission_method_override: Text = None
    transmission_status: EnumOr[TransmissionStatus] = None
    type: Text = None
    updated_by: Nested[UserRef] = None
    user_group_members: Many[NamedRef] = Field(default_factory=list)
    user_members: Many[UserRef] = Field(default_factory=list)
    version: Int = None


class RequisitionLine(CoupaRecord):
    """A requisition line (``<requisition-line>``)."""

    account: Nested[AccountRef] = None
    account_allocations: Many[Ref] = Field(default_factory=list)
    alternate_status: Text = None
    alternates: Many[RequisitionLine] = Field(default_factory=list)
    asset_tags: Many[Ref] = Field(default_factory=list)
    # R39 points attachments, order-pad-line and period back at RequisitionLine: plain refs.
    attachments: Many[Ref] = Field(default_factory=list)
    commodity: Nested[NamedRef] = None
    confirm_by_hrs: Dec = None
    contract: Nested[NamedRef] = None
    created_by: Nested[UserRef] = None
    currency: Nested[CurrencyRef] = None
    description: Text = None
    easy_form_response_id: Text = None
    extra_line_attribute: Nested[Ref] = None
    # R39 says a read-only string; a 2010 sample gives the form's answers as [{prompt, responses}].
    form_response: str | list[dict[str, Any]] | None = None
    image_url: Text = None
    item: Nested[NamedRef] = None
    line_num: Int = None
    line_owner: Nested[UserRef] = None
    line_type: EnumOr[RequisitionLineType] = None
    manufacturer_name: Text = None
    manufacturer_part_number: Text = None
    milestones: Many[Ref] = Field(default_factory=list)
    minimum_order_quantity: Dec = None
    need_by_date: DateOrTime = None
    # not_applicable/header/line (the supplier's enum): text, though R39 says integer in places
    order_confirmation_level: Text = None
    order_increment: Dec = None
    order_line_id: Int = None
    order_pad_line: Nested[Ref] = None
    payment_term: Nested[CodeRef] = None
    period: Nested[Ref] = None
    punchout_site: Nested[Ref] = None
    quantity: Dec = None
    realtime_extension: Nested[Ref] = None
    receipt_required: Bool = None
    recurring_rules: Many[Ref] = Field(default_factory=list)
    requisition_line_tax_detail: Nested[Ref] = None
    service_type: Text = None
    shipping_term: Nested[CodeRef] = None
    source: Text = None
    source_details: Text = None
    source_part_num: Text = None
    source_type: Text = None
    status: Text = None
    sub_line_num: Int = None
    supp_aux_part_num: Text = None
    supplier: Nested[SupplierRef] = None
    supplier_site: Nested[Ref] = None
    supplier_site_id: Int = None
    sustainability_detail: Nested[Ref] = None
    taggings: Many[Ref] = Field(default_factory=list)
    tags: Many[Ref] = Field(default_factory=list)
    total: Dec = None
    transmission_emails: Text = None
    transmission_method_override: Text = None
    unit_price: Dec = None
    unit_price_in_usd: Dec = None
    unspsc_code: Text = None
    uom: Nested[CodeRef] = None
    updated_by: Nested[UserRef] = None


class Requisition(CoupaRecord):
    """A requisition (``/api/requisitions``, ``<requisition-header>``)."""

    approvals: Many[Approval] = Field(default_factory=list)
    approver: Nested[UserRef] = None
    attachments: Many[Ref] = Field(default_factory=list)
    buyer_note: Text = None
    created_by: Nested[UserRef] = None
    currency: Nested[CurrencyRef] = None  # R39 says a string ("USD"); samples nest {id, code}
    current_approval: Nested[Approval] = None
    current_parallel_approvals: Many[Approval] = Field(default_factory=list)
    department: Nested[NamedRef] = None
    exported: Bool = None
    external_po_reference: Text = None
    # R39 points this at the header itself and says nothing more; price-hidden is the flag.
    hide_price: Any = None
    justification: Text = None
    last_exported_at: Timestamp = None
    line_count: Int = None
    milestones: Many[Ref] = Field(default_factory=list)
    mobile_currency: Text = None
    mobile_total: Dec = None
    need_by_date: DateOrTime = None
    pcard: Nested[Ref] = None
    price_hidden: Bool = None
    receiving_warehouse_id: Int = None
    recurring_rules: Many[Ref] = Field(default_factory=list)
    reject_reason_comment: Text = None
    req_title: Text = None
    requested_by: Nested[UserRef] = None
    requester: Nested[UserRef] = None
    requisition_lines: Many[RequisitionLine] = Field(default_factory=list)
    ship_to_address: Nested[Address] = None
    ship_to_attention: Text = None
    status: EnumOr[RequisitionStatus] = None
    submitted_at: Timestamp = None
    taggings: Many[Ref] = Field(default_factory=list)
    tags: Many[Ref] = Field(default_factory=list)
    total: Dec = None
    updated_by: Nested[UserRef] = None
    user_group_members: Many[NamedRef] = Field(default_factory=list)
    user_members: Many[UserRef] = Field(default_factory=list)
