"""What the catalog does not know still reachable: raw requests, saved API filters, an instance's
own top-level custom fields. Each is checked at the boundary like everything else."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from pycoupa.client import AsyncCoupa, Coupa
from pycoupa.client.errors import ConfigurationError, NotFoundError, QueryError, ValidationError
from pycoupa.client.retry import RetryPolicy
from pycoupa.emulator.app import Emulator
from pycoupa.emulator.seed import SeedCounts, seed
from pycoupa.emulator.server import serve_in_thread

SCOPES = ["core.invoice.read", "core.supplier.read", "core.supplier.write"]
FAST_RETRY = RetryPolicy(base_delay=0.01, max_delay=0.05, max_attempts=4)


@pytest.fixture(scope="module")
def emulator() -> Emulator:
    emu = Emulator()
    seed(emu, SeedCounts(invoices=30), random_seed=5)
    return emu


@pytest.fixture
def coupa(emulator: Emulator) -> Iterator[Coupa]:
    cid, secret = emulator.create_oauth_client(SCOPES)
    with (
        serve_in_thread(emulator) as running,
        Coupa(running.url, client_id=cid, client_secret=secret, scopes=SCOPES, retry=FAST_RETRY) as client,
    ):
        yield client


class Recorder(httpx.MockTransport):
    """Answers an empty page (and a token) and keeps every API request it saw."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        super().__init__(self.answer)

    def answer(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/oauth2/token"):
            return httpx.Response(200, json={"access_token": "t", "token_type": "bearer", "expires_in": 3600})
        self.requests.append(request)
        return httpx.Response(200, json=[])


def recording_client() -> tuple[Coupa, Recorder]:
    transport = Recorder()
    client = Coupa("https://acme.coupahost.com", client_id="c", client_secret="s", scopes=SCOPES, transport=transport)
    return client, transport


def test_request_reads_any_path_with_the_clients_auth_and_keeps_coupas_keys(coupa: Coupa) -> None:
    page = coupa.request("GET", "/invoices", params={"limit": 3, "order_by": "id", "fields": '["id","invoice-number"]'})
    assert isinstance(page, list) and len(page) == 3
    assert set(page[0]) == {"id", "invoice-number"}  # Coupa's keys, no model, no translation
    one = coupa.request("get", f"/invoices/{page[0]['id']}")
    assert one["id"] == page[0]["id"] and "invoice-lines" in one
    with pytest.raises(NotFoundError):  # the SDK's errors, as for any call
        coupa.request("GET", "/invoices/999999")


def test_request_writes_the_body_as_given(coupa: Coupa) -> None:
    made = coupa.request("POST", "/suppliers", json={"name": "Raw Supplier", "number": "RAW-1", "display-name": "R"})
    assert made["name"] == "Raw Supplier" and made["display-name"] == "R"
    with pytest.raises(ValidationError) as err:
        coupa.request("POST", "/suppliers", json={"name": "Raw Supplier"})
    assert "Name has already been taken" in err.value.messages


async def test_async_request(emulator: Emulator) -> None:
    cid, secret = emulator.create_oauth_client(SCOPES)
    async with AsyncCoupa("http://127.0.0.1", client_id=cid, client_secret=secret, scopes=SCOPES,
                          transport=httpx.ASGITransport(app=emulator.app)) as coupa:  # fmt: skip
        page = await coupa.request("GET", "/invoices", params=[("limit", "2")])
    assert len(page) == 2


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "named"),
    [
        ("FETCH", "/invoices", {}, "method must be one of"),
        ("GET", "invoices", {}, "must start with '/'"),
        ("GET", "https://evil.example/api/x", {}, "must start with '/'"),
        ("GET", "/api/invoices", {}, "relative to /api; give '/invoices'"),
        ("GET", "/invoices/../users", {}, "plain segments"),
        ("GET", "//evil.example/x", {}, "plain segments"),
        ("GET", "/invoices?limit=5", {}, "put the query in params="),
        ("GET", "/invoices/%2e%2e/users", {}, "plain segments"),
        ("GET", "/invoices\n", {}, "whitespace or control"),
        ("GET", "/invoices", {"params": "limit=5"}, r"mapping or \(name, value\) pairs"),
        ("GET", "/invoices", {"params": {"limit": [5]}}, "must be text or a number"),
        ("GET", "/invoices", {"json": {"a": 1}}, "takes no json body"),
    ],
)
def test_request_refuses_a_bad_call_before_sending_it(method: str, path: str, kwargs: dict[str, object],
                                                       named: str) -> None:  # fmt: skip
    client, transport = recording_client()
    with client, pytest.raises(ConfigurationError, match=named):
        client.request(method, path, **kwargs)  # type: ignore[arg-type]
    assert transport.requests == []


def test_a_saved_api_filter_is_sent_as_filter() -> None:
    client, transport = recording_client()
    with client:
        client.invoices.list(filter="default_invoices_filter", status="approved", limit=5)
        list(client.invoices.iter(filter="default_invoices_filter"))
        with pytest.raises(QueryError, match="filter= names an API filter"):
            client.invoices.list(filter="bad name&x=1")
    first, walked = transport.requests
    assert first.url.params["filter"] == "default_invoices_filter" and first.url.params["status"] == "approved"
    assert walked.url.params["filter"] == "default_invoices_filter"
    assert len(transport.requests) == 2  # the refused one never left


def test_an_instances_own_top_level_custom_field_can_be_filtered_on() -> None:
    client, transport = recording_client()
    with client:
        client.invoices.list(custom_field_8="EU", invoice_lines__custom_field_2__contains="x")
        with pytest.raises(ConfigurationError, match="no attribute 'custom-field-x'"):
            client.invoices.list(custom_field_x="EU")  # not a numbered custom field: still checked
    (sent,) = transport.requests
    assert sent.url.params["custom-field-8"] == "EU"
    assert sent.url.params["invoice-lines[custom-field-2][contains]"] == "x"


def test_write_bodies_carry_decimals_and_aware_datetimes_in_coupas_spelling() -> None:
    from datetime import UTC, datetime
    from decimal import Decimal

    client, transport = recording_client()
    with client:
        client.invoices.update(7, gross_total=Decimal("12.50"), invoice_date=datetime(2026, 1, 2, 3, 4, tzinfo=UTC))
        with pytest.raises(ConfigurationError, match="naive datetime"):
            client.invoices.update(7, invoice_date=datetime(2026, 1, 2))  # no zone: refused, not guessed
        with pytest.raises(ConfigurationError, match=r"cannot be sent as JSON.*object"):
            client.invoices.update(7, gross_total=object())
    (sent,) = transport.requests  # the refused ones never left
    assert b'"gross-total":"12.50"' in sent.content and b'"invoice-date":"2026-01-02T03:04:00+00:00"' in sent.content


def test_a_write_body_naming_an_attribute_coupa_lacks_is_refused_before_sending() -> None:
    client, transport = recording_client()
    with client:
        with pytest.raises(
            ConfigurationError, match=r"body: supplier has no attribute 'dispaly-name' \(did you mean display-name"
        ):
            client.suppliers.update(3, dispaly_name="Typo")
        with pytest.raises(ConfigurationError, match=r"body\.invoice-lines\[1\]: invoice-line has no attribute 'pric'"):
            client.invoices.create({"invoice_number": "N-1", "invoice_lines": [{"price": "1.00"}, {"pric": "2.00"}]})
        with pytest.raises(ConfigurationError, match=r"body\.supplier: supplier has no attribute 'nmae'"):
            client.invoices.create(invoice_number="N-1", supplier={"nmae": "Acme"})
        # Custom fields are the instance's own, "_"-keys are Rails' (delete a line), and a key like no
        # attribute at all may be one the API spec lacks (documented payloads carry such keys).
        client.suppliers.update(3, display_name="Fine", custom_fields={"region": "EU"}, custom_field_3="x")
        client.purchase_orders.update(7, order_lines=[{"id": 11, "_delete": True}])
        client.resource("purchase_order_changes").update(7, approver={"id": 2})
    fine, po, change = transport.requests  # only the good ones left
    assert b'"display-name":"Fine"' in fine.content and b'"custom-field-3":"x"' in fine.content
    assert b'"_delete":true' in po.content and b'"approver":{"id":2}' in change.content
