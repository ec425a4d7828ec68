"""The registry, the catalog check of every projection and filter, and filter translation."""

from __future__ import annotations

from typing import Any

import pytest
from tests.server.unified.conftest import World

from pycoupa.catalog.model import load_catalog
from pycoupa.client.query import check_fields, check_filter_name, definitions, fields_spec
from pycoupa.server.unified.accounting import CURRENCIES, INVOICES, PURCHASE_ORDERS
from pycoupa.server.unified.registry import RESOURCES, coupa_conditions, coupa_path, get_resource
from pycoupa.server.unified.spec import UnifiedFilter, UnifiedResource
from pycoupa.wire.query import Condition

ACCOUNTING = {
    "accounts", "contacts", "currencies", "employees", "invoices", "items", "purchase_order_requisitions",
    "purchase_orders", "tracking_categories",
}  # fmt: skip
SOURCES = [(res, src) for res in RESOURCES.values() for src in res.sources]
IDS = [f"{res.name}:{src.coupa_resource}" for res, src in SOURCES]
# Coupa values our status filters send that R39's enums lack, each documented by Coupa elsewhere.
DOCUMENTED_EXTRAS = {"save_as_draft", "canceled"}


def definition_of(coupa_resource: str) -> str:
    d = load_catalog().resource(coupa_resource).definition
    assert d is not None
    return d


def test_registry_holds_truto_coupa_resources() -> None:
    assert {n for m, n in RESOURCES if m == "accounting"} == ACCOUNTING
    assert {n for m, n in RESOURCES if m == "user-directory"} == {"users", "groups"}
    for (model, name), res in RESOURCES.items():
        assert (res.model, res.name) == (model, name)
        assert get_resource(model, name) is res


def test_get_resource_names_the_valid_choices() -> None:
    with pytest.raises(KeyError, match="accounts, contacts, currencies"):
        get_resource("accounting", "bills")
    with pytest.raises(KeyError, match="accounting, user-directory"):
        get_resource("crm", "contacts")
    with pytest.raises(KeyError, match="groups, users"):
        get_resource("user-directory", "invoices")


@pytest.mark.parametrize(("res", "src"), SOURCES, ids=IDS)
def test_projection_names_only_catalog_attributes(res: UnifiedResource, src: Any) -> None:
    resource = load_catalog().resource(src.coupa_resource)
    assert resource.op("list") and resource.op("show"), f"{src.coupa_resource} cannot be listed and read"
    check_fields(definition_of(src.coupa_resource), fields_spec(list(src.fields)))


def test_a_wrong_projection_would_be_caught() -> None:
    from pycoupa.client.errors import ConfigurationError

    with pytest.raises(ConfigurationError):
        check_fields("InvoiceHeader", fields_spec(["id", {"supplier": ["nmae"]}]))


@pytest.mark.parametrize(("res", "src"), SOURCES, ids=IDS)
def test_every_filter_names_a_catalog_attribute(res: UnifiedResource, src: Any) -> None:
    definition = definition_of(src.coupa_resource)
    for name, flt in src.filters.items():
        assert flt.name == name
        assert flt.ops and flt.ops <= {"eq", "ne", "gt", "gte", "lt", "lte", "in", "contains", "starts_with"}
        path = coupa_path(flt.coupa)
        check_filter_name(definition, "__".join(path))  # raises naming the attribute
        for attr, _ in flt.refine.values():
            check_filter_name(definition, "__".join(coupa_path(attr)))


@pytest.mark.parametrize(("res", "src"), SOURCES, ids=IDS)
def test_standard_filters_are_there(res: UnifiedResource, src: Any) -> None:
    defs = definitions()
    fields = defs[definition_of(src.coupa_resource)].fields
    names = set(src.filters)
    assert "status" in names
    if res is CURRENCIES:  # Coupa keeps no timestamps on currencies: nothing to filter on
        assert "updated-at" not in fields and "created-at" not in fields
    else:
        assert {"updated_at", "created_at"} <= names
        for n in ("updated_at", "created_at"):
            flt = src.filters[n]
            assert flt.kind == "datetime" and flt.ops == {"gt", "gte", "lt", "lte"}
            assert fields[flt.coupa].scalar_type == "datetime"
    if "name" in fields and res.name not in ("invoices", "purchase_orders", "purchase_order_requisitions"):
        assert src.filters["name"].ops == {"eq", "contains", "starts_with"}


NATURAL = {
    ("accounting", "invoices"): {
        "number": "invoice-number",
        "contact_id": "supplier[id]",
        "currency": "currency[code]",
    },
    ("accounting", "contacts"): {"tax_number": "tax-id", "name": "name"},
    ("accounting", "employees"): {"email": "email", "username": "login"},
    ("user-directory", "users"): {"email": "email", "username": "login", "group_id": "user-groups[id]"},
    ("accounting", "items"): {"name": "name"},
    ("accounting", "purchase_orders"): {"number": "po-number", "vendor_id": "supplier[id]"},
    ("accounting", "purchase_order_requisitions"): {"employee_id": "requested-by[id]"},
    ("user-directory", "groups"): {"name": "name"},
}


@pytest.mark.parametrize("key", list(NATURAL), ids=[k[1] for k in NATURAL])
def test_natural_filters_map_to_the_documented_coupa_attribute(key: tuple[str, str]) -> None:
    filters = RESOURCES[key].sources[0].filters
    for name, coupa in NATURAL[key].items():
        assert filters[name].coupa == coupa


ENUM_FILTERS = [(res, src, f) for res, src in SOURCES for f in src.filters.values() if f.kind == "enum"]


@pytest.mark.parametrize(
    ("res", "src", "flt"), ENUM_FILTERS, ids=[f"{r.name}:{s.coupa_resource}:{f.name}" for r, s, f in ENUM_FILTERS]
)
def test_enum_filters_send_catalog_values_that_map_back(world: World, res: UnifiedResource, src: Any, flt: Any) -> None:
    """Each unified value translates to Coupa values the catalog knows, and a record holding any of
    them maps back to that unified value: the filter and the mapper agree."""
    field = definitions()[definition_of(src.coupa_resource)].fields[flt.coupa]
    base = world.records(src)[0]
    assert flt.choices and flt.translate
    for choice in flt.choices:
        coupa_values = flt.translate(choice)
        assert coupa_values
        refine = dict([flt.refine[choice]]) if choice in flt.refine else {}
        for value in coupa_values:
            if field.enum:
                assert value in field.enum or value in DOCUMENTED_EXTRAS, value
            typed: Any = {"true": True, "false": False}.get(value, value) if field.scalar_type == "boolean" else value
            record = {**base, flt.coupa: typed, **{k: v == "true" for k, v in refine.items()}}
            assert src.map(record)["status"] == choice, (choice, value)


def test_status_choices_cover_truto_sets_and_unmapped_coupa_values() -> None:
    inv = INVOICES.sources[0].filters["status"]
    assert {"draft", "submitted", "authorised", "paid", "voided", "deleted"} <= set(inv.choices)
    assert "payable_adjustment" in inv.choices  # unmapped: passes through, so it can be asked for
    assert inv.translate is not None and inv.translate("payable_adjustment") == ["payable_adjustment"]
    po = PURCHASE_ORDERS.sources[0].filters["status"]
    assert set(po.choices) == {"draft", "submitted", "authorised", "billed", "deleted"}
    req = RESOURCES[("accounting", "purchase_order_requisitions")].sources[0].filters["status"]
    assert "billed" not in req.choices  # no Coupa requisition status is billed: refused, not sent


# -- coupa_conditions ---------------------------------------------------------------------------------------
STATUS = INVOICES.sources[0].filters["status"]


def test_eq_on_a_value_standing_for_several_coupa_values_becomes_in() -> None:
    got = coupa_conditions(STATUS, "eq", ["submitted"])
    assert got[0].op == "in" and {"pending_approval", "disputed", "on_hold"} <= set(got[0].value)
    assert coupa_conditions(STATUS, "eq", ["voided"]) == [Condition(("status",), "eq", "voided")]


def test_refined_values_add_their_second_condition() -> None:
    assert coupa_conditions(STATUS, "eq", ["paid"]) == [
        Condition(("status",), "eq", "approved"),
        Condition(("paid",), "eq", "true"),
    ]
    assert coupa_conditions(STATUS, "in", ["authorised", "paid"]) == [
        Condition(("status",), "eq", "approved"),
        Condition(("paid",), "in", ("false", "true")),
    ]


def test_refined_values_refuse_what_coupa_cannot_express() -> None:
    with pytest.raises(ValueError, match="cannot be combined"):
        coupa_conditions(STATUS, "in", ["paid", "draft"])
    with pytest.raises(ValueError, match=r"\[ne\]"):
        coupa_conditions(STATUS, "ne", ["paid"])


def test_ne_and_in_and_plain_operators() -> None:
    assert coupa_conditions(STATUS, "ne", ["voided"]) == [Condition(("status",), "not_eq", "voided")]
    got = coupa_conditions(STATUS, "ne", ["draft"])
    assert got == [Condition(("status",), "not_in", ("draft", "new", "save_as_draft", "rejected", "invalid"))]
    assert coupa_conditions(STATUS, "in", ["voided", "deleted"]) == [
        Condition(("status",), "in", ("voided", "abandoned"))
    ]
    updated = INVOICES.sources[0].filters["updated_at"]
    assert coupa_conditions(updated, "gte", ["2025-01-01T00:00:00Z"]) == [
        Condition(("updated-at",), "gt_or_eq", "2025-01-01T00:00:00Z")
    ]
    contact = INVOICES.sources[0].filters["contact_id"]
    assert coupa_conditions(contact, "in", ["1", "2"]) == [Condition(("supplier", "id"), "in", ("1", "2"))]


def test_conditions_refuse_bad_operators_values_and_counts() -> None:
    with pytest.raises(ValueError, match="operators"):
        coupa_conditions(STATUS, "contains", ["draft"])
    with pytest.raises(ValueError, match="not one of"):
        coupa_conditions(STATUS, "eq", ["approved-ish"])
    with pytest.raises(ValueError, match="one value"):
        coupa_conditions(STATUS, "eq", ["draft", "voided"])
    with pytest.raises(ValueError, match="no value"):
        coupa_conditions(STATUS, "in", [])


def test_boolean_statuses_translate_to_the_flag() -> None:
    flt: UnifiedFilter = CURRENCIES.sources[0].filters["status"]
    assert coupa_conditions(flt, "eq", ["active"]) == [Condition(("enabled",), "eq", "true")]
    assert coupa_conditions(flt, "ne", ["archived"]) == [Condition(("enabled",), "not_eq", "false")]


def test_plain_ids_route_to_the_only_source() -> None:
    src, coupa_id = INVOICES.source_for_id("42")
    assert src is INVOICES.sources[0] and coupa_id == 42
    with pytest.raises(ValueError):
        INVOICES.source_for_id("lookup:42")
