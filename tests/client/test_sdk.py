"""The SDK against the emulator: resources, queries, actions, paging modes, faults."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from unittest import mock

import httpx
import pytest

from pycoupa.client import AsyncCoupa, Coupa
from pycoupa.client._base import check_instance_url
from pycoupa.client.errors import (
    ConfigurationError,
    NoSuchAttributeError,
    NotFoundError,
    PermissionDeniedError,
    RateBudgetExceededError,
    ValidationError,
)
from pycoupa.client.retry import RetryPolicy
from pycoupa.emulator.app import Emulator
from pycoupa.emulator.seed import SeedCounts, seed
from pycoupa.emulator.server import serve_in_thread

ALL = ("core.invoice.read", "core.invoice.write", "core.invoice.create", "core.invoice.delete",
       "core.supplier.read", "core.supplier.write", "core.common.read", "core.pay.payments.read",
       "core.pay.payments.write", "core.approval.read", "core.approval.write")  # fmt: skip
FAST_RETRY = RetryPolicy(base_delay=0.01, max_delay=0.05, max_attempts=8)


@pytest.fixture
def seeded() -> Emulator:
    emu = Emulator()
    seed(emu, SeedCounts(invoices=120, payments=30), random_seed=3)
    return emu


@pytest.fixture
def sync_client(seeded: Emulator) -> Iterator[Coupa]:
    cid, secret = seeded.create_oauth_client(list(ALL))
    with (
        serve_in_thread(seeded) as running,
        Coupa(running.url, client_id=cid, client_secret=secret, scopes=list(ALL), retry=FAST_RETRY) as coupa,
    ):
        yield coupa


@pytest.fixture
async def async_client(seeded: Emulator) -> AsyncIterator[AsyncCoupa]:
    cid, secret = seeded.create_oauth_client(list(ALL))
    async with AsyncCoupa(
        "http://127.0.0.1",
        client_id=cid,
        client_secret=secret,
        scopes=list(ALL),
        transport=httpx.ASGITransport(app=seeded.app),
        retry=FAST_RETRY,
    ) as coupa:
        yield coupa


def test_refuses_plain_http_except_loopback() -> None:
    with pytest.raises(ConfigurationError, match="HTTPS"):
        Coupa("http://acme.coupahost.com", client_id="x", client_secret="y")
    Coupa("http://localhost:8765", client_id="x", client_secret="y").close()
    with pytest.raises(ConfigurationError, match="client_id and client_secret"):
        Coupa("https://acme.coupahost.com")
    with pytest.raises(ConfigurationError, match="unknown option"):
        Coupa("https://acme.coupahost.com", client_id="x", client_secret="y", colour="red")


@pytest.mark.parametrize(
    ("url", "named"),
    [
        ("https://ops:HUNTER2@acme.coupahost.com", "user name or password"),
        ("http://ops:HUNTER2@127.0.0.1:9", "user name or password"),
        ("https://acme.coupahost.com/api?token=HUNTER2", "drop the path, query or fragment"),
        ("https://acme.coupahost.com#HUNTER2", "drop the path, query or fragment"),
        ("https://acme.coupahost.com:99999", "malformed"),
        ("ftp://acme.coupahost.com", "scheme 'ftp'"),
    ],
)
def test_a_bad_instance_url_is_refused_without_echoing_it(url: str, named: str) -> None:
    with pytest.raises(ConfigurationError, match=named) as caught:
        Coupa(url, client_id="x", client_secret="y")
    assert "HUNTER2" not in str(caught.value)


def test_the_instance_url_is_normalised() -> None:
    assert check_instance_url("https://Acme.CoupaHost.com/") == "https://acme.coupahost.com"
    assert check_instance_url("http://[::1]:8765") == "http://[::1]:8765"
    assert check_instance_url("https://acme.coupahost.com:8443") == "https://acme.coupahost.com:8443"


def test_resources_and_crud_sync(sync_client: Coupa, seeded: Emulator) -> None:
    page = sync_client.invoices.list(status="approved", limit=5)
    assert 0 < len(page) <= 5 and all(str(inv.status) == "approved" for inv in page)
    one = sync_client.invoices.get(page[0].id)
    assert one.id == page[0].id and one.invoice_lines
    supplier = sync_client.suppliers.create(name="SDK Supplier Inc.", number="SDK-1")
    assert supplier.name == "SDK Supplier Inc."
    updated = sync_client.suppliers.update(supplier.id, status="active")
    assert str(updated.status) == "active"
    with pytest.raises(ValidationError) as err:
        sync_client.suppliers.create(name="SDK Supplier Inc.")
    assert "Name has already been taken" in err.value.messages
    with pytest.raises(NotFoundError):
        sync_client.suppliers.get(999_999)


def test_unknown_methods_and_fields_fail_before_any_request(sync_client: Coupa, seeded: Emulator) -> None:
    before = seeded.stats.snapshot()["requests"]
    with pytest.raises(ConfigurationError, match="no action 'frobnicate'"):
        sync_client.invoices.frobnicate(1)
    with pytest.raises(ConfigurationError, match="has no 'delete'"):
        sync_client.suppliers.delete(1)
    with pytest.raises(ConfigurationError, match=r"no attribute .stauts.*status"):
        sync_client.invoices.list(stauts="approved")
    with pytest.raises(ConfigurationError, match="no attribute 'nme'"):
        sync_client.invoices.list(supplier__nme="x")
    with pytest.raises(ConfigurationError, match="fields"):
        sync_client.invoices.list(fields=["id", {"supplier": ["nope"]}])
    with pytest.raises(ConfigurationError, match="no Coupa resource"):
        sync_client.resource("invoicez")
    assert seeded.stats.snapshot()["requests"] == before


def test_missing_attributes_are_attribute_errors_with_the_clear_message() -> None:
    # hasattr, getattr(obj, name, default), mock.create_autospec and debuggers rely on AttributeError.
    coupa = Coupa("https://acme.coupahost.com", client_id="x", client_secret="y")
    acoupa = AsyncCoupa("https://acme.coupahost.com", client_id="x", client_secret="y")
    try:
        for client in (coupa, acoupa):
            assert not hasattr(client.invoices, "nope") and hasattr(client.invoices, "void")
            assert getattr(client.invoices, "nope", "default") == "default"
            assert not hasattr(client, "nope") and getattr(client, "nope", None) is None
            assert not hasattr(client.coupa_pay, "nope") and hasattr(client.coupa_pay, "payments")
            with pytest.raises(AttributeError, match=r"invoices has no action 'frobnicate'.*actions: abandon") as err:
                client.invoices.frobnicate  # noqa: B018
            assert isinstance(err.value, NoSuchAttributeError) and isinstance(err.value, ConfigurationError)
            with pytest.raises(ConfigurationError, match=r"has no attribute 'nope'; use \.resource\('nope'\)"):
                client.nope  # noqa: B018
            with pytest.raises(ConfigurationError, match="no Coupa resource 'coupa_pay/nope'"):
                client.coupa_pay.nope  # noqa: B018
        assert mock.create_autospec(coupa.invoices).list is not None  # introspection does not crash
    finally:
        coupa.close()


def test_query_builder_grammar(sync_client: Coupa) -> None:
    since = datetime(2025, 1, 1, tzinfo=UTC)
    got = sync_client.invoices.list(status__in=["approved", "voided"], updated_at__gt=since, limit=50)
    assert all(str(i.status) in ("approved", "voided") and i.updated_at > since for i in got)
    some = sync_client.invoices.list(limit=1)[0]
    name = some.supplier.name
    by_supplier = sync_client.invoices.list(supplier__name__contains=name[2:8].lower(), limit=50)
    assert by_supplier and all(name[2:8].lower() in i.supplier.name.lower() for i in by_supplier)
    lean = sync_client.invoices.list(limit=2, fields=["id", "status", {"supplier": ["name"]}])
    assert set(lean[0].model_dump(by_alias=True, exclude_unset=True)) == {"id", "status", "supplier"}


def test_actions_and_mark_exported(sync_client: Coupa, seeded: Emulator) -> None:
    supplier = sync_client.suppliers.list(limit=1)[0]
    draft = sync_client.invoices.create(  # POST /invoices: documented by Compass, absent from R39
        invoice_number="SDK-DRAFT-1",
        invoice_date="2026-01-02",
        supplier={"id": supplier.id},
        currency={"code": "USD"},
        invoice_lines=[{"line_num": 1, "description": "Pens", "quantity": "2", "price": "1.25"}],
    )
    assert str(draft.status) == "draft" and str(draft.total_with_taxes) == "2.50"
    inv = sync_client.invoices.void(draft.id)
    assert str(inv.status) == "voided"
    exported = sync_client.invoices.mark_exported(inv.id)
    assert exported.exported is True
    payment = sync_client.coupa_pay.payments.list(limit=1)[0]
    assert sync_client.coupa_pay.payments.mark_exported(payment.id).exported is True
    approved = sync_client.invoices.list(status="approved", limit=1)[0]
    disputed = sync_client.invoices.dispute(approved.id, reason_code="INCORRECT-PRICE", comment="too high")
    assert str(disputed.status) == "disputed"


class RecordingTransport(httpx.HTTPTransport):
    def __init__(self) -> None:
        super().__init__()
        self.sent: list[tuple[str, str]] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.sent.append((request.method, request.url.path))
        return super().handle_request(request)


def test_integration_history_records_mark_exported_is_coupas_collection_action(seeded: Emulator) -> None:
    calls = ["integration_history_records.mark_exported", "invoices.list", "invoices.mark_exported"]
    scopes = Coupa.scopes_for(calls)  # the SDK must send what these scopes were derived from
    assert scopes == ["core.integration.write", "core.invoice.read", "core.invoice.write"]
    cid, secret = seeded.create_oauth_client(scopes)
    transport = RecordingTransport()
    with (
        serve_in_thread(seeded) as running,
        Coupa(running.url, client_id=cid, client_secret=secret, scopes=scopes, transport=transport) as coupa,
    ):
        invoice = coupa.invoices.list(exported=False, limit=1)[0]
        record = coupa.integration_history_records.mark_exported(
            document_type="InvoiceHeader", document_id=invoice.id, status="Success", contact_alert_type="Functional"
        )
        assert ("POST", "/api/integration_history_records/mark_exported") in transport.sent
        assert record.model_dump(by_alias=True)["document-id"] == invoice.id
        assert seeded.store.get("InvoiceHeader", invoice.id)["exported"] is True
        with pytest.raises(ConfigurationError, match="POST /integration_history_records/mark_exported: give the body"):
            coupa.integration_history_records.mark_exported(5)
        # Elsewhere mark_exported still marks one record (PUT ?exported=true), and takes return_object.
        other = coupa.invoices.list(exported=False, limit=1)[0]
        assert coupa.invoices.mark_exported(other.id, return_object="limited").id == other.id
        assert transport.sent[-1] == ("PUT", f"/api/invoices/{other.id}")
        with pytest.raises(ConfigurationError, match="takes the record's id only"):
            coupa.invoices.mark_exported(other.id, {"exported": True})


def test_keyset_iteration_survives_writes_during_the_scan(sync_client: Coupa) -> None:
    before = {s.id for s in sync_client.suppliers.iter()}
    seen: Counter[int] = Counter()
    for n, supplier in enumerate(sync_client.suppliers.iter(page_size=2)):
        seen[supplier.id] += 1
        if n % 3 == 0:  # insert and update while scanning: keyset neither skips nor repeats
            sync_client.suppliers.create(name=f"Mid-scan {n}")
            sync_client.suppliers.update(supplier.id, display_name=f"touched {n}")
    assert before <= set(seen)
    assert set(seen.values()) == {1}


# Marking each record exported as it is seen takes it out of ``exported=False`` while the scan runs:
# every later record moves one place closer to the front, so offset paging (which counts places)
# skips a record for each one marked, while keyset paging (which resumes after the last id) does not.
SCAN_PAGE = 10


def _unexported(seeded: Emulator) -> set[int]:
    return {int(i) for i, d in seeded.store.documents("InvoiceHeader").items() if not d.get("exported")}


def _scan_set(seeded: Emulator) -> set[int]:
    ids = _unexported(seeded)
    assert len(ids) > 3 * SCAN_PAGE  # several pages, so a drifting offset has room to skip
    return ids


def test_keyset_scan_sees_each_record_once_while_the_scan_changes_its_membership(
    sync_client: Coupa, seeded: Emulator
) -> None:
    todo = _scan_set(seeded)
    seen: Counter[int] = Counter()
    for inv in sync_client.invoices.iter(exported=False, page_size=SCAN_PAGE, fields=["id"]):
        seen[inv.id] += 1
        sync_client.invoices.mark_exported(inv.id)
    assert set(seen) == todo and set(seen.values()) == {1}
    assert not _unexported(seeded)


def test_offset_scan_skips_records_under_the_same_writes(sync_client: Coupa, seeded: Emulator) -> None:
    # The control for the test above: the same writes make offset paging skip records, so that
    # test really tells keyset paging from offset paging.
    todo = _scan_set(seeded)
    seen: Counter[int] = Counter()
    for inv in sync_client.invoices.iter(exported=False, page_size=SCAN_PAGE, mode="offset", fields=["id"]):
        seen[inv.id] += 1
        sync_client.invoices.mark_exported(inv.id)
    assert set(seen) < todo and len(todo - set(seen)) >= SCAN_PAGE


@pytest.mark.parametrize("mode", ["keyset", "offset"])
async def test_async_scan_while_marking_exported(async_client: AsyncCoupa, seeded: Emulator, mode: str) -> None:
    todo = _scan_set(seeded)
    seen: Counter[int] = Counter()
    async for inv in async_client.invoices.iter(exported=False, page_size=SCAN_PAGE, mode=mode, fields=["id"]):
        seen[inv.id] += 1
        await async_client.invoices.mark_exported(inv.id)
    if mode == "keyset":
        assert set(seen) == todo and set(seen.values()) == {1}
    else:
        assert set(seen) < todo  # offset drifts under the same writes


def test_offset_mode_pages_until_a_short_page(sync_client: Coupa, seeded: Emulator) -> None:
    ids = [i.id for i in sync_client.invoices.iter(mode="offset", page_size=50)]
    assert len(ids) == len(set(ids)) == seeded.store.count("InvoiceHeader")


def test_full_pull_sync_gets_each_record_once(sync_client: Coupa, seeded: Emulator) -> None:
    counts = Counter(i.id for i in sync_client.invoices.iter(full_pull=True, partitions=4))
    assert len(counts) == seeded.store.count("InvoiceHeader") and set(counts.values()) == {1}


async def test_async_full_pull_and_permission_error(async_client: AsyncCoupa, seeded: Emulator) -> None:
    counts: Counter[int] = Counter()
    async for inv in async_client.invoices.iter(full_pull=True, partitions=5, fields=["id", "status"]):
        counts[inv.id] += 1
    assert len(counts) == seeded.store.count("InvoiceHeader") and set(counts.values()) == {1}
    with pytest.raises(PermissionDeniedError) as err:
        await async_client.users.list()
    assert "core.user.read" in str(err.value)


@pytest.mark.slow
async def test_full_pull_under_faults_returns_every_invoice_once() -> None:
    emu = Emulator()
    seed(emu, SeedCounts(invoices=5000, payments=0), random_seed=5)
    cid, secret = emu.create_oauth_client(["core.invoice.read"])
    emu.faults.configure({"rates": {"500": 0.04, "502": 0.03, "503": 0.03, "429": 0.05, "reset": 0.02},
                          "random_seed": 11})  # fmt: skip
    # A real socket: a "reset" fault must reach the client as a dropped connection.
    with serve_in_thread(emu) as running:
        counts = await _pull_under_faults(emu, running.url, cid, secret)
    assert len(counts) == 5000 and set(counts.values()) == {1}
    injected = emu.faults.snapshot()["counters"]["injected"]
    assert sum(injected.values()) > 20 and injected.get("reset", 0) > 0


async def _pull_under_faults(emu: Emulator, url: str, cid: str, secret: str) -> Counter[int]:
    async with AsyncCoupa(
        url,
        client_id=cid,
        client_secret=secret,
        scopes=["core.invoice.read"],
        retry=RetryPolicy(base_delay=0.001, max_delay=0.01, max_attempts=12),
        rate_limiter=None,
    ) as coupa:
        counts: Counter[int] = Counter()
        revoked = False
        async for inv in coupa.invoices.iter(full_pull=True, partitions=6, fields=["id"]):
            counts[inv.id] += 1
            if not revoked and len(counts) > 2000:
                emu.oauth.revoke_all()  # the pull must re-mint its token and carry on
                revoked = True
    assert revoked
    return counts


def test_scopes_for_covers_documented_routes_beyond_r39() -> None:
    assert Coupa.scopes_for(["invoices.create", "invoices.list", "invoices.void"]) == [
        "core.invoice.create",
        "core.invoice.read",
        "core.invoice.delete",
    ]
    with pytest.raises(ConfigurationError, match="unknown resource"):
        Coupa.scopes_for(["invoicez.list"])


async def test_xml_format_gives_the_same_models_as_json(seeded: Emulator) -> None:
    cid, secret = seeded.create_oauth_client(list(ALL))
    kwargs = {"client_id": cid, "client_secret": secret, "scopes": list(ALL), "retry": FAST_RETRY}
    transport = httpx.ASGITransport(app=seeded.app)
    async with (
        AsyncCoupa("http://127.0.0.1", transport=transport, format="xml", **kwargs) as xml_client,
        AsyncCoupa("http://127.0.0.1", transport=transport, **kwargs) as json_client,
    ):
        from_xml = await xml_client.invoices.list(limit=5)
        from_json = await json_client.invoices.list(limit=5)
        assert [i.id for i in from_xml] == [i.id for i in from_json]
        for a, b in zip(from_xml, from_json, strict=True):
            assert (a.status, a.total_with_taxes, a.created_at) == (b.status, b.total_with_taxes, b.created_at)
            assert [line.total for line in a.invoice_lines] == [line.total for line in b.invoice_lines]
        one = await xml_client.invoices.get(from_json[0].id)
        assert one.id == from_json[0].id and one.supplier.name == from_json[0].supplier.name
        assert await xml_client.invoices.list(invoice_number="no-such-number") == []  # XML's 404 "No results"


async def test_max_rate_wait_refuses_instead_of_queueing(seeded: Emulator) -> None:
    cid, secret = seeded.create_oauth_client(list(ALL))
    inner = httpx.ASGITransport(app=seeded.app)
    sent: list[str] = []

    class Counting(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            sent.append(request.url.path)
            return await inner.handle_async_request(request)

    async with AsyncCoupa("http://127.0.0.1", client_id=cid, client_secret=secret, scopes=list(ALL),
                          transport=Counting(), rps=2, burst=1, max_rate_wait=0.2) as coupa:  # fmt: skip
        await coupa.currencies.list(limit=1)  # the burst of one
        with pytest.raises(RateBudgetExceededError) as refused:
            await coupa.currencies.list(limit=1)  # next slot 0.5 s away: over the cap
        assert 0.2 < refused.value.wait <= 0.5
        assert refused.value.retry_after == pytest.approx(refused.value.wait - 0.2)
    assert [p for p in sent if p.startswith("/api/")] == ["/api/currencies"]  # the refused call never left
    with pytest.raises(ConfigurationError, match="max_rate_wait"):
        Coupa("http://127.0.0.1", client_id=cid, client_secret=secret, scopes=list(ALL), max_rate_wait=-1)


@pytest.mark.slow
async def test_full_pull_adapts_to_429s_from_coupas_throttle() -> None:
    """Against Coupa's throttle (25/s, burst 20) over a socket, a limiter set far too fast draws
    429s, slows itself down and loses nothing; the default one gets every invoice too (what 429s
    it may draw when the instance stalls and then admits queued requests together are absorbed)."""
    emu = Emulator()
    seed(emu, SeedCounts(invoices=1500, payments=0), random_seed=2)
    cid, secret = emu.create_oauth_client(["core.invoice.read"])
    with serve_in_thread(emu) as running:
        for label, options in (("too fast", {"rps": 80.0, "burst": 20}), ("default", {})):
            emu.stats.reset()
            emu.buckets.configure(emu.buckets.settings)  # a full bucket for each run
            async with AsyncCoupa(running.url, client_id=cid, client_secret=secret, scopes=["core.invoice.read"],
                                  retry=FAST_RETRY, **options) as coupa:  # fmt: skip
                ids = Counter([inv.id async for inv in coupa.invoices.iter(full_pull=True, fields=["id"])])
                limiter = coupa.settings.limiter
                assert limiter is not None
                adapted = limiter.effective_rps()
            assert len(ids) == 1500 and set(ids.values()) == {1}, label
            if label == "too fast":
                assert emu.stats.snapshot()["by_status"].get("429", 0) > 0
                assert adapted < 80.0  # the 429s halved its rate


def test_every_catalog_resource_is_reachable_and_refuses_what_it_lacks() -> None:
    """Each of the catalog's resources through ``coupa.resource(name)``: ``list`` sends a GET to
    its own collection path where the catalog has one, and fails before any request where not."""
    from pycoupa.catalog.model import load_catalog

    sent: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/oauth2/token":
            return httpx.Response(200, json={"access_token": "t", "token_type": "bearer", "expires_in": 3600})
        sent.append(request)
        return httpx.Response(200, json=[])

    catalog = load_catalog()
    with Coupa("https://acme.coupahost.com", client_id="c", client_secret="s", scopes=["x"],
               transport=httpx.MockTransport(answer), rate_limiter=None, models=False) as coupa:  # fmt: skip
        listed = refused = 0
        for resource in catalog.resources.values():
            depth = resource.path.count("{")
            handle = coupa.resource(resource.name, parent_id=None if not depth else 7 if depth == 1 else (7,) * depth)
            sent.clear()
            if resource.op("list") is None:
                with pytest.raises(ConfigurationError):
                    handle.list(limit=1)
                assert not sent, resource.name
                refused += 1
                continue
            assert handle.list(limit=1) == [], resource.name
            [request] = sent
            expected = "/api" + re.sub(r"\{[^}]+\}", "7", resource.path)
            assert request.method == "GET" and request.url.path == expected, resource.name
            listed += 1
    assert listed > 100 and listed + refused == len(catalog.resources)
    # A nested record: the parent's id and the record's both land where they belong.
    with Coupa("https://acme.coupahost.com", client_id="c", client_secret="s", scopes=["x"],
               transport=httpx.MockTransport(lambda r: answer(r) if r.url.path == "/oauth2/token" else (
                   sent.append(r) or httpx.Response(200, json={"id": 3}))), rate_limiter=None,
               models=False) as coupa:  # fmt: skip
        sent.clear()
        coupa.resource("suppliers/{supplier_id}/addresses", parent_id=5).get(3)
        coupa.resource("suppliers/{supplier_id}/addresses", parent_id=5).create({"street1": "1 Main St"})
        assert [(r.method, r.url.path) for r in sent] == [
            ("GET", "/api/suppliers/5/addresses/3"),
            ("POST", "/api/suppliers/5/addresses"),
        ]
        with pytest.raises(ConfigurationError, match="supplier_id"):
            coupa.resource("suppliers/{supplier_id}/addresses", parent_id=(5, 6)).list()
