"""Small models for associations: the part of a nested record a caller usually needs.

Coupa expands associations in full (a supplier inside an invoice carries its contact and
address), but the fields worth typing are few; the rest stays as extras, nothing is dropped.
They also serve as write references: ``CurrencyRef(code="USD")`` dumps as ``{"code": "USD"}``.
"""

from __future__ import annotations

from pycoupa.client.models._base import Bool, CoupaRecord, EnumOr, Int, Nested, Text
from pycoupa.client.models.enums import SupplierStatus

__all__ = [
    "AccountRef",
    "AccountTypeRef",
    "CodeRef",
    "CountryRef",
    "CurrencyRef",
    "NamedRef",
    "Ref",
    "SupplierRef",
    "UserRef",
]


class Ref(CoupaRecord):
    """Any associated record: ``id`` and timestamps typed, everything else kept as it came."""


class NamedRef(Ref):
    """A record usually named by ``name`` (commodity, department, lookup, role, group...)."""

    name: Text = None


class CodeRef(Ref):
    """A record usually named by ``code`` (unit of measure, payment term, tax code...)."""

    code: Text = None


class CurrencyRef(Ref):
    code: Text = None
    decimals: Int = None


class CountryRef(Ref):
    code: Text = None
    name: Text = None


class UserRef(Ref):
    """Coupa's compact "UserSimple" view of a user (``created-by``, ``requested-by``, approvers)."""

    login: Text = None
    email: Text = None
    employee_number: Text = None
    firstname: Text = None
    lastname: Text = None
    fullname: Text = None
    salesforce_id: Text = None
    avatar_thumb_url: Text = None


class SupplierRef(Ref):
    name: Text = None
    number: Text = None
    display_name: Text = None
    status: EnumOr[SupplierStatus] = None


class AccountTypeRef(Ref):
    name: Text = None


class AccountRef(Ref):
    name: Text = None
    code: Text = None
    active: Bool = None
    account_type: Nested[AccountTypeRef] = None
