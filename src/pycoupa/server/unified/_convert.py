"""Small converters shared by the unified mappers, and the helpers that build enum filters.

Conventions every mapper follows (``docs/unified-models.md`` states them for API users):

- ids are strings: a Coupa id ``12`` becomes ``"12"``; a composite resource adds its source's prefix
  (``"lookup_value:12"``);
- a reference to another record is an object ``{"id": "12", "name": ...}`` (more keys where Coupa
  nests them), or ``None``;
- money, quantities and rates are JSON numbers (``float``); Coupa's exact decimal strings stay in
  ``remote_data``;
- datetimes are Coupa's ISO 8601 strings, offset included, passed through untouched;
- a missing or null source value gives ``None``, never a ``KeyError``.

The helpers are plain functions over ``dict.get`` with no validation layer; the line-heavy mappers
(20,000+ invoices a second) go further and read with ``itemgetter`` behind :func:`guarded`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from pycoupa.server.unified.spec import UnifiedFilter

Raw = Mapping[str, Any]

DATETIME_OPS = frozenset({"gt", "gte", "lt", "lte"})
TEXT_OPS = frozenset({"eq", "contains", "starts_with"})
ID_OPS = frozenset({"eq", "in"})
CODE_OPS = frozenset({"eq", "in"})
ENUM_OPS = frozenset({"eq", "ne", "in"})


def num(value: Any) -> float | None:
    """Coupa's decimal string (``"123.45"``) or number -> float; null, ``""`` or garbage -> None."""
    if value is None or value == "":
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def sid(value: Any) -> str | None:
    """A Coupa id as a unified id string."""
    return None if value is None else str(value)


def ref(obj: Any) -> dict[str, Any] | None:
    """``{"id": 3, "name": "Finance", ...}`` -> ``{"id": "3", "name": "Finance"}``."""
    if not obj:
        return None
    i = obj.get("id")
    return {"id": None if i is None else str(i), "name": obj.get("name")}


def user_ref(obj: Any) -> dict[str, Any] | None:
    """A nested Coupa user (``UserSimple``) -> ``{"id", "name", "email"}``."""
    if not obj:
        return None
    i = obj.get("id")
    return {"id": None if i is None else str(i), "name": obj.get("fullname"), "email": obj.get("email")}


def code_of(obj: Any) -> str | None:
    """The ``code`` of a nested record (a currency, a unit of measure), or None."""
    return obj.get("code") if obj else None


def phone(obj: Any, kind: str) -> dict[str, Any] | None:
    """A Coupa ``PhoneNumber`` -> ``{"number": "+1 512 5550100", "extension", "type"}``."""
    if not obj:
        return None
    parts = []
    country = obj.get("country-code")
    if country:
        parts.append(country if str(country).startswith("+") else f"+{country}")
    area = obj.get("area-code")
    if area:
        parts.append(str(area))
    number = obj.get("number")
    if number:
        parts.append(str(number))
    if not parts:
        return None
    return {"number": " ".join(parts), "extension": obj.get("extension"), "type": kind}


def phones(pairs: Iterable[tuple[Any, str]]) -> list[dict[str, Any]]:
    out = []
    for obj, kind in pairs:
        p = phone(obj, kind)
        if p is not None:
            out.append(p)
    return out


PHONE_FIELDS = ("country-code", "area-code", "number", "extension")


def active_status(value: Any, inactive: str = "archived") -> str | None:
    """Coupa's ``active`` flag -> ``active`` / ``archived`` (users and groups: ``inactive``)."""
    if value is None:
        return None
    return "active" if value else inactive


# -- fast mappers ----------------------------------------------------------------------------------------
# The line-heavy mappers (invoices, purchase orders, requisitions) read with ``operator.itemgetter``
# and ``record[key]``, and convert with a bare ``float``: that is what makes 20,000+ invoices a second.
# It relies on the shape every Coupa answer has: each projected attribute present (null when blank),
# associations as objects or null, decimals as numeric strings. A record that breaks it (a key
# missing, a number that is not one, a list where an object belongs) is first put in that shape by
# a cleaner built from the source's ``fields``, then mapped again, so the result is still total.
Spec = dict[str, "Spec | None"]


def spec_of(fields: Iterable[Any]) -> Spec:
    """The SDK form of a projection (``("id", {"supplier": ["id", "name"]})``) as a nested dict."""
    out: Spec = {}
    for item in fields:
        if isinstance(item, str):
            out[item] = None
        else:
            for name, sub in item.items():
                out[name] = spec_of(sub)
    return out


def _clean(value: Any, spec: Spec, numeric: frozenset[str]) -> dict[str, Any]:
    src = value if isinstance(value, Mapping) else {}
    out: dict[str, Any] = {}
    for name, sub in spec.items():
        v = src.get(name)
        if sub is None:
            if isinstance(v, Mapping | list | tuple):
                v = None
            elif v is not None and name in numeric:
                v = num(v)
            out[name] = v
        elif isinstance(v, Mapping):
            # A reference without an id is no reference (the fast mappers read ``obj["id"]``).
            out[name] = None if "id" in sub and v.get("id") is None else _clean(v, sub, numeric)
        elif isinstance(v, list | tuple):
            out[name] = [_clean(x, sub, numeric) for x in v if isinstance(x, Mapping)]
        else:
            out[name] = None
    return out


def guarded(
    fields: Iterable[Any], numeric: Iterable[str] = ()
) -> Callable[[Callable[[Raw], dict[str, Any]]], Callable[[Raw], dict[str, Any]]]:
    """Wrap a fast mapper: on a record it cannot read, map that record's cleaned copy instead.

    ``numeric`` names the attributes the mapper passes to ``float``; the cleaner turns those that
    are not numbers into null, fills absent attributes with null and drops malformed nesting.
    """
    spec = spec_of(fields)
    names = frozenset(numeric)

    def wrap(fast: Callable[[Raw], dict[str, Any]]) -> Callable[[Raw], dict[str, Any]]:
        @functools.wraps(fast)
        def mapper(r: Raw) -> dict[str, Any]:
            try:
                return fast(r)
            except (KeyError, TypeError, ValueError, AttributeError):
                return fast(_clean(r, spec, names))

        return mapper

    return wrap


# -- enum filters -------------------------------------------------------------------------------------------
def inverse(mapping: Mapping[str, str]) -> dict[str, list[str]]:
    """``{coupa: unified}`` -> ``{unified: [coupa, ...]}`` (Coupa values in the mapping's order)."""
    out: dict[str, list[str]] = {}
    for coupa, unified in mapping.items():
        out.setdefault(unified, []).append(coupa)
    return out


def enum_translator(
    mapping: Mapping[str, str], extra: Mapping[str, list[str]] | None = None
) -> Callable[[str], list[str]]:
    """A unified value -> the Coupa values that map to it; a value the map does not produce stands
    for itself, the way the mapper passes unmapped Coupa values through. ``extra`` adds unified
    values the mapper derives from more than the enum (an invoice is ``paid`` when ``approved``)."""
    table = inverse(mapping)
    table.update({k: list(v) for k, v in (extra or {}).items()})

    def translate(value: str) -> list[str]:
        return list(table.get(value, [value]))

    return translate


def enum_choices(
    mapping: Mapping[str, str], coupa_enum: Iterable[str] = (), derived: Iterable[str] = ()
) -> tuple[str, ...]:
    """The values an enum filter accepts: every value the mapper can output. That is what the map
    produces, the values derived from more than the enum (``paid``), and the Coupa values no entry
    maps (they come out unchanged, so they can be asked for too). A unified value no Coupa value
    becomes (a requisition is never ``billed``) is refused rather than sent to Coupa."""
    return tuple(sorted({*mapping.values(), *derived, *(v for v in coupa_enum if v not in mapping)}))


def datetime_filter(name: str, coupa: str) -> UnifiedFilter:
    return UnifiedFilter(name=name, coupa=coupa, ops=DATETIME_OPS, kind="datetime")


def text_filter(name: str, coupa: str, ops: frozenset[str] = TEXT_OPS) -> UnifiedFilter:
    return UnifiedFilter(name=name, coupa=coupa, ops=ops, kind="string")


def id_filter(name: str, coupa: str) -> UnifiedFilter:
    return UnifiedFilter(name=name, coupa=coupa, ops=ID_OPS, kind="int")


def timestamps(created: str = "created-at", updated: str = "updated-at") -> dict[str, UnifiedFilter]:
    return {"created_at": datetime_filter("created_at", created), "updated_at": datetime_filter("updated_at", updated)}


ACTIVE_FLAG = {"true": "active", "false": "archived"}
ACTIVE_FLAG_DIRECTORY = {"true": "active", "false": "inactive"}


def active_filter(coupa: str = "active", mapping: Mapping[str, str] = ACTIVE_FLAG) -> UnifiedFilter:
    """``status=active|archived`` (directory: ``active|inactive``) -> Coupa's boolean flag."""
    return UnifiedFilter(
        name="status",
        coupa=coupa,
        ops=ENUM_OPS,
        kind="enum",
        translate=enum_translator(mapping),
        choices=tuple(sorted(set(mapping.values()))),
    )
