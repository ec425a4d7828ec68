"""Query-builder mistakes fail before any request, inside the SDK's exception tree, saying what is wrong."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from pycoupa.client import AsyncCoupa, Coupa
from pycoupa.client.errors import ConfigurationError, CoupaError, QueryError

OPERATOR_LIST = "operators: eq (the default), contains, starts_with"


class Recorder:
    def __init__(self) -> None:
        self.sent: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/oauth2/token":
            return httpx.Response(200, json={"access_token": "tok-abcdefgh", "expires_in": 3600})
        self.sent.append(request)
        return httpx.Response(200, json=[{"id": 1, "status": "approved"}])


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def coupa(recorder: Recorder) -> Iterator[Coupa]:
    transport = httpx.MockTransport(recorder)
    with Coupa("https://acme.coupahost.com", client_id="cid", client_secret="secret-123", transport=transport,
               rate_limiter=None, models=False) as client:  # fmt: skip
        yield client


@pytest.mark.parametrize(
    ("filters", "message"),
    [
        ({"status__gte": 5}, r"filter status__gte: unknown operator 'gte' \(did you mean gt_or_eq\?\)"),
        ({"supplier__name__containz": "x"}, r"unknown operator 'containz' \(did you mean contains\?\)"),
        ({"supplier__gte": 5}, r"unknown operator 'gte' \(did you mean gt_or_eq\?\)"),
        ({"status__eq": "approved"}, r"unknown operator 'eq' \(for equality, name the field alone\)"),
    ],
)
def test_a_misspelt_operator_is_named_as_an_operator(
    coupa: Coupa, recorder: Recorder, filters: dict[str, Any], message: str
) -> None:
    with pytest.raises(QueryError, match=message) as caught:
        coupa.invoices.list(**filters)
    assert OPERATOR_LIST in str(caught.value) and "association" not in str(caught.value)
    assert isinstance(caught.value, ConfigurationError) and not recorder.sent


def test_a_misspelt_field_is_still_called_a_field(coupa: Coupa) -> None:
    with pytest.raises(ConfigurationError, match="no attribute 'nme'"):
        coupa.invoices.list(supplier__nme="x")
    with pytest.raises(ConfigurationError, match="'status' of invoice-header is not an association"):
        coupa.invoices.list(status__code__name="x")  # two parts past a plain field: not an operator slip


def test_a_bare_string_of_fields_is_one_field(coupa: Coupa, recorder: Recorder) -> None:
    coupa.invoices.list(fields="id")
    coupa.invoices.get(1, fields="status")
    assert [r.url.params["fields"] for r in recorder.sent] == ['["id"]', '["status"]']
    with pytest.raises(QueryError, match=r"give a list of names.*'id,status'"):
        coupa.invoices.list(fields="id,status")
    assert len(recorder.sent) == 2


@pytest.mark.parametrize(
    ("filters", "message"),
    [
        ({"status__in": ["a,b"]}, r"item 'a,b' contains a comma"),
        ({"status__not_in": ["ok", "x,y"]}, r"item 'x,y' contains a comma"),
        ({"status__in": []}, r"the list is empty"),
    ],
)
def test_list_values_coupa_cannot_express_raise_the_sdks_error(
    coupa: Coupa, recorder: Recorder, filters: dict[str, Any], message: str
) -> None:
    with pytest.raises(QueryError, match=message) as caught:
        coupa.invoices.list(**filters)
    assert isinstance(caught.value, ConfigurationError | CoupaError) and not recorder.sent


@pytest.mark.parametrize(
    ("filters", "message"),
    [
        ({"updated_at__gt": "yesterday"}, r"filter updated_at__gt: 'yesterday' is not an aware datetime or an ISO"),
        ({"id": "abc"}, r"filter id: 'abc' is not an integer"),
        ({"supplier_id__in": [1, "two"]}, r"filter supplier_id__in: 'two' is not an integer"),
        ({"supplier__id": "x"}, r"filter supplier__id: 'x' is not an integer"),
        ({"total_with_taxes__gt": "lots"}, r"'lots' is not a number"),
        ({"paid": "yes"}, r"filter paid: 'yes' is not true or false"),
    ],
)
def test_values_the_attribute_cannot_take_are_refused_before_any_request(
    coupa: Coupa, recorder: Recorder, filters: dict[str, Any], message: str
) -> None:
    with pytest.raises(QueryError, match=message):
        coupa.invoices.list(**filters)
    assert not recorder.sent


def test_values_of_the_right_kind_pass(coupa: Coupa, recorder: Recorder) -> None:
    from datetime import UTC, date, datetime
    from decimal import Decimal

    coupa.invoices.list(
        updated_at__gt=datetime(2025, 1, 1, tzinfo=UTC), invoice_date__lt=date(2025, 2, 1), created_at__gt="2025-01-01",
        id__in=[1, "2"], total_with_taxes__gt=Decimal("10.50"), paid=True, invoice_number__contains="abc",
        status="a_status_coupa_added_later",  # enums stay open: an unknown status is sent as it is
    )  # fmt: skip
    assert len(recorder.sent) == 1


async def test_the_async_client_raises_the_same_query_errors(recorder: Recorder) -> None:
    async with AsyncCoupa("https://acme.coupahost.com", client_id="cid", client_secret="secret-123",
                          transport=httpx.MockTransport(recorder), rate_limiter=None) as coupa:  # fmt: skip
        with pytest.raises(QueryError, match="comma"):
            await coupa.invoices.list(status__in=["a,b"])
        with pytest.raises(QueryError, match="unknown operator 'gte'"):
            coupa.invoices.iter(status__gte=1)
    assert not recorder.sent


def test_iter_takes_order_by_and_return_object(coupa: Coupa, recorder: Recorder) -> None:
    list(coupa.invoices.iter(mode="offset", order_by="created_at", dir="desc", return_object="limited"))
    list(coupa.invoices.iter(return_object="shallow", fields=["id"]))
    offset, keyset = (dict(r.url.params.multi_items()) for r in recorder.sent)
    assert offset["order_by"] == "created-at" and offset["dir"] == "desc" and offset["return_object"] == "limited"
    assert keyset["return_object"] == "shallow" and keyset["order_by"] == "id" and "id[gt]" not in keyset


def test_keyset_iteration_keeps_the_id_in_a_projection_without_it(coupa: Coupa, recorder: Recorder) -> None:
    list(coupa.invoices.iter(fields=["status"]))
    list(coupa.invoices.iter(fields="status", mode="offset"))
    keyset, offset = (dict(r.url.params.multi_items()) for r in recorder.sent)
    assert keyset["fields"] == '["id","status"]'  # keyset resumes after the last id: it must come back
    assert offset["fields"] == '["status"]'  # offset paging needs no id: the projection is the caller's


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"order_by": "created_at"}, r"keyset paging orders by id itself; drop order_by or use mode='offset'"),
        ({"dir": "desc"}, r"keyset paging orders by id itself; drop dir"),
        ({"limit": 10}, r"iter\(limit=\.\.\.\): iter\(\) pages by page_size"),
        ({"offset": 100}, r"iter\(offset=\.\.\.\): iter\(\) starts at the first record"),
        ({"order_by": "nope", "mode": "offset"}, r"order_by: invoice-header has no attribute 'nope'"),
        ({"full_pull": True, "order_by": "created_at"}, r"keyset paging orders by id itself"),
        ({"full_pull": True, "mode": "offset"}, r"full_pull walks id partitions by keyset"),
        ({"full_pull": True, "partitions": 0}, r"partitions must be an integer >= 1"),
    ],
)
def test_iter_refuses_what_it_cannot_honour_when_called(
    coupa: Coupa, recorder: Recorder, options: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigurationError, match=message) as caught:
        coupa.invoices.iter(**options)  # refused on the call itself, not on the first next()
    assert "has no attribute 'limit'" not in str(caught.value) and not recorder.sent
