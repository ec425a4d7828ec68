"""Integrated accounts and API keys over HTTP, on SQLite and PostgreSQL: validation, the vault at
rest, tenant isolation, status changes and capabilities."""

from __future__ import annotations

import logging
import uuid
from typing import Any

import httpx
import psycopg
import pytest
import sqlalchemy as sa
from tests.server.conftest import INSTANCE, SCOPES, Server

from pycoupa.server.platform import Platform


def _body(server: Server, **over: object) -> dict[str, object]:
    body: dict[str, object] = {
        "instance_url": INSTANCE,
        "client_id": server.client_id,
        "client_secret": server.client_secret,
        "scopes": list(SCOPES),
    }
    body.update(over)
    return body


async def test_create_account_validates_and_hides_the_secret(server: Server) -> None:
    r = await server.http.post("/integrated-accounts", json=_body(server, label="acme"), headers=server.auth())
    assert r.status_code == 201, r.text
    account = r.json()
    assert account["status"] == "active"
    assert account["instance_url"] == INSTANCE
    assert account["label"] == "acme"
    assert account["last_validated_at"]
    assert server.client_secret not in r.text
    # The validation minted a token and made a real call.
    assert server.coupa.stats.total >= 1
    listed = (await server.http.get("/integrated-accounts", headers=server.auth())).json()
    assert [a["id"] for a in listed["result"]] == [account["id"]]
    got = await server.http.get(f"/integrated-accounts/{account['id']}", headers=server.auth())
    assert got.json()["id"] == account["id"] and server.client_secret not in got.text


async def test_wrong_secret_is_refused_and_nothing_stored(server: Server) -> None:
    r = await server.http.post(
        "/integrated-accounts", json=_body(server, client_secret="not-the-secret"), headers=server.auth()
    )
    assert r.status_code == 400
    body = r.json()
    assert body["error"] == "invalid_credentials"
    assert set(body) >= {"status_code", "error", "message", "details"}
    assert body["remote_error"]["status_code"] == 401
    assert "not-the-secret" not in r.text
    assert (await server.http.get("/integrated-accounts", headers=server.auth())).json()["result"] == []


async def test_scopes_are_checked_before_any_request(server: Server) -> None:
    before = server.coupa.stats.total
    r = await server.http.post(
        "/integrated-accounts", json=_body(server, scopes=["core.nope.read"]), headers=server.auth()
    )
    assert r.status_code == 400 and "core.nope.read" in r.json()["message"]
    r = await server.http.post("/integrated-accounts", json=_body(server, scopes=["offline_access"]),
                               headers=server.auth())  # fmt: skip
    assert r.status_code == 400 and r.json()["error"] == "invalid_scopes"
    assert server.coupa.stats.total == before


async def test_scope_the_client_lacks_is_reported(server: Server) -> None:
    client_id, secret = server.coupa.create_oauth_client(["core.supplier.read"], name="narrow")
    r = await server.http.post(
        "/integrated-accounts",
        json=_body(server, client_id=client_id, client_secret=secret, scopes=["core.invoice.read"]),
        headers=server.auth(),
    )
    assert r.status_code == 400 and r.json()["error"] == "invalid_scopes"


async def test_bad_bodies_name_the_problem(server: Server) -> None:
    r = await server.http.post("/integrated-accounts", json={"instance_url": "ftp://x"}, headers=server.auth())
    assert r.status_code == 400
    text = r.json()["message"]
    assert "client_id" in text and "client_secret" in text and "instance_url" in text
    r = await server.http.post(
        "/integrated-accounts", json=_body(server, instance_url="http://acme.coupahost.com"), headers=server.auth()
    )
    assert r.status_code == 400 and "HTTPS" in r.json()["message"]
    r = await server.http.post(
        "/integrated-accounts", content=b"{not json", headers={**server.auth(), "content-type": "application/json"}
    )
    assert r.status_code == 400 and r.json()["error"] == "bad_request"


async def test_a_password_in_the_instance_url_is_refused_and_not_echoed(server: Server) -> None:
    r = await server.http.post(
        "/integrated-accounts", json=_body(server, instance_url="http://ops:HUNTER2@127.0.0.1:9"), headers=server.auth()
    )
    assert r.status_code == 400 and "user name or password" in r.json()["message"]
    assert "HUNTER2" not in r.text
    listed = await server.http.get("/integrated-accounts", headers=server.auth())
    assert listed.json()["result"] == []


async def test_unreachable_instance(server: Server) -> None:
    r = await server.http.post(
        "/integrated-accounts",
        json=_body(server, instance_url="http://127.0.0.1:1"),
        headers=server.auth(),
    )
    assert r.status_code == 502 and r.json()["error"] == "instance_unreachable"
    assert (await server.http.get("/integrated-accounts", headers=server.auth())).json()["result"] == []


async def test_update_credentials_revalidates_and_bumps_version(server: Server) -> None:
    account_id = await server.connect()
    bad = await server.http.patch(
        f"/integrated-accounts/{account_id}", json={"client_secret": "wrong"}, headers=server.auth()
    )
    assert bad.status_code == 400
    client_id, secret = server.coupa.create_oauth_client(list(SCOPES), name="rotated")
    r = await server.http.patch(
        f"/integrated-accounts/{account_id}",
        json={"client_id": client_id, "client_secret": secret, "label": "rotated"},
        headers=server.auth(),
    )
    assert r.status_code == 200, r.text
    assert r.json()["client_id"] == client_id and r.json()["label"] == "rotated"
    row = await server.platform.get_account(server.tenant_id, account_id, fresh=True)
    assert row.credentials_version == 2
    assert server.platform.credentials(row).client_secret == secret
    empty = await server.http.patch(f"/integrated-accounts/{account_id}", json={}, headers=server.auth())
    assert empty.status_code == 400 and "nothing to change" in empty.json()["message"]


async def test_delete_account(server: Server) -> None:
    account_id = await server.connect()
    r = await server.http.delete(f"/integrated-accounts/{account_id}", headers=server.auth())
    assert r.status_code == 200 and r.json() == {"id": account_id}
    assert (await server.http.get(f"/integrated-accounts/{account_id}", headers=server.auth())).status_code == 404


async def test_tenants_never_see_each_other(server: Server) -> None:
    account_id = await server.connect()
    other = await server.platform.ensure_tenant("other-tenant")
    _, other_key = await server.platform.create_key(other.id)
    hdr = server.auth(other_key)
    assert (await server.http.get("/integrated-accounts", headers=hdr)).json()["result"] == []
    for method, path in [
        ("GET", f"/integrated-accounts/{account_id}"),
        ("PATCH", f"/integrated-accounts/{account_id}"),
        ("DELETE", f"/integrated-accounts/{account_id}"),
        ("GET", f"/integrated-accounts/{account_id}/capabilities"),
        ("GET", f"/unified/accounting/contacts?integrated_account_id={account_id}"),
        ("GET", f"/unified/accounting/contacts/1?integrated_account_id={account_id}"),
        ("GET", f"/proxy/suppliers?integrated_account_id={account_id}"),
    ]:
        r = await server.http.request(method, path, headers=hdr, json={"label": "x"} if method == "PATCH" else None)
        assert r.status_code == 404, (method, path, r.text)
        assert r.json()["error"] == "not_found"
    # ...and the owner still sees it, untouched.
    assert (await server.http.get(f"/integrated-accounts/{account_id}", headers=server.auth())).status_code == 200


async def test_api_keys_are_required_and_revocable(server: Server) -> None:
    assert (await server.http.get("/integrated-accounts")).status_code == 401
    r = await server.http.get("/integrated-accounts", headers={"Authorization": "Bearer pck_" + "x" * 40})
    assert r.status_code == 401 and r.json()["error"] == "unauthorized"
    created = await server.http.post("/keys", json={"name": "ci"}, headers=server.auth())
    assert created.status_code == 201
    new = created.json()
    assert new["key"].startswith("pck_") and new["prefix"] == new["key"][:10]
    assert (await server.http.get("/integrated-accounts", headers=server.auth(new["key"]))).status_code == 200
    listed = (await server.http.get("/keys", headers=server.auth())).json()["result"]
    assert new["id"] in [k["id"] for k in listed] and all("key" not in k for k in listed)
    assert (await server.http.delete(f"/keys/{new['id']}", headers=server.auth())).status_code == 200
    assert (await server.http.get("/integrated-accounts", headers=server.auth(new["key"]))).status_code == 401
    assert (await server.http.delete(f"/keys/{new['id']}", headers=server.auth())).status_code == 404


async def test_keys_are_stored_hashed(server: Server) -> None:
    async with server.platform.engine.connect() as conn:
        rows = (await conn.execute(sa.text("SELECT key_hash, prefix FROM api_keys"))).all()
    assert rows
    for key_hash, prefix in rows:
        assert len(key_hash) == 64 and not key_hash.startswith("pck_")
        assert len(prefix) == 10
    assert server.key[10:] not in str(rows)


async def _dump(platform: Platform, url: str) -> str:
    """Every value of every table, as text: what a database dump would hold."""
    if url.startswith("sqlite"):
        path = url.split(":///", 1)[1]
        with open(path, "rb") as fh:
            data = fh.read()
        return data.decode("latin-1")
    chunks = []
    with psycopg.connect(url) as conn:
        for (table,) in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname='public'").fetchall():
            for row in conn.execute(f'SELECT * FROM "{table}"').fetchall():
                chunks.append(repr(row))
    return "\n".join(chunks)


async def test_database_dump_holds_no_secret(server: Server, database_url: str) -> None:
    await server.connect()
    r = await server.http.post("/keys", json={}, headers=server.auth())
    new_key = r.json()["key"]
    await server.platform.engine.dispose()  # flush SQLite's file
    dump = await _dump(server.platform, database_url)
    assert server.client_id in dump  # the dump is real: it holds the account
    for secret in (server.client_secret, server.key, new_key, server.key[4:20]):
        assert secret not in dump


async def test_needs_reauth_when_coupa_refuses_after_a_remint(server: Server) -> None:
    account_id = await server.connect()
    ok = await server.http.get(f"/unified/accounting/contacts?integrated_account_id={account_id}&limit=1",
                               headers=server.auth())  # fmt: skip
    assert ok.status_code == 200, ok.text
    # The customer's admin rotates the secret in Coupa, which also kills live tokens.
    server.coupa.oauth.create_client(list(SCOPES), None, client_id=server.client_id, client_secret="rotated")
    server.coupa.oauth.revoke_all()
    r = await server.http.get(f"/unified/accounting/contacts?integrated_account_id={account_id}&limit=1",
                              headers=server.auth())  # fmt: skip
    assert r.status_code == 403 and r.json()["error"] == "needs_reauth"
    assert "rotated" not in r.text and server.client_secret not in r.text
    got = (await server.http.get(f"/integrated-accounts/{account_id}", headers=server.auth())).json()
    assert got["status"] == "needs_reauth"
    # Further calls are refused without reaching Coupa, until the credentials are updated.
    before = server.coupa.stats.total
    again = await server.http.get(f"/proxy/suppliers?integrated_account_id={account_id}", headers=server.auth())
    assert again.status_code == 403 and server.coupa.stats.total == before
    fixed = await server.http.patch(f"/integrated-accounts/{account_id}", json={"client_secret": "rotated"},
                                    headers=server.auth())  # fmt: skip
    assert fixed.status_code == 200 and fixed.json()["status"] == "active"


async def test_revalidate_marks_error_or_active(server: Server) -> None:
    account_id = await server.connect()
    r = await server.http.post(f"/integrated-accounts/{account_id}/validate", headers=server.auth())
    assert r.status_code == 200 and r.json()["status"] == "active"
    server.coupa.oauth.create_client(list(SCOPES), None, client_id=server.client_id, client_secret="rotated")
    r = await server.http.post(f"/integrated-accounts/{account_id}/validate", headers=server.auth())
    assert r.status_code == 400
    got = (await server.http.get(f"/integrated-accounts/{account_id}", headers=server.auth())).json()
    assert got["status"] == "needs_reauth" and got["status_reason"]


async def test_capabilities_follow_the_scopes(server: Server) -> None:
    account_id = await server.connect(scopes=("core.supplier.read", "core.invoice.read"))
    r = await server.http.get(f"/integrated-accounts/{account_id}/capabilities", headers=server.auth())
    assert r.status_code == 200
    caps = {(u["model"], u["resource"]): u for u in r.json()["unified"]}
    assert caps[("accounting", "contacts")]["methods"] == ["list", "get"]
    assert caps[("accounting", "invoices")]["methods"] == ["list", "get"]
    assert caps[("accounting", "employees")]["methods"] == []
    assert "core.user.read" in caps[("accounting", "employees")]["missing_scopes"]
    assert caps[("user-directory", "groups")]["methods"] == []
    routes = r.json()["proxy"]["routes"]
    assert "GET /suppliers" in routes and "GET /users" not in routes
    truto = await server.http.get(f"/integrated-account/{account_id}/capabilities", headers=server.auth())
    assert truto.status_code == 200 and truto.json() == r.json()  # Truto's singular path, same answer


async def test_re_encrypt_moves_rows_to_the_primary_key(server: Server) -> None:
    from pycoupa.server.vault import KeyRing, new_key_spec

    account_id = await server.connect()
    old_spec = server.platform.settings.encryption_keys
    server.platform._keyring = KeyRing.parse(f"{new_key_spec('k2')},{old_spec}")
    assert await server.platform.re_encrypt() == 1
    row = await server.platform.get_account(server.tenant_id, account_id, fresh=True)
    assert row.key_id == "k2"
    assert server.platform.credentials(row).client_secret == server.client_secret
    assert await server.platform.re_encrypt() == 0


async def test_error_status_when_coupa_fails_then_active_again(server: Server) -> None:
    account_id = await server.connect()
    # Coupa's API answers 503 to everything after the token request (retries included).
    server.coupa.faults.configure({"script": [{"nth": n, "fault": "503"} for n in range(2, 40)]})
    r = await server.http.post(f"/integrated-accounts/{account_id}/validate", headers=server.auth())
    assert r.status_code == 502, r.text
    assert r.json()["error"] == "validation_failed"
    assert r.json()["remote_error"]["status_code"] == 503
    got = (await server.http.get(f"/integrated-accounts/{account_id}", headers=server.auth())).json()
    assert got["status"] == "error", got
    assert "503" in got["status_reason"] and "Service Unavailable" in got["status_reason"]
    assert server.client_secret not in str(got)
    validated = got["last_validated_at"]
    # Coupa is back: validating again makes the account active and clears the reason.
    server.coupa.faults.clear()
    r = await server.http.post(f"/integrated-accounts/{account_id}/validate", headers=server.auth())
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "active" and r.json()["status_reason"] is None
    assert r.json()["last_validated_at"] > validated
    got = (await server.http.get(f"/integrated-accounts/{account_id}", headers=server.auth())).json()
    assert got["status"] == "active"


async def _into_error(server: Server, account_id: str | None = None) -> str:
    account_id = account_id or await server.connect()
    server.coupa.faults.configure({"script": [{"nth": n, "fault": "503"} for n in range(2, 40)]})
    r = await server.http.post(f"/integrated-accounts/{account_id}/validate", headers=server.auth())
    assert r.status_code == 502, r.text
    server.coupa.faults.clear()
    return account_id


async def _status(server: Server, account_id: str) -> dict[str, Any]:
    got: dict[str, Any] = (await server.http.get(f"/integrated-accounts/{account_id}", headers=server.auth())).json()
    return got


async def test_an_account_in_error_is_active_again_after_a_call_that_goes_through(server: Server) -> None:
    account_id = await _into_error(server)
    assert (await _status(server, account_id))["status"] == "error"
    r = await server.http.get("/unified/accounting/invoices", params={"integrated_account_id": account_id,
                                                                      "limit": "1"}, headers=server.auth())  # fmt: skip
    assert r.status_code == 200, r.text
    got = await _status(server, account_id)
    assert got["status"] == "active" and got["status_reason"] is None


async def test_a_proxied_5xx_leaves_an_account_in_error_and_a_proxied_success_clears_it(server: Server) -> None:
    account_id = await server.connect()
    params = {"integrated_account_id": account_id, "limit": "1"}
    assert (await server.http.get("/proxy/suppliers", params=params, headers=server.auth())).status_code == 200
    await _into_error(server, account_id)  # the proxy's client keeps the token it holds
    server.coupa.faults.configure({"rates": {"500": 1.0}})
    r = await server.http.get("/proxy/suppliers", params=params, headers=server.auth())
    assert r.status_code == 500, r.text  # Coupa's answer, passed through 1:1
    assert (await _status(server, account_id))["status"] == "error"
    server.coupa.faults.clear()
    r = await server.http.get("/proxy/suppliers", params=params, headers=server.auth())
    assert r.status_code == 200, r.text
    assert (await _status(server, account_id))["status"] == "active"


async def test_a_token_endpoint_outage_during_a_call_is_a_502_not_needs_reauth(server: Server) -> None:
    account_id = await server.connect()
    server.coupa.faults.configure({"rates": {"503": 1.0}})  # every request, the token request included
    r = await server.http.get("/unified/accounting/invoices", params={"integrated_account_id": account_id},
                              headers=server.auth())  # fmt: skip
    assert r.status_code == 502, r.text
    assert r.json()["error"] == "remote_auth_unavailable"
    assert r.json()["remote_error"]["status_code"] == 503
    server.coupa.faults.clear()
    got = await _status(server, account_id)
    assert got["status"] == "active", got  # the credentials were never in doubt


async def test_error_status_when_the_instance_is_unreachable(
    sqlite_server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = sqlite_server
    account_id = await server.connect()
    serving = server.platform.pool._transport_factory

    def refused(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("[Errno 111] Connection refused", request=request)

    # The instance goes down (same URL: every connection is refused)...
    monkeypatch.setattr(server.platform.pool, "_transport_factory", lambda url: httpx.MockTransport(refused))
    r = await server.http.post(f"/integrated-accounts/{account_id}/validate", headers=server.auth())
    assert r.status_code == 502 and r.json()["error"] == "instance_unreachable", r.text
    got = (await server.http.get(f"/integrated-accounts/{account_id}", headers=server.auth())).json()
    assert got["status"] == "error"
    assert got["status_reason"] == f"could not reach {INSTANCE}: ConnectError"
    # ...and comes back.
    monkeypatch.setattr(server.platform.pool, "_transport_factory", serving)
    r = await server.http.post(f"/integrated-accounts/{account_id}/validate", headers=server.auth())
    assert r.status_code == 200 and r.json()["status"] == "active", r.text


async def test_token_endpoint_outage_is_an_error_not_needs_reauth(sqlite_server: Server) -> None:
    server = sqlite_server
    account_id = await server.connect()
    server.coupa.faults.configure({"rates": {"503": 1.0}})  # /oauth2/token answers 503 too
    r = await server.http.post(f"/integrated-accounts/{account_id}/validate", headers=server.auth())
    assert r.status_code >= 500, r.text
    got = (await server.http.get(f"/integrated-accounts/{account_id}", headers=server.auth())).json()
    assert got["status"] == "error", got


async def test_logs_never_hold_a_secret(server: Server, caplog: pytest.LogCaptureFixture) -> None:
    # Every logger at DEBUG: the platform, the SDK, httpx/httpcore, SQLAlchemy (SQL and parameters).
    caplog.set_level(logging.DEBUG)
    for name in list(logging.root.manager.loggerDict):
        caplog.set_level(logging.DEBUG, logger=name)
    # Every access token Coupa hands out, whoever asked for it.
    tokens: list[str] = []
    issue = server.coupa.oauth._issue

    def recording_issue(*args: Any, **kwargs: Any) -> dict[str, Any]:
        out = issue(*args, **kwargs)
        tokens.append(out["access_token"])
        return out

    server.coupa.oauth._issue = recording_issue  # type: ignore[method-assign]
    secret = f"canary-secret-{uuid.uuid4().hex}"
    client_id, _ = server.coupa.oauth.create_client(list(SCOPES), None, name="log-canary", client_secret=secret)
    wrong, rotated = f"canary-wrong-{uuid.uuid4().hex}", f"canary-rotated-{uuid.uuid4().hex}"

    created = await server.http.post(
        "/integrated-accounts", json=_body(server, client_id=client_id, client_secret=secret), headers=server.auth()
    )
    assert created.status_code == 201, created.text
    account_id = created.json()["id"]
    new_key = (await server.http.post("/keys", json={"name": "logs"}, headers=server.auth())).json()["key"]
    for key in (server.key, new_key):
        for path in ("/unified/accounting/invoices", "/unified/accounting/contacts", "/proxy/suppliers"):
            r = await server.http.get(f"{path}?integrated_account_id={account_id}&limit=2", headers=server.auth(key))
            assert r.status_code == 200, (path, r.text)
    # A 503 the SDK retries through.
    server.coupa.faults.configure({"script": [{"nth": 1, "fault": "503"}]})
    r = await server.http.get(f"/unified/accounting/contacts?integrated_account_id={account_id}&limit=2",
                              headers=server.auth())  # fmt: skip
    assert r.status_code == 200, r.text
    server.coupa.faults.clear()
    # Wrong secrets, on create and on update.
    r = await server.http.post(
        "/integrated-accounts", json=_body(server, client_id=client_id, client_secret=wrong), headers=server.auth()
    )
    assert r.status_code == 400
    r = await server.http.patch(f"/integrated-accounts/{account_id}", json={"client_secret": wrong},
                                headers=server.auth())  # fmt: skip
    assert r.status_code == 400
    # The secret is rotated in Coupa and live tokens die: 401 after a re-mint, needs_reauth, then fixed.
    server.coupa.oauth.create_client(list(SCOPES), None, client_id=client_id, client_secret=rotated)
    server.coupa.oauth.revoke_all()
    r = await server.http.get(f"/proxy/suppliers?integrated_account_id={account_id}", headers=server.auth())
    assert r.status_code == 403 and r.json()["error"] == "needs_reauth", r.text
    r = await server.http.patch(f"/integrated-accounts/{account_id}", json={"client_secret": rotated},
                                headers=server.auth())  # fmt: skip
    assert r.status_code == 200 and r.json()["status"] == "active", r.text
    r = await server.http.get(f"/unified/accounting/invoices?integrated_account_id={account_id}&limit=1",
                              headers=server.auth())  # fmt: skip
    assert r.status_code == 200, r.text

    assert len(tokens) >= 3
    needles = {
        "client secret": secret, "wrong client secret": wrong, "rotated client secret": rotated,
        "API key": server.key, "new API key": new_key,
        "API key past its prefix": server.key[10:], "new API key past its prefix": new_key[10:],
    }  # fmt: skip
    for n, token in enumerate(tokens):
        needles[f"access token #{n}"] = token
        needles[f"access token #{n}'s signature"] = token.rsplit(".", 1)[-1]
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    records = caplog.records
    assert any(r.name.startswith("pycoupa") for r in records), "nothing from pycoupa was captured"
    assert any(r.name.startswith("httpx") for r in records), "nothing from httpx was captured"
    # Named, never shown: a failing run must not print the secrets it found.
    leaks = []
    for record in records:
        text = formatter.format(record) + repr(record.args) + repr(vars(record))
        leaks += [(record.name, record.levelname, what) for what, needle in needles.items() if needle in text]
    assert leaks == []
