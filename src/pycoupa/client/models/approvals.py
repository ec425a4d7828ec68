"""Approvals."""

from __future__ import annotations

from pydantic import Field

from pycoupa.client.models._base import (
    Bool,
    CoupaRecord,
    DateOrTime,
    EnumOr,
    Int,
    Many,
    Nested,
    Text,
)
from pycoupa.client.models.enums import (
    ApprovalStatus,
)
from pycoupa.client.models.refs import (
    NamedRef,
    Ref,
    UserRef,
)


class Approval(CoupaRecord):
    """One step of an approval chain (``/api/approvals``, ``<approval>``)."""

    approvable_id: Int = None
    approvable_type: Text = None
    approval_chain_id: Int = None
    approval_date: DateOrTime = None
    approved_by: Nested[UserRef] = None
    # A user, or a user group for group approvals (``approver-type`` says which): the union picks
    # the shape that matches more fields, so a group keeps its ``name`` typed.
    approver: Nested[UserRef | NamedRef] = None
    approver_id: Int = None
    approver_type: Text = None
    created_by: Nested[UserRef] = None
    delegate: Nested[UserRef] = None
    delegate_id: Text = None
    delegates: Many[UserRef] = Field(default_factory=list)
    holdable: Bool = None
    note: Text = None
    parallel_group_name: Text = None
    position: Int = None
    reasons: Many[Ref] = Field(default_factory=list)
    status: EnumOr[ApprovalStatus] = None
    type: Text = None
    updated_by: Nested[UserRef] = None
