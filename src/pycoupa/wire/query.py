"""Coupa's collection query grammar, parsed and built in one place.

A Coupa collection query is a list of ``key=value`` pairs::

    status=approved
    supplier[name][contains]=Fish
    invoice-lines[account][code]=a-c
    updated_at[gt]=2024-01-01T00:00:00-07:00
    status[in]=approved,voided
    po-email[blank]=true
    limit=50&offset=100&order_by=created_at&dir=desc
    fields=["id",{"invoice_lines":["id"]}]
    return_object=shallow&filter=default_invoices_filter

The emulator turns such pairs into a :class:`ParsedQuery` with :func:`parse_query`; the SDK
turns conditions back into pairs with :func:`build_query`. ``parse_query(build_query(...))``
gives back what was built, so both sides read the grammar the same way.

Names are normalised to Coupa's hyphen spelling (``invoice_lines`` -> ``invoice-lines``),
because Coupa's own examples use both spellings. Operators may likewise be spelled with dashes
(``gt-or-eq``) and are reported in their underscore form.

Validating attribute paths is the caller's job (it has the catalog): an unknown last segment
that looks like an operator, e.g. ``supplier[name][like]``, is just a path segment here.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, Final, TypeAlias

import orjson

__all__ = [
    "DEFAULT_LIMIT",
    "DIRECTIONS",
    "OPERATORS",
    "RESERVED_KEYS",
    "RETURN_OBJECTS",
    "Condition",
    "FieldSpec",
    "ParsedQuery",
    "QueryError",
    "build_query",
    "condition_key",
    "encode_filter_value",
    "format_fields",
    "is_reserved_key",
    "normalize_name",
    "parse_fields",
    "parse_query",
]

OPERATORS: Final = (
    "contains",
    "starts_with",
    "ends_with",
    "gt",
    "lt",
    "gt_or_eq",
    "lt_or_eq",
    "not_eq",
    "in",
    "not_in",
    "blank",
)
EQ: Final = "eq"
LIST_OPERATORS: Final = ("in", "not_in")
DIRECTIONS: Final = ("asc", "desc")
RETURN_OBJECTS: Final = ("none", "limited", "shallow")
DEFAULT_LIMIT: Final = 50

# Canonical reserved names; a key is reserved if its hyphen form matches one of these.
_RESERVED_CANONICAL: Final = {
    "limit": "limit",
    "offset": "offset",
    "order-by": "order_by",
    "dir": "dir",
    "fields": "fields",
    "return-object": "return_object",
    "filter": "filter",
}
RESERVED_KEYS: Final = tuple(_RESERVED_CANONICAL.values())

# Dash spellings of operators are accepted too, so the lookup goes through the hyphen form.
_OPERATOR_BY_HYPHEN: Final = {op.replace("_", "-"): op for op in OPERATORS}

# name, then zero or more [segment]; no bracket may appear anywhere else.
_KEY_RE: Final = re.compile(r"([^\[\]]+)((?:\[[^\[\]]+\])*)")
_SEGMENT_RE: Final = re.compile(r"\[([^\[\]]+)\]")
_DIGITS_RE: Final = re.compile(r"[+-]?[0-9]+")

FieldSpec: TypeAlias = dict[str, "FieldSpec | None"]


class QueryError(ValueError):
    """A query the grammar rejects; ``param`` names the offending query key."""

    def __init__(self, message: str, param: str) -> None:
        super().__init__(message)
        self.param = param


@dataclass(frozen=True)
class Condition:
    """One ANDed filter: ``path[op]=value`` with the path in hyphen form.

    ``value`` is a tuple for ``in``/``not_in``, ``"true"``/``"false"`` for ``blank`` and the
    raw query string otherwise; typing it is the evaluator's job (it knows the field type).
    """

    path: tuple[str, ...]
    op: str
    value: str | tuple[str, ...]


@dataclass(frozen=True)
class ParsedQuery:
    conditions: tuple[Condition, ...] = ()
    limit: int = DEFAULT_LIMIT
    offset: int = 0
    order_by: str | None = None
    dir: str = "asc"
    fields: FieldSpec | None = None
    return_object: str | None = None
    filter_name: str | None = None
    exported: bool | None = None


def normalize_name(name: str) -> str:
    """Coupa's hyphen spelling of an attribute or association name."""
    return name.replace("_", "-")


def is_reserved_key(key: str) -> bool:
    """True for paging/projection keys (``limit``, ``order-by``, ...) that are not conditions."""
    return normalize_name(key) in _RESERVED_CANONICAL


def condition_key(path: Sequence[str], op: str) -> str:
    """The query key for ``path`` and ``op``: ``("supplier", "name"), "gt"`` -> ``supplier[name][gt]``."""
    key = path[0] + "".join(f"[{seg}]" for seg in path[1:])
    return key if op == EQ else f"{key}[{op}]"


# --------------------------------------------------------------------------- parsing


def parse_query(
    pairs: Iterable[tuple[str, str]], *, for_write: bool = False, max_limit: int = DEFAULT_LIMIT
) -> ParsedQuery:
    """Parse decoded query pairs (e.g. ``request.query_params.multi_items()``).

    ``limit`` defaults to ``min(50, max_limit)`` and is capped at ``max_limit``; ``limit=0``
    means the default. With ``for_write=True`` (a PUT query string) a plain ``exported=...``
    pair means "mark exported" and is returned as ``exported`` rather than as a condition.
    A reserved key given twice is an error: silently picking one would hide a client bug.
    """
    if max_limit < 1:
        raise ValueError("max_limit must be at least 1")
    conditions: list[Condition] = []
    reserved: dict[str, tuple[str, str]] = {}
    exported: bool | None = None
    exported_key: str | None = None
    for key, value in pairs:
        canonical = _RESERVED_CANONICAL.get(normalize_name(key))
        if canonical is not None:
            if canonical in reserved:
                raise QueryError(f"{key!r} is given more than once", key)
            reserved[canonical] = (key, value)
            continue
        if for_write and key == "exported":
            if exported_key is not None:
                raise QueryError(f"{key!r} is given more than once", key)
            exported_key = key
            exported = _parse_bool_flag(key, value)
            continue
        conditions.append(_parse_condition(key, value))

    default_limit = min(DEFAULT_LIMIT, max_limit)
    limit = default_limit
    if "limit" in reserved:
        key, raw = reserved["limit"]
        limit = min(_parse_non_negative(key, raw), max_limit) or default_limit
    offset = 0
    if "offset" in reserved:
        offset = _parse_non_negative(*reserved["offset"])
    order_by = None
    if "order_by" in reserved:
        key, raw = reserved["order_by"]
        if not raw or "[" in raw or "]" in raw:
            raise QueryError(f"{key} must name one attribute, got {raw!r}", key)
        order_by = normalize_name(raw)
    direction = "asc"
    if "dir" in reserved:
        key, raw = reserved["dir"]
        direction = raw.lower()
        if direction not in DIRECTIONS:
            raise QueryError(f"{key} must be asc or desc, got {raw!r}", key)
    fields = None
    if "fields" in reserved:
        key, raw = reserved["fields"]
        fields = parse_fields(raw, param=key)
    return_object = None
    if "return_object" in reserved:
        key, raw = reserved["return_object"]
        return_object = raw.lower()
        if return_object not in RETURN_OBJECTS:
            raise QueryError(f"{key} must be one of none, limited, shallow; got {raw!r}", key)
    filter_name = None
    if "filter" in reserved:
        key, raw = reserved["filter"]
        if not raw:
            raise QueryError(f"{key} must name an API filter", key)
        filter_name = raw

    return ParsedQuery(
        conditions=tuple(conditions),
        limit=limit,
        offset=offset,
        order_by=order_by,
        dir=direction,
        fields=fields,
        return_object=return_object,
        filter_name=filter_name,
        exported=exported,
    )


def _parse_condition(key: str, value: str) -> Condition:
    match = _KEY_RE.fullmatch(key)
    if match is None:
        raise QueryError(f"malformed query key {key!r}", key)
    segments = [match.group(1), *_SEGMENT_RE.findall(match.group(2))]
    op = EQ
    if len(segments) > 1:
        last = _OPERATOR_BY_HYPHEN.get(normalize_name(segments[-1]))
        if last is not None:
            op = last
            segments.pop()
    path = tuple(normalize_name(seg) for seg in segments)
    typed: str | tuple[str, ...]
    if op in LIST_OPERATORS:
        typed = tuple(item for item in value.split(",") if item)
    elif op == "blank":
        typed = "true" if _parse_bool_flag(key, value) else "false"
    else:
        typed = value
    return Condition(path=path, op=op, value=typed)


def _parse_bool_flag(key: str, value: str) -> bool:
    lowered = value.lower()
    if lowered == "true":
        return True
    if lowered == "false":
        return False
    raise QueryError(f"{key} must be true or false, got {value!r}", key)


def _parse_non_negative(key: str, raw: str) -> int:
    # A regex rather than bare int(): int() also takes " 5", "1_0" and non-ASCII digits.
    if not _DIGITS_RE.fullmatch(raw):
        raise QueryError(f"{key} must be a whole number, got {raw!r}", key)
    number = int(raw)
    if number < 0:
        raise QueryError(f"{key} must not be negative, got {raw!r}", key)
    return number


def parse_fields(raw: str, *, param: str = "fields") -> FieldSpec:
    """Parse a ``fields=[...]`` JSON projection into a :data:`FieldSpec`.

    ``"name"`` selects a value (``None``); ``{"assoc": [...]}`` selects part of an association
    and ``{"assoc": {}}`` (or ``[]``) all of it, which is why an empty dict means "everything".
    A name listed twice is merged, a nested selection winning over a bare name.
    """
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise QueryError(f"{param} is not valid JSON: {exc}", param) from None
    if not isinstance(data, list):
        raise QueryError(f"{param} must be a JSON array, got {type(data).__name__}", param)
    return _fields_from_list(data, param, where="")


def _fields_from_list(items: list[Any], param: str, where: str) -> FieldSpec:
    spec: FieldSpec = {}
    for item in items:
        if isinstance(item, str):
            _merge_field(spec, _field_name(item, param, where), None)
        elif isinstance(item, dict):
            for name, sub in item.items():
                field = _field_name(name, param, where)
                inner = f"{where}{field}."
                if isinstance(sub, list):
                    _merge_field(spec, field, _fields_from_list(sub, param, inner))
                elif isinstance(sub, dict) and not sub:
                    _merge_field(spec, field, {})
                else:
                    raise QueryError(
                        f"{param}: {where}{field} must map to a list of fields or {{}}, got {json.dumps(sub)}",
                        param,
                    )
        else:
            raise QueryError(
                f"{param}: entries must be names or {{name: [...]}} objects, got {json.dumps(item)}"
                + (f" inside {where[:-1]}" if where else ""),
                param,
            )
    return spec


def _field_name(name: str, param: str, where: str) -> str:
    if not name:
        raise QueryError(f"{param}: empty field name" + (f" inside {where[:-1]}" if where else ""), param)
    return normalize_name(name)


def _merge_field(spec: FieldSpec, name: str, sub: FieldSpec | None) -> None:
    if name not in spec:
        spec[name] = sub
        return
    current = spec[name]
    if sub is None:
        return
    if current is None:
        spec[name] = sub
    elif not current or not sub:
        spec[name] = {}  # "all of it" absorbs any partial selection
    else:
        for child, child_sub in sub.items():
            _merge_field(current, child, child_sub)


# --------------------------------------------------------------------------- building


def build_query(
    conditions: Iterable[Condition] = (),
    limit: int | None = None,
    offset: int | None = None,
    order_by: str | None = None,
    dir: str | None = None,
    fields: FieldSpec | None = None,
    return_object: str | None = None,
    *,
    filter_name: str | None = None,
    exported: bool | None = None,
) -> list[tuple[str, str]]:
    """Query pairs for ``conditions`` and options, the inverse of :func:`parse_query`.

    Refuses what parse would read differently: a condition on a reserved key, a path whose last
    segment is an operator name with ``eq``, brackets or empty segments, list items with commas.
    ``exported`` is for PUT query strings ("mark exported").
    """
    pairs: list[tuple[str, str]] = []
    for cond in conditions:
        pairs.append(_build_condition(cond))
    if limit is not None:
        if limit < 0:
            raise QueryError(f"limit must not be negative, got {limit}", "limit")
        pairs.append(("limit", str(limit)))
    if offset is not None:
        if offset < 0:
            raise QueryError(f"offset must not be negative, got {offset}", "offset")
        pairs.append(("offset", str(offset)))
    if order_by is not None:
        if not order_by or "[" in order_by or "]" in order_by:
            raise QueryError(f"order_by must name one attribute, got {order_by!r}", "order_by")
        pairs.append(("order_by", order_by))
    if dir is not None:
        if dir.lower() not in DIRECTIONS:
            raise QueryError(f"dir must be asc or desc, got {dir!r}", "dir")
        pairs.append(("dir", dir.lower()))
    if fields is not None:
        pairs.append(("fields", format_fields(fields)))
    if return_object is not None:
        if return_object.lower() not in RETURN_OBJECTS:
            raise QueryError(f"return_object must be none, limited or shallow, got {return_object!r}", "return_object")
        pairs.append(("return_object", return_object.lower()))
    if filter_name is not None:
        if not filter_name:
            raise QueryError("filter must name an API filter", "filter")
        pairs.append(("filter", filter_name))
    if exported is not None:
        pairs.append(("exported", "true" if exported else "false"))
    return pairs


def _build_condition(cond: Condition) -> tuple[str, str]:
    path, op = cond.path, cond.op
    shown = path[0] if path else ""
    if not path or any(not seg or "[" in seg or "]" in seg for seg in path):
        raise QueryError(f"condition path {path!r} has an empty or bracketed segment", shown)
    if op != EQ and op not in OPERATORS:
        raise QueryError(f"unknown operator {op!r}", shown)
    key = condition_key(path, op)
    if len(path) == 1 and is_reserved_key(path[0]):
        raise QueryError(f"{path[0]!r} is a reserved query parameter, not a filter", key)
    if op == EQ and len(path) > 1 and normalize_name(path[-1]) in _OPERATOR_BY_HYPHEN:
        raise QueryError(f"{key!r} would be read as the {path[-1]!r} operator", key)
    value = cond.value
    if op in LIST_OPERATORS:
        if isinstance(value, str):
            return key, value
        for item in value:
            if "," in item:
                raise QueryError(f"{key} item {item!r} contains a comma", key)
        return key, ",".join(value)
    if not isinstance(value, str):
        raise QueryError(f"{key} takes one value, got a tuple", key)
    if op == "blank":
        return key, "true" if _parse_bool_flag(key, value) else "false"
    return key, value


def format_fields(spec: Mapping[str, Any]) -> str:
    """Compact JSON for a :data:`FieldSpec`: ``{"id": None, "lines": {"id": None}}`` ->
    ``["id",{"lines":["id"]}]``; an empty nested dict is written ``{}`` ("all of it")."""
    # orjson writes the same compact, unescaped UTF-8 as json.dumps(separators=(",", ":"),
    # ensure_ascii=False), several times faster: this runs on every list call.
    return orjson.dumps(_fields_to_list(spec)).decode()


def _fields_to_list(spec: Mapping[str, Any]) -> list[Any]:
    out: list[Any] = []
    for name, sub in spec.items():
        if not isinstance(name, str) or not name:
            raise QueryError(f"fields: bad field name {name!r}", "fields")
        if sub is None:
            out.append(name)
        elif isinstance(sub, Mapping):
            out.append({name: _fields_to_list(sub) if sub else {}})
        else:
            raise QueryError(f"fields: {name} must map to None or a nested spec, got {sub!r}", "fields")
    return out


def encode_filter_value(v: object, *, param: str = "") -> str:
    """A Python value as Coupa expects it in a filter.

    Aware datetimes become ISO 8601 with offset and no microseconds (naive ones are refused:
    Coupa would read them in the instance's zone); dates ``YYYY-MM-DD``; bools ``true``/``false``;
    numbers in plain notation; lists and tuples comma-joined for ``in``/``not_in``.
    """
    if isinstance(v, list | tuple):
        items = []
        for item in v:
            if isinstance(item, list | tuple):
                raise QueryError("nested lists cannot be encoded as a filter value", param)
            text = encode_filter_value(item, param=param)
            if "," in text:
                raise QueryError(f"list item {text!r} contains a comma", param)
            items.append(text)
        return ",".join(items)
    return _encode_scalar(v, param)


def _encode_scalar(v: object, param: str) -> str:
    if isinstance(v, str):
        return v
    if isinstance(v, bool):  # before int: bool is an int subclass
        return "true" if v else "false"
    if isinstance(v, datetime):  # before date: datetime is a date subclass
        if v.tzinfo is None or v.utcoffset() is None:
            raise QueryError(f"datetime {v.isoformat()} has no time zone", param)
        offset = v.utcoffset()
        if offset is not None and offset % timedelta(minutes=1):
            v = v.astimezone(UTC)  # historical zones have second offsets that Coupa can't read
        return v.replace(microsecond=0).isoformat()
    if isinstance(v, date):
        return v.isoformat()
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if not math.isfinite(v):
            raise QueryError(f"{v!r} cannot be a filter value", param)
        v = Decimal(repr(v))
    if isinstance(v, Decimal):
        if not v.is_finite():
            raise QueryError(f"{v!r} cannot be a filter value", param)
        return format(v, "f")  # str() may give exponent notation ("1E+2"), which Coupa won't read
    raise QueryError(f"cannot encode {type(v).__name__} as a filter value", param)
