"""A malformed Coupa answer is Coupa's fault: 502 remote_error with Coupa's status and a truncated
body, never a 400 that blames the caller nor a 500; and errors that are the caller's stay 400."""

from __future__ import annotations

import httpx
import orjson
import pytest
from tests.server.conftest import Server

from pycoupa.client.errors import ConfigurationError, CoupaError, QueryError, ResponseDecodeError
from pycoupa.server.errors import from_coupa

JSON = "application/json"


class Corrupting(httpx.AsyncBaseTransport):
    """Answers Coupa's invoice calls (list and get) with ``body`` and a 200, once ``body`` is set."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.body: bytes | None = None
        self.content_type = JSON

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if self.body is not None and request.url.path.startswith("/api/invoices"):
            await response.aread()
            return httpx.Response(200, headers={"content-type": self.content_type}, content=self.body)
        return response


async def _corrupting(s: Server) -> tuple[str, Corrupting]:
    corrupting = Corrupting(httpx.ASGITransport(app=s.coupa.app))
    s.platform.pool._transport_factory = lambda _url: corrupting
    return await s.connect(), corrupting


async def _list_and_get(s: Server, account: str, limit: str = "1") -> list[httpx.Response]:
    listed = await s.http.get("/unified/accounting/invoices", params={"integrated_account_id": account,
                              "limit": limit}, headers=s.auth())  # fmt: skip
    got = await s.http.get("/unified/accounting/invoices/1", params={"integrated_account_id": account},
                           headers=s.auth())  # fmt: skip
    return [listed, got]


def _assert_remote(r: httpx.Response, body: bytes) -> None:
    assert r.status_code == 502, r.text
    answer = r.json()
    assert answer["error"] == "remote_error"
    assert answer["remote_error"]["status_code"] == 200
    shown = answer["remote_error"]["body"]
    assert shown and body.decode().startswith(shown) and len(shown) <= 4096
    # The message names Coupa's path, not the whole internal URL with its query.
    assert "http://" not in answer["message"] and "?" not in answer["message"] and "limit=" not in answer["message"]
    assert "/api/invoices" in answer["message"]


async def test_truncated_json_is_a_remote_error(server: Server) -> None:
    s = server
    account, corrupting = await _corrupting(s)
    corrupting.body = b'[{"id": 1, "status": "appr'
    for r in await _list_and_get(s, account):
        _assert_remote(r, corrupting.body)
        assert "invalid JSON" in r.json()["message"]
    corrupting.body = b'{"id": 1, "status": "appr'
    for r in await _list_and_get(s, account):
        _assert_remote(r, corrupting.body)


async def test_an_html_page_with_200_is_a_remote_error(sqlite_server: Server) -> None:
    s = sqlite_server
    account, corrupting = await _corrupting(s)
    corrupting.content_type = "text/html"
    corrupting.body = b"<html><title>Maintenance</title>" + b"down for maintenance " * 1000 + b"</html>"
    for limit in ("1", "120"):  # one Coupa page, and several fetched at once
        for r in await _list_and_get(s, account, limit):
            _assert_remote(r, corrupting.body)
            assert len(r.json()["remote_error"]["body"]) < len(corrupting.body)  # truncated


@pytest.mark.parametrize(
    "page",
    [
        [{"status": "approved"}],  # no id
        [{"id": "7", "status": "approved"}],  # not an integer
        [{"id": True}],
        [{"id": None}],
        [1, 2],  # not records
        [[{"id": 1}]],
        {"errors": {"invoice": ["unavailable"]}},  # an object, not a list
        "ok",
    ],
)
async def test_a_page_that_is_not_a_list_of_records_with_ids_is_a_remote_error(
    sqlite_server: Server, page: object
) -> None:
    s = sqlite_server
    account, corrupting = await _corrupting(s)
    corrupting.body = orjson.dumps(page)
    listed = await s.http.get("/unified/accounting/invoices", params={"integrated_account_id": account},
                              headers=s.auth())  # fmt: skip
    _assert_remote(listed, corrupting.body)


async def test_a_page_out_of_id_order_is_a_remote_error(sqlite_server: Server) -> None:
    s = sqlite_server
    account, corrupting = await _corrupting(s)
    for page in ([{"id": 5}, {"id": 3}], [{"id": 5}, {"id": 5}]):
        corrupting.body = orjson.dumps(page)
        r = await s.http.get("/unified/accounting/invoices", params={"integrated_account_id": account},
                             headers=s.auth())  # fmt: skip
        _assert_remote(r, corrupting.body)


async def test_a_get_that_answers_no_record_is_a_remote_error(sqlite_server: Server) -> None:
    s = sqlite_server
    account, corrupting = await _corrupting(s)
    corrupting.body = b"[]"
    r = await s.http.get("/unified/accounting/invoices/1", params={"integrated_account_id": account},
                         headers=s.auth())  # fmt: skip
    _assert_remote(r, corrupting.body)


def test_from_coupa_blames_coupa_for_an_unreadable_answer() -> None:
    exc = ResponseDecodeError("200 answer to GET https://acme.coupahost.com/api/invoices?limit=1&offset=3 could "
                              "not be read: invalid JSON: unexpected end of data")  # fmt: skip
    answer = from_coupa(exc)
    assert answer.status_code == 502 and answer.error == "remote_error"
    assert answer.remote_error is not None and answer.remote_error["status_code"] == 200
    assert "acme.coupahost.com" not in answer.message and "offset" not in answer.message
    assert "invalid JSON" in answer.message
    other = from_coupa(CoupaError("something unexpected at https://acme.coupahost.com/api/x?token=1"))
    assert other.status_code == 502 and other.error == "remote_error" and "acme" not in other.message


@pytest.mark.parametrize("exc", [ConfigurationError("limit must be 1..50"), QueryError("bad operator")])
def test_from_coupa_keeps_400_for_the_callers_mistakes(exc: CoupaError) -> None:
    answer = from_coupa(exc)
    assert answer.status_code == 400 and answer.error == "bad_request" and answer.message == str(exc)


def _token_answer(status: int, body: bytes, content_type: str = "application/json") -> httpx.Response:
    request = httpx.Request("POST", "https://acme.coupahost.com/oauth2/token")
    return httpx.Response(status, content=body, headers={"content-type": content_type}, request=request)


@pytest.mark.parametrize(
    ("status", "body", "error"),
    [
        (401, b'{"error":"invalid_client"}', "needs_reauth"),
        (400, b'{"error":"invalid_grant"}', "needs_reauth"),
        (400, b'{"error":"invalid_scope"}', "needs_reauth"),
        (400, b'{"error":"unauthorized_client"}', "needs_reauth"),
        # No OAuth refusal: a proxy's bare 404 or 400, a maintenance page, an outage. The account
        # must not be locked until someone re-enters credentials that were never wrong.
        (404, b"<html>not found</html>", "remote_auth_unavailable"),
        (400, b"Bad Request", "remote_auth_unavailable"),
        (408, b"", "remote_auth_unavailable"),
        (503, b"<html>maintenance</html>", "remote_auth_unavailable"),
        (429, b"", "remote_auth_unavailable"),
    ],
)
def test_only_a_refusal_of_the_credentials_asks_for_new_ones(status: int, body: bytes, error: str) -> None:
    from pycoupa.client.errors import oauth_error_from_response

    answer = from_coupa(oauth_error_from_response(_token_answer(status, body, "text/html")))
    assert answer.error == error, (status, body, answer)
    assert answer.status_code == (403 if error == "needs_reauth" else 502)


def test_a_200_that_is_no_token_does_not_ask_for_new_credentials() -> None:
    from pycoupa.client.errors import OAuthError

    answer = from_coupa(OAuthError("invalid_response", "a 200 without access_token", status=200))
    assert (answer.status_code, answer.error) == (502, "remote_auth_unavailable")


def test_the_servers_own_redis_failing_is_a_503_not_coupas_fault() -> None:
    from pycoupa.client.errors import RateLimiterError, TokenStoreError

    for exc in (TokenStoreError("token store unavailable"), RateLimiterError("limiter unavailable")):
        answer = from_coupa(exc)
        assert (answer.status_code, answer.error) == (503, "internal_unavailable")
        assert answer.headers == {"Retry-After": "1"}
