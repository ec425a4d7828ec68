"""Error envelopes: rendering for the emulator, parsing for the SDK."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pycoupa.wire import codec_json, codec_xml
from pycoupa.wire.errors import WireDecodeError, parse_errors, render_errors_json, render_errors_xml


def test_wire_decode_error_is_a_value_error_with_position() -> None:
    err = WireDecodeError("bad", line=3, column=7)
    assert isinstance(err, ValueError)
    assert (err.line, err.column) == (3, 7)
    assert str(err) == "bad (line 3, column 7)"
    assert str(WireDecodeError("bad")) == "bad"


def test_render_errors_json_exact() -> None:
    body = render_errors_json(["Login has already been taken", "Email has already been taken"], "user")
    assert body == b'{"errors":{"user":["Login has already been taken","Email has already been taken"]}}'
    assert render_errors_json([], "account") == b'{"errors":{"account":[]}}'


def test_render_errors_xml_exact() -> None:
    body = render_errors_xml(["Segment 1 - Cost Center can't be blank.", "a < b & c"])
    assert body == (
        b'<?xml version="1.0" encoding="UTF-8"?>\n'
        b"<errors><error>Segment 1 - Cost Center can't be blank.</error>"
        b"<error>a &lt; b &amp; c</error></errors>"
    )
    assert render_errors_xml([]) == b'<?xml version="1.0" encoding="UTF-8"?>\n<errors/>'


def test_render_errors_xml_strips_illegal_characters() -> None:
    body = render_errors_xml(["bad\x00byte"])
    assert b"<error>badbyte</error>" in body
    assert codec_xml.loads(body) == ("errors", {"error": "badbyte"})


@pytest.mark.parametrize(
    ("body", "content_type", "expected"),
    [
        (
            b'{"errors":{"account":["Segment 1 can\'t be blank"]}}',
            "application/json",
            ["Segment 1 can't be blank"],
        ),
        (b'{"errors":{"user":["A","B"],"address":["C"]}}', "application/json", ["A", "B", "C"]),
        (b'{"errors":["Not found"]}', "application/json; charset=utf-8", ["Not found"]),
        (b'{"errors":{"error":["Insufficient scope"]}}', "application/json", ["Insufficient scope"]),
        (b'{"errors":{"error":"single"}}', None, ["single"]),
        (
            b'{"error":"invalid_client","error_description":"Client authentication failed"}',
            "application/json",
            ["invalid_client: Client authentication failed"],
        ),
        (b'{"error":"invalid_grant"}', "application/json", ["invalid_grant"]),
        (
            b'{"error_code":"E1","error_summary":"Failed","error_causes":[{"error_sub_code_desc":"x"}]}',
            "application/json",
            ["Failed", "x"],
        ),
        (b'{"errors":[{"message":"GraphQL says no"}]}', "application/json", ["GraphQL says no"]),
        (b'{"errors":[]}', "application/json", []),
        (b'{"id":1}', "application/json", []),
        (b"[]", "application/json", []),
    ],
)
def test_parse_errors_json(body: bytes, content_type: str | None, expected: list[str]) -> None:
    assert parse_errors(body, content_type) == expected


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            b'<?xml version="1.0" encoding="UTF-8"?>\n<errors>\n<error>No results match.</error>\n</errors>',
            ["No results match."],
        ),
        (
            b"<errors>\n<error>\n<![CDATA[Login has already been taken]]>\n</error>\n"
            b"<error>\n<![CDATA[Email & <name> taken]]>\n</error>\n</errors>",
            ["Login has already been taken", "Email & <name> taken"],
        ),
        (b"<errors><error><!-- List of errors --></error></errors>", []),
        (b"<errors/>", []),
        (b"<error>Just one</error>", ["Just one"]),
        (b'<errors type="array"><error>In an array</error></errors>', ["In an array"]),
    ],
)
def test_parse_errors_xml(body: bytes, expected: list[str]) -> None:
    assert parse_errors(body, "application/xml") == expected
    assert parse_errors(body, None) == expected  # sniffed without a header


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"", "application/json"),
        (b"   \n", None),
        (b"<html><body><h1>502 Bad Gateway</h1></body></html>", "text/html"),
        (b"<!DOCTYPE html><html><body>error</body></html>", None),
        (b"<errors><error>x</error></errors>", "text/html; charset=utf-8"),
        (b"Internal Server Error", "text/plain"),
        (b"{not json", "application/json"),
        (b"<errors><error>unclosed", "application/xml"),
        (
            b'<?xml version="1.0"?><!DOCTYPE e [<!ENTITY x SYSTEM "file:///etc/passwd">]><errors><error>&x;</error></errors>',
            None,
        ),
        (b"\xff\xfe\x00garbage", None),
    ],
)
def test_parse_errors_never_raises(body: bytes, content_type: str | None) -> None:
    assert parse_errors(body, content_type) == []


def test_parse_errors_trusts_body_over_header() -> None:
    assert parse_errors(b'{"errors":["json after all"]}', "application/xml") == ["json after all"]
    xml = b"<errors><error>xml after all</error></errors>"
    assert parse_errors(xml, "application/json") == ["xml after all"]


# Messages are read back stripped, so generate them without outer whitespace.
_MESSAGE = st.text(st.characters(exclude_categories=("Cs", "Cc")), min_size=1)
_MESSAGES = st.lists(_MESSAGE.filter(lambda s: s.strip() == s and s), max_size=5)


@given(_MESSAGES, st.sampled_from(["user", "account", "error"]))
def test_render_then_parse_round_trip(messages: list[str], key: str) -> None:
    assert parse_errors(render_errors_json(messages, key), "application/json") == messages
    assert parse_errors(render_errors_xml(messages), "application/xml") == messages
    assert codec_json.loads(render_errors_json(messages, key)) == {"errors": {key: messages}}
