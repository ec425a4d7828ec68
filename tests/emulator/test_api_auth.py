"""Authorization on /api (401 and 403 in the errors envelope), legacy API keys, the throttle and stats."""

from __future__ import annotations

import httpx
import pytest

from pycoupa.emulator.app import Emulator
from pycoupa.wire import codec_xml
from tests.conftest import TokenFactory


async def test_missing_token_is_401_in_xml_and_json(http: httpx.AsyncClient) -> None:
    r = await http.get("/api/suppliers")
    assert r.status_code == 401
    root, value = codec_xml.loads(r.content)
    assert root == "errors" and "Missing access token" in str(value)
    r = await http.get("/api/suppliers", headers={"Accept": "application/json"})
    assert r.status_code == 401
    assert "Missing access token" in r.json()["errors"]["error"][0]


@pytest.mark.parametrize(
    "header",
    ["Bearer", "Bearer not.a.jwt", "Token abc", "Basic dXNlcjpwYXNz", "Bearer eyJhbGciOiJIUzI1NiJ9.e30.abc"],
)
async def test_malformed_credentials_are_401(http: httpx.AsyncClient, header: str) -> None:
    r = await http.get("/api/suppliers", headers={"Authorization": header, "Accept": "application/json"})
    assert r.status_code == 401
    assert r.json()["errors"]["error"]


@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "BEARER", "BeArEr"])
async def test_bearer_scheme_is_case_insensitive(http: httpx.AsyncClient, token: TokenFactory, scheme: str) -> None:
    tok = await token("core.supplier.read")
    r = await http.get("/api/suppliers", headers={"Authorization": f"{scheme} {tok}", "Accept": "application/json"})
    assert r.status_code == 200 and r.json() == []


async def test_expired_token_is_401(emu: Emulator, http: httpx.AsyncClient, token: TokenFactory) -> None:
    tok = await token("core.supplier.read")
    emu.clock.advance(86398)
    assert (await http.get("/api/suppliers", headers={"Authorization": f"Bearer {tok}"})).status_code != 401
    emu.clock.advance(2)
    r = await http.get("/api/suppliers", headers={"Authorization": f"Bearer {tok}", "Accept": "application/json"})
    assert r.status_code == 401 and "expired" in r.json()["errors"]["error"][0]


async def test_revoked_tokens_are_401_and_new_ones_work(http: httpx.AsyncClient, token: TokenFactory) -> None:
    old = await token("core.supplier.read")
    r = await http.post("/__emulator__/revoke-tokens")
    assert r.status_code == 200
    r = await http.get("/api/suppliers", headers={"Authorization": f"Bearer {old}", "Accept": "application/json"})
    assert r.status_code == 401 and "revoked" in r.json()["errors"]["error"][0]
    new = await token("core.supplier.read")
    assert (await http.get("/api/suppliers", headers={"Authorization": f"Bearer {new}"})).status_code in (200, 404)


async def test_token_of_another_instance_is_401(http: httpx.AsyncClient) -> None:
    other = Emulator()
    cid, secret = other.create_oauth_client(["core.supplier.read"])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=other.app), base_url="http://other") as c:
        tok = (
            await c.post(
                "/oauth2/token", data={"grant_type": "client_credentials", "client_id": cid, "client_secret": secret}
            )
        ).json()["access_token"]
    r = await http.get("/api/suppliers", headers={"Authorization": f"Bearer {tok}"})
    assert r.status_code == 401


@pytest.mark.parametrize(
    ("method", "path", "granted", "needed"),
    [
        ("GET", "/api/invoices", "core.supplier.read", "core.invoice.read"),
        ("POST", "/api/suppliers", "core.supplier.read", "core.supplier.write"),
        ("PUT", "/api/invoices/1/void", "core.invoice.write", "core.invoice.delete"),
        ("GET", "/api/coupa_pay/payments", "core.invoice.read", "core.pay.payments.read"),
    ],
)
async def test_missing_scope_is_403_naming_it(
    http: httpx.AsyncClient, token: TokenFactory, method: str, path: str, granted: str, needed: str
) -> None:
    tok = await token(granted)
    r = await http.request(
        method, path, headers={"Authorization": f"Bearer {tok}", "Accept": "application/json"}, json={}
    )
    assert r.status_code == 403
    assert needed in r.json()["errors"]["error"][0]


async def test_legacy_api_key_only_when_enabled(http: httpx.AsyncClient) -> None:
    r = await http.get("/api/suppliers", headers={"X-COUPA-API-KEY": "0" * 40})
    assert r.status_code == 401 and b"disabled" in r.content
    assert (await http.post("/__emulator__/api-keys")).status_code == 400

    legacy = Emulator(legacy_api_keys=True)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=legacy.app), base_url="http://l") as c:
        key = (await c.post("/__emulator__/api-keys")).json()["api_key"]
        assert len(key) == 40
        ok = await c.get("/api/suppliers", headers={"X-COUPA-API-KEY": key, "Accept": "application/json"})
        assert ok.status_code == 200
        bad = await c.get("/api/suppliers", headers={"X-COUPA-API-KEY": "f" * 40})
        assert bad.status_code == 401


async def _burst(http: httpx.AsyncClient, tok: str, n: int) -> list[httpx.Response]:
    return [await http.get("/api/currencies/1", headers={"Authorization": f"Bearer {tok}"}) for _ in range(n)]


async def test_rate_limit_per_client_with_and_without_retry_after(http: httpx.AsyncClient, token: TokenFactory) -> None:
    r = await http.put("/__emulator__/rate-limit", json={"rps": 1, "burst": 3, "retry_after": True})
    assert r.json() == {"rps": 1.0, "burst": 3, "retry_after": True, "enabled": True}
    tok = await token("core.common.read")
    answers = await _burst(http, tok, 5)
    assert [a.status_code for a in answers] == [200, 200, 200, 429, 429]
    assert answers[3].headers["retry-after"] == "1"
    assert b"Rate limit exceeded" in answers[3].content
    # another client has its own bucket
    other = await token("core.common.read")
    assert (await _burst(http, other, 1))[0].status_code == 200

    await http.put("/__emulator__/rate-limit", json={"retry_after": False})
    tok2 = await token("core.common.read")
    answers = await _burst(http, tok2, 4)
    assert answers[3].status_code == 429 and "retry-after" not in answers[3].headers


@pytest.mark.parametrize(
    "body",
    [{"rps": 0}, {"rps": "fast"}, {"burst": 0}, {"burst": 2.5}, {"retry_after": "yes"}, [1, 2]],
)
async def test_rate_limit_settings_are_validated(http: httpx.AsyncClient, body: object) -> None:
    r = await http.put("/__emulator__/rate-limit", json=body)
    assert r.status_code == 400 and r.json()["error"]


async def test_stats_count_routes_statuses_clients_and_peak(
    emu: Emulator, http: httpx.AsyncClient, token: TokenFactory
) -> None:
    tok = await token("core.common.read")
    await http.delete("/__emulator__/stats")
    for _ in range(3):
        await http.get("/api/currencies/1", headers={"Authorization": f"Bearer {tok}"})
    await http.get("/api/invoices", headers={"Authorization": f"Bearer {tok}"})
    stats = (await http.get("/__emulator__/stats")).json()
    assert stats["requests"] == 4
    assert stats["by_route"]["GET /currencies/{id}"] == 3
    assert stats["by_status"] == {"200": 3, "403": 1}
    assert sum(stats["by_client"].values()) == 4 and len(stats["by_client"]) == 1
    assert 1 <= stats["max_requests_in_one_second"] <= 4
