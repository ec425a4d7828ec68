"""Coupa's JSON format: hyphenated keys, decimals as strings, datetimes with their offset.

JSON has no root wrapper: a record is an object, a collection a bare array.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

import orjson

from pycoupa.wire.errors import WireDecodeError
from pycoupa.wire.values import TaggedList, format_date, format_datetime, format_decimal, hyphenate

__all__ = ["dumps", "loads", "normalise_keys"]

# orjson would write datetimes itself (RFC 3339 with microseconds); Coupa's spelling goes through
# the default hook instead.
_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return format_decimal(value)
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise TypeError(f"naive datetime {value.isoformat()!r} cannot be written: it needs a time zone")
        return format_datetime(value, value.tzinfo)
    if isinstance(value, date):
        return format_date(value)
    if isinstance(value, tuple | set | frozenset):
        return list(value)
    raise TypeError(f"type {type(value).__name__} is not JSON serialisable")


def dumps(tree: Any) -> bytes:
    """Serialise a tree of dict/list/str/int/float/bool/None/Decimal/datetime/date to compact JSON.

    Raises ``TypeError`` for values JSON cannot carry (naive datetimes, unknown types, non-string keys).
    """
    try:
        return orjson.dumps(tree, default=_default, option=_OPTIONS)
    except orjson.JSONEncodeError as exc:
        # orjson chains the hook's exception; surface its message, which names the value.
        cause = exc.__cause__
        raise TypeError(str(cause) if cause is not None else str(exc)) from exc


def loads(data: bytes | bytearray | memoryview | str, *, expect_object: bool = False) -> Any:
    """Parse a JSON body. ``expect_object=True`` refuses anything but an object or array at the top.

    Bad JSON raises ``WireDecodeError`` with the line and column of the problem.
    """
    if isinstance(data, memoryview | bytearray):
        data = bytes(data)
    # A UTF-8 byte order mark is legal in the wild (some Windows clients send one) but not for orjson.
    if isinstance(data, bytes) and data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    elif isinstance(data, str) and data.startswith("\ufeff"):
        data = data[1:]
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise WireDecodeError(f"invalid JSON: {exc.msg}", line=exc.lineno, column=exc.colno) from exc
    if expect_object and not isinstance(value, dict | list):
        raise WireDecodeError(f"expected a JSON object or array, got {type(value).__name__}")
    return value


def normalise_keys(obj: Any) -> Any:
    """Recursively rewrite ``snake_case`` keys as Coupa's ``hyphen-case``; values are untouched.

    When a body spells one key both ways, the hyphenated spelling (Coupa's own) wins.
    """
    if isinstance(obj, dict):
        out: dict[Any, Any] = {}
        for key, value in obj.items():
            if isinstance(key, str) and "_" in key:
                new_key = hyphenate(key)
                if new_key != key and new_key in obj:
                    continue
                out[new_key] = normalise_keys(value)
            else:
                out[key] = normalise_keys(value)
        return out
    if isinstance(obj, TaggedList):
        return TaggedList(obj.item_tag, (normalise_keys(item) for item in obj))
    if isinstance(obj, list):
        return [normalise_keys(item) for item in obj]
    return obj
