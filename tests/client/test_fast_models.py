"""The fast model builder (``pycoupa.client.models._fast``) against ``model_validate``.

``validate(model, data)`` must give exactly what ``model.model_validate(data)`` gives: the same
values of the same types (Decimal scale, datetime offsets, enum members or strings), the same
fields set, the same extras in the same order, and the same ``ValidationError`` when the data is
invalid. Checked for every Coupa sample, for emulator pages of every modelled resource in JSON and
XML, and for odd values of every field type.
"""

from __future__ import annotations

import asyncio
import gc
import threading
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import httpx
import pytest
from pydantic import BaseModel, ValidationError, field_validator

from pycoupa.client.models import (
    Approval,
    CoupaModel,
    CoupaRecord,
    Invoice,
    InvoiceLine,
    Payment,
    PurchaseOrder,
    Requisition,
    Supplier,
    SupplierRef,
    User,
    _fast,
    model_for,
    model_for_element,
    parse_json,
    parse_xml,
)
from pycoupa.client.models._fast import fast_plan_available, gc_paused, validate, validate_page
from pycoupa.emulator.app import Emulator
from pycoupa.emulator.seed import SeedCounts, seed
from pycoupa.wire import codec_json, codec_xml
from pycoupa.wire.values import Symbol
from tests.client.test_models import EXAMPLES, REQUESTS, RESPONSES


def assert_identical(fast: Any, slow: Any, path: str = "") -> None:
    """Stricter than ``==``: types, reprs (Decimal scale), offsets, fields set, extras' order."""
    assert type(fast) is type(slow), f"{path}: {type(fast).__name__} != {type(slow).__name__}"
    if isinstance(slow, BaseModel):
        assert fast.model_fields_set == slow.model_fields_set, path
        assert list(fast.__dict__) == list(slow.__dict__), path
        for key, value in slow.__dict__.items():
            assert_identical(fast.__dict__[key], value, f"{path}.{key}")
        fast_extra, slow_extra = fast.__pydantic_extra__ or {}, slow.__pydantic_extra__ or {}
        assert list(fast_extra) == list(slow_extra), path
        for key, value in slow_extra.items():
            assert fast_extra[key] is value or fast_extra[key] == value, f"{path}[{key!r}]"
            assert_identical(fast_extra[key], value, f"{path}[{key!r}]")
        assert fast.__pydantic_private__ == slow.__pydantic_private__
        assert fast == slow
        assert fast.model_dump(by_alias=True, exclude_unset=True) == slow.model_dump(by_alias=True, exclude_unset=True)
    elif isinstance(slow, list):
        assert len(fast) == len(slow), path
        for i, (a, b) in enumerate(zip(fast, slow, strict=True)):
            assert_identical(a, b, f"{path}[{i}]")
    elif isinstance(slow, dict):
        assert list(fast) == list(slow), path
        for key, value in slow.items():
            assert_identical(fast[key], value, f"{path}[{key!r}]")
    else:
        assert repr(fast) == repr(slow), path
        if isinstance(slow, datetime):
            assert fast.utcoffset() == slow.utcoffset(), path


def same_outcome(model: type[CoupaModel], data: Any) -> None:
    try:
        slow = model.model_validate(data)
    except ValidationError as exc:
        with pytest.raises(ValidationError) as info:
            validate(model, data)
        assert info.value.errors(include_context=False) == exc.errors(include_context=False)
        assert str(info.value) == str(exc)
        return
    assert_identical(validate(model, data), slow)


# -- Coupa's samples ---------------------------------------------------------------------------------


def _sample_records(name: str) -> list[Any]:
    data = (EXAMPLES / name).read_bytes()
    value = codec_json.loads(data) if name.endswith(".json") else codec_xml.loads(data)[1]
    items = value if isinstance(value, list) else [value]
    return [{} if item == "" else item for item in items]


@pytest.mark.parametrize("name", sorted({**RESPONSES, **REQUESTS}), ids=str)
def test_every_sample_builds_the_same_model(name: str) -> None:
    model = {**RESPONSES, **REQUESTS}[name]
    for record in _sample_records(name):
        same_outcome(model, record)


def test_the_sample_tests_use_the_fast_builder() -> None:
    """parse_json/parse_xml (what tests/client/test_models.py checks) go through validate()."""
    for model in (Invoice, User, Supplier, PurchaseOrder, Requisition, Payment, Approval, CoupaRecord):
        assert fast_plan_available(model), model.__name__
    data = (EXAMPLES / "0209-01.xml").read_bytes()
    assert_identical(parse_xml(Invoice, data), Invoice.model_validate(codec_xml.loads(data)[1]))
    data = (EXAMPLES / "0015-01.json").read_bytes()
    assert_identical(parse_json(User, data), [User.model_validate(u) for u in codec_json.loads(data)])


# -- emulator pages ------------------------------------------------------------------------------------

PAGED = ["invoices", "suppliers", "users", "purchase_orders", "requisitions", "accounts", "approvals",
         "coupa_pay/payments", "currencies", "lookup_values", "items", "user_groups", "departments"]  # fmt: skip
SCOPES = ["core.invoice.read", "core.supplier.read", "core.user.read", "core.purchase_order.read",
          "core.requisition.read", "core.accounting.read", "core.approval.read", "core.pay.payments.read",
          "core.common.read", "core.item.read", "core.user_group.read"]  # fmt: skip


@pytest.fixture(scope="module")
def pages() -> dict[tuple[str, str], list[dict[str, Any]]]:
    """Raw decoded pages of every listed resource, JSON and XML, from a seeded emulator."""
    emu = Emulator()
    seed(emu, SeedCounts(invoices=80, payments=20), random_seed=11)
    cid, secret = emu.create_oauth_client(SCOPES)

    async def fetch() -> dict[tuple[str, str], list[dict[str, Any]]]:
        out: dict[tuple[str, str], list[dict[str, Any]]] = {}
        transport = httpx.ASGITransport(app=emu.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as http:
            grant = {"grant_type": "client_credentials", "client_id": cid, "client_secret": secret}
            token = (await http.post("/oauth2/token", data=grant)).json()["access_token"]
            for resource in PAGED:
                for fmt in ("json", "xml"):
                    headers = {"Authorization": f"Bearer {token}", "Accept": f"application/{fmt}"}
                    r = await http.get(f"/api/{resource}", params={"limit": 50}, headers=headers)
                    assert r.status_code == 200, (resource, fmt, r.text[:200])
                    if fmt == "json":
                        records = codec_json.loads(r.content)
                    else:
                        records = list(codec_xml.iterparse_records(r.content))
                    assert records, (resource, fmt)
                    out[(resource, fmt)] = records
        return out

    return asyncio.run(fetch())


@pytest.mark.parametrize("fmt", ["json", "xml"])
@pytest.mark.parametrize("resource", PAGED)
def test_emulator_pages_build_the_same_models(
    pages: dict[tuple[str, str], list[dict[str, Any]]], resource: str, fmt: str
) -> None:
    model = model_for(resource)
    records = pages[(resource, fmt)]
    fast = validate_page(model, records)
    assert len(fast) == len(records)
    for record, built in zip(records, fast, strict=True):
        assert_identical(built, model.model_validate(record))


def test_emulator_invoices_never_need_pydantic(
    pages: dict[tuple[str, str], list[dict[str, Any]]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fast path really is taken for Coupa-shaped data: no field or record falls back."""

    def refuse(*args: Any) -> Any:
        raise AssertionError(f"fell back to pydantic: {args[:3]}")

    monkeypatch.setattr(_fast, "_slow_field", refuse)
    monkeypatch.setattr(Invoice, "model_validate", refuse)
    for fmt in ("json", "xml"):
        built = validate_page(Invoice, pages[("invoices", fmt)])
        assert all(isinstance(i, Invoice) and i.invoice_lines for i in built)


# -- odd values of every field type ---------------------------------------------------------------------

AWARE = datetime(2016, 10, 7, 6, 59, 46, tzinfo=timezone(timedelta(hours=-7)))
ODD: dict[str, list[Any]] = {
    # Text
    "invoice-number": ["INV-1", "", "  ", 5, Decimal("1.50"), 1.5, True, None, Symbol("sym"), {"a": 1}, ["a"]],
    # Int
    "line-count": [5, "5", " 7 ", "", "  ", "5.0", "1_000", "007", "-3", "+4", "x", True, 5.0, 5.5, None,
                   "99999999999999999999", "\u0663"],
    # Dec
    "total-with-taxes": ["1.50", " 2.0 ", "", "1e3", "1E+2", "-0.00", ".5", "5.", "NaN", "inf", "abc", "1_0", 1, 1.1,
                         0.1 + 0.2, float("nan"), Decimal("3.30"), Decimal("NaN"), True, None, "\u0661"],
    # Bool
    "paid": [True, False, "true", "YES", "", " ", "0", 1, 0, 2, None, "maybe", 1.0],
    # Timestamp
    "last-exported-at": ["2016-10-07T06:59:46-07:00", "2016-10-07T06:59:46+00:00", "2016-10-07T06:59:46-00:00",
                         "2016-10-07", "2016-10-07T06:59:46Z", "2016-10-07 06:59:46", "2016-10-07T06:59:46.5+0200",
                         " 2016-10-07T06:59:46+02 ", "", "bad", "2016-13-01T00:00:00Z", "2016-10-07T24:00:00Z",
                         "2016-10-07T06:59:46+24:00", "2016-10-07T06:59:46+01:75", datetime(2020, 1, 1), AWARE,
                         date(2020, 1, 2), None, 5],
    # DateOrTime
    "invoice-date": ["2019-10-22", "2016-10-07T06:59:46-07:00", "", "2019-02-30", "bad", date(2019, 1, 1), AWARE,
                     datetime(2020, 1, 1), None, 7],
    # Nested
    "supplier": [{"id": 1, "name": "x", "extra-key": [1]}, {}, "", "  ", "x", None, 5, [], {"id": "bad"},
                 {"id": "12"}, SupplierRef(id=3), {"name": "s", "display_name": "snake"}],
    # Many
    "invoice-lines": [[{"id": 1, "total": "1.50"}], [], None, "", "  ", {"invoice-line": {"id": 1}},
                      {"invoice-line": [{"id": 1}, {"id": 2}]}, {"invoice-line": "x"}, {"other": {"id": 1}},
                      [""], ["x"], [None], "x", 5, [InvoiceLine(id=4)], [{"id": 1}, {"id": "no"}]],
    # EnumOr
    "status": ["approved", "Approved", "", None, 5, Symbol("approved"), Symbol("nope")],
    # an extra (custom field)
    "custom-field-1": ["x", None, {"a": [1, {"b": 2}]}, 5],
}  # fmt: skip


@pytest.mark.parametrize("key", list(ODD))
def test_odd_values_give_what_pydantic_gives(key: str) -> None:
    for value in ODD[key]:
        same_outcome(Invoice, {"id": 1, key: value})
        same_outcome(Invoice, {key: value, "id": "not a number"})  # an error elsewhere too


def test_other_field_types() -> None:
    # Strings (list[str]), a union of models, an object field, Any, a plain union
    cases: list[tuple[type[CoupaModel], Callable[[Any], dict[str, Any]], list[Any]]] = [
        (
            Payment,
            lambda v: {"id": 1, "pay-from-account": {"id": 1, "document-types": v}},
            [["a", "b"], [], None, "", ["a", 1], "x", {"document-type": ["a"]}, {"document-type": "a"}],
        ),
        (Approval, lambda v: {"id": 1, "approver": v}, [{"id": 1, "login": "u"}, {"id": 2, "name": "g"}, "", None, 5]),
        (Payment, lambda v: {"id": 1, "payment-partner": {"id": 1, "configuration": v}}, [{"a": 1}, "", None, 5]),
        (PurchaseOrder, lambda v: {"id": 1, "hide-price": v}, [True, "yes", None, {"x": 1}]),
        (
            Requisition,
            lambda v: {"id": 1, "requisition-lines": [{"id": 2, "form-response": v}]},
            ["text", [{"a": 1}], None, 5, [1]],
        ),
    ]
    for model, record, values in cases:
        for value in values:
            same_outcome(model, record(value))


def test_attribute_names_and_aliases() -> None:
    same_outcome(Invoice, {"invoice_number": "B"})  # the snake_case name is accepted
    same_outcome(Invoice, {"invoice-number": "A", "invoice_number": "B"})  # the alias wins; the name is an extra
    same_outcome(Invoice, {"supplier": {"display_name": "x"}})
    same_outcome(Invoice, {"invoice-lines": [{"line_num": 1}]})
    same_outcome(Invoice, {"id": 1, "zzz": 1, "aaa": 2, "custom-fields": {"x": 1}, "custom-field-3": "y"})


def test_records_of_one_shape_with_varying_types() -> None:
    """A shape is compiled per key sequence; the types of values may still change between records."""
    keys = ["id", "line-count", "invoice-number", "paid", "status", "total-with-taxes", "supplier"]
    variants: list[list[Any]] = [
        [1, "5", "A", True, "approved", "1.00", {"id": 1}],
        [2, 5, "B", False, "odd", "2.00", None],
        [3, None, 7, "yes", None, None, ""],
        [4, "5", None, None, "voided", 3, {"id": "4"}],
        [5, "x", "E", "maybe", 1, "bad", "bad"],
        [6, "5", "A", True, "approved", "1.00", {"id": 1}],
    ]
    for values in variants * 2:
        same_outcome(Invoice, dict(zip(keys, values, strict=True)))


def test_cached_values_are_not_shared_across_field_types() -> None:
    a = validate(Invoice, {"invoice-date": "2016-10-07", "invoice-number": "1.50", "line-count": "7"})
    b = validate(Invoice, {"total-with-taxes": "1.50", "last-exported-at": "2016-10-07", "invoice-date": "2016-10-07"})
    c = validate(Invoice, {"total-with-taxes": "7", "invoice-number": "7", "paid": True})
    assert a.invoice_number == "1.50" and b.total_with_taxes == Decimal("1.50") and a.line_count == 7
    assert a.invoice_date == date(2016, 10, 7) and b.last_exported_at == datetime(2016, 10, 7, tzinfo=UTC)
    assert (c.total_with_taxes, c.invoice_number) == (Decimal("7"), "7")


def test_models_are_independent() -> None:
    """Fresh lists per instance, as default_factory gives; mutating one model leaves the next alone."""
    first = validate(Invoice, {"id": 1})
    first.invoice_lines.append(InvoiceLine(id=1))
    first.model_fields_set.add("comments")
    second = validate(Invoice, {"id": 1})
    assert second.invoice_lines == [] and "comments" not in second.model_fields_set
    third = validate(Invoice, {"id": 1, "invoice-lines": [{"id": 1, "tax-lines": []}]})
    third.invoice_lines[0].tax_lines.append(None)  # type: ignore[arg-type]
    assert validate(Invoice, {"id": 1, "invoice-lines": [{"id": 1, "tax-lines": []}]}).invoice_lines[0].tax_lines == []
    assignment = validate(Invoice, {"id": 1})
    assignment.comments = "set later"
    assert assignment.to_wire() == {"id": 1, "comments": "set later"}


def test_classes_it_cannot_plan_use_model_validate() -> None:
    class Checked(Invoice):
        @field_validator("invoice_number")
        @classmethod
        def upper(cls, value: str | None) -> str | None:
            return value.upper() if value else value

    assert not fast_plan_available(Checked)
    assert validate(Checked, {"invoice-number": "abc"}).invoice_number == "ABC"

    class Nested(CoupaRecord):
        checked: list[Checked] = []

    assert validate(Nested, {"checked": [{"invoice-number": "x"}]}).checked[0].invoice_number == "X"


def test_non_dict_input_goes_to_pydantic() -> None:
    same_outcome(Invoice, {1: "x"})
    same_outcome(Invoice, {"id": 1, "supplier": {None: 1}})
    same_outcome(Invoice, {"id": 1, "invoice-lines": [{("a",): 1}]})
    same_outcome(Invoice, [("id", 1)])
    same_outcome(Invoice, "x")
    assert validate(Invoice, Invoice(id=3)).id == 3


@pytest.mark.parametrize("tiny_caches", [False, True])
def test_threads_build_identical_models(
    pages: dict[tuple[str, str], list[dict[str, Any]]], tiny_caches: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    if tiny_caches:  # caches emptied all the time, under the other threads' feet
        monkeypatch.setattr(_fast, "_CACHE_LIMIT", 2)
        monkeypatch.setattr(_fast, "_SHAPES_LIMIT", 1)
        monkeypatch.setattr(_fast, "_SIGNATURES_LIMIT", 0)
    records = pages[("invoices", "json")]
    expected = [Invoice.model_validate(r) for r in records]
    failures: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(3):
                for got, want in zip(validate_page(Invoice, records), expected, strict=True):
                    assert_identical(got, want)
        except BaseException as exc:  # reported below
            failures.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not failures, failures[0]
    assert gc.isenabled()


def test_gc_paused_sends_what_it_made_to_the_oldest_generation() -> None:
    passes: list[int] = []

    def watch(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            passes.append(info["generation"])

    gc.callbacks.append(watch)
    try:
        with gc_paused():
            made = [[n] for n in range(5_000)]  # lists: always tracked by the collector
        for _ in range(50):  # a few allocations: a young pass owed for the page would run here
            made.append([])
    finally:
        gc.callbacks.remove(watch)
    assert passes == []
    oldest = {id(o) for o in gc.get_objects(generation=2)}
    assert all(id(d) in oldest for d in made[:5_000:250])
    assert gc.get_freeze_count() == 0  # nothing left frozen


def test_gc_paused_leaves_what_the_application_froze_frozen() -> None:
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        assert frozen > 0
        with gc_paused():
            made = [{"n": n} for n in range(2_000)]
        # Thawing would empty the frozen generation; a few frozen objects may still be freed meanwhile
        # by reference counting in another thread (pytest-xdist's I/O thread), so allow a handful.
        assert gc.get_freeze_count() >= frozen - 50 and made
    finally:
        gc.unfreeze()


def test_gc_paused_restores_the_collector() -> None:
    assert gc.isenabled()
    with gc_paused():
        assert not gc.isenabled()
        with gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(RuntimeError), gc_paused():
        raise RuntimeError("boom")
    assert gc.isenabled()
    gc.disable()
    try:
        with gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled(), "an application's choice to disable the collector is kept"
    finally:
        gc.enable()
    with pytest.raises(ValidationError):
        validate_page(Invoice, [{"id": "x"}])
    assert gc.isenabled()


def test_xml_element_names_pick_the_same_models() -> None:
    assert model_for_element("invoice-headers") is Invoice
    for name in ("0209-01.xml", "0239-01.xml", "0262-02.xml", "0081-01.xml"):
        tag, value = codec_xml.loads((EXAMPLES / name).read_bytes())
        model = model_for_element(tag)
        for record in value if isinstance(value, list) else [value]:
            assert_identical(validate(model, record), model.model_validate(record))
