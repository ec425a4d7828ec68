"""Where an integrated account's credentials may go, and what the account's status says when Coupa
refuses them: the stored secret never travels to a new host or with a new client id, a refusal the
answer calls ``needs_reauth`` leaves the account in ``needs_reauth``, and one instance spelt two
ways shares one Coupa budget and one token."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from tests.server.conftest import INSTANCE, SCOPES, Server


@dataclass
class Listener:
    """A real HTTP server standing in for a host an attacker controls: it records every request."""

    url: str
    received: list[tuple[str, str, bytes]] = field(default_factory=list)


@pytest.fixture
def listener() -> Iterator[Listener]:
    found = Listener("")

    class Handler(BaseHTTPRequestHandler):
        def _record(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            found.received.append((self.command, self.path, self.rfile.read(length) if length else b""))
            body = b'{"error":"not_found"}'
            self.send_response(404)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _record

        def log_message(self, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    found.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield found
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


async def test_moving_an_account_needs_the_secret_and_the_stored_one_never_leaves(
    server: Server, listener: Listener, monkeypatch: pytest.MonkeyPatch
) -> None:
    account_id = await server.connect()
    # The listener is reached over the real network; every other URL is the in-process emulator.
    serving = server.platform.pool._transport_factory
    assert serving is not None
    monkeypatch.setattr(
        server.platform.pool, "_transport_factory", lambda url: None if url == listener.url else serving(url)
    )
    other_id, other_secret = server.coupa.create_oauth_client(list(SCOPES), name="other")
    path = f"/integrated-accounts/{account_id}"

    for body, moved in [
        ({"instance_url": listener.url}, ["instance_url"]),
        ({"instance_url": listener.url + "/", "label": "moved", "scopes": ["core.supplier.read"]}, ["instance_url"]),
        ({"instance_url": listener.url, "client_id": "someone-else"}, ["instance_url", "client_id"]),
        ({"client_id": other_id}, ["client_id"]),
    ]:
        r = await server.http.patch(path, json=body, headers=server.auth())
        assert r.status_code == 400, (body, r.text)
        answer = r.json()
        assert set(answer) == {"status_code", "error", "message", "details"}
        assert answer["status_code"] == 400 and answer["error"] == "client_secret_required"
        assert answer["details"] == {"fields": moved}
        assert "client_secret" in answer["message"]
        assert server.client_secret not in r.text
    assert listener.received == []  # nothing at all reached the new host
    row = await server.platform.get_account(server.tenant_id, account_id, fresh=True)
    assert (row.instance_url, row.client_id, row.credentials_version, row.label) == (INSTANCE, server.client_id, 1, "")

    # Naming the current instance and client id is no move.
    same = await server.http.patch(
        path,
        json={"instance_url": INSTANCE + "/", "client_id": server.client_id, "label": "same"},
        headers=server.auth(),
    )
    assert same.status_code == 200, same.text
    assert same.json()["label"] == "same"

    # With the secret in the same request, a move is validated and saved.
    r = await server.http.patch(
        path, json={"client_id": other_id, "client_secret": other_secret}, headers=server.auth()
    )
    assert r.status_code == 200, r.text
    assert r.json()["client_id"] == other_id
    r = await server.http.patch(
        path, json={"instance_url": "http://localhost", "client_secret": other_secret}, headers=server.auth()
    )
    assert r.status_code == 200, r.text
    assert r.json()["instance_url"] == "http://localhost" and r.json()["status"] == "active"
    row = await server.platform.get_account(server.tenant_id, account_id, fresh=True)
    assert server.platform.credentials(row).client_secret == other_secret
    assert listener.received == []

    # A host that is not Coupa sees only the secret sent along for it, never a stored one.
    r = await server.http.patch(
        path, json={"instance_url": listener.url, "client_secret": "given-for-this-host"}, headers=server.auth()
    )
    assert r.status_code == 400, r.text
    assert listener.received, "the validation should have reached the listener"
    sent = b"".join(body for _, _, body in listener.received)
    assert b"given-for-this-host" in sent
    assert server.client_secret.encode() not in sent and other_secret.encode() not in sent
    row = await server.platform.get_account(server.tenant_id, account_id, fresh=True)
    assert row.instance_url == "http://localhost"  # a failed validation changes nothing


async def test_a_scope_revoked_in_coupa_marks_the_account_needs_reauth(server: Server) -> None:
    account_id = await server.connect()
    url = f"/unified/accounting/contacts?integrated_account_id={account_id}&limit=1"
    ok = await server.http.get(url, headers=server.auth())
    assert ok.status_code == 200, ok.text
    # The customer's admin removes a scope from the client in Coupa, and live tokens die with it:
    # the token endpoint now answers 400 invalid_scope to the account's token request.
    kept = [s for s in SCOPES if s != "core.supplier.read"]
    server.coupa.oauth.create_client(kept, None, client_id=server.client_id, client_secret=server.client_secret)
    server.coupa.oauth.revoke_all()

    r = await server.http.get(url, headers=server.auth())
    assert r.status_code == 403, r.text
    assert r.json()["error"] == "needs_reauth"
    assert r.json()["remote_error"]["error"] == "invalid_scope"
    got = (await server.http.get(f"/integrated-accounts/{account_id}", headers=server.auth())).json()
    assert got["status"] == "needs_reauth", got  # the status agrees with the answer
    assert "invalid_scope" in got["status_reason"]
    caps = (await server.http.get(f"/integrated-accounts/{account_id}/capabilities", headers=server.auth())).json()
    assert caps["status"] == "needs_reauth"
    # Later calls are refused here, without going back to Coupa's token endpoint each time.
    before = server.coupa.stats.total
    for again_url in (url, f"/proxy/suppliers?integrated_account_id={account_id}"):
        again = await server.http.get(again_url, headers=server.auth())
        assert again.status_code == 403 and again.json()["error"] == "needs_reauth", again.text
    assert server.coupa.stats.total == before
    # Updating the scopes to what the client still has brings it back.
    fixed = await server.http.patch(f"/integrated-accounts/{account_id}", json={"scopes": kept}, headers=server.auth())
    assert fixed.status_code == 200 and fixed.json()["status"] == "active", fixed.text


async def test_a_token_endpoint_refusal_the_answer_does_not_blame_on_credentials_leaves_the_account_active(
    server: Server,
) -> None:
    account_id = await server.connect()
    server.coupa.oauth.revoke_all()
    server.coupa.faults.configure({"rates": {"429": 1.0}})  # the token request is throttled too
    r = await server.http.get(
        "/unified/accounting/contacts", params={"integrated_account_id": account_id}, headers=server.auth()
    )
    server.coupa.faults.clear()
    assert r.status_code in (429, 502), r.text
    assert r.json()["error"] != "needs_reauth"
    got = (await server.http.get(f"/integrated-accounts/{account_id}", headers=server.auth())).json()
    assert got["status"] == "active", got


async def test_one_instance_spelt_two_ways_shares_one_budget_and_one_token(server: Server) -> None:
    ids = []
    for spelling in ("http://localhost.:80/", "http://localhost"):
        r = await server.http.post(
            "/integrated-accounts",
            json={"instance_url": spelling, "client_id": server.client_id, "client_secret": server.client_secret,
                  "scopes": list(SCOPES)},
            headers=server.auth(),
        )  # fmt: skip
        assert r.status_code == 201, r.text
        assert r.json()["instance_url"] == "http://localhost"
        ids.append(r.json()["id"])
    issued: list[object] = []
    issue = server.coupa.oauth._issue

    def counting_issue(*args: Any, **kwargs: Any) -> dict[str, Any]:
        issued.append(args)
        return issue(*args, **kwargs)

    server.coupa.oauth._issue = counting_issue  # type: ignore[method-assign]
    for account_id in ids:
        r = await server.http.get(
            "/unified/accounting/contacts", params={"integrated_account_id": account_id, "limit": 1},
            headers=server.auth(),
        )  # fmt: skip
        assert r.status_code == 200, r.text
    pool = server.platform.pool
    rows = [await server.platform.get_account(server.tenant_id, i) for i in ids]
    assert pool.limiter(rows[0].instance_url) is pool.limiter(rows[1].instance_url)
    assert [k for k in pool._limiters if "localhost" in k] == ["http://localhost"]  # one budget key
    assert len(issued) == 1  # the second account used the token the first one minted
