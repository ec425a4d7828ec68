"""Scalar rules: keys, datetimes, decimals, booleans, TaggedList and Symbol."""

from __future__ import annotations

import copy
import pickle
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pycoupa.wire.values import (
    Symbol,
    TaggedList,
    WireValueError,
    format_date,
    format_datetime,
    format_decimal,
    hyphenate,
    parse_bool,
    parse_date,
    parse_datetime,
    parse_decimal,
    singularize,
    strip_illegal_xml_chars,
    underscore,
)

PACIFIC = ZoneInfo("America/Los_Angeles")
MINUS_7 = timezone(timedelta(hours=-7))


# --- keys -------------------------------------------------------------------------------------


def test_hyphenate_and_underscore() -> None:
    assert hyphenate("invoice_lines") == "invoice-lines"
    assert hyphenate("custom_field_8") == "custom-field-8"
    assert hyphenate("already-hyphenated") == "already-hyphenated"
    assert underscore("invoice-lines") == "invoice_lines"
    assert underscore("created-at") == "created_at"


@pytest.mark.parametrize(
    ("plural", "singular"),
    [
        ("invoice-lines", "invoice-line"),
        ("currencies", "currency"),
        ("addresses", "address"),
        ("taxes", "tax"),
        ("roles", "role"),
        ("user-group-memberships", "user-group-membership"),
        ("commodities", "commodity"),
        ("address", "address"),
        ("data", "data"),
    ],
)
def test_singularize(plural: str, singular: str) -> None:
    assert singularize(plural) == singular


# --- datetimes --------------------------------------------------------------------------------


def test_format_datetime_in_given_zone_without_fraction() -> None:
    dt = datetime(2016, 11, 8, 9, 28, 50, 987654, tzinfo=UTC)
    assert format_datetime(dt, timezone(timedelta(hours=2))) == "2016-11-08T11:28:50+02:00"
    assert format_datetime(dt, UTC) == "2016-11-08T09:28:50+00:00"


def test_format_datetime_follows_dst_of_named_zone() -> None:
    summer = datetime(2010, 9, 23, 3, 42, 57, tzinfo=UTC)
    winter = datetime(2010, 1, 15, 12, 0, 0, tzinfo=UTC)
    assert format_datetime(summer, PACIFIC) == "2010-09-22T20:42:57-07:00"
    assert format_datetime(winter, PACIFIC) == "2010-01-15T04:00:00-08:00"


def test_format_datetime_local_mean_time_offset_reads_back() -> None:
    # Before 1883 the zone database gives Los Angeles an offset with seconds; keep the instant exact.
    dt = datetime(1800, 1, 1, tzinfo=UTC)
    text = format_datetime(dt, PACIFIC)
    assert text == "1799-12-31T16:07:02-07:52:58"
    assert parse_datetime(text, UTC) == dt


def test_format_datetime_refuses_naive() -> None:
    with pytest.raises(WireValueError, match="naive"):
        format_datetime(datetime(2020, 1, 1), UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2010-03-25T18:38:00-07:00", datetime(2010, 3, 25, 18, 38, tzinfo=MINUS_7)),
        ("2010-03-25T18:38:00Z", datetime(2010, 3, 25, 18, 38, tzinfo=UTC)),
        ("2010-03-25T18:38:00+0200", datetime(2010, 3, 25, 16, 38, tzinfo=UTC)),
        ("2010-03-25T18:38:00+02", datetime(2010, 3, 25, 16, 38, tzinfo=UTC)),
        ("2010-03-25T18:38:00.5-07:00", datetime(2010, 3, 25, 18, 38, 0, 500000, tzinfo=MINUS_7)),
        ("2010-03-25T18:38:00.123456789Z", datetime(2010, 3, 25, 18, 38, 0, 123456, tzinfo=UTC)),
        ("2010-03-25 18:38:00-07:00", datetime(2010, 3, 25, 18, 38, tzinfo=MINUS_7)),
        ("2019-10-22 00:00:00 -0900", datetime(2019, 10, 22, 9, 0, tzinfo=UTC)),
        ("2010-03-25 18:38:00 UTC", datetime(2010, 3, 25, 18, 38, tzinfo=UTC)),
        ("  2010-03-25T18:38:00Z\n", datetime(2010, 3, 25, 18, 38, tzinfo=UTC)),
    ],
)
def test_parse_datetime_spellings(text: str, expected: datetime) -> None:
    parsed = parse_datetime(text, PACIFIC)
    assert parsed.tzinfo is not None
    assert parsed == expected


def test_parse_datetime_keeps_offset() -> None:
    parsed = parse_datetime("2010-03-25T18:38:00-07:00", UTC)
    assert parsed.utcoffset() == timedelta(hours=-7)
    assert parsed.hour == 18


def test_parse_datetime_without_offset_uses_default_zone() -> None:
    parsed = parse_datetime("2010-01-01T12:00:00", PACIFIC)
    assert parsed.tzinfo is PACIFIC
    assert parsed == datetime(2010, 1, 1, 20, 0, tzinfo=UTC)


def test_parse_datetime_date_alone_is_midnight_utc_whatever_the_default() -> None:
    parsed = parse_datetime("2010-03-25", PACIFIC)
    assert parsed == datetime(2010, 3, 25, tzinfo=UTC)
    assert parsed.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "yesterday",
        "2010-13-25T00:00:00Z",
        "2010-02-30",
        "2010-03-25T25:00:00Z",
        "2010-03-25T18:38:00+25:00",
        "2010-03-25T18:38:00+02:75",
        "2010-03-25T18:38:00 PST",
        '"2019-10-22 00:00:00 -0900"',
        "2010-03-25T18:38:00-07:00 trailing",
    ],
)
def test_parse_datetime_rejects_and_names_the_value(bad: str) -> None:
    with pytest.raises(WireValueError) as info:
        parse_datetime(bad, UTC)
    assert repr(bad) in str(info.value)
    assert isinstance(info.value, ValueError)


def test_parse_datetime_rejects_non_string() -> None:
    with pytest.raises(WireValueError):
        parse_datetime(20100325, UTC)  # type: ignore[arg-type]


def test_date_helpers() -> None:
    assert parse_date("2020-02-29") == date(2020, 2, 29)
    assert format_date(date(987, 1, 2)) == "0987-01-02"
    with pytest.raises(WireValueError, match="2020-02-30"):
        parse_date("2020-02-30")


_ZONES = st.sampled_from(
    [UTC, MINUS_7, timezone(timedelta(hours=5, minutes=30)), timezone(timedelta(hours=-9, minutes=-30))]
)


@given(
    st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2200, 1, 1), timezones=_ZONES),
    _ZONES,
)
def test_datetime_round_trip(dt: datetime, render_zone: timezone) -> None:
    text = format_datetime(dt, render_zone)
    assert len(text) == 25 and text[10] == "T"
    parsed = parse_datetime(text, PACIFIC)
    # Same instant to the second, and shown in the zone it was rendered in.
    assert parsed == dt.replace(microsecond=0)
    assert parsed.utcoffset() == render_zone.utcoffset(None)


_PACIFIC_TIMES = st.datetimes(
    min_value=datetime(1970, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(PACIFIC)
)


@given(_PACIFIC_TIMES)
def test_datetime_round_trip_named_zone(dt: datetime) -> None:
    parsed = parse_datetime(format_datetime(dt, PACIFIC), UTC)
    assert parsed.timestamp() == dt.replace(microsecond=0).timestamp()


# --- decimals ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("567.07", Decimal("567.07")),
        ("0.00", Decimal("0.00")),
        ("-10", Decimal("-10")),
        ("+4.0", Decimal("4.0")),
        (".5", Decimal("0.5")),
        ("1E+2", Decimal("100")),
        (" 10.80 ", Decimal("10.80")),
    ],
)
def test_parse_decimal(text: str, expected: Decimal) -> None:
    parsed = parse_decimal(text)
    assert parsed == expected
    assert str(parsed) == str(expected) or text.strip() == "1E+2"


def test_parse_decimal_keeps_scale() -> None:
    assert parse_decimal("10.80").as_tuple().exponent == -2


BAD_DECIMALS = ["NaN", "nan", "Infinity", "-inf", "sNaN", "", "abc", "1_000", "1.2.3", "1,5", "٣"]


@pytest.mark.parametrize("bad", BAD_DECIMALS)
def test_parse_decimal_rejects(bad: str) -> None:
    with pytest.raises(WireValueError) as info:
        parse_decimal(bad)
    assert repr(bad) in str(info.value)


def test_parse_decimal_other_inputs() -> None:
    assert parse_decimal(7) == Decimal(7)
    assert parse_decimal(Decimal("1.5")) == Decimal("1.5")
    with pytest.raises(WireValueError):
        parse_decimal(Decimal("NaN"))
    with pytest.raises(WireValueError):
        parse_decimal(1.5)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Decimal("1E+2"), "100"),
        (Decimal("10.80"), "10.80"),
        (Decimal("0.00"), "0.00"),
        (Decimal("1E-7"), "0.0000001"),
        (Decimal("-35.14"), "-35.14"),
        (Decimal(5), "5"),
    ],
)
def test_format_decimal_plain_notation(value: Decimal, text: str) -> None:
    assert format_decimal(value) == text


@pytest.mark.parametrize("bad", [Decimal("NaN"), Decimal("Infinity"), Decimal("-Infinity")])
def test_format_decimal_refuses_non_finite(bad: Decimal) -> None:
    with pytest.raises(WireValueError):
        format_decimal(bad)


@given(st.integers(-(10**20), 10**20), st.integers(-6, 10))
def test_decimal_round_trip(digits: int, exponent: int) -> None:
    value = Decimal(digits).scaleb(-exponent)
    text = format_decimal(value)
    assert "E" not in text and "e" not in text
    parsed = parse_decimal(text)
    assert parsed == value
    if value.as_tuple().exponent <= 0:  # type: ignore[operator]
        assert parsed.as_tuple() == value.as_tuple()


# --- booleans ---------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["true", "TRUE", "True", "yes", "Yes", "1", "t", "T", " true "])
def test_parse_bool_true(text: str) -> None:
    assert parse_bool(text) is True


@pytest.mark.parametrize("text", ["false", "FALSE", "no", "NO", "0", "f", "F"])
def test_parse_bool_false(text: str) -> None:
    assert parse_bool(text) is False


@pytest.mark.parametrize("bad", ["", "maybe", "2", "y", "on", "nil", "truee"])
def test_parse_bool_rejects(bad: str) -> None:
    with pytest.raises(WireValueError) as info:
        parse_bool(bad)
    assert repr(bad) in str(info.value)


def test_parse_bool_non_strings() -> None:
    assert parse_bool(True) is True
    assert parse_bool(0) is False
    with pytest.raises(WireValueError):
        parse_bool(2)


# --- TaggedList, Symbol, XML characters -------------------------------------------------------


def test_tagged_list() -> None:
    lines = TaggedList("invoice-line", [{"id": 1}, {"id": 2}])
    assert lines.item_tag == "invoice-line"
    assert lines == [{"id": 1}, {"id": 2}]
    assert isinstance(lines, list)
    assert repr(lines) == "TaggedList('invoice-line', [{'id': 1}, {'id': 2}])"
    empty = TaggedList("role")
    assert empty == [] and empty.item_tag == "role"


@pytest.mark.parametrize("clone", [copy.copy, copy.deepcopy, lambda v: pickle.loads(pickle.dumps(v))])
def test_tagged_list_survives_copy_and_pickle(clone: object) -> None:
    original = TaggedList("tag", ["a", "b"])
    cloned = clone(original)  # type: ignore[operator]
    assert type(cloned) is TaggedList
    assert cloned.item_tag == "tag"
    assert cloned == ["a", "b"]


def test_symbol_is_a_str() -> None:
    sym = Symbol("saml")
    assert isinstance(sym, str)
    assert sym == "saml"
    assert sym.upper() == "SAML"


def test_strip_illegal_xml_chars() -> None:
    assert strip_illegal_xml_chars("plain") == "plain"
    assert strip_illegal_xml_chars("a\x00b\x08c\x1fd\ufffee\ud800f") == "abcdef"
    assert strip_illegal_xml_chars("tab\tlf\ncr\r") == "tab\tlf\ncr\r"
    assert strip_illegal_xml_chars("emoji \U0001f600") == "emoji \U0001f600"
