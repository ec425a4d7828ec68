"""Coupa's XML format (Rails ``to_xml`` conventions), rendered and parsed with lxml.

Rendering: a dict is an element with one child per key; a list is ``type="array"``; scalars carry
``type="integer|boolean|decimal|float|dateTime|date|symbol"``; ``None`` is ``nil="true"``.
Parsing reverses that, and refuses DTDs outright: Coupa never sends one, and a DTD is how entity
expansion bombs and external-entity reads get in.
"""

from __future__ import annotations

import io
import re
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import IO, Any, cast

from lxml import etree

from pycoupa.wire.errors import XML_DECLARATION, WireDecodeError
from pycoupa.wire.values import (
    Symbol,
    TaggedList,
    WireValueError,
    format_date,
    format_datetime,
    format_decimal,
    parse_bool,
    parse_date,
    parse_datetime,
    parse_decimal,
    singularize,
    strip_illegal_xml_chars,
)

__all__ = ["dumps", "iterparse_records", "loads", "parse_root"]

# ---------------------------------------------------------------------------------------------
# rendering
#
# A string builder rather than lxml element objects: rendering is on the emulator's hot path and
# building strings is several times faster. What lxml would guarantee is kept by hand: element
# names are validated (by lxml, once per distinct name), text is escaped, and characters XML 1.0
# cannot carry are dropped.

# Text needs work only if it holds markup characters, CR (which a parser would turn into LF) or
# characters XML cannot carry at all.
_TEXT_NEEDS_WORK = re.compile("[&<>\r]|[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _escape(text: str) -> str:
    if _TEXT_NEEDS_WORK.search(text) is None:
        return text
    text = strip_illegal_xml_chars(text)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")


# Names already checked; keys repeat across records, so this stays small. Bounded so a stream of
# distinct junk keys cannot grow it forever.
_VALID_NAMES: set[str] = set()
_VALID_NAMES_MAX = 50_000


def _name(tag: Any) -> str:
    if tag in _VALID_NAMES:
        return cast(str, tag)
    if not isinstance(tag, str):
        raise WireValueError(f"invalid XML element name {tag!r}: not a string")
    try:
        etree.Element(tag)  # lxml's own check of the XML Name production
    except ValueError as exc:
        raise WireValueError(f"invalid XML element name {tag!r}") from exc
    # lxml reads "{uri}name" and "prefix:name" as namespaced names; Coupa never uses namespaces.
    if ":" in tag or "{" in tag:
        raise WireValueError(f"invalid XML element name {tag!r}: namespaces are not supported")
    if len(_VALID_NAMES) < _VALID_NAMES_MAX:
        _VALID_NAMES.add(tag)
    return tag


def dumps(root_tag: str, tree: Any) -> bytes:
    """Render ``tree`` as a UTF-8 XML document whose root element is ``root_tag``.

    A collection is a list at the root: ``dumps("users", TaggedList("user", rows))``; a plain list
    names its items by singularising the parent tag. Characters XML 1.0 cannot carry are dropped.
    Raises ``WireValueError`` for a key that is not a valid element name and ``TypeError`` for
    values XML cannot carry (naive datetimes, unknown types).
    """
    parts: list[str] = []
    _render(parts, _name(root_tag), tree)
    return XML_DECLARATION + "".join(parts).encode("utf-8")


def _render(parts: list[str], tag: str, value: Any) -> None:
    """Append the element ``tag`` for ``value``; ``tag`` is already validated."""
    append = parts.append
    cls = type(value)
    # Exact-type checks first: they cover nearly every value and are cheaper than isinstance chains.
    if cls is dict:
        if not value:
            append(f"<{tag}/>")
            return
        append(f"<{tag}>")
        valid = _VALID_NAMES
        for key, item in value.items():
            if key not in valid:
                key = _name(key)
            item_cls = type(item)
            # The common leaves inline: one function call per record rather than one per field.
            if item_cls is str:
                append(f"<{key}>{_escape(item)}</{key}>")
            elif item_cls is int:
                append(f'<{key} type="integer">{item}</{key}>')
            elif item is None:
                append(f'<{key} nil="true"/>')
            elif item_cls is bool:
                append(f'<{key} type="boolean">{"true" if item else "false"}</{key}>')
            elif item_cls is Decimal:
                append(f'<{key} type="decimal">{format_decimal(item)}</{key}>')
            elif item_cls is datetime:
                append(f'<{key} type="dateTime">{_datetime_text(item, key)}</{key}>')
            else:
                _render(parts, key, item)
        append(f"</{tag}>")
    elif cls is str:
        append(f"<{tag}>{_escape(value)}</{tag}>")
    elif cls is int:
        append(f'<{tag} type="integer">{value}</{tag}>')
    elif value is None:
        append(f'<{tag} nil="true"/>')
    elif cls is bool:
        append(f'<{tag} type="boolean">{"true" if value else "false"}</{tag}>')
    elif cls is Decimal:
        append(f'<{tag} type="decimal">{format_decimal(value)}</{tag}>')
    elif isinstance(value, list | tuple):
        if not value:
            append(f'<{tag} type="array"/>')
            return
        item_tag = _name(value.item_tag) if isinstance(value, TaggedList) else singularize(tag)
        append(f'<{tag} type="array">')
        for item in value:
            _render(parts, item_tag, item)
        append(f"</{tag}>")
    elif isinstance(value, dict):
        _render(parts, tag, dict(value))
    else:
        kind, text = _scalar(value, tag)
        type_attr = f' type="{kind}"' if kind else ""
        append(f"<{tag}{type_attr}>{text}</{tag}>")


def _datetime_text(value: datetime, tag: str) -> str:
    tz = value.tzinfo
    if tz is None:
        raise TypeError(f"<{tag}>: naive datetime {value.isoformat()!r} cannot be written")
    return format_datetime(value, tz)


def _scalar(value: Any, tag: str) -> tuple[str, str]:
    """Type name and escaped text for the less common leaves (and subclasses of common ones)."""
    if isinstance(value, Symbol):
        return "symbol", _escape(value)
    if isinstance(value, str):
        return "", _escape(value)
    if isinstance(value, bool):
        return "boolean", "true" if value else "false"
    if isinstance(value, int):
        return "integer", str(int(value))
    if isinstance(value, Decimal):
        return "decimal", format_decimal(value)
    if isinstance(value, float):
        return "float", repr(value)
    if isinstance(value, datetime):
        return "dateTime", _datetime_text(value, tag)
    if isinstance(value, date):
        return "date", format_date(value)
    raise TypeError(f"<{tag}>: type {type(value).__name__} is not XML serialisable")


# ---------------------------------------------------------------------------------------------
# parsing

_PARSER_OPTIONS: dict[str, Any] = {
    "resolve_entities": False,
    "no_network": True,
    "load_dtd": False,
    "dtd_validation": False,
    "huge_tree": False,
    # Comments and processing instructions carry no data; dropping them keeps leaf text whole.
    "remove_comments": True,
    "remove_pis": True,
}

# lxml parsers must not be used by two threads at once; one per thread is cheap.
_local = threading.local()


def _parser() -> etree.XMLParser:
    parser: etree.XMLParser | None = getattr(_local, "parser", None)
    if parser is None:
        parser = etree.XMLParser(**_PARSER_OPTIONS)
        _local.parser = parser
    return parser


_DTD_MARKERS = (b"<!DOCTYPE", b"<!ENTITY")
_DTD_MARKER_OVERLAP = max(len(m) for m in _DTD_MARKERS) - 1


def _refuse_dtd_bytes(data: bytes) -> None:
    for marker in _DTD_MARKERS:
        if marker in data:
            raise WireDecodeError(f"XML document refused: it contains a {marker.decode()[2:]} declaration")


def _refuse_dtd_tree(root: etree._Element) -> None:
    # Backstop for encodings the byte scan cannot see (e.g. UTF-16).
    docinfo = root.getroottree().docinfo
    if getattr(docinfo, "doctype", "") or docinfo.internalDTD is not None:
        raise WireDecodeError("XML document refused: it contains a DOCTYPE declaration")


_POSITION_SUFFIX = re.compile(r",\s*line \d+,\s*column \d+\s*$")


def _syntax_error(exc: etree.XMLSyntaxError) -> WireDecodeError:
    message = _POSITION_SUFFIX.sub("", exc.msg or str(exc))
    line, column = exc.position if exc.position else (None, None)
    return WireDecodeError(f"malformed XML: {message}", line=line or None, column=column or None)


def _as_bytes(data: bytes | bytearray | memoryview | str) -> bytes:
    if isinstance(data, str):
        return data.encode("utf-8")
    return bytes(data)


def parse_root(data: bytes | bytearray | memoryview | str) -> etree._Element:
    """Parse a document safely and return its root element (no conversion).

    Raises ``WireDecodeError`` for empty or malformed input and for any DTD/entity declaration.
    """
    raw = _as_bytes(data)
    if not raw.strip():
        raise WireDecodeError("empty XML document")
    _refuse_dtd_bytes(raw)
    try:
        root = etree.fromstring(raw, _parser())
    except etree.XMLSyntaxError as exc:
        raise _syntax_error(exc) from exc
    _refuse_dtd_tree(root)
    return root


def loads(data: bytes | bytearray | memoryview | str) -> tuple[str, Any]:
    """Parse a Coupa XML document into ``(root tag, value)``.

    Types follow the ``type``/``nil`` attributes: arrays become lists, integer/boolean/decimal/float
    become int/bool/Decimal/float, ``dateTime`` an aware datetime (UTC when no offset is given),
    ``date`` a date. Untyped elements with children become dicts keyed by element name (a tag
    repeated outside an array becomes a list), other untyped leaves strings.
    """
    root = parse_root(data)
    return _tag(root), _convert(root)


def _line(el: etree._Element) -> int | None:
    line = getattr(el, "sourceline", None)  # the stubs mistype sourceline
    return line if isinstance(line, int) else None


def _tag(el: etree._Element) -> str:
    tag = el.tag
    if not isinstance(tag, str):  # pragma: no cover - comments/PIs/entities are removed or refused
        raise WireDecodeError("unexpected non-element node", line=_line(el))
    # Coupa does not use namespaces; if one appears, key by the local name.
    return tag.rpartition("}")[2] if tag[:1] == "{" else tag


def _typed_int(text: str) -> int:
    if _INT_TEXT.fullmatch(text) is None:
        raise WireValueError(f"invalid integer {text!r}")
    return int(text)


def _typed_float(text: str) -> float:
    if "_" in text:  # float() accepts digit separators; XML does not.
        raise WireValueError(f"invalid float {text!r}")
    try:
        return float(text)
    except ValueError as exc:
        raise WireValueError(f"invalid float {text!r}") from exc


def _typed_datetime(text: str) -> datetime:
    return parse_datetime(text, UTC)


_INT_TEXT = re.compile(r"[+-]?[0-9]+")

_SCALAR_TYPES: dict[str, Callable[[str], Any]] = {
    "integer": _typed_int,
    "boolean": parse_bool,
    "decimal": parse_decimal,
    "float": _typed_float,
    "double": _typed_float,
    "dateTime": _typed_datetime,
    "datetime": _typed_datetime,
    "date": parse_date,
}
_STRING_TYPES = frozenset({"string", "symbol"})


def _convert(el: etree._Element) -> Any:
    attrib = el.attrib
    kind: str | None = None
    if attrib:
        if attrib.get("nil") == "true":
            return None
        kind = attrib.get("type")
    if kind == "array":
        return [_convert(child) for child in el]
    if len(el):
        if kind is not None and kind in _SCALAR_TYPES:
            raise WireDecodeError(f"<{_tag(el)} type={kind!r}> has child elements", line=_line(el))
        return _convert_record(el)
    text = el.text or ""
    if kind is None or kind in _STRING_TYPES:
        return text
    convert = _SCALAR_TYPES.get(kind)
    if convert is None:
        # Unknown types (e.g. "yaml", "base64Binary") are passed through as text rather than lost.
        return text
    text = text.strip()
    if not text:
        # Rails writes a blank typed element for nil (e.g. <payment-date type="datetime" />).
        return None
    try:
        return convert(text)
    except WireValueError as exc:
        raise WireDecodeError(f"<{_tag(el)}>: {exc}", line=_line(el)) from exc


def _convert_record(el: etree._Element) -> dict[str, Any]:
    out: dict[str, Any] = {}
    repeated: set[str] | None = None
    for child in el:
        key = _tag(child)
        value = _convert(child)
        if key in out:
            # A tag repeated outside a type="array" wrapper: keep every occurrence, in order.
            if repeated is None:
                repeated = set()
            if key in repeated:
                out[key].append(value)
            else:
                out[key] = [out[key], value]
                repeated.add(key)
        else:
            out[key] = value
    return out


_CHUNK_SIZE = 64 * 1024


def iterparse_records(stream: IO[bytes] | bytes, item_tag: str | None = None) -> Iterator[dict[str, Any]]:
    """Yield the records of a collection document (``<users type="array"><user>...``) one by one.

    Parsing is incremental and each record's elements are freed once it is converted, so memory
    stays bounded by one record whatever the page size. With ``item_tag`` only children of that
    name are records; others are skipped. Same safety rules and errors as ``loads``.
    """
    source: IO[bytes] = io.BytesIO(stream) if isinstance(stream, bytes | bytearray) else stream
    parser = etree.XMLPullParser(events=("start", "end"), **_PARSER_OPTIONS)
    root: etree._Element | None = None
    depth = 0
    tail = b""
    saw_data = False
    while True:
        chunk = source.read(_CHUNK_SIZE)
        if not isinstance(chunk, bytes | bytearray):
            raise TypeError("iterparse_records needs a binary stream")
        if chunk:
            saw_data = saw_data or bool(chunk.strip())
            # Scan across chunk boundaries so a marker split in two is still seen.
            _refuse_dtd_bytes(tail + chunk)
            tail = bytes(chunk[-_DTD_MARKER_OVERLAP:])
        try:
            if chunk:
                parser.feed(chunk)
            else:
                if not saw_data:
                    raise WireDecodeError("empty XML document")
                parser.close()
            events = list(parser.read_events())
        except etree.XMLSyntaxError as exc:
            raise _syntax_error(exc) from exc
        for event, node in events:
            el = cast(etree._Element, node)
            if event == "start":
                depth += 1
                if depth == 1:
                    root = el
                    _refuse_dtd_tree(el)
                    kind = el.get("type")
                    if kind is not None and kind != "array":
                        message = f"<{_tag(el)} type={kind!r}> is not a collection"
                        raise WireDecodeError(message, line=_line(el))
                continue
            depth -= 1
            if depth != 1 or root is None:
                continue
            record = None
            if item_tag is None or _tag(el) == item_tag:
                record = _record(el)
            # Free the finished item: its subtree and its place in the root.
            el.clear()  # also drops the tail (whitespace between items)
            root.remove(el)
            if record is not None:
                yield record
        if not chunk:
            return


def _record(el: etree._Element) -> dict[str, Any]:
    value = _convert(el)
    if isinstance(value, dict):
        return value
    if value == "":
        return {}  # an empty item element: a record with no fields
    raise WireDecodeError(f"collection item <{_tag(el)}> is not a record", line=_line(el))
