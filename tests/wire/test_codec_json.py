"""JSON codec: Coupa's value spellings on top of orjson."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pycoupa.wire import codec_json
from pycoupa.wire.errors import WireDecodeError
from pycoupa.wire.values import Symbol, TaggedList, format_date, format_datetime, format_decimal

MINUS_7 = timezone(timedelta(hours=-7))


def test_dumps_exact_bytes() -> None:
    tree = {
        "id": 41,
        "active": True,
        "total": Decimal("567.07"),
        "savings-pct": Decimal("4.0"),
        "created-at": datetime(2016, 10, 7, 6, 56, 43, 123456, tzinfo=MINUS_7),
        "invoice-date": date(2008, 10, 28),
        "segment-2": None,
        "roles": TaggedList("role", [{"id": 1}]),
        "method": Symbol("saml"),
        "rate": 8.25,
    }
    assert codec_json.dumps(tree) == (
        b'{"id":41,"active":true,"total":"567.07","savings-pct":"4.0",'
        b'"created-at":"2016-10-07T06:56:43-07:00","invoice-date":"2008-10-28",'
        b'"segment-2":null,"roles":[{"id":1}],"method":"saml","rate":8.25}'
    )


def test_dumps_collection_is_a_bare_array() -> None:
    assert codec_json.dumps(TaggedList("user", [{"id": 1}, {"id": 2}])) == b'[{"id":1},{"id":2}]'
    assert codec_json.dumps([]) == b"[]"


def test_dumps_datetime_in_its_own_zone() -> None:
    pacific = ZoneInfo("America/Los_Angeles")
    summer = datetime(2010, 9, 22, 20, 42, 57, tzinfo=pacific)
    assert codec_json.dumps(summer) == b'"2010-09-22T20:42:57-07:00"'
    assert codec_json.dumps(datetime(2010, 9, 22, 20, 42, 57, tzinfo=UTC)) == b'"2010-09-22T20:42:57+00:00"'


def test_dumps_decimal_plain_notation() -> None:
    assert codec_json.dumps([Decimal("1E+2"), Decimal("10.80")]) == b'["100","10.80"]'


def test_dumps_refuses_naive_datetime_and_unknown_types() -> None:
    with pytest.raises(TypeError, match="naive"):
        codec_json.dumps({"at": datetime(2020, 1, 1)})
    with pytest.raises(TypeError, match="object"):
        codec_json.dumps({"x": object()})
    with pytest.raises(TypeError):
        codec_json.dumps({"x": Decimal("NaN")})


def test_loads_values() -> None:
    assert codec_json.loads(b'{"id":1,"total":"1.50","tags":[]}') == {"id": 1, "total": "1.50", "tags": []}
    assert codec_json.loads('[{"id":1}]') == [{"id": 1}]
    assert codec_json.loads(bytearray(b"[1]")) == [1]
    assert codec_json.loads(b"null") is None


def test_loads_accepts_byte_order_mark() -> None:
    assert codec_json.loads(b'\xef\xbb\xbf{"a":1}') == {"a": 1}
    assert codec_json.loads('\ufeff{"a":1}') == {"a": 1}


def test_loads_bad_json_has_position() -> None:
    with pytest.raises(WireDecodeError) as info:
        codec_json.loads(b'{\n"id": 1,\n"name": }')
    err = info.value
    assert isinstance(err, ValueError)
    assert err.line == 3
    assert err.column is not None and err.column >= 1
    assert "line 3" in str(err)


@pytest.mark.parametrize("data", [b"", b"{", b"[1,]", b"{'a': 1}", b'{"a": 1} x', b"\xff\xfe"])
def test_loads_rejects_malformed(data: bytes) -> None:
    with pytest.raises(WireDecodeError):
        codec_json.loads(data)


@pytest.mark.parametrize("data", [b'"text"', b"1", b"true", b"null"])
def test_loads_expect_object_refuses_scalars(data: bytes) -> None:
    codec_json.loads(data)  # fine without the flag
    with pytest.raises(WireDecodeError, match="object or array"):
        codec_json.loads(data, expect_object=True)


def test_loads_expect_object_allows_object_and_array() -> None:
    assert codec_json.loads(b"{}", expect_object=True) == {}
    assert codec_json.loads(b"[]", expect_object=True) == []


def test_normalise_keys_recursive() -> None:
    body = {
        "invoice_number": "INV-1",
        "invoice-date": "2020-01-01",
        "invoice_lines": [{"line_num": 1, "account": {"account_type_id": 3}}],
        "custom_fields": {"cf_x": "a_b"},
        "tags": TaggedList("tag", [{"tag_name": "x"}]),
    }
    out = codec_json.normalise_keys(body)
    assert out == {
        "invoice-number": "INV-1",
        "invoice-date": "2020-01-01",
        "invoice-lines": [{"line-num": 1, "account": {"account-type-id": 3}}],
        "custom-fields": {"cf-x": "a_b"},  # values are not touched
        "tags": [{"tag-name": "x"}],
    }
    assert isinstance(out["tags"], TaggedList) and out["tags"].item_tag == "tag"
    assert list(out) == ["invoice-number", "invoice-date", "invoice-lines", "custom-fields", "tags"]


def test_normalise_keys_prefers_hyphenated_spelling() -> None:
    assert codec_json.normalise_keys({"due_date": "a", "due-date": "b"}) == {"due-date": "b"}
    assert codec_json.normalise_keys({"due-date": "b", "due_date": "a"}) == {"due-date": "b"}


def test_normalise_keys_leaves_scalars() -> None:
    assert codec_json.normalise_keys("a_b") == "a_b"
    assert codec_json.normalise_keys(None) is None
    assert codec_json.normalise_keys([1, "x_y"]) == [1, "x_y"]


# --- round trip -------------------------------------------------------------------------------

_ZONES = st.sampled_from([UTC, timezone(timedelta(hours=-7)), timezone(timedelta(hours=5, minutes=30))])
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
_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**63), 2**63 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    st.builds(lambda n, e: Decimal(n).scaleb(e), st.integers(-(10**12), 10**12), st.integers(-6, 3)),
    st.text(),  # hypothesis never draws lone surrogates by default
    st.text().map(Symbol),
    st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2200, 1, 1), timezones=_ZONES),
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


def _as_json(tree: Any) -> Any:
    """What a tree reads back as: Coupa's JSON carries decimals, datetimes and dates as strings."""
    if isinstance(tree, dict):
        return {k: _as_json(v) for k, v in tree.items()}
    if isinstance(tree, list):
        return [_as_json(v) for v in tree]
    if isinstance(tree, Decimal):
        return format_decimal(tree)
    if isinstance(tree, datetime):
        assert tree.tzinfo is not None
        return format_datetime(tree, tree.tzinfo)
    if isinstance(tree, date):
        return format_date(tree)
    if isinstance(tree, Symbol):
        return str(tree)
    return tree


@given(_TREES)
def test_round_trip(tree: Any) -> None:
    assert codec_json.loads(codec_json.dumps(tree)) == _as_json(tree)


@given(st.dictionaries(_KEYS, _TREES, max_size=5))
def test_round_trip_expect_object(tree: dict[str, Any]) -> None:
    assert codec_json.loads(codec_json.dumps(tree), expect_object=True) == _as_json(tree)
