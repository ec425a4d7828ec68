from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pycoupa.wire.query import OPERATORS, Condition, QueryError, encode_filter_value
from pycoupa.wire.reference_eval import FIELD_TYPES, matches, order_and_page

TYPES = {
    "id": "integer",
    "supplier-id": "integer",
    "count": "integer",
    "total": "decimal",
    "rate": "float",
    "active": "boolean",
    "exported": "boolean",
    "created-at": "datetime",
    "updated-at": "datetime",
    "invoice-date": "date",
}


def field_type(path: tuple[str, ...]) -> str:
    return TYPES.get(path[-1], "string")


def m(record: dict[str, Any], *conds: tuple[str, str, Any]) -> bool:
    """``m(rec, ("supplier[name]", "contains", "x"))``: dotted paths keep the tests short."""
    conditions = [Condition(tuple(path.split(".")), op, value) for path, op, value in conds]
    return matches(record, conditions, field_type)


INVOICE: dict[str, Any] = {
    "id": 7,
    "status": "approved",
    "invoice-number": "INV-100%_a",
    "po-email": "",
    "total": Decimal("10.50"),
    "rate": 0.25,
    "count": 12,
    "active": True,
    "created-at": datetime(2024, 1, 1, 12, 0, tzinfo=timezone(timedelta(hours=-7))),
    "invoice-date": date(2024, 1, 1),
    "notes": None,
    "supplier": {"id": 4, "name": "Fishy Foods", "primary-contact": {"email": "a@coupa.com"}},
    "currency": None,
    "invoice-lines": [
        {"id": 1, "description": "Chairs", "account": {"code": "a-c"}, "tags": [{"name": "x"}]},
        {"id": 2, "description": None, "account": None, "tags": []},
        {"id": 3, "description": "Desks", "account": {"code": "b-d"}, "tags": [{"name": "y"}, {"name": "z"}]},
    ],
}


# --------------------------------------------------------------------------- operators


def test_eq_is_case_sensitive() -> None:
    assert m(INVOICE, ("status", "eq", "approved"))
    assert not m(INVOICE, ("status", "eq", "Approved"))
    assert not m(INVOICE, ("status", "eq", "approved "))


def test_not_eq() -> None:
    assert m(INVOICE, ("status", "not_eq", "voided"))
    assert not m(INVOICE, ("status", "not_eq", "approved"))
    assert not m(INVOICE, ("notes", "not_eq", "x")), "None never matches not_eq (SQL semantics)"
    assert not m(INVOICE, ("no-such-key", "not_eq", "x")), "a missing key reads as None"


@pytest.mark.parametrize(
    ("op", "value", "expected"),
    [
        ("gt", "10.49", True),
        ("gt", "10.5", False),
        ("gt_or_eq", "10.5", True),
        ("lt", "10.5", False),
        ("lt", "10.51", True),
        ("lt_or_eq", "10.500", True),
        ("eq", "10.5", True),  # Decimal equality, not text equality
        ("eq", "1.05E+1", True),
        ("not_eq", "10.5", False),
    ],
)
def test_decimal_comparisons(op: str, value: str, expected: bool) -> None:
    assert m(INVOICE, ("total", op, value)) is expected


def test_integer_and_float_comparisons() -> None:
    assert m(INVOICE, ("count", "gt", "9"))  # numeric, not "12" < "9" as text
    assert m(INVOICE, ("count", "eq", "+12"))
    assert m(INVOICE, ("rate", "eq", "0.25"))
    assert m(INVOICE, ("rate", "lt", "0.3"))


def test_string_ordering_is_by_code_point() -> None:
    assert m({"name": "Fishy"}, ("name", "gt", "Fish"))
    assert m({"name": "fish"}, ("name", "gt", "Fishy")), "lower case sorts after upper case"
    assert not m({"name": "Fish"}, ("name", "gt", "Fish"))
    assert m({"name": "Fish"}, ("name", "gt_or_eq", "Fish"))


@pytest.mark.parametrize("op", ["gt", "lt", "gt_or_eq", "lt_or_eq", "eq", "not_eq", "contains", "starts_with"])
def test_none_never_matches(op: str) -> None:
    assert not m({"id": 1, "total": None, "name": None}, ("total", op, "1"))
    assert not m({"id": 1, "name": None}, ("name", op, "x"))


def test_in_and_not_in() -> None:
    assert m(INVOICE, ("status", "in", ("approved", "voided")))
    assert not m(INVOICE, ("status", "in", ("Approved",)))
    assert not m(INVOICE, ("status", "not_in", ("approved", "voided")))
    assert m(INVOICE, ("status", "not_in", ("voided",)))
    assert m(INVOICE, ("total", "in", ("1", "10.5")))
    assert not m(INVOICE, ("notes", "in", ("x",)))
    assert not m(INVOICE, ("notes", "not_in", ("x",))), "None never matches not_in"


def test_in_with_empty_tuple() -> None:
    assert not m(INVOICE, ("status", "in", ()))
    assert m(INVOICE, ("status", "not_in", ()))
    assert not m(INVOICE, ("notes", "not_in", ()))


def test_text_operators_are_case_insensitive() -> None:
    assert m(INVOICE, ("supplier.name", "contains", "FISH"))
    assert m(INVOICE, ("supplier.name", "starts_with", "fishy f"))
    assert m(INVOICE, ("supplier.name", "ends_with", "OODS"))
    assert not m(INVOICE, ("supplier.name", "starts_with", "Foods"))
    assert not m(INVOICE, ("supplier.name", "ends_with", "Fishy"))
    assert m(INVOICE, ("supplier.name", "contains", ""))


def test_text_operators_treat_wildcards_literally() -> None:
    assert m(INVOICE, ("invoice-number", "contains", "100%_"))
    assert not m(INVOICE, ("invoice-number", "contains", "1%0"))
    assert not m(INVOICE, ("invoice-number", "starts_with", "_NV"))
    assert not m({"name": "abc"}, ("name", "contains", "%"))


def test_text_operators_do_not_coerce_the_value() -> None:
    assert not m({"name": "12"}, ("name", "contains", "12.0"))


def test_text_operators_on_numbers_use_their_text() -> None:
    assert m(INVOICE, ("count", "contains", "2"))
    assert m(INVOICE, ("count", "starts_with", "12"))
    assert m(INVOICE, ("total", "ends_with", ".50"))  # the scale as stored
    assert m({"total": "1E+2"}, ("total", "contains", "100"))  # plain notation, not exponent
    assert m({"count": "007"}, ("count", "eq", "7"))
    assert not m({"count": "007"}, ("count", "contains", "00")), "text of the number, not of the string"


@pytest.mark.parametrize("field", ["created-at", "invoice-date", "active"])
@pytest.mark.parametrize("op", ["contains", "starts_with", "ends_with"])
def test_text_operators_refused_on_datetime_date_boolean(field: str, op: str) -> None:
    with pytest.raises(QueryError) as info:
        m(INVOICE, (field, op, "1"))
    assert info.value.param == f"{field}[{op}]"


def test_blank() -> None:
    rec = {"id": 1, "a": None, "b": "", "c": " ", "d": "x", "n": 0, "f": False}
    assert [m(rec, (k, "blank", "true")) for k in "abcdnf"] == [True, True, False, False, False, False]
    assert [m(rec, (k, "blank", "false")) for k in "abcdnf"] == [False, False, True, True, True, True]
    assert m(rec, ("missing", "blank", "true"))
    assert m(rec, ("a", "blank", "TRUE"))


def test_blank_refused_on_datetime_but_not_date() -> None:
    with pytest.raises(QueryError):
        m(INVOICE, ("created-at", "blank", "true"))
    assert not m(INVOICE, ("invoice-date", "blank", "true"))


def test_bad_blank_flag() -> None:
    with pytest.raises(QueryError):
        m(INVOICE, ("po-email", "blank", "yes"))


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("true", True), ("YES", True), ("1", True), ("False", False), ("no", False), ("0", False)],
)
def test_boolean_spellings(raw: str, expected: bool) -> None:
    assert m(INVOICE, ("active", "eq", raw)) is expected
    assert m({"active": "yes"}, ("active", "eq", raw)) is expected


# --------------------------------------------------------------------------- datetimes and dates


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-01-01T12:00:00-07:00", True),
        ("2024-01-01T19:00:00Z", True),  # same instant, other offset
        ("2024-01-01T19:00:00+00:00", True),
        ("2024-01-02T00:30:00+0530", True),
        ("2024-01-01T19:00:00", True),  # no offset: UTC
        ("2024-01-01 19:00:00", True),
        ("2024-01-01T19:00", True),
        ("2024-01-01T19:00:00.000000Z", True),
        ("2024-01-01T12:00:00-08:00", False),
        ("2024-01-01", False),
    ],
)
def test_datetime_equality_is_by_instant(value: str, expected: bool) -> None:
    assert m(INVOICE, ("created-at", "eq", value)) is expected


def test_date_only_value_is_midnight_utc() -> None:
    rec = {"created-at": datetime(2024, 1, 1, 0, 0, tzinfo=UTC)}
    assert m(rec, ("created-at", "eq", "2024-01-01"))
    late = {"created-at": datetime(2023, 12, 31, 23, 0, tzinfo=timezone(timedelta(hours=-2)))}
    assert m(late, ("created-at", "gt", "2024-01-01")), "23:00-02:00 is already 01:00 UTC on Jan 1"


def test_date_range() -> None:
    inside = ("created-at", "gt_or_eq", "2024-01-01T00:00:00-07:00"), ("created-at", "lt", "2024-01-02")
    assert m(INVOICE, *inside)
    assert not m(INVOICE, ("created-at", "lt", "2024-01-01T19:00:00Z"))


def test_naive_and_string_record_datetimes_are_utc() -> None:
    assert m({"created-at": datetime(2024, 1, 1, 19)}, ("created-at", "eq", "2024-01-01T12:00:00-07:00"))
    assert m({"created-at": "2024-01-01T12:00:00-07:00"}, ("created-at", "eq", "2024-01-01T19:00:00Z"))


def test_date_fields() -> None:
    assert m(INVOICE, ("invoice-date", "eq", "2024-01-01"))
    assert m(INVOICE, ("invoice-date", "lt", "2024-01-02"))
    assert m({"invoice-date": "2023-12-31"}, ("invoice-date", "lt", "2024-01-01"))
    with pytest.raises(QueryError):
        m(INVOICE, ("invoice-date", "eq", "2024-01-01T00:00:00Z"))


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("count", "1.5"),
        ("count", "ten"),
        ("count", " 1"),
        ("total", "NaN"),
        ("total", "1,5"),
        ("total", "Infinity"),
        ("active", "maybe"),
        ("active", ""),
        ("created-at", "yesterday"),
        ("created-at", "2024-13-01"),
        ("created-at", "2024-01-01T25:00:00Z"),
        ("created-at", "2024-01-01T00:00:00+24:00"),
        ("invoice-date", "01/02/2024"),
        ("supplier.id", "x"),
    ],
)
def test_uncoercible_values_name_the_path(path: str, value: str) -> None:
    with pytest.raises(QueryError) as info:
        m(INVOICE, (path, "eq", value))
    assert path.split(".")[0] in info.value.param
    assert path.split(".")[-1] in str(info.value)


def test_in_items_are_coerced() -> None:
    with pytest.raises(QueryError):
        m(INVOICE, ("count", "in", ("1", "x")))


def test_errors_do_not_depend_on_the_data() -> None:
    bad = ("created-at", "contains", "2024")
    with pytest.raises(QueryError):
        m({}, bad)
    with pytest.raises(QueryError):
        m(INVOICE, ("status", "eq", "nope"), bad)  # the first condition already fails
    with pytest.raises(QueryError):
        m({"supplier": None}, ("supplier.created-at", "contains", "x"))


def test_unknown_operator_and_bad_value_shapes() -> None:
    with pytest.raises(QueryError):
        m(INVOICE, ("status", "like", "x"))
    with pytest.raises(QueryError):
        m(INVOICE, ("status", "in", "approved"))
    with pytest.raises(QueryError):
        m(INVOICE, ("status", "eq", ("approved",)))
    with pytest.raises(QueryError):
        matches(INVOICE, [Condition((), "eq", "x")], field_type)


def test_unknown_field_type_is_refused() -> None:
    with pytest.raises(QueryError):
        matches(INVOICE, [Condition(("status",), "eq", "x")], lambda path: "money")


def test_bad_record_data_is_a_type_error() -> None:
    with pytest.raises(TypeError):
        m({"count": "lots"}, ("count", "eq", "1"))
    with pytest.raises(TypeError):
        m({"count": True}, ("count", "eq", "1"))
    with pytest.raises(TypeError):
        m({"name": 5}, ("name", "eq", "5"))


# --------------------------------------------------------------------------- paths, associations, EXISTS


def test_single_association() -> None:
    assert m(INVOICE, ("supplier.name", "eq", "Fishy Foods"))
    assert m(INVOICE, ("supplier.primary-contact.email", "contains", "coupa.com"))
    assert not m(INVOICE, ("supplier.primary-contact.email", "contains", "example.org"))


@pytest.mark.parametrize(
    ("op", "value"),
    [
        ("eq", "x"),
        ("not_eq", "x"),
        ("in", ("x",)),
        ("not_in", ("x",)),
        ("blank", "true"),
        ("blank", "false"),
        ("contains", "x"),
        ("gt", "a"),
    ],
)
def test_missing_association_never_matches(op: str, value: Any) -> None:
    assert not m(INVOICE, ("currency.code", op, value))  # currency is None
    assert not m(INVOICE, ("ship-to-address.name", op, value))  # key absent
    assert not m(INVOICE, ("supplier.parent.name", op, value))  # absent one level down
    assert not m(INVOICE, ("currency.rate.code", op, value))  # deeper below a None
    assert not m({"invoice-lines": [{"account": None}]}, ("invoice-lines.account.code", op, value))


def test_collection_exists() -> None:
    assert m(INVOICE, ("invoice-lines.account.code", "eq", "a-c"))
    assert m(INVOICE, ("invoice-lines.account.code", "eq", "b-d"))
    assert not m(INVOICE, ("invoice-lines.account.code", "eq", "z-z"))
    assert m(INVOICE, ("invoice-lines.description", "blank", "true")), "line 2 has no description"
    assert m(INVOICE, ("invoice-lines.description", "blank", "false"))
    assert m(INVOICE, ("invoice-lines.account.code", "not_eq", "a-c")), "line 3 differs"


def test_collection_exists_at_every_level() -> None:
    assert m(INVOICE, ("invoice-lines.tags.name", "eq", "z"))
    assert not m(INVOICE, ("invoice-lines.tags.name", "eq", "w"))
    assert m(INVOICE, ("invoice-lines.tags.name", "not_in", ("x", "y")))  # z on line 3
    assert not m(INVOICE, ("invoice-lines.tags.name", "not_in", ("x", "y", "z")))


def test_each_condition_exists_independently() -> None:
    # Two conditions on a collection are two EXISTS, not one element satisfying both.
    assert m(INVOICE, ("invoice-lines.id", "eq", "1"), ("invoice-lines.description", "eq", "Desks"))


def test_empty_collection_never_matches() -> None:
    rec = {"id": 1, "invoice-lines": []}
    for op, value in [("eq", "x"), ("not_eq", "x"), ("blank", "true"), ("not_in", ())]:
        assert not m(rec, ("invoice-lines.description", op, value))


def test_none_items_in_a_collection_are_skipped() -> None:
    assert m({"lines": [None, {"code": "x"}]}, ("lines.code", "eq", "x"))
    assert not m({"lines": [None]}, ("lines.code", "blank", "true"))


def test_stepping_through_a_scalar_is_an_error() -> None:
    with pytest.raises(QueryError):
        m(INVOICE, ("status.name", "eq", "x"))


def test_path_ending_at_an_association_is_an_error() -> None:
    with pytest.raises(QueryError):
        m(INVOICE, ("supplier", "eq", "4"))
    with pytest.raises(QueryError):
        m(INVOICE, ("invoice-lines", "blank", "true"))


# --------------------------------------------------------------------------- foreign-key shorthand


def test_fk_shorthand_reads_the_association_id() -> None:
    assert m(INVOICE, ("supplier-id", "eq", "4"))
    assert m(INVOICE, ("supplier-id", "in", ("3", "4")))
    assert not m(INVOICE, ("supplier-id", "eq", "5"))
    assert m(INVOICE, ("supplier-id", "blank", "false"))


def test_fk_shorthand_with_none_association_is_a_null_column() -> None:
    rec = {"id": 1, "supplier": None}
    assert m(rec, ("supplier-id", "blank", "true")), "unlike supplier[id], the FK column is just NULL"
    assert not m(rec, ("supplier.id", "blank", "true"))
    assert not m(rec, ("supplier-id", "eq", "4"))
    assert not m(rec, ("supplier-id", "not_eq", "4"))


def test_explicit_key_wins_over_shorthand() -> None:
    rec = {"supplier-id": 9, "supplier": {"id": 4}}
    assert m(rec, ("supplier-id", "eq", "9"))
    assert not m(rec, ("supplier-id", "eq", "4"))


def test_fk_shorthand_inside_an_association_and_collection() -> None:
    rec = {"lines": [{"supplier": {"id": 4}}, {"supplier": {"id": 5}}]}
    assert m(rec, ("lines.supplier-id", "eq", "5"))
    assert not m(rec, ("lines.supplier-id", "eq", "6"))


def test_no_shorthand_for_collections() -> None:
    rec = {"supplier": [{"id": 4}]}
    assert not m(rec, ("supplier-id", "eq", "4"))
    assert m(rec, ("supplier-id", "blank", "true"))


# --------------------------------------------------------------------------- ordering and paging


ROWS: list[dict[str, Any]] = [
    {"id": 3, "name": "b", "total": Decimal("5")},
    {"id": 1, "name": None, "total": Decimal("7")},
    {"id": 5, "name": "a", "total": None},
    {"id": 2, "name": "b", "total": Decimal("5.0")},
    {"id": 4, "name": None, "total": Decimal("1")},
]


def ids(rows: list[dict[str, Any]]) -> list[int]:
    return [r["id"] for r in rows]


def test_default_order_is_id_ascending() -> None:
    assert ids(order_and_page(ROWS, None, "asc", 50, 0, field_type)) == [1, 2, 3, 4, 5]


def test_dir_without_order_by_orders_ids() -> None:
    assert ids(order_and_page(ROWS, None, "desc", 50, 0, field_type)) == [5, 4, 3, 2, 1]
    assert ids(order_and_page(ROWS, "id", "desc", 50, 0, field_type)) == [5, 4, 3, 2, 1]


def test_none_first_ascending_last_descending_ties_by_id() -> None:
    assert ids(order_and_page(ROWS, "name", "asc", 50, 0, field_type)) == [1, 4, 5, 2, 3]
    assert ids(order_and_page(ROWS, "name", "DESC", 50, 0, field_type)) == [2, 3, 5, 1, 4]


def test_order_by_decimal_is_numeric_and_ties_by_id() -> None:
    assert ids(order_and_page(ROWS, "total", "asc", 50, 0, field_type)) == [5, 4, 2, 3, 1]
    assert ids(order_and_page(ROWS, "total", "desc", 50, 0, field_type)) == [1, 2, 3, 4, 5]


def test_order_by_underscore_name() -> None:
    rows = [{"id": 1, "created-at": "2024-01-02"}, {"id": 2, "created-at": "2024-01-01T00:00:00+01:00"}]
    assert ids(order_and_page(rows, "created_at", "asc", 50, 0, field_type)) == [2, 1]


def test_paging() -> None:
    assert ids(order_and_page(ROWS, None, "asc", 2, 0, field_type)) == [1, 2]
    assert ids(order_and_page(ROWS, None, "asc", 2, 2, field_type)) == [3, 4]
    assert ids(order_and_page(ROWS, None, "asc", 2, 4, field_type)) == [5]
    assert order_and_page(ROWS, None, "asc", 2, 10, field_type) == []


def test_order_and_page_does_not_mutate() -> None:
    before = list(ROWS)
    order_and_page(ROWS, "name", "desc", 2, 1, field_type)
    assert before == ROWS


def test_order_and_page_errors() -> None:
    with pytest.raises(QueryError):
        order_and_page(ROWS, None, "up", 50, 0, field_type)
    with pytest.raises(QueryError):
        order_and_page(ROWS, "supplier[name]", "asc", 50, 0, field_type)
    with pytest.raises(ValueError):
        order_and_page(ROWS, None, "asc", -1, 0, field_type)
    with pytest.raises(QueryError):
        order_and_page([{"id": 1, "supplier": {"id": 2}}], "supplier", "asc", 50, 0, field_type)


# --------------------------------------------------------------------------- properties

_small_ints = st.integers(-5, 5)
_maybe_int = st.none() | _small_ints
_words = st.sampled_from(["", "a", "A", "ab", "Ab", "b", "ba"])
_maybe_word = st.none() | _words


@st.composite
def flat_records(draw: st.DrawFn) -> dict[str, Any]:
    return {"id": draw(st.integers(1, 10**6)), "count": draw(_maybe_int), "name": draw(_maybe_word)}


@st.composite
def scalar_conditions(draw: st.DrawFn) -> Condition:
    path = draw(st.sampled_from(["count", "name"]))
    op = draw(st.sampled_from(("eq", *OPERATORS)))
    values = _small_ints.map(str) if path == "count" else _words
    value: str | tuple[str, ...]
    if op in ("in", "not_in"):
        value = tuple(draw(st.lists(values, max_size=3)))
    elif op == "blank":
        value = draw(st.sampled_from(["true", "false"]))
    else:
        value = draw(values)
    return Condition((path,), op, value)


@given(flat_records(), st.lists(scalar_conditions(), max_size=4))
def test_conditions_are_anded(record: dict[str, Any], conds: list[Condition]) -> None:
    assert matches(record, conds, field_type) == all(matches(record, [c], field_type) for c in conds)


@given(flat_records(), st.sampled_from(["count", "name"]), st.data())
def test_operator_algebra(record: dict[str, Any], path: str, data: st.DataObject) -> None:
    value = data.draw(_small_ints.map(str) if path == "count" else _words)
    present = record[path] is not None

    def ok(op: str, v: Any = value) -> bool:
        return matches(record, [Condition((path,), op, v)], field_type)

    # eq/not_eq split the non-None values; None matches neither.
    assert ok("eq") + ok("not_eq") == int(present)
    # Exactly one of lt, eq, gt for a non-None value.
    assert ok("lt") + ok("eq") + ok("gt") == int(present)
    assert ok("gt_or_eq") == (ok("gt") or ok("eq"))
    assert ok("lt_or_eq") == (ok("lt") or ok("eq"))
    # blank splits everything.
    assert ok("blank", "true") != ok("blank", "false")
    items = tuple(data.draw(st.lists(_small_ints.map(str) if path == "count" else _words, max_size=3)))
    assert ok("in", items) == any(ok("eq", i) for i in items)
    assert ok("not_in", items) == (present and not ok("in", items))


@given(st.text(alphabet="aAbBßİ%_", max_size=6), st.text(alphabet="aAbB%_", max_size=3))
def test_text_operators_agree_with_python(text: str, needle: str) -> None:
    rec = {"name": text}
    assert m(rec, ("name", "contains", needle)) == (needle.lower() in text.lower())
    assert m(rec, ("name", "starts_with", needle)) == text.lower().startswith(needle.lower())
    assert m(rec, ("name", "ends_with", needle)) == text.lower().endswith(needle.lower())
    assert m(rec, ("name", "contains", needle.swapcase())) == m(rec, ("name", "contains", needle))


@given(st.lists(st.none() | st.fixed_dictionaries({"code": _maybe_word}), max_size=4), scalar_conditions())
def test_exists_is_any_over_elements(lines: list[dict[str, Any] | None], cond: Condition) -> None:
    if cond.path != ("name",):
        cond = Condition(("name",), "eq", "a")
    nested = Condition(("lines", "code"), cond.op, cond.value)
    expected = any(line is not None and matches({"name": line["code"]}, [cond], field_type) for line in lines)
    assert matches({"lines": lines}, [nested], field_type) == expected


@given(
    st.datetimes(timezones=st.just(UTC), min_value=datetime(1900, 1, 1), max_value=datetime(2100, 1, 1)),
    st.integers(-14 * 60, 14 * 60),
    st.integers(-(10**6), 10**6),
)
def test_datetimes_compare_as_instants_across_offsets(moment: datetime, offset_min: int, delta_s: int) -> None:
    moment = moment.replace(microsecond=0)
    zone = timezone(timedelta(minutes=offset_min))
    record = {"created-at": moment}
    other = moment + timedelta(seconds=delta_s)
    text = encode_filter_value(other.astimezone(zone))
    assert m(record, ("created-at", "eq", text)) == (delta_s == 0)
    assert m(record, ("created-at", "lt", text)) == (delta_s > 0)
    assert m(record, ("created-at", "gt", text)) == (delta_s < 0)


def _rows() -> st.SearchStrategy[list[dict[str, Any]]]:
    return st.lists(st.integers(1, 50), unique=True, max_size=12).flatmap(
        lambda keys: st.tuples(*[st.tuples(st.just(k), _maybe_word) for k in keys]).map(
            lambda pairs: [{"id": k, "name": n} for k, n in pairs]
        )
    )


@given(_rows(), st.sampled_from(["asc", "desc"]), st.sampled_from([None, "name", "id"]), st.integers(1, 5))
def test_pages_tile_the_full_order(
    rows: list[dict[str, Any]], direction: str, order_by: str | None, limit: int
) -> None:
    full = order_and_page(rows, order_by, direction, len(rows) + 1, 0, field_type)
    assert sorted(ids(full)) == sorted(ids(rows))
    pages: list[dict[str, Any]] = []
    for offset in range(0, len(rows) + limit, limit):
        pages += order_and_page(rows, order_by, direction, limit, offset, field_type)
    assert pages == full
    key = order_by or "id"
    values = [r[key] for r in full]
    present = [v for v in values if v is not None]
    nones = len(values) - len(present)
    if direction == "asc":
        assert values[:nones] == [None] * nones
        assert present == sorted(present)
    else:
        assert values[len(present) :] == [None] * nones
        assert present == sorted(present, reverse=True)
    for a, b in itertools.pairwise(full):
        if a[key] == b[key]:
            assert a["id"] < b["id"], "ties are broken by id ascending in both directions"


def test_field_types_constant() -> None:
    assert set(FIELD_TYPES) == {"string", "integer", "decimal", "float", "boolean", "datetime", "date"}


# --------------------------------------------------------------------------- agreement with the wire parser

DATETIME_SPELLINGS = [
    "2010-03-25T18:38:00-07:00",
    "2010-03-25T18:38:00Z",
    "2010-03-25t18:38:00z",
    "2010-03-25T18:38:00UTC",
    "2010-03-25T18:38:00+0200",
    "2010-03-25T18:38:00+02",
    "2010-03-25 18:38:00 +02:00",
    "2010-03-25T18:38",
    "2010-03-25T18:38:00.123456789Z",
    "2010-03-25T18:38:00,5",
    "2010-03-25",
    " 2010-03-25T18:38:00 ",
    "2010-03-25T18:38:00",
]
BAD_DATETIME_SPELLINGS = [
    "2010-03-25T",
    "20100325",
    "2010-W12-4",
    "2010-03-25T18",
    "2010-03-25T18:38:00+2",
    "x",
]


@pytest.mark.parametrize("text", DATETIME_SPELLINGS)
def test_datetime_spellings_agree_with_wire_values(text: str) -> None:
    values = pytest.importorskip("pycoupa.wire.values")
    expected = values.parse_datetime(text, UTC)
    assert m({"created-at": expected}, ("created-at", "eq", text))
    assert not m({"created-at": expected + timedelta(microseconds=1)}, ("created-at", "eq", text))


@pytest.mark.parametrize("text", BAD_DATETIME_SPELLINGS)
def test_bad_datetime_spellings_agree_with_wire_values(text: str) -> None:
    values = pytest.importorskip("pycoupa.wire.values")
    with pytest.raises(ValueError):
        values.parse_datetime(text, UTC)
    with pytest.raises(QueryError):
        m({"created-at": None}, ("created-at", "eq", text))
