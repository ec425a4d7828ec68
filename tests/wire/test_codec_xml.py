"""XML codec: Rails ``to_xml`` rendering, typed parsing, safety, incremental collections."""

from __future__ import annotations

import io
import time
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pycoupa.wire import codec_xml
from pycoupa.wire.errors import WireDecodeError
from pycoupa.wire.values import Symbol, TaggedList, WireValueError

DECL = b'<?xml version="1.0" encoding="UTF-8"?>\n'
MINUS_7 = timezone(timedelta(hours=-7))


# --- rendering --------------------------------------------------------------------------------


def test_dumps_record_exact_bytes() -> None:
    tree = {
        "id": 41,
        "created-at": datetime(2016, 10, 7, 6, 56, 43, 999, tzinfo=MINUS_7),
        "name": "account_1",
        "active": True,
        "exported": False,
        "total": Decimal("567.07"),
        "tax-rate": 8.25,
        "invoice-date": date(2008, 10, 28),
        "authentication-method": Symbol("saml"),
        "segment-2": None,
        "comments": "",
        "roles": [],
        "currency": {"id": 1, "code": "USD"},
    }
    assert codec_xml.dumps("account", tree) == DECL + (
        b"<account>"
        b'<id type="integer">41</id>'
        b'<created-at type="dateTime">2016-10-07T06:56:43-07:00</created-at>'
        b"<name>account_1</name>"
        b'<active type="boolean">true</active>'
        b'<exported type="boolean">false</exported>'
        b'<total type="decimal">567.07</total>'
        b'<tax-rate type="float">8.25</tax-rate>'
        b'<invoice-date type="date">2008-10-28</invoice-date>'
        b'<authentication-method type="symbol">saml</authentication-method>'
        b'<segment-2 nil="true"/>'
        b"<comments></comments>"
        b'<roles type="array"/>'
        b'<currency><id type="integer">1</id><code>USD</code></currency>'
        b"</account>"
    )


def test_dumps_collection_root() -> None:
    rows = TaggedList("invoice-header", [{"id": 1}, {"id": 2}])
    assert codec_xml.dumps("invoice-headers", rows) == DECL + (
        b'<invoice-headers type="array">'
        b'<invoice-header><id type="integer">1</id></invoice-header>'
        b'<invoice-header><id type="integer">2</id></invoice-header>'
        b"</invoice-headers>"
    )


def test_dumps_empty_collection_root() -> None:
    assert codec_xml.dumps("users", TaggedList("user")) == DECL + b'<users type="array"/>'


def test_dumps_plain_list_items_are_singularised() -> None:
    tree = {"invoice-lines": [{"line-num": 1}], "currencies": ["USD"], "addresses": [None]}
    assert codec_xml.dumps("x", tree) == DECL + (
        b"<x>"
        b'<invoice-lines type="array"><invoice-line><line-num type="integer">1</line-num></invoice-line>'
        b"</invoice-lines>"
        b'<currencies type="array"><currency>USD</currency></currencies>'
        b'<addresses type="array"><address nil="true"/></addresses>'
        b"</x>"
    )


def test_dumps_tagged_list_inside_record() -> None:
    tree = {"roles": TaggedList("role", [{"name": "Admin"}])}
    assert codec_xml.dumps("user", tree) == DECL + (
        b'<user><roles type="array"><role><name>Admin</name></role></roles></user>'
    )


def test_dumps_escapes_text() -> None:
    tree = {"name": "A&B <Supplies> \"quoted\" 'x'", "note": "]]> end", "crlf": "a\r\nb"}
    name = b"<name>A&amp;B &lt;Supplies&gt; \"quoted\" 'x'</name>"
    rest = b"<note>]]&gt; end</note><crlf>a&#13;\nb</crlf>"
    assert codec_xml.dumps("s", tree) == DECL + b"<s>" + name + rest + b"</s>"


def test_dumps_strips_illegal_characters() -> None:
    out = codec_xml.dumps("s", {"name": "ab\x00c\x07d\ufffe\ud800e", "sym": Symbol("x\x01y")})
    assert out == DECL + b'<s><name>abcde</name><sym type="symbol">xy</sym></s>'
    assert codec_xml.loads(out) == ("s", {"name": "abcde", "sym": "xy"})


def test_dumps_non_ascii_as_utf8() -> None:
    out = codec_xml.dumps("s", {"name": "Müller 東京 \U0001f600"})
    assert out == DECL + "<s><name>Müller 東京 \U0001f600</name></s>".encode()


def test_dumps_scalar_root_and_nil_root() -> None:
    assert codec_xml.dumps("count", 3) == DECL + b'<count type="integer">3</count>'
    assert codec_xml.dumps("thing", None) == DECL + b'<thing nil="true"/>'
    assert codec_xml.dumps("thing", {}) == DECL + b"<thing/>"


@pytest.mark.parametrize("bad", ["1abc", "has space", "", "a:b", "{urn:x}a", "a<b"])
def test_dumps_refuses_invalid_names(bad: str) -> None:
    with pytest.raises(WireValueError):
        codec_xml.dumps("root", {bad: 1})
    with pytest.raises(WireValueError):
        codec_xml.dumps(bad, 1)


def test_dumps_refuses_unwritable_values() -> None:
    with pytest.raises(TypeError, match="naive"):
        codec_xml.dumps("x", {"at": datetime(2020, 1, 1)})
    with pytest.raises(TypeError, match="object"):
        codec_xml.dumps("x", {"v": object()})
    with pytest.raises(WireValueError):
        codec_xml.dumps("x", {"v": Decimal("NaN")})


def test_dumps_is_fast() -> None:
    kinds: list[Any] = [7, "some text & more", None, Decimal("12.50"), True, datetime(2020, 1, 1, tzinfo=UTC)]
    rows = TaggedList("row", [{f"field-{k}": kinds[k % len(kinds)] for k in range(100)} for _ in range(50)])
    best = float("inf")
    for _ in range(10):  # best of several runs: the budget is for the code, not a busy machine
        start = time.perf_counter()
        out = codec_xml.dumps("rows", rows)
        best = min(best, time.perf_counter() - start)
    assert out.count(b"<row>") == 50
    assert best < 0.020, f"rendering 50x100 fields took {best * 1000:.1f} ms"


# --- parsing ----------------------------------------------------------------------------------


def test_loads_types() -> None:
    data = b"""<?xml version="1.0" encoding="UTF-8"?>
<user>
  <id type="integer">15</id>
  <version type="integer">-3</version>
  <active type="boolean">true</active>
  <approver type="boolean">false</approver>
  <limit type="decimal">1000.50</limit>
  <rate type="float">8.25</rate>
  <created-at type="dateTime">2016-10-07T06:56:43-07:00</created-at>
  <updated-at type="datetime">2008-10-28T11:24:44Z</updated-at>
  <naive-at type="datetime">2008-10-28T11:24:44</naive-at>
  <start-date type="date">2020-02-29</start-date>
  <authentication-method type="symbol">saml</authentication-method>
  <description type="string">plain</description>
  <login>kyle</login>
  <comments/>
  <notes></notes>
  <manager nil="true"/>
  <typed-nil type="integer" nil="true"/>
  <blank-date type="datetime" />
  <blank-int type="integer"></blank-int>
  <roles type="array"/>
  <default-currency>
    <id type="integer">1</id>
    <code>USD</code>
  </default-currency>
</user>"""
    tag, value = codec_xml.loads(data)
    assert tag == "user"
    assert value == {
        "id": 15,
        "version": -3,
        "active": True,
        "approver": False,
        "limit": Decimal("1000.50"),
        "rate": 8.25,
        "created-at": datetime(2016, 10, 7, 13, 56, 43, tzinfo=UTC),
        "updated-at": datetime(2008, 10, 28, 11, 24, 44, tzinfo=UTC),
        "naive-at": datetime(2008, 10, 28, 11, 24, 44, tzinfo=UTC),
        "start-date": date(2020, 2, 29),
        "authentication-method": "saml",
        "description": "plain",
        "login": "kyle",
        "comments": "",
        "notes": "",
        "manager": None,
        "typed-nil": None,
        "blank-date": None,
        "blank-int": None,
        "roles": [],
        "default-currency": {"id": 1, "code": "USD"},
    }
    assert type(value["id"]) is int and value["active"] is True
    assert value["created-at"].utcoffset() == timedelta(hours=-7)
    assert value["naive-at"].tzinfo is UTC
    assert str(value["limit"]) == "1000.50"
    assert type(value["start-date"]) is date


def test_loads_arrays() -> None:
    data = b"""<users type="array">
  <user><id type="integer">1</id><roles type="array">
    <role><name>A</name></role><role><name>B</name></role>
  </roles></user>
  <user><id type="integer">2</id><roles type="array"></roles></user>
</users>"""
    assert codec_xml.loads(data) == (
        "users",
        [{"id": 1, "roles": [{"name": "A"}, {"name": "B"}]}, {"id": 2, "roles": []}],
    )


def test_loads_empty_collection() -> None:
    assert codec_xml.loads(b'<?xml version="1.0"?>\n<order-headers type="array"/>') == ("order-headers", [])
    assert codec_xml.loads(b'<order-headers type="array">\n</order-headers>') == ("order-headers", [])


def test_loads_array_of_scalars() -> None:
    data = b'<ids type="array"><id type="integer">1</id><id nil="true"/><id>x</id></ids>'
    assert codec_xml.loads(data) == ("ids", [1, None, "x"])


def test_loads_repeated_tags_outside_array_become_a_list() -> None:
    data = b"<errors><error>one</error><error>two</error><error>three</error><count>3</count></errors>"
    assert codec_xml.loads(data) == ("errors", {"error": ["one", "two", "three"], "count": "3"})


def test_loads_cdata_comments_and_whitespace() -> None:
    data = b"""<errors>
<error><![CDATA[Login has <already> been taken]]></error>
<note>before<!-- a comment -->after</note>
<spaced>  kept as is  </spaced>
</errors>"""
    _, value = codec_xml.loads(data)
    assert value == {
        "error": "Login has <already> been taken",
        "note": "beforeafter",
        "spaced": "  kept as is  ",
    }


def test_loads_mixed_content_ignores_stray_text() -> None:
    # Coupa's documentation samples carry "----" separator lines between elements.
    data = b'<address><id type="integer">97</id>\n------\n<country><code>US</code></country>\n---\n</address>'
    assert codec_xml.loads(data) == ("address", {"id": 97, "country": {"code": "US"}})


def test_loads_unknown_type_kept_as_text() -> None:
    assert codec_xml.loads(b'<x><y type="yaml">--- a</y></x>') == ("x", {"y": "--- a"})


def test_loads_accepts_str_and_other_encodings() -> None:
    assert codec_xml.loads("<a><b>ü</b></a>") == ("a", {"b": "ü"})
    latin = '<?xml version="1.0" encoding="ISO-8859-1"?><a><b>ü</b></a>'.encode("latin-1")
    assert codec_xml.loads(latin) == ("a", {"b": "ü"})


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        (b'<a><id type="integer">12x</id></a>', "<id>"),
        (b'<a><id type="integer">1_000</id></a>', "<id>"),
        (b'<a><ok type="boolean">maybe</ok></a>', "<ok>"),
        (b'<a><amount type="decimal">NaN</amount></a>', "<amount>"),
        (b'<a><at type="dateTime">soon</at></a>', "<at>"),
        (b'<a><on type="date">2020-02-30</on></a>', "<on>"),
        (b'<a><id type="integer"><x/></id></a>', "<id"),
    ],
)
def test_loads_bad_typed_values(data: bytes, fragment: str) -> None:
    with pytest.raises(WireDecodeError) as info:
        codec_xml.loads(data)
    assert fragment in str(info.value)
    assert info.value.line == 1


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"   \n",
        b"<a>",
        b"<a></b>",
        b"<a/><b/>",
        b"not xml",
        b"<a>&undefined;</a>",
        b"<a>&</a>",
    ],
)
def test_loads_malformed(data: bytes) -> None:
    with pytest.raises(WireDecodeError):
        codec_xml.loads(data)


def test_loads_malformed_has_line_and_column() -> None:
    with pytest.raises(WireDecodeError) as info:
        codec_xml.loads(b'<?xml version="1.0"?>\n<a>\n  <b>1</c>\n</a>')
    assert info.value.line == 3
    assert info.value.column is not None and info.value.column > 1
    assert "line 3" in str(info.value)


# --- safety -----------------------------------------------------------------------------------

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<lolz><lol>&lol9;</lol></lolz>"""


def _external_entity_doc(path: Path) -> str:
    return (
        '<?xml version="1.0"?>\n'
        f'<!DOCTYPE user [<!ENTITY secret SYSTEM "file://{path}">]>\n'
        "<user><name>&secret;</name></user>"
    )


@pytest.fixture
def secret_file(tmp_path: Path) -> Path:
    path = tmp_path / "secret.txt"
    path.write_text("TOP-SECRET-CONTENT-4711")
    return path


def test_billion_laughs_refused() -> None:
    start = time.perf_counter()
    with pytest.raises(WireDecodeError, match="DOCTYPE"):
        codec_xml.loads(BILLION_LAUGHS)
    with pytest.raises(WireDecodeError, match="DOCTYPE"):
        list(codec_xml.iterparse_records(BILLION_LAUGHS))
    assert time.perf_counter() - start < 1.0


def test_external_entity_refused(secret_file: Path) -> None:
    data = _external_entity_doc(secret_file).encode()
    with pytest.raises(WireDecodeError) as info:
        codec_xml.loads(data)
    assert "TOP-SECRET" not in str(info.value)
    with pytest.raises(WireDecodeError) as info2:
        list(codec_xml.iterparse_records(data))
    assert "TOP-SECRET" not in str(info2.value)


def test_external_entity_etc_passwd_refused() -> None:
    data = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY x SYSTEM "file:///etc/passwd">]><x>&x;</x>'
    with pytest.raises(WireDecodeError) as info:
        codec_xml.loads(data)
    assert "root:" not in str(info.value)


def test_entity_declaration_without_doctype_keyword_refused() -> None:
    with pytest.raises(WireDecodeError, match="ENTITY"):
        codec_xml.loads(b'<a><!ENTITY x "y"></a>')


def test_doctype_refused_even_when_byte_scan_cannot_see_it(secret_file: Path) -> None:
    # UTF-16 hides "<!DOCTYPE" from a byte search; the parsed tree is checked as a backstop.
    data = _external_entity_doc(secret_file).replace('<?xml version="1.0"?>', "").encode("utf-16")
    assert b"<!DOCTYPE" not in data
    with pytest.raises(WireDecodeError) as info:
        codec_xml.loads(data)
    assert "TOP-SECRET" not in str(info.value)
    with pytest.raises(WireDecodeError) as info2:
        list(codec_xml.iterparse_records(data))
    assert "TOP-SECRET" not in str(info2.value)
    plain = (
        b'<?xml version="1.0"?><!DOCTYPE a><a><b>1</b></a>'.decode()
        .replace('<?xml version="1.0"?>', "")
        .encode("utf-16")
    )
    with pytest.raises(WireDecodeError, match="DOCTYPE"):
        codec_xml.loads(plain)


# --- round trip -------------------------------------------------------------------------------

_ZONES = st.sampled_from([UTC, MINUS_7, timezone(timedelta(hours=5, minutes=30))])
# Realistic element names; drawing from a fixed pool keeps example generation cheap.
_KEYS = st.sampled_from(
    [
        "id",
        "name",
        "a",
        "x1",
        "created-at",
        "invoice-lines",
        "custom-field-8",
        "addresses",
        "currencies",
        "status",
        "tax-amount",
        "roles",
        "data",
        "item",
        "z",
    ]
)
# Any text XML 1.0 can carry: no control characters except tab/LF/CR, no surrogates, no U+FFFE/F.
_XML_TEXT = st.text(
    st.one_of(
        st.characters(exclude_categories=("Cs", "Cc"), exclude_characters="\ufffe\uffff"),
        st.sampled_from("\t\n\r &<>]\"'"),
    )
)
_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**63), 2**63 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    st.builds(lambda n, e: Decimal(n).scaleb(e), st.integers(-(10**12), 10**12), st.integers(-6, 3)),
    _XML_TEXT,
    _XML_TEXT.map(Symbol),
    st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2200, 1, 1), timezones=_ZONES).map(
        lambda d: d.replace(microsecond=0)
    ),
    st.dates(),
)
_TREES = st.recursive(
    _SCALARS,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.builds(TaggedList, st.just("item"), st.lists(children, max_size=4)),
        st.dictionaries(_KEYS, children, max_size=5),
    ),
    max_leaves=25,
)


def _as_xml(tree: Any) -> Any:
    """What a tree reads back as: an empty dict renders as an empty element, which reads as ""."""
    if isinstance(tree, dict):
        return {k: _as_xml(v) for k, v in tree.items()} if tree else ""
    if isinstance(tree, list):
        return [_as_xml(v) for v in tree]
    return tree


@given(_TREES)
def test_round_trip(tree: Any) -> None:
    tag, value = codec_xml.loads(codec_xml.dumps("root", tree))
    assert tag == "root"
    expected = _as_xml(tree)
    assert value == expected
    _assert_same_types(value, expected)


def _assert_same_types(got: Any, expected: Any) -> None:
    # == alone would accept 1 == True == Decimal(1) == 1.0.
    if isinstance(expected, dict):
        for key, item in expected.items():
            _assert_same_types(got[key], item)
    elif isinstance(expected, list):
        for got_item, item in zip(got, expected, strict=True):
            _assert_same_types(got_item, item)
    elif isinstance(expected, str):
        assert type(got) is str
    elif isinstance(expected, datetime):
        assert type(got) is datetime and got.utcoffset() == expected.utcoffset()
    else:
        assert type(got) is type(expected)


_ROWS = st.lists(
    st.dictionaries(
        _KEYS,
        _SCALARS | st.lists(_SCALARS, max_size=3) | st.dictionaries(_KEYS, _SCALARS, max_size=3),
        min_size=1,
        max_size=6,
    ),
    max_size=5,
)


@given(_ROWS)
def test_round_trip_collection(rows: list[dict[str, Any]]) -> None:
    data = codec_xml.dumps("rows", TaggedList("row", rows))
    expected = [_as_xml(row) for row in rows]
    assert codec_xml.loads(data) == ("rows", expected)
    assert list(codec_xml.iterparse_records(data)) == expected


# --- iterparse_records ------------------------------------------------------------------------


class _TrickleStream(io.RawIOBase):
    """A stream handing out a few bytes per read, recording how far it has been read."""

    def __init__(self, data: bytes, step: int) -> None:
        self._data = data
        self._step = step
        self.position = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        chunk = self._data[self.position : self.position + self._step]
        self.position += len(chunk)
        return chunk


def _collection(n: int) -> bytes:
    rows = TaggedList("user", [{"id": i, "login": f"user{i}", "roles": [{"name": "x"}]} for i in range(n)])
    return codec_xml.dumps("users", rows)


def test_iterparse_matches_loads() -> None:
    data = _collection(20)
    assert list(codec_xml.iterparse_records(data)) == codec_xml.loads(data)[1]
    assert list(codec_xml.iterparse_records(io.BytesIO(data))) == codec_xml.loads(data)[1]


def test_iterparse_is_incremental() -> None:
    data = _collection(500)
    stream = _TrickleStream(data, 1000)
    records = codec_xml.iterparse_records(stream)  # type: ignore[arg-type]
    first = next(records)
    assert first["id"] == 0
    assert stream.position < len(data) // 10
    assert sum(1 for _ in records) == 499


def test_iterparse_tiny_chunks() -> None:
    data = _collection(5)
    stream = _TrickleStream(data, 3)
    assert [r["id"] for r in codec_xml.iterparse_records(stream)] == [0, 1, 2, 3, 4]  # type: ignore[arg-type]


def test_iterparse_doctype_split_across_chunks_refused() -> None:
    data = b'<?xml version="1.0"?><!DOCTYPE users [<!ENTITY a "b">]><users type="array"></users>'
    for step in (1, 2, 5, 7, 13):
        with pytest.raises(WireDecodeError):
            list(codec_xml.iterparse_records(_TrickleStream(data, step)))  # type: ignore[arg-type]


def test_iterparse_item_tag_filters() -> None:
    data = (
        b'<things type="array"><user><id type="integer">1</id></user>'
        b'<group><id type="integer">2</id></group><user/></things>'
    )
    assert list(codec_xml.iterparse_records(data, item_tag="user")) == [{"id": 1}, {}]
    assert list(codec_xml.iterparse_records(data)) == [{"id": 1}, {"id": 2}, {}]


def test_iterparse_empty_and_nil_collections() -> None:
    assert list(codec_xml.iterparse_records(b'<users type="array"/>')) == []
    assert list(codec_xml.iterparse_records(b'<users nil="true"/>')) == []


def test_iterparse_errors() -> None:
    with pytest.raises(WireDecodeError, match="empty"):
        list(codec_xml.iterparse_records(b""))
    with pytest.raises(WireDecodeError, match="not a collection"):
        list(codec_xml.iterparse_records(b'<id type="integer">1</id>'))
    with pytest.raises(WireDecodeError, match="not a record"):
        list(codec_xml.iterparse_records(b'<ids type="array"><id type="integer">1</id></ids>'))
    with pytest.raises(WireDecodeError) as info:
        list(codec_xml.iterparse_records(b'<users type="array">\n<user><id>1</id></user>\n<user></users>'))
    assert info.value.line == 3


def test_iterparse_yields_records_before_a_later_error() -> None:
    records = codec_xml.iterparse_records(b'<users type="array"><user><id>1</id></user><user><id>')
    assert next(records) == {"id": "1"}
    with pytest.raises(WireDecodeError):
        next(records)
