"""Scalar value rules shared by Coupa's JSON and XML formats.

Both codecs, the emulator that renders and the SDK that parses go through these functions, so a
datetime, a decimal or a boolean is spelt the same way everywhere.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from decimal import Decimal, InvalidOperation
from typing import Any

__all__ = [
    "Symbol",
    "TaggedList",
    "WireValueError",
    "format_date",
    "format_datetime",
    "format_decimal",
    "hyphenate",
    "parse_bool",
    "parse_date",
    "parse_datetime",
    "parse_decimal",
    "singularize",
    "strip_illegal_xml_chars",
    "underscore",
]


class WireValueError(ValueError):
    """A scalar on the wire (datetime, decimal, boolean...) could not be read or written."""


class TaggedList(list[Any]):
    """A list that knows the element name of its items in XML.

    ``TaggedList("invoice-line", lines)`` renders as ``<invoice-lines type="array"><invoice-line>``;
    JSON ignores the tag, and it compares equal to a plain list with the same items.
    """

    item_tag: str

    def __init__(self, item_tag: str, iterable: Iterable[Any] = ()) -> None:
        super().__init__(iterable)
        self.item_tag = item_tag

    def __repr__(self) -> str:
        return f"TaggedList({self.item_tag!r}, {list.__repr__(self)})"


class Symbol(str):
    """A string that XML marks with ``type="symbol"`` (Rails symbols, e.g. ``authentication-method``)."""

    __slots__ = ()


def hyphenate(key: str) -> str:
    """``invoice_lines`` -> ``invoice-lines`` (Coupa's keys on the wire).

    Leading underscores stay: they mark Rails control keys such as ``_delete`` on a line.
    """
    body = key.lstrip("_")
    return key[: len(key) - len(body)] + body.replace("_", "-")


def underscore(key: str) -> str:
    """``invoice-lines`` -> ``invoice_lines`` (Coupa's query parameters and URL paths)."""
    return key.replace("-", "_")


def singularize(word: str) -> str:
    """Deliberately small English singulariser for XML item names of plain lists.

    Only the tail of the last hyphenated word changes: ``currencies`` -> ``currency``,
    ``addresses`` -> ``address``, ``invoice-lines`` -> ``invoice-line``. Unknown forms are kept.
    """
    if word.endswith("ies") and len(word) > 3:
        return word[:-3] + "y"
    if word.endswith(("sses", "shes", "ches", "xes", "zes")):
        return word[:-2]
    if word.endswith("s") and not word.endswith("ss") and len(word) > 1:
        return word[:-1]
    return word


# Everything XML 1.0 allows: tab, LF, CR, and the ranges below (lone surrogates are excluded too).
_ILLEGAL_XML_CHARS = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def strip_illegal_xml_chars(text: str) -> str:
    """Drop characters XML 1.0 cannot carry at all (control characters, U+FFFE, lone surrogates)."""
    if _ILLEGAL_XML_CHARS.search(text) is None:
        return text
    return _ILLEGAL_XML_CHARS.sub("", text)


# ---------------------------------------------------------------------------------------------
# datetimes


def format_datetime(dt: datetime, tz: tzinfo) -> str:
    """Render an aware datetime as Coupa does: ``2016-11-08T11:28:50+02:00`` in ``tz``.

    Fractional seconds are dropped (truncated). A naive datetime is refused: its instant is unknown.
    """
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise WireValueError(f"cannot format naive datetime {dt.isoformat()!r}: a time zone is required")
    try:
        local = dt if dt.tzinfo is tz else dt.astimezone(tz)
    except (OverflowError, ValueError) as exc:
        raise WireValueError(f"cannot format datetime {dt.isoformat()!r} in {tz!r}: {exc}") from exc
    # isoformat already spells the offset +HH:MM (+HH:MM:SS only for historical local-mean-time
    # zones, which parse_datetime reads back) and pads the year to four digits. Without fractional
    # seconds the plain call gives the same text, faster (this runs once per rendered timestamp).
    if local.microsecond == 0:
        return local.isoformat()
    return local.isoformat(timespec="seconds")


_DATE_ONLY = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_DATETIME = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt ]([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:[.,]([0-9]+))?)?"
    r"\s*(?:(?P<z>[Zz]|UTC)"
    r"|(?P<sign>[+-])(?P<oh>[0-9]{2})(?::?(?P<om>[0-9]{2})(?::(?P<os>[0-9]{2}))?)?)?"
)


def parse_datetime(s: str, default_tz: tzinfo) -> datetime:
    """Read a datetime in any spelling Coupa or its clients use; always returns an aware datetime.

    Accepted: ``2010-03-25T18:38:00-07:00``, ``...Z``, ``...+0200``, ``...+02``, fractional seconds,
    a space instead of ``T``. Without an offset the value is in ``default_tz``. A date alone is
    midnight UTC, as Coupa reads bare dates in filters (docs/coupa-api.md, section 3).
    """
    if not isinstance(s, str):
        raise WireValueError(f"invalid datetime {s!r}: expected a string")
    text = s.strip()
    try:
        m = _DATE_ONLY.fullmatch(text)
        if m is not None:
            return datetime(int(m[1]), int(m[2]), int(m[3]), tzinfo=UTC)
        m = _DATETIME.fullmatch(text)
        if m is None:
            raise WireValueError(f"invalid datetime {s!r}")
        micro = int((m[7] or "0")[:6].ljust(6, "0"))
        naive = datetime(int(m[1]), int(m[2]), int(m[3]), int(m[4]), int(m[5]), int(m[6] or 0), micro)
        if m["z"]:
            return naive.replace(tzinfo=UTC)
        if m["sign"]:
            minutes, seconds = int(m["om"] or 0), int(m["os"] or 0)
            if minutes >= 60 or seconds >= 60:
                raise WireValueError(f"invalid datetime {s!r}: offset out of range")
            offset = timedelta(hours=int(m["oh"]), minutes=minutes, seconds=seconds)
            if m["sign"] == "-":
                offset = -offset
            return naive.replace(tzinfo=UTC if not offset else timezone(offset))
        return naive.replace(tzinfo=default_tz)
    except WireValueError:
        raise
    except (ValueError, OverflowError) as exc:  # out-of-range month, hour, offset...
        raise WireValueError(f"invalid datetime {s!r}: {exc}") from exc


def parse_date(s: str) -> date:
    """Read ``YYYY-MM-DD`` (XML ``type="date"``)."""
    m = _DATE_ONLY.fullmatch(s.strip()) if isinstance(s, str) else None
    if m is None:
        raise WireValueError(f"invalid date {s!r}")
    try:
        return date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError as exc:
        raise WireValueError(f"invalid date {s!r}: {exc}") from exc


def format_date(d: date) -> str:
    return f"{d.year:04d}-{d.month:02d}-{d.day:02d}"


# ---------------------------------------------------------------------------------------------
# decimals and booleans

# Decimal() alone would also take "1_000", "NaN", "Infinity" and non-ASCII digits.
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def parse_decimal(s: str | int | Decimal) -> Decimal:
    """Read a decimal (Coupa sends them as strings: ``"567.07"``); NaN, infinities and junk are refused."""
    if isinstance(s, Decimal):
        if not s.is_finite():
            raise WireValueError(f"invalid decimal {s!r}: not a finite number")
        return s
    if isinstance(s, int) and not isinstance(s, bool):
        return Decimal(s)
    if not isinstance(s, str):
        raise WireValueError(f"invalid decimal {s!r}: expected a string")
    text = s.strip()
    if _DECIMAL.fullmatch(text) is None:
        raise WireValueError(f"invalid decimal {s!r}")
    try:
        return Decimal(text)
    except InvalidOperation as exc:  # pragma: no cover - the regex already rules these out
        raise WireValueError(f"invalid decimal {s!r}") from exc


def format_decimal(d: Decimal) -> str:
    """Plain notation keeping the given scale: ``Decimal('1E+2')`` -> ``"100"``, ``10.80`` -> ``"10.80"``."""
    if not d.is_finite():
        raise WireValueError(f"cannot format decimal {d!r}: not a finite number")
    return format(d, "f")


_TRUE = frozenset({"true", "yes", "1", "t"})
_FALSE = frozenset({"false", "no", "0", "f"})


def parse_bool(s: str | bool | int) -> bool:
    """Read true/false/yes/no/1/0/t/f in any case (Coupa payloads use ``yes`` in places)."""
    if isinstance(s, bool):
        return s
    if isinstance(s, int) and s in (0, 1):
        return bool(s)
    if isinstance(s, str):
        text = s.strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
    raise WireValueError(f"invalid boolean {s!r}: expected true/false/yes/no/1/0/t/f")
