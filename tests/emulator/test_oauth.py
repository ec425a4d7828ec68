"""The OAuth 2.0 server: client credentials, authorization code with PKCE, refresh, RFC 6749 errors."""

from __future__ import annotations

import base64
import hashlib
import secrets
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt
import pytest

from pycoupa.emulator.app import Emulator

REDIRECT = "https://app.example.com/callback"


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


async def test_client_credentials_in_body(emu: Emulator, http: httpx.AsyncClient) -> None:
    cid, secret = emu.create_oauth_client(["core.invoice.read", "core.supplier.read"])
    r = await http.post(
        "/oauth2/token",
        data={
            "grant_type": "client_credentials",
            "client_id": cid,
            "client_secret": secret,
            "scope": "core.invoice.read",
        },
    )
    assert r.status_code == 200
    body = r.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 86399
    assert body["scope"] == "core.invoice.read"
    assert "refresh_token" not in body
    assert r.headers["cache-control"] == "no-store"
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert claims["sub"] == cid and claims["exp"] - claims["iat"] == 86399


async def test_client_credentials_with_basic_auth_and_alias_route(emu: Emulator, http: httpx.AsyncClient) -> None:
    cid, secret = emu.create_oauth_client(["core.user.read"])
    r = await http.post(
        "/oauth2/access_tokens",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": _basic(cid, secret)},
    )
    assert r.status_code == 200, r.text
    assert r.json()["scope"] == "core.user.read"  # no scope asked: the client's scopes


async def test_offline_access_gives_no_refresh_token_to_client_credentials(
    emu: Emulator, http: httpx.AsyncClient
) -> None:
    cid, secret = emu.create_oauth_client(["core.user.read", "offline_access"])
    r = await http.post(
        "/oauth2/token",
        data={
            "grant_type": "client_credentials",
            "client_id": cid,
            "client_secret": secret,
            "scope": "core.user.read offline_access",
        },
    )
    assert r.status_code == 200 and "refresh_token" not in r.json()


@pytest.mark.parametrize(
    ("data", "status", "error"),
    [
        ({"grant_type": "client_credentials", "client_id": "nope", "client_secret": "x"}, 401, "invalid_client"),
        ({"grant_type": "client_credentials", "client_id": "{cid}", "client_secret": "wrong"}, 401, "invalid_client"),
        (
            {
                "grant_type": "client_credentials",
                "client_id": "{cid}",
                "client_secret": "{secret}",
                "scope": "core.nothing.read",
            },
            400,
            "invalid_scope",
        ),
        (
            {
                "grant_type": "client_credentials",
                "client_id": "{cid}",
                "client_secret": "{secret}",
                "scope": "core.invoice.write",
            },
            400,
            "invalid_scope",
        ),
        (
            {
                "grant_type": "client_credentials",
                "client_id": "{cid}",
                "client_secret": "{secret}",
                "scope": "core.invoice.read,core.invoice.write",
            },
            400,
            "invalid_scope",
        ),
        ({"grant_type": "password", "client_id": "{cid}", "client_secret": "{secret}"}, 400, "unsupported_grant_type"),
        ({"client_id": "{cid}", "client_secret": "{secret}"}, 400, "invalid_request"),
        (
            {"grant_type": "authorization_code", "client_id": "{cid}", "client_secret": "{secret}", "code": "bogus"},
            400,
            "invalid_grant",
        ),
        (
            {
                "grant_type": "refresh_token",
                "client_id": "{cid}",
                "client_secret": "{secret}",
                "refresh_token": "bogus",
            },
            400,
            "invalid_grant",
        ),
    ],
)
async def test_token_errors_follow_rfc6749(
    emu: Emulator, http: httpx.AsyncClient, data: dict[str, str], status: int, error: str
) -> None:
    cid, secret = emu.create_oauth_client(["core.invoice.read"])
    filled = {k: v.format(cid=cid, secret=secret) for k, v in data.items()}
    r = await http.post("/oauth2/token", data=filled)
    assert r.status_code == status
    assert r.json()["error"] == error
    assert r.json()["error_description"]
    assert secret not in r.text
    if status == 401:
        assert "www-authenticate" in r.headers


def _pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


async def _authorize(http: httpx.AsyncClient, cid: str, scope: str, challenge: str | None, state: str = "xyz") -> str:
    params = {"client_id": cid, "response_type": "code", "scope": scope, "redirect_uri": REDIRECT, "state": state}
    if challenge:
        params |= {"code_challenge": challenge, "code_challenge_method": "S256"}
    page = await http.get("/oauth2/authorizations/new", params=params)
    assert page.status_code == 200 and "Allow" in page.text
    r = await http.post("/oauth2/authorizations", data={**params, "decision": "allow"})
    assert r.status_code == 302
    target = urlsplit(r.headers["location"])
    assert f"{target.scheme}://{target.netloc}{target.path}" == REDIRECT
    query = parse_qs(target.query)
    assert query["state"] == [state]
    return query["code"][0]


async def test_authorization_code_with_pkce_and_refresh(emu: Emulator, http: httpx.AsyncClient) -> None:
    cid, secret = emu.create_oauth_client(["core.invoice.read", "offline_access"], redirect_uris=[REDIRECT])
    verifier, challenge = _pkce()
    code = await _authorize(http, cid, "core.invoice.read offline_access", challenge)
    r = await http.post(
        "/oauth2/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "client_id": cid,
            "redirect_uri": REDIRECT,
            "code_verifier": verifier,
        },
    )
    assert r.status_code == 200, r.text
    tokens = r.json()
    assert tokens["refresh_token"] and tokens["scope"] == "core.invoice.read offline_access"
    # the code is single use
    again = await http.post(
        "/oauth2/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "client_id": cid,
            "redirect_uri": REDIRECT,
            "code_verifier": verifier,
        },
    )
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
    # refresh works and keeps working for 90 days, not after
    r = await http.post(
        "/oauth2/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": tokens["refresh_token"],
            "client_id": cid,
            "client_secret": secret,
        },
    )
    assert r.status_code == 200 and r.json()["access_token"] != tokens["access_token"]
    emu.clock.advance(91 * 86400)
    r = await http.post(
        "/oauth2/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": tokens["refresh_token"],
            "client_id": cid,
            "client_secret": secret,
        },
    )
    assert r.status_code == 400 and "expired" in r.json()["error_description"]


async def test_pkce_verifier_must_match(emu: Emulator, http: httpx.AsyncClient) -> None:
    cid, _ = emu.create_oauth_client(["core.invoice.read"])
    _, challenge = _pkce()
    code = await _authorize(http, cid, "core.invoice.read", challenge)
    other_verifier, _ = _pkce()
    r = await http.post(
        "/oauth2/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "client_id": cid,
            "redirect_uri": REDIRECT,
            "code_verifier": other_verifier,
        },
    )
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"


async def test_authorization_code_without_pkce_needs_the_secret_and_redirect(
    emu: Emulator, http: httpx.AsyncClient
) -> None:
    cid, secret = emu.create_oauth_client(["core.invoice.read"])
    code = await _authorize(http, cid, "core.invoice.read", None)
    r = await http.post(
        "/oauth2/token",
        data={"grant_type": "authorization_code", "code": code, "client_id": cid, "redirect_uri": REDIRECT},
    )
    assert r.status_code == 401 and r.json()["error"] == "invalid_client"
    code = await _authorize(http, cid, "core.invoice.read", None)
    r = await http.post(
        "/oauth2/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "client_id": cid,
            "client_secret": secret,
            "redirect_uri": "https://evil.example/cb",
        },
    )
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"
    code = await _authorize(http, cid, "core.invoice.read", None)
    r = await http.post(
        "/oauth2/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "client_id": cid,
            "client_secret": secret,
            "redirect_uri": REDIRECT,
        },
    )
    assert r.status_code == 200 and "refresh_token" not in r.json()  # no offline_access, no refresh token


async def test_consent_denied_redirects_with_access_denied(emu: Emulator, http: httpx.AsyncClient) -> None:
    cid, _ = emu.create_oauth_client(["core.invoice.read"])
    params = {
        "client_id": cid,
        "response_type": "code",
        "scope": "core.invoice.read",
        "redirect_uri": REDIRECT,
        "state": "s1",
    }
    r = await http.post("/oauth2/authorizations", data={**params, "decision": "deny"})
    assert r.status_code == 302
    assert parse_qs(urlsplit(r.headers["location"]).query) == {"error": ["access_denied"], "state": ["s1"]}


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        ({"client_id": "unknown"}, "unknown client_id"),
        ({"redirect_uri": "not-a-url"}, "redirect_uri"),
        ({"response_type": "token"}, "response_type"),
        ({"scope": "core.invoice.write"}, "not allowed"),
        ({"code_challenge": "abc", "code_challenge_method": "plain"}, "S256"),
    ],
)
async def test_consent_page_refuses_bad_requests(
    emu: Emulator, http: httpx.AsyncClient, change: dict[str, str], fragment: str
) -> None:
    cid, _ = emu.create_oauth_client(["core.invoice.read"], redirect_uris=[REDIRECT])
    params = {"client_id": cid, "response_type": "code", "scope": "core.invoice.read", "redirect_uri": REDIRECT}
    r = await http.get("/oauth2/authorizations/new", params={**params, **change})
    assert r.status_code in (400, 401)
    assert fragment in r.text


async def test_authorization_code_expires(emu: Emulator, http: httpx.AsyncClient) -> None:
    cid, secret = emu.create_oauth_client(["core.invoice.read"])
    code = await _authorize(http, cid, "core.invoice.read", None)
    emu.clock.advance(601)
    r = await http.post(
        "/oauth2/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "client_id": cid,
            "client_secret": secret,
            "redirect_uri": REDIRECT,
        },
    )
    assert r.status_code == 400 and "expired" in r.json()["error_description"]
