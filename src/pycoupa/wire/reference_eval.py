"""The emulator's filter semantics, as a deliberately simple plain-Python evaluator.

This module is the specification. The emulator's SQL filter engine is checked against it by
property tests, so it favours being obviously right over being fast. The rules:

Records and paths
    A record is a dict with hyphenated keys. A single association is a nested dict (or ``None``);
    a collection association is a list of dicts. ``field_type(path)`` gives the scalar type of
    the path's last segment: ``string``, ``integer``, ``decimal``, ``float``, ``boolean``,
    ``datetime`` or ``date``.

    Each non-final segment steps into a dict; at a list the condition holds if it holds for ANY
    element (EXISTS, at every list level; an empty list never matches). A missing or ``None``
    association makes the condition false for every operator, ``not_eq``, ``not_in`` and
    ``blank`` included. Stepping through a scalar is a :class:`QueryError`.

    A missing final key reads as ``None``. Foreign-key shorthand: a final segment ``x-id``
    that the record lacks, next to a single association ``x``, reads ``x["id"]`` (``None`` when
    ``x`` is ``None``), i.e. it behaves like the foreign-key column, not like ``x[id]``.
    A final segment that names an association (dict or list) is a :class:`QueryError`.

Values
    The query value is coerced by the field type before comparing; failure is a
    :class:`QueryError` naming the path:

    * integer: optional sign and ASCII digits;
    * decimal, float: a plain or exponent decimal number, compared as :class:`~decimal.Decimal`
      (so ``10.5`` equals ``10.50``);
    * boolean: ``true/false/yes/no/1/0``, any case;
    * datetime: ``YYYY-MM-DD`` (midnight UTC) or ``YYYY-MM-DDTHH:MM[:SS[.fraction]]`` (``T``,
      ``t`` or a space; fraction cut to microseconds) with an optional ``Z``/``UTC``/``+HH:MM``/
      ``+HHMM``/``+HH`` offset, where no offset means UTC; surrounding spaces are ignored (the
      spellings :func:`pycoupa.wire.values.parse_datetime` reads). Compared as instants;
    * date: ``YYYY-MM-DD`` only;
    * string: as given.

    Record values are coerced the same way: they may be the Python type (``int``,
    ``Decimal``/``float``, ``bool``, ``datetime`` where naive means UTC, ``date``) or a string
    in the query form. A record value that fits neither is a :class:`TypeError` (bad test data).

Operators (``None`` field values never match, except ``blank=true``)
    * ``eq``, ``not_eq``: equality; strings are case-SENSITIVE. ``not_eq`` does not match
      ``None`` (SQL semantics).
    * ``gt``, ``lt``, ``gt_or_eq``, ``lt_or_eq``: ordered comparison; strings by code point
      (a binary collation), booleans ``false < true``.
    * ``in``, ``not_in``: membership in the value tuple, with ``eq``'s equality; an empty tuple
      makes ``in`` match nothing and ``not_in`` every non-``None`` value.
    * ``contains``, ``starts_with``, ``ends_with``: case-INSENSITIVE (``str.lower()`` on both
      sides, full Unicode) literal text tests; ``%`` and ``_`` are plain characters. The query
      value is not coerced. On numeric fields they test the value's text: ``str(int)``, or a
      decimal's plain notation as stored (``Decimal("10.50")`` -> ``10.50``). Not allowed on
      datetime, date or boolean fields (:class:`QueryError`).
    * ``blank``: ``true`` matches ``None`` and ``""``; ``false`` matches anything else. Not
      allowed on datetime fields (:class:`QueryError`).

    All conditions are checked for these errors before any record is looked at, so whether a
    query is rejected never depends on the data.

Ordering and paging (:func:`order_and_page`)
    Sort by one attribute, ``None`` first in ``asc`` and last in ``desc``, ties always broken by
    ``id`` ascending; with no ``order_by`` the order is by ``id`` in ``dir`` (ascending by
    default). Then skip ``offset`` records and keep ``limit``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, Final

from pycoupa.wire.query import DIRECTIONS, EQ, OPERATORS, Condition, QueryError, condition_key, normalize_name

__all__ = ["FIELD_TYPES", "matches", "order_and_page"]

FIELD_TYPES: Final = ("string", "integer", "decimal", "float", "boolean", "datetime", "date")
_TEXT_OPS: Final = ("contains", "starts_with", "ends_with")
_ORDER_OPS: Final = ("gt", "lt", "gt_or_eq", "lt_or_eq")
_NO_TEXT_TYPES: Final = ("datetime", "date", "boolean")
_TEXT_TESTS: Final[dict[str, Callable[[str, str], bool]]] = {
    "contains": lambda text, needle: needle in text,
    "starts_with": str.startswith,
    "ends_with": str.endswith,
}
_BOOLS: Final = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}

_INT_RE: Final = re.compile(r"[+-]?[0-9]+")
_DECIMAL_RE: Final = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_DATE_RE: Final = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
# The spellings pycoupa.wire.values.parse_datetime reads, kept in step on purpose: a separate
# copy so this specification does not move when that module does.
_DATETIME_RE: Final = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})"
    r"(?:[Tt ]([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:[.,]([0-9]+))?)?"
    r"\s*(?:([Zz]|UTC)|([+-])([0-9]{2})(?::?([0-9]{2}))?)?)?"
)

FieldType = Callable[[tuple[str, ...]], str]
# Given a record's final value (None included), does the condition hold?
_Predicate = Callable[[Any], bool]


def matches(record: dict[str, Any], conditions: Sequence[Condition], field_type: FieldType) -> bool:
    """True if ``record`` satisfies every condition (AND)."""
    compiled = [(cond.path, _compile(cond, field_type)) for cond in conditions]
    return all(_holds(record, path, predicate, path) for path, predicate in compiled)


def order_and_page(
    records: Sequence[dict[str, Any]],
    order_by: str | None,
    dir: str,
    limit: int,
    offset: int,
    field_type: FieldType,
) -> list[dict[str, Any]]:
    """Sort ``records`` (see the module docstring) and return the page ``[offset:offset+limit]``."""
    direction = dir.lower()
    if direction not in DIRECTIONS:
        raise QueryError(f"dir must be asc or desc, got {dir!r}", "dir")
    if limit < 0 or offset < 0:
        raise ValueError("limit and offset must not be negative")
    descending = direction == "desc"
    by_id = sorted(records, key=lambda r: _none_first(_sort_value(r, ("id",), field_type)))
    if order_by is None or normalize_name(order_by) == "id":
        ordered = by_id[::-1] if descending else by_id
    else:
        name = normalize_name(order_by)
        if not name or "[" in name or "]" in name:
            raise QueryError(f"order_by must name one attribute, got {order_by!r}", "order_by")
        # Python's sort is stable even with reverse=True, so id-ascending survives among ties.
        ordered = sorted(by_id, key=lambda r: _none_first(_sort_value(r, (name,), field_type)), reverse=descending)
    return ordered[offset : offset + limit]


def _none_first(value: Any) -> tuple[bool, Any]:
    return (value is not None, value)


def _sort_value(record: dict[str, Any], path: tuple[str, ...], field_type: FieldType) -> Any:
    ftype = field_type(path)
    value = _final_value(record, path[0], path)
    return None if value is None else _coerce_record(value, ftype, path)


# --------------------------------------------------------------------------- compiling


def _compile(cond: Condition, field_type: FieldType) -> _Predicate:
    """Validate ``cond`` and turn it into a test on one final field value."""
    path, op, value = cond.path, cond.op, cond.value
    if not path:
        raise QueryError("a condition needs a non-empty path", "")
    key = condition_key(path, op)
    if op != EQ and op not in OPERATORS:
        raise QueryError(f"unknown operator {op!r}", key)
    ftype = field_type(path)
    if ftype not in FIELD_TYPES:
        raise QueryError(f"{'.'.join(path)} has unknown type {ftype!r}", key)

    if op in ("in", "not_in"):
        if isinstance(value, str):
            raise QueryError(f"{key} needs a tuple of values", key)
        items = [_coerce_query(item, ftype, key) for item in value]
        if op == "in":
            return lambda v: v is not None and any(_coerce_record(v, ftype, path) == i for i in items)
        return lambda v: v is not None and all(_coerce_record(v, ftype, path) != i for i in items)
    if not isinstance(value, str):
        raise QueryError(f"{key} takes one value, got a tuple", key)

    if op == "blank":
        if ftype == "datetime":
            raise QueryError(f"{key}: blank is not allowed on datetime fields", key)
        flag = value.lower()
        if flag not in ("true", "false"):
            raise QueryError(f"{key} must be true or false, got {value!r}", key)
        want_blank = flag == "true"
        return lambda v: (v is None or v == "") == want_blank

    if op in _TEXT_OPS:
        if ftype in _NO_TEXT_TYPES:
            raise QueryError(f"{key}: {op} is not allowed on {ftype} fields", key)
        needle = value.lower()
        test = _TEXT_TESTS[op]
        return lambda v: v is not None and test(_as_text(v, ftype, path).lower(), needle)

    target = _coerce_query(value, ftype, key)
    compare: Callable[[Any, Any], bool] = {
        "eq": lambda a, b: a == b,
        "not_eq": lambda a, b: a != b,
        "gt": lambda a, b: a > b,
        "lt": lambda a, b: a < b,
        "gt_or_eq": lambda a, b: a >= b,
        "lt_or_eq": lambda a, b: a <= b,
    }[op]
    return lambda v: v is not None and compare(_coerce_record(v, ftype, path), target)


# --------------------------------------------------------------------------- walking


def _holds(node: dict[str, Any], rest: tuple[str, ...], predicate: _Predicate, path: tuple[str, ...]) -> bool:
    head = rest[0]
    if len(rest) == 1:
        return predicate(_final_value(node, head, path))
    child = node.get(head)
    if child is None:
        return False  # a missing association matches nothing, whatever the operator
    if isinstance(child, dict):
        return _holds(child, rest[1:], predicate, path)
    if isinstance(child, list):
        return any(isinstance(item, dict) and _holds(item, rest[1:], predicate, path) for item in child)
    raise QueryError(f"{'.'.join(path)}: {head} is not an association", condition_key(path, EQ))


def _final_value(node: dict[str, Any], name: str, path: tuple[str, ...]) -> Any:
    if name in node:
        value = node[name]
    elif name.endswith("-id") and isinstance(node.get(name[:-3]), dict):
        value = node[name[:-3]].get("id")
    else:
        # Covers the shorthand with a None association too: the FK column is NULL.
        value = None
    if isinstance(value, dict | list):
        raise QueryError(f"{'.'.join(path)} names an association, not an attribute", condition_key(path, EQ))
    return value


# --------------------------------------------------------------------------- values


def _coerce_query(value: str, ftype: str, key: str) -> Any:
    try:
        return _parse_text(value, ftype)
    except ValueError:
        raise QueryError(f"{key}: {value!r} is not a valid {ftype}", key) from None


def _parse_text(text: str, ftype: str) -> Any:
    """Parse the query/string form of a value; ValueError if it doesn't fit ``ftype``."""
    if ftype == "string":
        return text
    if ftype == "integer":
        if not _INT_RE.fullmatch(text):
            raise ValueError(text)
        return int(text)
    if ftype in ("decimal", "float"):
        # The regex keeps out what Decimal() also takes: NaN, Infinity, surrounding spaces.
        if not _DECIMAL_RE.fullmatch(text):
            raise ValueError(text)
        return Decimal(text)
    if ftype == "boolean":
        if text.lower() not in _BOOLS:
            raise ValueError(text)
        return _BOOLS[text.lower()]
    if ftype == "date":
        match = _DATE_RE.fullmatch(text)
        if match is None:
            raise ValueError(text)
        return date(*(int(g) for g in match.groups()))
    return _parse_datetime(text)


def _parse_datetime(text: str) -> datetime:
    match = _DATETIME_RE.fullmatch(text.strip())
    if match is None:
        raise ValueError(text)
    year, month, day, hour, minute, second, fraction, _zulu, sign, off_h, off_m = match.groups()
    tz = UTC
    if sign is not None:
        delta = timedelta(hours=int(off_h), minutes=int(off_m or 0))
        tz = timezone(-delta if sign == "-" else delta)  # ValueError if 24h or more
    return datetime(
        int(year),
        int(month),
        int(day),
        int(hour or 0),
        int(minute or 0),
        int(second or 0),
        int((fraction or "0")[:6].ljust(6, "0")),  # sub-microsecond digits are dropped
        tzinfo=tz,
    )


def _coerce_record(value: Any, ftype: str, path: tuple[str, ...]) -> Any:
    """A record's (non-None) value as the comparable Python type for ``ftype``."""
    if isinstance(value, str) and ftype != "string":
        try:
            return _parse_text(value, ftype)
        except ValueError:
            pass
    elif (ftype == "string" and isinstance(value, str)) or (
        ftype == "integer" and isinstance(value, int) and not isinstance(value, bool)
    ):
        return value
    elif ftype in ("decimal", "float") and _is_number(value):
        number = value if isinstance(value, Decimal) else Decimal(repr(value))
        if number.is_finite():
            return number
    elif ftype == "boolean" and isinstance(value, bool):
        return value
    elif ftype == "datetime" and isinstance(value, datetime):
        return value if value.utcoffset() is not None else value.replace(tzinfo=UTC)
    elif ftype == "datetime" and isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    elif ftype == "date" and isinstance(value, date) and not isinstance(value, datetime):
        return value
    raise TypeError(f"record value {value!r} at {'.'.join(path)} is not a valid {ftype}")


def _is_number(value: Any) -> bool:
    return isinstance(value, Decimal | int | float) and not isinstance(value, bool)


def _as_text(value: Any, ftype: str, path: tuple[str, ...]) -> str:
    """The text a substring operator looks at: the string, or a number's plain notation."""
    coerced = _coerce_record(value, ftype, path)
    return format(coerced, "f") if isinstance(coerced, Decimal) else str(coerced)
