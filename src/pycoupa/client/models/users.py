"""Users and user groups."""

from __future__ import annotations

from pydantic import Field

from pycoupa.client.models._base import (
    Bool,
    CoupaRecord,
    EnumOr,
    Int,
    Many,
    Nested,
    Text,
)
from pycoupa.client.models.addresses import Address, PhoneNumber
from pycoupa.client.models.enums import (
    AuthenticationMethod,
)
from pycoupa.client.models.refs import (
    AccountRef,
    AccountTypeRef,
    CountryRef,
    CurrencyRef,
    NamedRef,
    Ref,
    UserRef,
)


class User(CoupaRecord):
    """A user (``/api/users``, ``<user>``)."""

    account_groups: Many[Ref] = Field(default_factory=list)
    account_security_type: Int = None
    active: Bool = None
    aic_user: Bool = None
    allow_employee_payment_account_creation: Bool = None
    allow_user_to_upload_invoice_from_mobile: Bool = None
    allowed_invoice_inboxes: Text = None
    analytics_user: Bool = None
    api_user: Bool = None
    approval_groups: Many[NamedRef] = Field(default_factory=list)
    approval_limit: Nested[Ref] = None
    authentication_method: EnumOr[AuthenticationMethod] = None
    avatar_thumb_url: Text = None
    business_function: Text = None
    business_group_security_type: Int = None
    # R39 says single users; every user sample has arrays here.
    can_expense_for: Many[UserRef] = Field(default_factory=list)
    category_planner_user: Bool = None
    ccw_user: Bool = None
    clm_advanced_user: Bool = None
    content_groups: Many[NamedRef] = Field(default_factory=list)
    contract_approval_limit: Nested[Ref] = None
    contract_self_approval_limit: Nested[Ref] = None
    contracts_user: Bool = None
    country_of_residence: Nested[CountryRef] = None
    created_by: Nested[UserRef] = None
    default_account: Nested[AccountRef] = None
    default_account_type: Nested[AccountTypeRef] = None
    default_address: Nested[Address] = None
    default_currency: Nested[CurrencyRef] = None
    default_locale: Text = None
    department: Nested[NamedRef] = None
    eligible_for_virtual_cards: Bool = None
    email: Text = None
    employee_number: Text = None
    employee_payment_channel: Text = None
    escalation_threshold: Nested[Ref] = None
    expense_approval_limit: Nested[Ref] = None
    expense_self_approval_limit: Nested[Ref] = None
    expense_user: Bool = None
    expenses_delegated_to: Many[UserRef] = Field(default_factory=list)
    firstname: Text = None
    fullname: Text = None
    generate_password_and_notify: Text = None
    inventory_organizations: Many[Ref] = Field(default_factory=list)
    inventory_user: Bool = None
    invoice_approval_limit: Nested[Ref] = None
    invoice_self_approval_limit: Nested[Ref] = None
    invoicing_user: Bool = None
    lastname: Text = None
    legal_entity: Nested[Ref] = None
    login: Text = None
    manager: Nested[UserRef] = None
    mention_name: Text = None
    middlename: Text = None
    msp_user: Bool = None
    password: Text = None
    pcard: Nested[Ref] = None
    phone_mobile: Nested[PhoneNumber] = None
    phone_work: Nested[PhoneNumber] = None
    purchasing_user: Bool = None
    requisition_approval_limit: Nested[Ref] = None
    requisition_self_approval_limit: Nested[Ref] = None
    risk_assess_user: Bool = None
    roles: Many[NamedRef] = Field(default_factory=list)
    salesforce_enabled: Bool = None
    salesforce_id: Text = None
    self_approval_limit: Nested[Ref] = None
    seniority_level: Text = None
    sourcing_user: Bool = None
    spend_guard_user: Bool = None
    sso_identifier: Text = None
    supplier_id: Int = None
    supplier_user: Bool = None
    supply_chain_user: Bool = None
    support_user: Bool = None
    travel_user: Bool = None
    treasury_user: Bool = None
    updated_by: Nested[UserRef] = None
    user_groups: Many[NamedRef] = Field(default_factory=list)
    work_confirmation_approval_limit: Nested[Ref] = None
    working_warehouses: Many[Ref] = Field(default_factory=list)


class UserGroup(CoupaRecord):
    """A user group (``/api/user_groups``, ``<user-group>``)."""

    active: Bool = None
    avatar_thumb_url: Text = None
    can_approve: Bool = None
    content_groups: Many[NamedRef] = Field(default_factory=list)
    created_by: Nested[UserRef] = None
    description: Text = None
    mention_name: Text = None
    name: Text = None
    open: Bool = None
    owner: Nested[Ref] = None  # R39 points this back at UserGroup
    type: Text = None
    updated_by: Nested[UserRef] = None
    users: Many[UserRef] = Field(default_factory=list)
