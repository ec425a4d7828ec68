"""The 1:1 proxy: methods, bodies, formats and Coupa's own errors pass through; only the account's
instance is reachable."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from tests.server.conftest import Server

from pycoupa.server.errors import APIError
from pycoupa.server.proxy import check_path, target_url


async def test_get_passes_query_and_answers_json(server: Server) -> None:
    s = server
    account = await s.connect()
    r = await s.http.get(f"/proxy/suppliers?integrated_account_id={account}&limit=2&order_by=id", headers=s.auth())
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/json")
    records = r.json()
    assert len(records) == 2 and records[0]["id"] < records[1]["id"]
    assert "created-at" in records[0]  # Coupa's own shape, untouched


async def test_xml_when_asked(server: Server) -> None:
    s = server
    account = await s.connect()
    r = await s.http.get(
        f"/proxy/suppliers?integrated_account_id={account}&limit=1", headers={**s.auth(), "Accept": "application/xml"}
    )
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/xml")
    assert r.content.lstrip().startswith(b"<?xml") and b"<suppliers" in r.content


async def test_account_by_header_and_api_prefix(server: Server) -> None:
    s = server
    account = await s.connect()
    r = await s.http.get("/proxy/api/currencies?limit=1", headers={**s.auth(), "X-Integrated-Account-Id": account})
    assert r.status_code == 200 and len(r.json()) == 1


async def test_writes_pass_through_and_coupa_errors_are_preserved(server: Server) -> None:
    s = server
    account = await s.connect()
    r = await s.http.post(
        f"/proxy/suppliers?integrated_account_id={account}", json={"name": "Proxy Co", "number": "PX-1"},
        headers=s.auth(),
    )  # fmt: skip
    assert r.status_code == 201, r.text
    created = r.json()
    assert created["name"] == "Proxy Co"
    r = await s.http.put(f"/proxy/suppliers/{created['id']}?integrated_account_id={account}",
                         json={"number": "PX-2"}, headers=s.auth())  # fmt: skip
    assert r.status_code == 200 and r.json()["number"] == "PX-2", r.text
    dup = await s.http.post(f"/proxy/suppliers?integrated_account_id={account}", json={"name": "Proxy Co"},
                            headers=s.auth())  # fmt: skip
    assert dup.status_code == 422 or dup.status_code == 400
    assert "errors" in dup.json()  # Coupa's envelope, as Coupa sent it
    missing = await s.http.get(f"/proxy/suppliers/999999?integrated_account_id={account}", headers=s.auth())
    assert missing.status_code == 404
    denied = await s.http.get(f"/proxy/expense_reports?integrated_account_id={account}", headers=s.auth())
    assert denied.status_code == 403  # the account's scopes do not include expenses


@pytest.mark.parametrize(
    "raw",
    [
        "../oauth2/token",
        "suppliers/../../__emulator__/reset",
        "%2e%2e/oauth2/token",
        "suppliers%2f..%2f..%2f__emulator__",
        "%252e%252e/x",
        "/evil.example.com/api",
        "//evil.example.com/api",
        "http:/evil.example.com",
        "https://evil.example.com/api/users",
        "user@evil.example.com/x",
        "suppliers\\..\\x",
        "suppliers/./x",
        "",
    ],
)
def test_path_tricks_are_refused(raw: str) -> None:
    with pytest.raises(APIError) as info:
        check_path(raw)
    assert info.value.status_code == 400 and info.value.error == "invalid_proxy_path"


def test_target_stays_on_the_instance() -> None:
    url = target_url("https://acme.coupahost.com", check_path("invoices/12/void"), b"a=1")
    assert str(url) == "https://acme.coupahost.com/api/invoices/12/void?a=1"
    assert target_url("https://acme.coupahost.com", "users", b"").host == "acme.coupahost.com"


@pytest.mark.parametrize(
    "path",
    ["/proxy/..%2F__emulator__/reset", "/proxy/%2e%2e/oauth2/token", "/proxy/suppliers/%2e%2e/%2e%2e/x"],
)
async def test_encoded_tricks_refused_over_http(server: Server, path: str) -> None:
    s = server
    account = await s.connect()
    before = s.coupa.stats.total
    r = await s.http.get(f"{path}?integrated_account_id={account}", headers=s.auth())
    assert r.status_code in (400, 404)
    if r.status_code == 400:
        assert r.json()["error"] == "invalid_proxy_path"
    assert s.coupa.stats.total == before


async def test_redirect_to_another_host_is_refused(server: Server) -> None:
    s = server
    account = await s.connect()
    inner = httpx.ASGITransport(app=s.coupa.app)

    class Redirecting(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            if request.url.path == "/api/suppliers/1/evil":
                return httpx.Response(302, headers={"Location": "https://evil.example.com/steal"})
            if request.url.path == "/api/suppliers/1/home":
                return httpx.Response(302, headers={"Location": "/api/suppliers/1"})
            return await inner.handle_async_request(request)

    s.platform.pool._transport_factory = lambda _url: Redirecting()
    await s.platform.pool.forget(account)
    r = await s.http.get(f"/proxy/suppliers/1/evil?integrated_account_id={account}", headers=s.auth())
    assert r.status_code == 502 and r.json()["error"] == "redirect_refused"
    assert "evil.example.com" not in r.headers.get("location", "")
    r = await s.http.get(f"/proxy/suppliers/1/home?integrated_account_id={account}", headers=s.auth())
    assert r.status_code == 302 and r.headers["location"] == "/api/suppliers/1"


async def test_proxy_needs_an_account(server: Server) -> None:
    s = server
    r = await s.http.get("/proxy/suppliers", headers=s.auth())
    assert r.status_code == 400 and "integrated_account_id" in r.json()["message"]


async def test_head_and_options_are_forwarded(sqlite_server: Server) -> None:
    s = sqlite_server
    account = await s.connect()
    seen: list[str] = []
    inner = httpx.ASGITransport(app=s.coupa.app)

    class Recording(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            if request.url.path.startswith("/api/"):
                seen.append(request.method)
            return await inner.handle_async_request(request)

    s.platform.pool._transport_factory = lambda _url: Recording()
    await s.platform.pool.forget(account)
    head = await s.http.head(f"/proxy/suppliers?integrated_account_id={account}&limit=1", headers=s.auth())
    assert head.status_code == 200 and head.content == b""
    options = await s.http.options(f"/proxy/suppliers?integrated_account_id={account}", headers=s.auth())
    assert seen == ["HEAD", "OPTIONS"]  # both reached Coupa (whose answer to OPTIONS is passed through)
    assert options.status_code == 405


async def test_an_oversized_body_is_refused_before_it_is_read_whole(sqlite_server: Server) -> None:
    from pycoupa.server import proxy

    s = sqlite_server
    account = await s.connect()
    declared = await s.http.post(f"/proxy/suppliers?integrated_account_id={account}", content=b"{}",
                                 headers={**s.auth(), "content-length": str(proxy.MAX_BODY + 1)})  # fmt: skip
    assert declared.status_code == 413 and declared.json()["error"] == "payload_too_large"
    sent = 0

    async def stream() -> AsyncIterator[bytes]:
        nonlocal sent
        chunk = b"x" * (1024 * 1024)
        for _ in range(proxy.MAX_BODY // len(chunk) + 20):
            sent += 1
            yield chunk

    chunked = await s.http.post(f"/proxy/suppliers?integrated_account_id={account}", content=stream(),
                                headers=s.auth())  # fmt: skip
    assert chunked.status_code == 413
