"""Accounts and account types (charts of accounts)."""

from __future__ import annotations

from pycoupa.client.models._base import (
    Bool,
    CoupaRecord,
    Int,
    Nested,
    Text,
)
from pycoupa.client.models.addresses import Address, Contact
from pycoupa.client.models.refs import (
    AccountTypeRef,
    CurrencyRef,
    UserRef,
)


class AccountType(CoupaRecord):
    """A chart of accounts (``/api/account_types``, ``<account-type>``)."""

    active: Bool = None
    created_by: Nested[UserRef] = None
    currency: Nested[CurrencyRef] = None
    dynamic_flag: Bool = None
    legal_entity_name: Text = None
    name: Text = None
    primary_address: Nested[Address] = None
    primary_contact: Nested[Contact] = None
    updated_by: Nested[UserRef] = None


class Account(CoupaRecord):
    """A general-ledger account (``/api/accounts``, ``<account>``)."""

    account_type: Nested[AccountTypeRef] = None
    account_type_id: Int = None
    active: Bool = None
    code: Text = None
    created_by: Nested[UserRef] = None
    name: Text = None
    segment_1: Text = None
    segment_10: Text = None
    segment_11: Text = None
    segment_12: Text = None
    segment_13: Text = None
    segment_14: Text = None
    segment_15: Text = None
    segment_16: Text = None
    segment_17: Text = None
    segment_18: Text = None
    segment_19: Text = None
    segment_2: Text = None
    segment_20: Text = None
    segment_3: Text = None
    segment_4: Text = None
    segment_5: Text = None
    segment_6: Text = None
    segment_7: Text = None
    segment_8: Text = None
    segment_9: Text = None
    updated_by: Nested[UserRef] = None
