"""Addresses, supplier contacts and phone numbers."""

from __future__ import annotations

from pydantic import Field

from pycoupa.client.models._base import (
    Bool,
    CoupaRecord,
    Many,
    Nested,
    Text,
)
from pycoupa.client.models.refs import (
    CountryRef,
    NamedRef,
    Ref,
    UserRef,
)


class PhoneNumber(CoupaRecord):
    """A phone number as Coupa splits it (country code, area code, number)."""

    area_code: Text = None
    country_code: Text = None
    created_by: Nested[UserRef] = None
    extension: Text = None
    number: Text = None
    updated_by: Nested[UserRef] = None


class Address(CoupaRecord):
    """An address (``/api/addresses``; also a supplier's primary address, ship-to and bill-to)."""

    active: Bool = None
    attention: Text = None
    business_group_name: Text = None
    city: Text = None
    content_groups: Many[NamedRef] = Field(default_factory=list)
    country: Nested[CountryRef] = None
    created_by: Nested[UserRef] = None
    external_src_name: Text = None
    external_src_ref: Text = None
    local_tax_number: Text = None
    location_code: Text = None
    name: Text = None
    postal_code: Text = None
    purposes: Many[Ref] = Field(default_factory=list)
    state: Text = None
    state_iso_code: Text = None
    street1: Text = None
    street2: Text = None
    street3: Text = None
    street4: Text = None
    tax_registrations: Many[Ref] = Field(default_factory=list)  # R39 points this back at Address
    type: Text = None
    updated_by: Nested[UserRef] = None
    vat_country: Nested[CountryRef] = None
    vat_number: Text = None


class RemitToAddress(CoupaRecord):
    """A supplier's remit-to address (``/api/suppliers/{id}/addresses``)."""

    active: Bool = None
    city: Text = None
    country: Nested[CountryRef] = None
    created_by: Nested[UserRef] = None
    external_src_name: Text = None
    external_src_ref: Text = None
    local_tax_number: Text = None
    name: Text = None
    postal_code: Text = None
    remit_to_code: Text = None
    state: Text = None
    state_iso_code: Text = None
    street1: Text = None
    street2: Text = None
    street3: Text = None
    street4: Text = None
    tax_registrations: Many[Ref] = Field(default_factory=list)
    updated_by: Nested[UserRef] = None
    vat_country: Nested[CountryRef] = None
    vat_number: Text = None


class Contact(CoupaRecord):
    """A supplier contact."""

    active: Bool = None
    created_by: Nested[UserRef] = None
    email: Text = None
    name_additional: Text = None
    name_family: Text = None
    name_fullname: Text = None
    name_given: Text = None
    name_prefix: Text = None
    name_suffix: Text = None
    notes: Text = None
    phone_fax: Nested[PhoneNumber] = None
    phone_mobile: Nested[PhoneNumber] = None
    phone_work: Nested[PhoneNumber] = None
    photo: Text = None
    purposes: Many[Ref] = Field(default_factory=list)
    updated_by: Nested[UserRef] = None
