"""Coupa's error envelopes: rendering (emulator) and parsing (SDK), plus the decode error type.

Observed shapes: JSON ``{"errors": {"<resource>": ["..."]}}``, XML
``<errors><error>...</error></errors>`` (messages sometimes in CDATA), and RFC 6749 bodies
``{"error": "...", "error_description": "..."}`` from the OAuth endpoints.
"""

from __future__ import annotations

from typing import Any

import orjson
from lxml import etree

from pycoupa.wire.values import strip_illegal_xml_chars

__all__ = ["WireDecodeError", "parse_errors", "render_errors_json", "render_errors_xml"]

XML_DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'


class WireDecodeError(ValueError):
    """A JSON or XML body could not be decoded, or was refused as unsafe.

    ``line`` and ``column`` (1-based) point at the problem when the parser knows where it is.
    """

    def __init__(self, message: str, *, line: int | None = None, column: int | None = None) -> None:
        if line is not None:
            where = f"line {line}" if column is None else f"line {line}, column {column}"
            message = f"{message} ({where})"
        super().__init__(message)
        self.line = line
        self.column = column


def render_errors_json(messages: list[str], key: str) -> bytes:
    """``{"errors":{"<key>":[...]}}``; Coupa keys the list by the singular resource name ("user")."""
    return orjson.dumps({"errors": {key: list(messages)}})


def render_errors_xml(messages: list[str]) -> bytes:
    """``<errors><error>msg</error>...</errors>`` with the XML declaration Coupa sends."""
    root = etree.Element("errors")
    for message in messages:
        etree.SubElement(root, "error").text = strip_illegal_xml_chars(message)
    return XML_DECLARATION + etree.tostring(root, encoding="UTF-8")


def parse_errors(body: bytes, content_type: str | None) -> list[str]:
    """Flatten any Coupa error envelope into its messages; never raises.

    The body is sniffed rather than trusted to ``content_type``, because error pages from proxies
    and load balancers often disagree with their header. HTML, empty or unknown bodies give ``[]``.
    """
    try:
        text = bytes(body).strip()
        if text.startswith(b"\xef\xbb\xbf"):
            text = text[3:].lstrip()
        if not text:
            return []
        mime = (content_type or "").split(";", 1)[0].strip().lower()
        if mime in ("text/html", "application/xhtml+xml"):
            return []
        if text[:1] in (b"{", b"["):
            return _messages_from_json(orjson.loads(text))
        if text[:1] == b"<":
            head = text[:200].lower()
            if b"<html" in head or b"<!doctype html" in head:
                return []
            return _messages_from_xml(text)
        return []
    except Exception:
        # A failure to read an error body must never hide the HTTP error that carried it.
        return []


def _text_messages(value: Any) -> list[str]:
    """Messages from a value that should be a message or a list of them."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value] if value.strip() else []
    if isinstance(value, list):
        out: list[str] = []
        for item in value:
            out.extend(_text_messages(item))
        return out
    if isinstance(value, dict):
        return _messages_from_json(value)
    return [str(value)]


def _messages_from_json(obj: Any) -> list[str]:
    if isinstance(obj, list):
        return _text_messages(obj)
    if not isinstance(obj, dict):
        return []
    if "errors" in obj:
        errors = obj["errors"]
        if isinstance(errors, dict):
            # {"errors": {"user": [...], "error": [...]}}: the key names the resource, not the field.
            out: list[str] = []
            for value in errors.values():
                out.extend(_text_messages(value))
            return out
        return _text_messages(errors)
    if isinstance(obj.get("error"), str):
        error: str = obj["error"]
        description = obj.get("error_description")
        if isinstance(description, str) and description.strip():
            return [f"{error}: {description}"]
        return [error]
    if "error" in obj:
        return _text_messages(obj["error"])
    # Coupa's newer platform services: {"error_summary": ..., "error_causes": [{"error_sub_code_desc"}]}
    if "error_summary" in obj or "error_causes" in obj:
        out = _text_messages(obj.get("error_summary"))
        causes = obj.get("error_causes")
        if isinstance(causes, list):
            for cause in causes:
                if isinstance(cause, dict):
                    out.extend(_text_messages(cause.get("error_sub_code_desc")))
        return out
    if isinstance(obj.get("message"), str):
        return _text_messages(obj["message"])
    return []


def _messages_from_xml(data: bytes) -> list[str]:
    # Imported here: codec_xml imports this module for WireDecodeError.
    from pycoupa.wire.codec_xml import parse_root

    root = parse_root(data)
    elements = [root] if root.tag == "error" else list(root.iter("error"))
    out: list[str] = []
    for element in elements:
        message = "".join(t for t in element.itertext() if isinstance(t, str)).strip()
        if message:
            out.append(message)
    return out
