from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl, urlencode

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pycoupa.wire.query import (
    OPERATORS,
    Condition,
    FieldSpec,
    ParsedQuery,
    QueryError,
    build_query,
    encode_filter_value,
    is_reserved_key,
    parse_fields,
    parse_query,
)


def parse(qs: str, **kwargs: Any) -> ParsedQuery:
    return parse_query(parse_qsl(qs, keep_blank_values=True), **kwargs)


def one(qs: str) -> Condition:
    (cond,) = parse(qs).conditions
    return cond


# --------------------------------------------------------------------------- documented examples

# Every filter example from docs/coupa-api.md section 3 and what it must parse to.
DOC_EXAMPLES = [
    ("supplier[name]=Fishy", ("supplier", "name"), "eq", "Fishy"),
    ("supplier[name][gt]=Fish", ("supplier", "name"), "gt", "Fish"),
    ("currency[code]=EUR", ("currency", "code"), "eq", "EUR"),
    ("requested-by[login]=kyle", ("requested-by", "login"), "eq", "kyle"),
    ("payment-term[code]=Net+30", ("payment-term", "code"), "eq", "Net 30"),
    ("primary-contact[email][contains]=coupa.com", ("primary-contact", "email"), "contains", "coupa.com"),
    ("account-type[name][in]=SAP100,SAP200", ("account-type", "name"), "in", ("SAP100", "SAP200")),
    ("payment-partner[issuing-bank]=X", ("payment-partner", "issuing-bank"), "eq", "X"),
    (
        "pay_to_account[type]=CoupaPay::SupplierPaymentAccount",
        ("pay-to-account", "type"),
        "eq",
        "CoupaPay::SupplierPaymentAccount",
    ),
    ("order_lines[account][code]=a-c", ("order-lines", "account", "code"), "eq", "a-c"),
    ("order-lines[account][code]=a-c", ("order-lines", "account", "code"), "eq", "a-c"),
    ("supplier_id=4", ("supplier-id",), "eq", "4"),
    ("from_currency_id=1", ("from-currency-id",), "eq", "1"),
    ("updated-at[lt]=2010-01-01T12:00:00", ("updated-at",), "lt", "2010-01-01T12:00:00"),
    ("created_at[gt]=2010-03-25T18%3A38%3A00-07%3A00", ("created-at",), "gt", "2010-03-25T18:38:00-07:00"),
    ("po-email[blank]=true", ("po-email",), "blank", "true"),
    ("invoice-date[gt]=2010-03-25", ("invoice-date",), "gt", "2010-03-25"),
    ("id=100", ("id",), "eq", "100"),
    ("exported=false", ("exported",), "eq", "false"),
    ("active=true", ("active",), "eq", "true"),
    ("status[in]=approved,voided", ("status",), "in", ("approved", "voided")),
    ("status[in]=issued,canceled,closed", ("status",), "in", ("issued", "canceled", "closed")),
    (
        "status[in]=completed_successfully,completed_with_errors",
        ("status",),
        "in",
        ("completed_successfully", "completed_with_errors"),
    ),
    (
        "updated-at[gt_or_eq]=2024-01-01T00:00:00-08:00",
        ("updated-at",),
        "gt_or_eq",
        "2024-01-01T00:00:00-08:00",
    ),
]


@pytest.mark.parametrize(("qs", "path", "op", "value"), DOC_EXAMPLES)
def test_documented_examples(qs: str, path: tuple[str, ...], op: str, value: object) -> None:
    assert one(qs) == Condition(path=path, op=op, value=value)  # type: ignore[arg-type]


def test_full_example_query() -> None:
    q = parse(
        "status=approved&supplier[name][contains]=Fish&invoice-lines[account][code]=a-c"
        "&updated_at[gt]=2024-01-01T00:00:00-07:00&status[in]=approved,voided&po-email[blank]=true"
        '&limit=50&offset=100&order_by=created_at&dir=desc&fields=["id",{"invoice_lines":["id"]}]'
        "&return_object=shallow&filter=default_invoices_filter&exported=true"
    )
    assert q.conditions == (
        Condition(("status",), "eq", "approved"),
        Condition(("supplier", "name"), "contains", "Fish"),
        Condition(("invoice-lines", "account", "code"), "eq", "a-c"),
        Condition(("updated-at",), "gt", "2024-01-01T00:00:00-07:00"),
        Condition(("status",), "in", ("approved", "voided")),
        Condition(("po-email",), "blank", "true"),
        Condition(("exported",), "eq", "true"),
    )
    assert (q.limit, q.offset, q.order_by, q.dir) == (50, 100, "created-at", "desc")
    assert q.fields == {"id": None, "invoice-lines": {"id": None}}
    assert q.return_object == "shallow"
    assert q.filter_name == "default_invoices_filter"
    assert q.exported is None  # only a PUT query string gives exported its special meaning


def test_date_range_is_two_conditions() -> None:
    q = parse("created_at[gt_or_eq]=2024-01-01&created_at[lt]=2024-02-01")
    assert q.conditions == (
        Condition(("created-at",), "gt_or_eq", "2024-01-01"),
        Condition(("created-at",), "lt", "2024-02-01"),
    )


def test_repeated_equality_key_gives_two_conditions() -> None:
    q = parse("status=a&status=b")
    assert [c.value for c in q.conditions] == ["a", "b"]


# --------------------------------------------------------------------------- keys and operators


@pytest.mark.parametrize("op", OPERATORS)
def test_every_operator_is_recognised(op: str) -> None:
    value = "true" if op == "blank" else "x"
    cond = one(urlencode({f"total[{op}]": value}))
    assert cond.op == op
    assert cond.path == ("total",)


def test_dash_spelled_operator_is_recognised() -> None:
    assert one("updated-at[gt-or-eq]=x") == Condition(("updated-at",), "gt_or_eq", "x")
    assert one("name[starts-with]=x").op == "starts_with"


def test_unknown_operator_looking_segment_is_a_path_segment() -> None:
    assert one("supplier[name][like]=x") == Condition(("supplier", "name", "like"), "eq", "x")
    # "eq" is not a bracket operator either; the caller reports the unknown attribute.
    assert one("status[eq]=x") == Condition(("status", "eq"), "eq", "x")


def test_operator_name_alone_is_an_attribute() -> None:
    assert one("blank=x") == Condition(("blank",), "eq", "x")


def test_operator_applies_only_to_the_last_segment() -> None:
    assert one("a[in][b]=x") == Condition(("a", "in", "b"), "eq", "x")


@pytest.mark.parametrize("key", ["a[", "a]b", "[x]", "a[]", "", "a[b", "a[b]c", "a[[b]]", "a[b]]", "]"])
def test_malformed_keys_name_the_key(key: str) -> None:
    with pytest.raises(QueryError) as info:
        parse_query([(key, "1")])
    assert info.value.param == key
    assert repr(key) in str(info.value)


def test_in_values() -> None:
    assert one("status[in]=approved").value == ("approved",)
    assert one("status[not_in]=a,,b,").value == ("a", "b")
    assert one("status[in]=").value == ()
    assert one("status[in]=a, b").value == ("a", " b")  # items are not trimmed


@pytest.mark.parametrize(("raw", "expected"), [("true", "true"), ("TRUE", "true"), ("False", "false")])
def test_blank_values(raw: str, expected: str) -> None:
    assert one(f"po-email[blank]={raw}").value == expected


@pytest.mark.parametrize("raw", ["yes", "1", "", "maybe"])
def test_bad_blank_value_names_key(raw: str) -> None:
    with pytest.raises(QueryError) as info:
        parse_query([("po_email[blank]", raw)])
    assert info.value.param == "po_email[blank]"


def test_values_are_kept_raw() -> None:
    assert one("name[contains]=  Fi%sh_ ").value == "  Fi%sh_ "
    assert one("name=").value == ""


# --------------------------------------------------------------------------- reserved keys


def test_defaults() -> None:
    q = parse("")
    assert q == ParsedQuery(
        conditions=(),
        limit=50,
        offset=0,
        order_by=None,
        dir="asc",
        fields=None,
        return_object=None,
        filter_name=None,
        exported=None,
    )


@pytest.mark.parametrize(("raw", "expected"), [("1", 1), ("50", 50), ("51", 50), ("1000", 50), ("0", 50)])
def test_limit(raw: str, expected: int) -> None:
    assert parse(f"limit={raw}").limit == expected


def test_limit_with_custom_max() -> None:
    assert parse("limit=80", max_limit=100).limit == 80
    assert parse("limit=500", max_limit=100).limit == 100
    assert parse("", max_limit=100).limit == 50
    assert parse("", max_limit=10).limit == 10
    assert parse("limit=0", max_limit=10).limit == 10


@pytest.mark.parametrize("key", ["limit", "offset"])
@pytest.mark.parametrize("raw", ["-1", "abc", "1.5", "", " 5", "1_0", "٣"])
def test_bad_limit_and_offset(key: str, raw: str) -> None:
    with pytest.raises(QueryError) as info:
        parse_query([(key, raw)])
    assert info.value.param == key


def test_negative_limit_message() -> None:
    with pytest.raises(QueryError, match="negative"):
        parse_query([("limit", "-5")])


def test_offset() -> None:
    assert parse("offset=100").offset == 100
    assert parse("offset=0").offset == 0


def test_order_by_and_dir() -> None:
    q = parse("order_by=created_at&dir=DESC")
    assert (q.order_by, q.dir) == ("created-at", "desc")
    assert parse("order-by=updated-at&dir=Asc").order_by == "updated-at"


@pytest.mark.parametrize(("key", "raw"), [("dir", "down"), ("dir", ""), ("order_by", ""), ("order_by", "a[b]")])
def test_bad_order(key: str, raw: str) -> None:
    with pytest.raises(QueryError) as info:
        parse_query([(key, raw)])
    assert info.value.param == key


@pytest.mark.parametrize("key", ["return_object", "return-object"])
def test_return_object(key: str) -> None:
    assert parse_query([(key, "limited")]).return_object == "limited"
    assert parse_query([(key, "NONE")]).return_object == "none"
    with pytest.raises(QueryError) as info:
        parse_query([(key, "deep")])
    assert info.value.param == key


def test_filter_name() -> None:
    assert parse("filter=default_invoices_filter").filter_name == "default_invoices_filter"
    with pytest.raises(QueryError):
        parse("filter=")


def test_repeated_reserved_key_is_an_error() -> None:
    with pytest.raises(QueryError) as info:
        parse("limit=10&limit=20")
    assert info.value.param == "limit"
    with pytest.raises(QueryError) as info:
        parse("order_by=a&order-by=b")
    assert info.value.param == "order-by"


def test_reserved_keys_with_brackets_are_conditions() -> None:
    assert one("limit[gt]=3") == Condition(("limit",), "gt", "3")


def test_max_limit_must_be_positive() -> None:
    with pytest.raises(ValueError, match="max_limit"):
        parse_query([], max_limit=0)


# --------------------------------------------------------------------------- exported on writes


def test_exported_is_a_condition_on_reads() -> None:
    q = parse("exported=false&status=approved")
    assert q.exported is None
    assert Condition(("exported",), "eq", "false") in q.conditions


@pytest.mark.parametrize(("raw", "expected"), [("true", True), ("TRUE", True), ("false", False)])
def test_exported_on_writes(raw: str, expected: bool) -> None:
    q = parse(f"return_object=none&exported={raw}", for_write=True)
    assert q.exported is expected
    assert q.conditions == ()
    assert q.return_object == "none"


def test_exported_on_writes_must_be_boolean() -> None:
    with pytest.raises(QueryError) as info:
        parse("exported=yes", for_write=True)
    assert info.value.param == "exported"
    with pytest.raises(QueryError):
        parse("exported=true&exported=false", for_write=True)


def test_write_without_exported() -> None:
    q = parse('fields=["id","exported"]', for_write=True)
    assert q.exported is None
    assert q.fields == {"id": None, "exported": None}


# --------------------------------------------------------------------------- fields


def test_fields_documented_examples() -> None:
    assert parse_fields('["id","invoice_number",{"invoice_lines":["id","line_num"]},{"custom_fields":{}}]') == {
        "id": None,
        "invoice-number": None,
        "invoice-lines": {"id": None, "line-num": None},
        "custom-fields": {},
    }
    assert parse_fields('[{"supplier":["id","name",{"primary_address":["city",{"country":["code"]}]}]}]') == {
        "supplier": {"id": None, "name": None, "primary-address": {"city": None, "country": {"code": None}}}
    }


def test_fields_edge_shapes() -> None:
    assert parse_fields("[]") == {}
    assert parse_fields('[{"lines":[]}]') == {"lines": {}}
    assert parse_fields('[{"a":["x"],"b":{}}]') == {"a": {"x": None}, "b": {}}


def test_fields_merging() -> None:
    assert parse_fields('["id","id"]') == {"id": None}
    assert parse_fields('["supplier",{"supplier":["id"]}]') == {"supplier": {"id": None}}
    assert parse_fields('[{"supplier":["id"]},"supplier"]') == {"supplier": {"id": None}}
    assert parse_fields('[{"s":["id"]},{"s":["name"]}]') == {"s": {"id": None, "name": None}}
    assert parse_fields('[{"s":["id"]},{"s":{}}]') == {"s": {}}


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ("not json", "not valid JSON"),
        ('{"id":1}', "JSON array"),
        ('"id"', "JSON array"),
        ("[1]", "got 1"),
        ('["id",null]', "got null"),
        ('[["id"]]', 'got ["id"]'),
        ('[{"supplier":"id"}]', 'supplier must map to a list of fields or {}, got "id"'),
        ('[{"supplier":{"id":null}}]', "supplier must map"),
        ('[{"supplier":[{"address":3}]}]', "supplier.address must map"),
        ('[{"supplier":[3]}]', "inside supplier"),
        ('[""]', "empty field name"),
    ],
)
def test_bad_fields(raw: str, fragment: str) -> None:
    with pytest.raises(QueryError) as info:
        parse_query([("fields", raw)])
    assert info.value.param == "fields"
    assert fragment in str(info.value)
    assert "fields" in str(info.value)


# --------------------------------------------------------------------------- building


def test_build_examples() -> None:
    pairs = build_query(
        conditions=[
            Condition(("supplier", "name"), "contains", "Fish"),
            Condition(("status",), "in", ("a", "b")),
            Condition(("po-email",), "blank", "TRUE"),
            Condition(("id",), "eq", "4"),
        ],
        limit=20,
        offset=40,
        order_by="created-at",
        dir="desc",
        fields={"id": None, "invoice-lines": {"id": None}, "custom-fields": {}},
        return_object="shallow",
    )
    assert pairs == [
        ("supplier[name][contains]", "Fish"),
        ("status[in]", "a,b"),
        ("po-email[blank]", "true"),
        ("id", "4"),
        ("limit", "20"),
        ("offset", "40"),
        ("order_by", "created-at"),
        ("dir", "desc"),
        ("fields", '["id",{"invoice-lines":["id"]},{"custom-fields":{}}]'),
        ("return_object", "shallow"),
    ]


def test_build_nothing() -> None:
    assert build_query() == []


def test_build_filter_and_exported() -> None:
    pairs = build_query(return_object="none", filter_name="f", exported=True)
    assert pairs == [("return_object", "none"), ("filter", "f"), ("exported", "true")]
    assert parse_query(pairs, for_write=True).exported is True


@pytest.mark.parametrize(
    ("cond", "param"),
    [
        (Condition(("limit",), "eq", "5"), "limit"),
        (Condition(("order_by",), "eq", "x"), "order_by"),
        (Condition(("supplier", "in"), "eq", "x"), "supplier[in]"),
        (Condition(("status",), "in", ("a,b",)), "status[in]"),
        (Condition(("status",), "like", "x"), "status"),
        (Condition(("a[b]",), "eq", "x"), "a[b]"),
        (Condition(("a", ""), "eq", "x"), "a"),
        (Condition((), "eq", "x"), ""),
        (Condition(("a",), "blank", "maybe"), "a[blank]"),
        (Condition(("a",), "eq", ("x",)), "a"),
    ],
)
def test_build_refuses_what_parse_would_misread(cond: Condition, param: str) -> None:
    with pytest.raises(QueryError) as info:
        build_query([cond])
    assert info.value.param == param


@pytest.mark.parametrize(
    ("kwargs", "param"),
    [
        ({"limit": -1}, "limit"),
        ({"offset": -1}, "offset"),
        ({"dir": "up"}, "dir"),
        ({"return_object": "x"}, "return_object"),
    ],
)
def test_build_refuses_bad_options(kwargs: dict[str, Any], param: str) -> None:
    with pytest.raises(QueryError) as info:
        build_query(**kwargs)
    assert info.value.param == param


# --------------------------------------------------------------------------- round trip

_segment = st.text(alphabet="abcdefghijklmnopqrstuvwxyz-", min_size=1, max_size=8).filter(
    lambda s: s.replace("_", "-") not in {op.replace("_", "-") for op in OPERATORS}
)
_value = st.text(min_size=0, max_size=12)
_item = st.text(min_size=1, max_size=8).filter(lambda s: "," not in s)


@st.composite
def conditions(draw: st.DrawFn) -> Condition:
    path = tuple(draw(st.lists(_segment, min_size=1, max_size=4)))
    if len(path) == 1 and is_reserved_key(path[0]):
        path = ("x", *path)
    op = draw(st.sampled_from(("eq", *OPERATORS)))
    value: str | tuple[str, ...]
    if op in ("in", "not_in"):
        value = tuple(draw(st.lists(_item, max_size=4)))
    elif op == "blank":
        value = draw(st.sampled_from(("true", "false")))
    else:
        value = draw(_value)
    return Condition(path, op, value)


_name = st.text(alphabet="abcdefghij-", min_size=1, max_size=6)
field_specs: st.SearchStrategy[FieldSpec] = st.recursive(
    st.dictionaries(_name, st.none(), max_size=4),
    lambda children: st.dictionaries(_name, st.none() | children, max_size=4),
    max_leaves=12,
)


@st.composite
def parsed_queries(draw: st.DrawFn) -> ParsedQuery:
    return ParsedQuery(
        conditions=tuple(draw(st.lists(conditions(), max_size=5))),
        limit=draw(st.integers(1, 50)),
        offset=draw(st.integers(0, 10**6)),
        order_by=draw(st.none() | _segment),
        dir=draw(st.sampled_from(("asc", "desc"))),
        fields=draw(st.none() | field_specs),
        return_object=draw(st.none() | st.sampled_from(("none", "limited", "shallow"))),
        filter_name=draw(st.none() | st.text(min_size=1, max_size=10)),
    )


def build_from(q: ParsedQuery) -> list[tuple[str, str]]:
    return build_query(
        conditions=q.conditions,
        limit=q.limit,
        offset=q.offset,
        order_by=q.order_by,
        dir=q.dir,
        fields=q.fields,
        return_object=q.return_object,
        filter_name=q.filter_name,
    )


@given(parsed_queries())
def test_parse_inverts_build(q: ParsedQuery) -> None:
    assert parse_query(build_from(q)) == q


@given(parsed_queries())
def test_round_trip_survives_url_encoding(q: ParsedQuery) -> None:
    # What actually crosses the wire: the pairs are URL-encoded and decoded again.
    encoded = urlencode(build_from(q))
    assert parse_query(parse_qsl(encoded, keep_blank_values=True)) == q


@given(field_specs)
def test_fields_round_trip(spec: FieldSpec) -> None:
    pairs = build_query(fields=spec)
    assert json.loads(pairs[0][1]) is not None
    assert parse_fields(pairs[0][1]) == spec


@given(st.lists(st.tuples(st.text(max_size=10), st.text(max_size=10)), max_size=6))
def test_parse_only_raises_query_error(pairs: list[tuple[str, str]]) -> None:
    try:
        parse_query(pairs)
    except QueryError as exc:
        assert exc.param in {k for k, _ in pairs}


# --------------------------------------------------------------------------- encode_filter_value


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (
            datetime(2024, 1, 2, 3, 4, 5, 678901, tzinfo=timezone(timedelta(hours=-7))),
            "2024-01-02T03:04:05-07:00",
        ),
        (datetime(2024, 1, 2, tzinfo=UTC), "2024-01-02T00:00:00+00:00"),
        (datetime(2024, 1, 2, tzinfo=timezone(timedelta(hours=5, minutes=30))), "2024-01-02T00:00:00+05:30"),
        (date(2024, 1, 2), "2024-01-02"),
        (True, "true"),
        (False, "false"),
        (0, "0"),
        (-12, "-12"),
        (Decimal("10.50"), "10.50"),
        (Decimal("1E+2"), "100"),
        (1.5, "1.5"),
        ("approved", "approved"),
        (["approved", "voided"], "approved,voided"),
        ((1, 2), "1,2"),
        ([date(2024, 1, 1), True], "2024-01-01,true"),
        ([], ""),
    ],
)
def test_encode_filter_value(value: object, expected: str) -> None:
    assert encode_filter_value(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        ["a,b"],
        ("x", "y,z"),
        [["nested"]],
        datetime(2024, 1, 1),  # naive: Coupa would read it in the instance's zone
        None,
        object(),
        Decimal("NaN"),
        float("inf"),
        {"a": 1},
    ],
)
def test_encode_filter_value_refuses(value: object) -> None:
    with pytest.raises(QueryError):
        encode_filter_value(value, param="status[in]")


def test_encode_error_names_param() -> None:
    with pytest.raises(QueryError) as info:
        encode_filter_value(["a,b"], param="status[in]")
    assert info.value.param == "status[in]"


@given(st.datetimes(timezones=st.timezones() | st.just(UTC)))
def test_encoded_datetimes_are_the_same_instant(value: datetime) -> None:
    text = encode_filter_value(value)
    back = datetime.fromisoformat(text)
    assert "." not in text
    assert back.utcoffset() is not None
    # astimezone, not ==: interzone == is always False for folded or gap times.
    assert back.astimezone(UTC) == value.replace(microsecond=0).astimezone(UTC)
    assert text[-6] in "+-"  # the offset is spelt +HH:MM
