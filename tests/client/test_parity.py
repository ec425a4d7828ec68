"""``Coupa`` and ``AsyncCoupa`` are twins: same methods, same signatures, same requests.

Every public method of the sync client and resource has an async twin with the same parameters;
and the same calls made through both send byte-identical requests (method, URL with its query,
headers that matter, body), recorded by a mock transport.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest

from pycoupa.client import AsyncCoupa, Coupa
from pycoupa.client._base import CoreClient
from pycoupa.client.auth import PROCESS_TOKENS
from pycoupa.client.resources import AsyncResource, SyncResource
from pycoupa.client.retry import RetryPolicy

# Names of the async twin where they differ (asyncio's conventions).
ASYNC_NAME = {"close": "aclose", "__enter__": "__aenter__", "__exit__": "__aexit__"}
# Annotations that differ only by being async.
ASYNC_ANNOTATION = {
    "Iterator[Any]": "AsyncIterator[Any]",
    "httpx.BaseTransport | None": "httpx.AsyncBaseTransport | None",
    "SyncResource": "AsyncResource",
    "Coupa": "AsyncCoupa",
}


def public(cls: type, dunders: tuple[str, ...]) -> dict[str, Callable[..., Any]]:
    names = {n for n in dir(cls) if not n.startswith("_")} | {n for n in ("__init__", *dunders) if n in vars(cls)}
    return {n: getattr(cls, n) for n in names if callable(getattr(cls, n))}


def same_signature(sync: Callable[..., Any], asyn: Callable[..., Any]) -> None:
    s, a = inspect.signature(sync), inspect.signature(asyn)
    assert list(s.parameters) == list(a.parameters), sync.__name__
    for name, p in s.parameters.items():
        q = a.parameters[name]
        assert (p.kind, p.default) == (q.kind, q.default), f"{sync.__qualname__}({name})"
        assert ASYNC_ANNOTATION.get(str(p.annotation), str(p.annotation)) == str(q.annotation), name
    if s.return_annotation is not inspect.Signature.empty:
        expected = ASYNC_ANNOTATION.get(str(s.return_annotation), str(s.return_annotation))
        assert str(a.return_annotation) == expected, sync.__qualname__


@pytest.mark.parametrize(("sync_cls", "async_cls"), [(SyncResource, AsyncResource), (Coupa, AsyncCoupa)])
def test_every_public_method_has_an_async_twin(sync_cls: type, async_cls: type) -> None:
    sync_methods = public(sync_cls, ("__enter__", "__exit__"))
    async_methods = public(async_cls, ("__aenter__", "__aexit__"))
    assert {"list", "iter", "get", "create", "update", "delete", "close", "resource"} & set(sync_methods)
    for name, method in sync_methods.items():
        twin_name = ASYNC_NAME.get(name, name)
        assert twin_name in async_methods, f"{async_cls.__name__} lacks {twin_name}"
        twin = async_methods[twin_name]
        if method is twin:
            continue  # shared (CoreClient's): one implementation
        same_signature(method, twin)
        if name in ("__init__", "resource", "iter") or getattr(CoreClient, name, None) is method:
            assert not inspect.iscoroutinefunction(twin), name
        else:
            assert inspect.iscoroutinefunction(twin), f"{async_cls.__name__}.{twin_name} should be awaitable"
    extra = {n for n in async_methods if n not in {ASYNC_NAME.get(s, s) for s in sync_methods}}
    assert not extra, f"async-only methods: {extra}"


def test_the_shared_core_is_shared() -> None:
    for name in ("build_request", "decode", "request_flow", "scopes_for", "catalog_resource", "__getattr__"):
        assert getattr(Coupa, name) is getattr(AsyncCoupa, name) is getattr(CoreClient, name), name


# -- the same requests ---------------------------------------------------------------------------------

INVOICES: list[dict[str, Any]] = [
    {"id": n, "invoice-number": f"INV-{n}", "status": "approved", "total-with-taxes": f"{n}.00"}
    for n in (3, 4, 8, 9, 12, 15, 21)
]


def coupa_mock(log: list[httpx.Request]) -> Callable[[httpx.Request], httpx.Response]:
    """Enough of Coupa for every call below: filters by id, pages by offset or keyset."""

    def handle(request: httpx.Request) -> httpx.Response:
        request.read()
        log.append(request)
        path = request.url.path
        if path == "/oauth2/token":
            return httpx.Response(200, json={"access_token": "tok", "token_type": "bearer", "expires_in": 3600})
        if path == "/api/invoices" and request.method == "GET":
            q = dict(parse_qsl(request.url.query.decode()))
            rows = [r for r in INVOICES if r["id"] > int(q.get("id[gt]", 0))]
            rows = [r for r in rows if r["id"] <= int(q.get("id[lt_or_eq]", 10**9))]
            if q.get("dir") == "desc":
                rows.reverse()
            offset = int(q.get("offset", 0))
            return httpx.Response(200, json=rows[offset : offset + int(q.get("limit", 50))])
        if path.startswith("/api/invoices/") or path == "/api/invoices":
            body = json.loads(request.content) if request.content else {}
            record_id = int(path.split("/")[3]) if path.count("/") >= 3 else 99
            return httpx.Response(200, json={"id": record_id, **body})
        return httpx.Response(404, json={"errors": {"error": ["not found"]}})

    return handle


KWARGS: dict[str, Any] = {
    "client_id": "cid",
    "client_secret": "secret",
    "scopes": ["core.invoice.read", "core.invoice.write", "core.invoice.create", "core.invoice.delete"],
    "retry": RetryPolicy(max_attempts=1),
}
URL = "https://acme.coupahost.com"


def shown(request: httpx.Request) -> tuple[Any, ...]:
    headers = {k: request.headers.get(k) for k in ("accept", "content-type", "authorization", "user-agent")}
    return request.method, str(request.url), tuple(sorted(headers.items())), request.content


def sync_calls(coupa: Coupa) -> list[Any]:
    inv = coupa.invoices
    return [
        inv.list(status="approved", limit=5, order_by="created_at", dir="desc", fields=["id", {"supplier": ["name"]}]),
        inv.list(offset=2, return_object="limited"),
        list(inv.iter(page_size=2)),
        list(inv.iter(page_size=3, mode="offset", status="approved")),
        inv.get(8, fields=["id", "status"]),
        inv.create({"invoice_number": "N-1", "supplier": {"id": 1}}, return_object="shallow"),
        inv.create(invoice_number="N-2", total_with_taxes="5.00"),
        inv.update(8, {"comments": "hi"}, fields=["id"]),
        inv.update(9, comments="kw"),
        inv.delete(12),
        inv.mark_exported(15),
        inv.dispute(21, reason_code="PRICE", comment="too much"),
        inv.void(3),
        inv.abandon(4, {"reason": "dup"}, return_object="limited"),
        coupa.resource("invoices").get(9),
    ]


async def async_calls(coupa: AsyncCoupa) -> list[Any]:
    inv = coupa.invoices
    return [
        await inv.list(
            status="approved", limit=5, order_by="created_at", dir="desc", fields=["id", {"supplier": ["name"]}]
        ),
        await inv.list(offset=2, return_object="limited"),
        [r async for r in inv.iter(page_size=2)],
        [r async for r in inv.iter(page_size=3, mode="offset", status="approved")],
        await inv.get(8, fields=["id", "status"]),
        await inv.create({"invoice_number": "N-1", "supplier": {"id": 1}}, return_object="shallow"),
        await inv.create(invoice_number="N-2", total_with_taxes="5.00"),
        await inv.update(8, {"comments": "hi"}, fields=["id"]),
        await inv.update(9, comments="kw"),
        await inv.delete(12),
        await inv.mark_exported(15),
        await inv.dispute(21, reason_code="PRICE", comment="too much"),
        await inv.void(3),
        await inv.abandon(4, {"reason": "dup"}, return_object="limited"),
        await coupa.resource("invoices").get(9),
    ]


@pytest.mark.parametrize("fmt", ["json", "xml"])
@pytest.mark.parametrize("models", [True, False])
async def test_sync_and_async_send_the_same_requests(fmt: str, models: bool) -> None:
    sync_log: list[httpx.Request] = []
    async_log: list[httpx.Request] = []
    options = {**KWARGS, "format": fmt, "models": models}
    with Coupa(URL, transport=httpx.MockTransport(coupa_mock(sync_log)), **options) as coupa:
        sync_results = sync_calls(coupa)
    PROCESS_TOKENS.clear()  # the async client mints its own token, as the sync one did
    async with AsyncCoupa(URL, transport=httpx.MockTransport(coupa_mock(async_log)), **options) as acoupa:
        async_results = await async_calls(acoupa)
    assert [shown(r) for r in sync_log] == [shown(r) for r in async_log]
    assert sync_results == async_results
    methods = {r.method for r in sync_log}
    assert methods == {"GET", "POST", "PUT", "DELETE"}
    paths = {r.url.path for r in sync_log}
    assert {"/api/invoices/21/dispute", "/api/invoices/3/void", "/api/invoices/4/abandon"} <= paths
    assert len([r for r in sync_log if r.url.path == "/oauth2/token"]) == 1
    assert [r["id"] if isinstance(r, dict) else r.id for r in sync_results[2]] == [i["id"] for i in INVOICES]


async def test_full_pulls_send_the_same_requests() -> None:
    """Partitions run concurrently, so the order differs; the set of requests does not."""
    sync_log: list[httpx.Request] = []
    async_log: list[httpx.Request] = []
    with Coupa(URL, transport=httpx.MockTransport(coupa_mock(sync_log)), **KWARGS) as coupa:
        got = sorted(i.id for i in coupa.invoices.iter(full_pull=True, partitions=3, page_size=2, status="approved"))
    PROCESS_TOKENS.clear()
    async with AsyncCoupa(URL, transport=httpx.MockTransport(coupa_mock(async_log)), **KWARGS) as acoupa:
        agot = sorted(
            [i.id async for i in acoupa.invoices.iter(full_pull=True, partitions=3, page_size=2, status="approved")]
        )
    assert got == agot == [i["id"] for i in INVOICES]
    assert sorted(shown(r) for r in sync_log) == sorted(shown(r) for r in async_log)


def test_dynamic_actions_have_the_same_signature() -> None:
    with Coupa(URL, **KWARGS) as coupa:
        sync_void = coupa.invoices.void
    acoupa = AsyncCoupa(URL, **KWARGS)
    async_void = acoupa.invoices.void
    same_signature(sync_void, async_void)
    assert inspect.iscoroutinefunction(async_void) and not inspect.iscoroutinefunction(sync_void)
    assert type(coupa.coupa_pay.payments) is SyncResource and type(acoupa.coupa_pay.payments) is AsyncResource
