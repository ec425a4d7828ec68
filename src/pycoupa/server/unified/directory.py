"""Unified User Directory over Coupa: users (with their roles and user-group memberships) and groups.

Same conventions as the accounting mappers (``_convert.py``): string ids, references as
``{"id", "name"}`` objects, Coupa's datetimes as given, null for what Coupa does not hold.
"""

from __future__ import annotations

from typing import Any, Final

from pycoupa.server.unified._convert import (
    ACTIVE_FLAG_DIRECTORY,
    PHONE_FIELDS,
    Raw,
    active_filter,
    active_status,
    guarded,
    id_filter,
    phones,
    sid,
    text_filter,
    timestamps,
    user_ref,
)
from pycoupa.server.unified.accounting import person_filters
from pycoupa.server.unified.spec import Source, UnifiedResource

MODEL: Final = "user-directory"


def _refs(items: Any) -> list[dict[str, Any]]:
    return [{"id": sid(i.get("id")), "name": i.get("name")} for i in items or ()]


USER_FIELDS: Final = (
    "id", "created-at", "updated-at", "login", "firstname", "lastname", "fullname", "email", "employee-number",
    "sso-identifier", "active", {"phone-work": PHONE_FIELDS}, {"phone-mobile": PHONE_FIELDS},
    {"roles": ["id", "name"]}, {"user-groups": ["id", "name"]},
)  # fmt: skip


@guarded(USER_FIELDS)
def map_user(r: Raw) -> dict[str, Any]:
    active = r.get("active")
    email = r.get("email")
    return {
        "id": sid(r.get("id")),
        "external_id": r.get("sso-identifier"),
        "identifiers": None,
        "username": r.get("login"),
        "first_name": r.get("firstname"),
        "last_name": r.get("lastname"),
        "name": r.get("fullname"),
        "title": None,
        "employee_number": r.get("employee-number"),
        "emails": [{"email": email, "type": "work", "is_primary": True}] if email else [],
        "phones": phones(((r.get("phone-work"), "work"), (r.get("phone-mobile"), "mobile"))),
        "status": active_status(active, "inactive"),
        "remote_status": active,
        "is_email_verified": None,
        "is_2fa_enabled": None,
        "roles": _refs(r.get("roles")),
        "groups": _refs(r.get("user-groups")),
        "organizations": None,
        "created_at": r.get("created-at"),
        "updated_at": r.get("updated-at"),
    }


USERS = UnifiedResource(
    model=MODEL,
    name="users",
    description="Coupa users with their roles and user-group memberships.",
    sources=(
        Source(
            coupa_resource="users",
            fields=USER_FIELDS,
            map=map_user,
            filters={
                "id": id_filter("id", "id"),
                **person_filters(),
                "group_id": id_filter("group_id", "user-groups[id]"),
                "role_id": id_filter("role_id", "roles[id]"),
            },
        ),
    ),
)


GROUP_FIELDS: Final = (
    "id", "created-at", "updated-at", "name", "description", "active", "can-approve",
    {"users": ["id", "fullname", "email"]},
)  # fmt: skip


@guarded(GROUP_FIELDS)
def map_group(r: Raw) -> dict[str, Any]:
    active = r.get("active")
    members = [u for u in (user_ref(m) for m in r.get("users") or ()) if u is not None]
    return {
        "id": sid(r.get("id")),
        "name": r.get("name"),
        "description": r.get("description"),
        "group_type": "group",
        "status": active_status(active, "inactive"),
        "remote_status": active,
        "can_approve": r.get("can-approve"),
        "members": members,
        "organization": None,
        "created_at": r.get("created-at"),
        "updated_at": r.get("updated-at"),
    }


GROUPS = UnifiedResource(
    model=MODEL,
    name="groups",
    description="Coupa user groups (approval groups included), with their members.",
    sources=(
        Source(
            coupa_resource="user_groups",
            fields=GROUP_FIELDS,
            map=map_group,
            filters={
                "id": id_filter("id", "id"),
                **timestamps(),
                "status": active_filter("active", ACTIVE_FLAG_DIRECTORY),
                "name": text_filter("name", "name"),
            },
        ),
    ),
)

RESOURCES: Final = (USERS, GROUPS)
