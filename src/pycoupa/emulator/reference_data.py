"""What every real Coupa instance holds before anyone writes: currencies, countries, units of
measure, the system roles and the support user. Ids follow Coupa's samples (USD is currency 1,
the United States is country 223, ``coupasupport`` is user 1)."""

from __future__ import annotations

from typing import Any

import pycountry

from pycoupa.emulator.store import Store

# ISO 4217 minor units that are not 2 (the registry data pycountry ships has no exponent).
_MINOR_UNITS = {
    **dict.fromkeys(
        [
            "BIF",
            "CLP",
            "DJF",
            "GNF",
            "ISK",
            "JPY",
            "KMF",
            "KRW",
            "PYG",
            "RWF",
            "UGX",
            "UYI",
            "VND",
            "VUV",
            "XAF",
            "XOF",
            "XPF",
        ],
        0,
    ),
    **dict.fromkeys(["BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"], 3),
    **dict.fromkeys(["CLF", "UYW"], 4),
}
# ISO 4217 X-codes (precious metals, SDR, testing, "no currency") have no minor unit either.
_X_CODES_MINOR_UNITS = 0
_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "INR": "₹", "CNY": "¥", "CAD": "$", "AUD": "$"}

US_COUNTRY_ID = 223
USD_CURRENCY_ID = 1
SUPPORT_USER_ID = 1

UOMS = (
    ("EA", "Each", 0),
    ("HR", "Hour", 2),
    ("DAY", "Day", 2),
    ("BX", "Box", 0),
    ("CS", "Case", 0),
    ("DZ", "Dozen", 0),
    ("PK", "Pack", 0),
    ("KG", "Kilogram", 3),
    ("LB", "Pound", 3),
    ("M", "Meter", 3),
    ("L", "Liter", 3),
    ("GAL", "Gallon", 3),
    ("LOT", "Lot", 0),
    ("MO", "Month", 2),
    ("YR", "Year", 2),
)

ROLES = (
    ("Admin", "Full system access to setup and maintain the application", True),
    ("User", "Standard role for all users", False),
    ("Integration Admin", "Manage integrations and API access", False),
    ("AP Manager", "Accounts payable", False),
    ("Buyer", "Purchasing", False),
)


def currencies() -> list[dict[str, Any]]:
    codes = sorted(c.alpha_3 for c in pycountry.currencies)
    codes.remove("USD")
    out = []
    for n, code in enumerate(["USD", *codes], start=1):
        cur = pycountry.currencies.get(alpha_3=code)
        out.append(
            {
                "id": n,
                "code": code,
                "name": cur.name if cur else code,
                "decimals": _X_CODES_MINOR_UNITS if code.startswith("X") else _MINOR_UNITS.get(code, 2),
                "enabled": code in ("USD", "EUR", "GBP", "CAD", "AUD", "JPY", "INR", "CHF", "MXN", "CNY"),
                "symbol": _SYMBOLS.get(code),
            }
        )
    return out


def countries(now: str) -> list[dict[str, Any]]:
    others = sorted((c for c in pycountry.countries if c.alpha_2 != "US"), key=lambda c: c.name)
    out = []
    next_id = 1
    for c in others:
        if next_id == US_COUNTRY_ID:
            next_id += 1
        out.append({"id": next_id, "code": c.alpha_2, "name": c.name, "created-at": now, "updated-at": now})
        next_id += 1
    out.append({"id": US_COUNTRY_ID, "code": "US", "name": "United States", "created-at": now, "updated-at": now})
    return sorted(out, key=lambda c: c["id"])


def load(store: Store, now: str) -> None:
    """Fill a brand-new instance (ids are fixed, so it is done once per reset)."""
    store.insert_many("Currency", currencies())
    store.insert_many("Country", countries(now))
    store.insert_many(
        "Uom",
        [
            {
                "id": n,
                "code": code,
                "name": name,
                "allowable-precision": prec,
                "active": True,
                "created-at": now,
                "updated-at": now,
                "created-by": SUPPORT_USER_ID,
                "updated-by": SUPPORT_USER_ID,
            }
            for n, (code, name, prec) in enumerate(UOMS, start=1)
        ],
    )
    store.insert_many(
        "Role",
        [
            {
                "id": n,
                "name": name,
                "description": desc,
                "omnipotent": omni,
                "system-role": True,
                "created-at": now,
                "updated-at": now,
            }
            for n, (name, desc, omni) in enumerate(ROLES, start=1)
        ],
    )
    store.insert_many("User", [support_user(now)])


def support_user(now: str) -> dict[str, Any]:
    return {
        "id": SUPPORT_USER_ID,
        "login": "coupasupport",
        "email": "coupasupport@example.invalid",
        "firstname": "Coupa",
        "lastname": "Support",
        "fullname": "Coupa Support",
        "active": True,
        "api-user": False,
        "authentication-method": "coupa_credentials",
        "default-currency": USD_CURRENCY_ID,
        "roles": [1],
        "created-at": now,
        "updated-at": now,
    }


def api_user(user_id: int, name: str, now: str) -> dict[str, Any]:
    """The user an OAuth client acts as (its ``created-by``/``updated-by``)."""
    login = f"oauth-{name}"[:40]
    return {
        "id": user_id,
        "login": login,
        "email": f"{login}@api.example.invalid",
        "firstname": "API",
        "lastname": name[:40],
        "fullname": f"API {name}"[:80],
        "active": True,
        "api-user": True,
        "authentication-method": "coupa_credentials",
        "default-currency": USD_CURRENCY_ID,
        "roles": [3],
        "created-at": now,
        "updated-at": now,
        "created-by": SUPPORT_USER_ID,
        "updated-by": SUPPORT_USER_ID,
    }
