"""The client's error tree: status mapping, Coupa's messages, Retry-After, and that secrets never leak."""

from __future__ import annotations

import base64
import email.utils
import pickle
import time
from collections.abc import Callable, Generator
from typing import Any

import httpx
import orjson
import pytest

from pycoupa.client import AsyncCoupa, Coupa
from pycoupa.client.errors import (
    MASK,
    MAX_BODY_BYTES,
    AuthenticationError,
    ConfigurationError,
    ConflictError,
    CoupaAPIError,
    CoupaConnectionError,
    CoupaError,
    CoupaTimeoutError,
    CoupaTransportError,
    InvalidClientError,
    InvalidGrantError,
    InvalidScopeError,
    NotFoundError,
    OAuthError,
    PermissionDeniedError,
    RateLimitedError,
    Secret,
    ServerError,
    UnauthorizedClientError,
    UnsupportedGrantTypeError,
    ValidationError,
    error_from_response,
    is_secret_key,
    oauth_error_from_response,
    parse_retry_after,
    redact,
    redact_url,
    transport_error_from_httpx,
)
from pycoupa.emulator.app import Emulator
from pycoupa.emulator.faults import HTML_503
from pycoupa.wire.errors import render_errors_json, render_errors_xml

HOST = "https://acme.coupahost.com"
JSON = {"content-type": "application/json; charset=utf-8"}
XML = {"content-type": "application/xml; charset=utf-8"}


def _response(
    status: int,
    body: bytes = b"",
    headers: dict[str, str] | None = None,
    *,
    method: str = "GET",
    url: str = f"{HOST}/api/invoices/9",
    request: httpx.Request | None = None,
) -> httpx.Response:
    return httpx.Response(status, content=body, headers=headers, request=request or httpx.Request(method, url))


# --------------------------------------------------------------------------------------------
# Status -> class, with Coupa's messages
# --------------------------------------------------------------------------------------------

VALIDATION_JSON = b'{"errors":{"user":["Login has already been taken","Email has already been taken"]}}'
VALIDATION_XML = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<errors><error>Segment 1 - Cost Center can\'t be blank.</error>'
    b"<error><![CDATA[Account <b>type</b> is invalid]]></error></errors>"
)


@pytest.mark.parametrize(
    ("status", "body", "headers", "cls", "messages"),
    [
        (400, VALIDATION_JSON, JSON, ValidationError, ["Login has already been taken", "Email has already been taken"]),
        (
            400,
            VALIDATION_XML,
            XML,
            ValidationError,
            ["Segment 1 - Cost Center can't be blank.", "Account <b>type</b> is invalid"],
        ),
        (422, render_errors_json(["Total can't be negative"], "invoice_header"), JSON, ValidationError, None),
        (401, render_errors_xml(["Invalid access token"]), XML, AuthenticationError, ["Invalid access token"]),
        (
            404,
            render_errors_json(["Couldn't find invoice-header with id 9"], "invoice_header"),
            JSON,
            NotFoundError,
            None,
        ),
        (409, render_errors_json(["Record was changed by someone else"], "error"), JSON, ConflictError, None),
        (429, render_errors_xml(["Rate limit exceeded"]), XML, RateLimitedError, ["Rate limit exceeded"]),
        (500, b'{"errors":{"error":["Something went wrong"]}}', JSON, ServerError, ["Something went wrong"]),
        (502, b"", {}, ServerError, []),
        (504, b"upstream timed out", {"content-type": "text/plain"}, ServerError, []),
        (405, render_errors_json(["Method not allowed"], "error"), JSON, CoupaAPIError, ["Method not allowed"]),
        (418, b"", {}, CoupaAPIError, []),
    ],
)
def test_each_status_maps_to_its_class_with_coupas_messages(
    status: int, body: bytes, headers: dict[str, str], cls: type[CoupaAPIError], messages: list[str] | None
) -> None:
    error = error_from_response(_response(status, body, headers))
    assert type(error) is cls
    assert error.status == status
    if messages is None:  # rendered by the emulator's own envelope: one message in, one out
        assert len(error.messages) == 1
    else:
        assert error.messages == messages
    assert error.method == "GET"
    assert error.url == f"{HOST}/api/invoices/9"
    assert error.body == body
    assert "\n" not in str(error)


def test_str_is_one_readable_line() -> None:
    body = render_errors_json(["Couldn't find invoice-header with id 9"], "invoice_header")
    error = error_from_response(_response(404, body, JSON))
    assert str(error) == f"404 Not Found on GET {HOST}/api/invoices/9: Couldn't find invoice-header with id 9"
    assert repr(error) == f"NotFoundError({str(error)!r}, status=404)"
    several = error_from_response(_response(400, VALIDATION_JSON, JSON, method="POST", url=f"{HOST}/api/users"))
    assert str(several) == (
        f"400 Bad Request on POST {HOST}/api/users: Login has already been taken; Email has already been taken"
    )
    empty = error_from_response(_response(502))
    assert str(empty) == f"502 Bad Gateway on GET {HOST}/api/invoices/9: no error message in the response"


def test_tree_shape() -> None:
    for cls in (
        AuthenticationError,
        PermissionDeniedError,
        NotFoundError,
        ValidationError,
        ConflictError,
        RateLimitedError,
        ServerError,
    ):
        assert issubclass(cls, CoupaAPIError)
    assert issubclass(CoupaTimeoutError, CoupaTransportError) and issubclass(CoupaConnectionError, CoupaTransportError)
    for oauth_cls in (InvalidClientError, InvalidGrantError, InvalidScopeError, UnauthorizedClientError):
        assert issubclass(oauth_cls, OAuthError)
    for base in (CoupaAPIError, CoupaTransportError, OAuthError, ConfigurationError):
        assert issubclass(base, CoupaError)
    assert not issubclass(OAuthError, CoupaAPIError)
    assert issubclass(ConfigurationError, ValueError)
    with pytest.raises(ValueError, match="bad rps"):
        raise ConfigurationError("bad rps")


async def test_emulator_403_names_the_missing_scope_and_404_is_not_found(
    emu: Emulator, http: httpx.AsyncClient, token: Any
) -> None:
    granted = await token("core.supplier.read")
    for accept in ("application/json", "application/xml"):
        response = await http.get("/api/invoices/9", headers={"Authorization": f"Bearer {granted}", "Accept": accept})
        error = error_from_response(response)
        assert isinstance(error, PermissionDeniedError)
        assert error.missing_scopes == ["core.invoice.read"]
        assert "core.invoice.read" in str(error)
        assert granted not in repr(vars(error))
        assert error.request is not None
        assert error.request.headers["authorization"] == f"Bearer {MASK}"

    reader = await token("core.invoice.read")
    response = await http.get(
        "/api/invoices/9", headers={"Authorization": f"Bearer {reader}", "Accept": "application/json"}
    )
    error = error_from_response(response)
    assert isinstance(error, NotFoundError)
    assert error.messages == ["Couldn't find invoice-header with id 9"]
    assert str(error) == "404 Not Found on GET http://coupa.test/api/invoices/9: Couldn't find invoice-header with id 9"


def test_missing_scopes_lists_every_alternative_and_ignores_host_names() -> None:
    body = render_errors_json(
        ["Access denied on acme.coupahost.com: this action needs core.invoice.create or core.pay.virtual_cards.write"],
        "error",
    )
    error = error_from_response(_response(403, body, JSON, method="POST"))
    assert isinstance(error, PermissionDeniedError)
    assert error.missing_scopes == ["core.invoice.create", "core.pay.virtual_cards.write"]
    silent = error_from_response(_response(403, render_errors_json(["Forbidden"], "error"), JSON))
    assert isinstance(silent, PermissionDeniedError) and silent.missing_scopes == []


# Coupa's own 403 names no scope: the client fills missing_scopes from the catalog's scopes for the
# operation it sent, less those of the token it sent.
COUPA_403 = b'{"errors":{"error":["You are not authorized to access this resource"]}}'


def _denying_coupa(granted: str | None, body: bytes = COUPA_403) -> httpx.MockTransport:
    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/oauth2/token":
            token: dict[str, Any] = {"access_token": "tok-abcdefgh", "token_type": "bearer", "expires_in": 3600}
            if granted is not None:
                token["scope"] = granted
            return httpx.Response(200, json=token)
        return httpx.Response(403, content=body, headers=JSON)

    return httpx.MockTransport(answer)


def _denied(granted: str | None, call: Callable[[Coupa], Any], **options: Any) -> PermissionDeniedError:
    if "auth" not in options:
        options.update(client_id="cid", client_secret="secret-123", scopes=["core.invoice.read"])
    with (
        Coupa(HOST, transport=_denying_coupa(granted), rate_limiter=None, **options) as coupa,
        pytest.raises(PermissionDeniedError) as caught,
    ):
        call(coupa)
    return caught.value


def test_a_403_naming_no_scope_lists_the_scopes_the_operation_needs_that_the_token_lacks() -> None:
    error = _denied("core.invoice.read", lambda coupa: coupa.invoices.void(3))
    assert error.messages == ["You are not authorized to access this resource"]
    assert error.operation == "PUT /invoices/{id}/void"
    assert error.required_scopes == ["core.invoice.delete"] and error.granted_scopes == ["core.invoice.read"]
    assert error.missing_scopes == ["core.invoice.delete"]
    assert str(error) == (
        f"403 Forbidden on PUT {HOST}/api/invoices/3/void: You are not authorized to access this resource "
        "(PUT /invoices/{id}/void needs the scope core.invoice.delete, which the token was not granted)"
    )
    assert error.args == (str(error),)
    assert pickle.loads(pickle.dumps(error)).missing_scopes == ["core.invoice.delete"]


def test_an_operation_any_of_several_scopes_grants_lists_them_all() -> None:
    # POST /invoices: a route Compass documents and R39 lacks; either scope grants it.
    granted = "core.invoice.read core.supplier.read"
    error = _denied(granted, lambda coupa: coupa.invoices.create({"invoice-number": "1"}))
    assert error.operation == "POST /invoices"
    assert error.missing_scopes == ["core.invoice.create", "core.invoice.write"]
    needed = "POST /invoices needs one of the scopes core.invoice.create, core.invoice.write, which the token"
    assert needed in str(error)


def test_without_the_tokens_scopes_every_scope_of_the_operation_is_listed() -> None:
    # A custom auth: the client does not know what the token holds.
    class Bearer(httpx.Auth):
        def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
            request.headers["Authorization"] = "Bearer tok-abcdefgh"
            yield request

    error = _denied(None, lambda coupa: coupa.invoices.list(limit=1), auth=Bearer())
    assert error.granted_scopes is None and error.missing_scopes == ["core.invoice.read"]
    assert str(error).endswith("(GET /invoices needs the scope core.invoice.read)")


def test_a_token_that_holds_the_scope_is_not_told_it_lacks_it() -> None:
    error = _denied("core.invoice.read core.invoice.delete", lambda coupa: coupa.invoices.void(3))
    assert error.missing_scopes == [] and error.required_scopes == ["core.invoice.delete"]
    assert "the token holds core.invoice.delete: the refusal is not about OAuth scopes" in str(error)


def test_the_scopes_a_403_names_win_over_the_catalog() -> None:
    body = render_errors_json(["Access denied: this action needs core.invoice.write"], "error")
    transport = _denying_coupa("core.invoice.read", body)
    with (
        Coupa(HOST, client_id="cid", client_secret="secret-123", transport=transport, rate_limiter=None) as coupa,
        pytest.raises(PermissionDeniedError) as caught,
    ):
        coupa.invoices.void(3)
    assert caught.value.missing_scopes == ["core.invoice.write"] and "needs the scope" not in str(caught.value)
    assert caught.value.operation == "PUT /invoices/{id}/void"


async def test_the_async_client_fills_missing_scopes_too() -> None:
    async with AsyncCoupa(HOST, client_id="cid", client_secret="secret-123", scopes=["core.invoice.read"],
                          rate_limiter=None, transport=_denying_coupa("core.invoice.read")) as coupa:  # fmt: skip
        with pytest.raises(PermissionDeniedError) as caught:
            await coupa.suppliers.get(5)
    assert caught.value.missing_scopes == ["core.supplier.read"] and caught.value.operation == "GET /suppliers/{id}"


def test_html_503_from_the_edge() -> None:
    error = error_from_response(_response(503, HTML_503.encode() if isinstance(HTML_503, str) else HTML_503, {}))
    assert isinstance(error, ServerError)
    assert error.html is True
    assert error.messages == []
    assert "HTML error page" in str(error) and "<" not in str(error)
    as_json = error_from_response(_response(500, b'{"errors":{"error":["boom"]}}', JSON))
    assert isinstance(as_json, ServerError) and as_json.html is False


def test_body_is_capped_at_64_kib() -> None:
    error = error_from_response(_response(500, b"x" * (MAX_BODY_BYTES * 3), {"content-type": "text/plain"}))
    assert len(error.body) == MAX_BODY_BYTES
    assert len(str(error)) < 600


def test_unread_streamed_response_still_maps() -> None:
    response = httpx.Response(
        404, stream=httpx.ByteStream(b"never read"), request=httpx.Request("GET", f"{HOST}/api/users/1")
    )
    error = error_from_response(response)
    assert isinstance(error, NotFoundError) and error.body == b"" and error.messages == []


def test_response_without_a_request() -> None:
    error = error_from_response(httpx.Response(401, content=b'{"errors":{"error":["Expired"]}}', headers=JSON))
    assert isinstance(error, AuthenticationError)
    assert error.request is None and error.method is None and error.url is None
    assert str(error) == "401 Unauthorized: Expired"


def test_errors_pickle() -> None:
    error = error_from_response(_response(429, b"", {"Retry-After": "3", "X-Request-Id": "req-1"}))
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is RateLimitedError
    assert (copy.status, copy.retry_after, copy.request_id, str(copy)) == (429, 3.0, "req-1", str(error))


# --------------------------------------------------------------------------------------------
# Retry-After
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [("3", 3.0), ("0", 0.0), (" 1.5 ", 1.5), ("-1", None), ("soon", None), ("", None), (None, None), ("nan", None)],
)
def test_parse_retry_after_seconds(value: str | None, expected: float | None) -> None:
    assert parse_retry_after(value) == expected


def test_parse_retry_after_http_date() -> None:
    now = 1_700_000_000.0
    date = email.utils.formatdate(now + 42, usegmt=True)
    assert parse_retry_after(date, now=now) == pytest.approx(42.0)
    assert parse_retry_after(email.utils.formatdate(now - 10, usegmt=True), now=now) == 0.0
    assert parse_retry_after(email.utils.formatdate(time.time() + 30, usegmt=True)) == pytest.approx(30, abs=2)


def test_rate_limited_retry_after_from_the_response() -> None:
    by_seconds = error_from_response(_response(429, b"", {"Retry-After": "2"}))
    assert isinstance(by_seconds, RateLimitedError) and by_seconds.retry_after == 2.0
    # An HTTP-date is measured from the server's own Date header, so clock skew does not matter.
    server_now = 1_000_000_000.0
    headers = {
        "Date": email.utils.formatdate(server_now, usegmt=True),
        "Retry-After": email.utils.formatdate(server_now + 7, usegmt=True),
    }
    by_date = error_from_response(_response(429, b"", headers))
    assert by_date.retry_after == pytest.approx(7.0)
    assert error_from_response(_response(429)).retry_after is None


# --------------------------------------------------------------------------------------------
# Secrets never leak
# --------------------------------------------------------------------------------------------

CLIENT_SECRET = "cs-9f8e7d6c5b4a"
ACCESS = "at-a1b2c3d4e5f6g7h8"
REFRESH = "rt-z9y8x7w6v5u4"
VERIFIER = "pkce-verifier-0123456789abcdefghijklmnopqrstuvwxyz"
PASSWORD = "hunter2-hunter2"
API_KEY = "k" * 40
JWT = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJjbGllbnQiLCJzY29wZSI6ImNvcmUuaW52b2ljZS5yZWFkIn0.c2lnbmF0dXJl"
BASIC_SECRET = "basic-pass-5566"
SECRETS = [CLIENT_SECRET, ACCESS, REFRESH, VERIFIER, PASSWORD, API_KEY, JWT, BASIC_SECRET]


def _everything(error: BaseException) -> str:
    """Every text an error exposes: str, repr, attributes, and the redacted request copy's parts."""
    parts = [str(error), repr(error), repr(vars(error)), repr(error.args)]
    request = getattr(error, "request", None)
    if request is not None:
        parts += [str(request.url), repr(request.headers.multi_items()), request.content.decode("latin-1")]
    headers = getattr(error, "headers", None)
    if headers is not None:
        parts.append(repr(headers.multi_items()))
    body = getattr(error, "body", None)
    if isinstance(body, bytes):
        parts.append(body.decode("latin-1"))
    return "\n".join(parts)


def _assert_clean(error: BaseException) -> None:
    text = _everything(error)
    for secret in SECRETS:
        assert secret not in text, f"{secret!r} leaked"
    assert base64.b64encode(f"client:{BASIC_SECRET}".encode()).decode() not in text


def _leaky_request(kind: str) -> httpx.Request:
    query = {
        "client_secret": CLIENT_SECRET,
        "access_token": ACCESS,
        "refresh_token": REFRESH,
        "code_verifier": VERIFIER,
        "password": PASSWORD,
        "fields": '["id"]',
    }
    headers = {"Authorization": f"Bearer {JWT}", "X-COUPA-API-KEY": API_KEY}
    url = f"{HOST}/oauth2/token"
    if kind == "query":
        return httpx.Request("POST", url, params=query, headers=headers)
    if kind == "form":
        basic = base64.b64encode(f"client:{BASIC_SECRET}".encode()).decode()
        return httpx.Request(
            "POST", url, data=query, headers={"Authorization": f"Basic {basic}", "X-COUPA-API-KEY": API_KEY}
        )
    return httpx.Request("PUT", f"{HOST}/api/users/1", json={"user": query}, headers=headers)


# A token endpoint (or a proxy) echoing what it was sent, in several shapes.
ECHO = orjson.dumps(
    {
        "error": "invalid_client",
        "error_description": f"client secret {CLIENT_SECRET} does not match; got token {ACCESS} and {REFRESH}",
        "access_token": JWT,
        "received": f"password={PASSWORD}&code_verifier={VERIFIER}",
        "key": API_KEY,
    }
)


@pytest.mark.parametrize("kind", ["query", "form", "json"])
@pytest.mark.parametrize("status", [400, 401, 403, 404, 429, 500])
def test_api_errors_never_expose_a_secret(kind: str, status: int) -> None:
    error = error_from_response(httpx.Response(status, content=ECHO, headers=JSON, request=_leaky_request(kind)))
    _assert_clean(error)
    assert error.messages and MASK in error.messages[0]
    assert "does not match" in str(error)  # the useful part of the message survives
    # The redacted copy still shows what was sent, minus the secrets.
    assert error.request is not None
    assert "fields" in str(error.request.url) or b"fields" in error.request.content


@pytest.mark.parametrize("kind", ["query", "form", "json"])
def test_oauth_errors_never_expose_a_secret(kind: str) -> None:
    error = oauth_error_from_response(httpx.Response(401, content=ECHO, headers=JSON, request=_leaky_request(kind)))
    assert isinstance(error, InvalidClientError)
    assert error.description is not None and "does not match" in error.description
    _assert_clean(error)


@pytest.mark.parametrize("kind", ["query", "form", "json"])
def test_transport_errors_never_expose_a_secret(kind: str) -> None:
    request = _leaky_request(kind)
    error = transport_error_from_httpx(httpx.ReadTimeout(f"timed out talking to {request.url}", request=request))
    assert isinstance(error, CoupaTimeoutError)
    _assert_clean(error)


def test_response_headers_are_masked() -> None:
    response = _response(401, b"", {"Set-Cookie": f"session={ACCESS}", "WWW-Authenticate": "Bearer"})
    error = error_from_response(response)
    assert error.headers["set-cookie"] == MASK
    assert error.headers["www-authenticate"] == "Bearer"
    _assert_clean(error)


def test_secret_straddling_the_64_kib_cut_is_masked() -> None:
    body = b"a" * (MAX_BODY_BYTES - 20) + b"&access_token=" + ACCESS.encode() + b"&x=" + b"b" * 100
    error = error_from_response(_response(500, body, {"content-type": "text/plain"}))
    assert len(error.body) == MAX_BODY_BYTES
    assert ACCESS[:6].encode() not in error.body
    assert error.body.endswith(b"&access_token=" + MASK.encode()[:6])


def test_error_built_by_hand_is_redacted_too() -> None:
    error = CoupaAPIError(
        f"failed with Authorization: Bearer {ACCESS}", status=400, url=f"{HOST}/x?password={PASSWORD}"
    )
    _assert_clean(error)
    assert (
        OAuthError("invalid_grant", f"refresh_token={REFRESH} expired").description == f"refresh_token={MASK} expired"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("client_secret=abc&scope=x", f"client_secret={MASK}&scope=x"),
        ('{"access-token": "abc", "token-type": "bearer"}', f'{{"access-token": "{MASK}", "token-type": "bearer"}}'),
        ("{'password': 'p', 'login': 'bob'}", f"{{'password': '{MASK}', 'login': 'bob'}}"),
        ("<refresh-token>abc</refresh-token>", f"<refresh-token>{MASK}</refresh-token>"),
        ("Authorization: Bearer abcdefghij", f"Authorization: Bearer {MASK}"),
        ("proxy-authorization: Basic dXNlcjpwYXNz", f"proxy-authorization: Basic {MASK}"),
        ("sent bearer abcdefghijkl to Coupa", f"sent bearer {MASK} to Coupa"),
        (f"token {JWT} expired", f"token {MASK} expired"),
        ("https://bob:pw@acme.coupahost.com/api", f"https://bob:{MASK}@acme.coupahost.com/api"),
        ("X-COUPA-API-KEY: 0123456789", f"X-COUPA-API-KEY: {MASK}"),
        # Prose and placeholders stay as they are.
        ("Missing access token: send 'Authorization: Bearer <token>'", None),
        ("Invalid password: too short", None),
        ('{"token_type": "bearer", "expires_in": 86399}', None),
        ("client_secret=&grant_type=client_credentials", None),
    ],
)
def test_redact(text: str, expected: str | None) -> None:
    assert redact(text) == (text if expected is None else expected)
    assert redact(redact(text)) == redact(text)


def test_redact_literal_secrets_and_url() -> None:
    assert redact("the server said s3cr3t-value twice: s3cr3t-value", secrets=["s3cr3t-value"]) == (
        f"the server said {MASK} twice: {MASK}"
    )
    assert redact("abc", secrets=["abc"]) == "abc"  # too short to hunt down as a bare literal
    url = f"{HOST}/oauth2/token?client_id=app&client_secret=a%2Fb&scope=core.invoice.read#access_token=xyz"
    assert redact_url(url) == (
        f"{HOST}/oauth2/token?client_id=app&client_secret={MASK}&scope=core.invoice.read#access_token={MASK}"
    )
    assert redact_url(httpx.URL("https://u:p4ss@h.example/")) == f"https://u:{MASK}@h.example/"


def test_is_secret_key() -> None:
    for name in ("client_secret", "access-token", "refresh_token", "id_token", "code_verifier", "X-COUPA-API-KEY"):
        assert is_secret_key(name), name
    for name in ("token_type", "client_id", "scope", "expires_in", "login"):
        assert not is_secret_key(name), name


def test_secret_type() -> None:
    secret = Secret("the-client-secret")
    assert repr(secret) == "Secret('**********')"
    assert str(secret) == MASK and f"{secret}" == MASK
    assert secret.get() == "the-client-secret"
    assert secret == Secret("the-client-secret") and secret != Secret("other-value")
    assert Secret(secret).get() == "the-client-secret"
    copy = pickle.loads(pickle.dumps(secret))
    assert copy.get() == "the-client-secret"
    # While a Secret lives, its value is masked in any text that goes through the redactor.
    assert redact("echoed: the-client-secret") == f"echoed: {MASK}"
    with pytest.raises(TypeError):
        Secret(123)  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------------
# Transport and OAuth mapping
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("exc_type", "cls", "sent"),
    [
        (httpx.ReadTimeout, CoupaTimeoutError, True),
        (httpx.WriteTimeout, CoupaTimeoutError, True),
        (httpx.ConnectTimeout, CoupaTimeoutError, False),
        (httpx.PoolTimeout, CoupaTimeoutError, False),
        (httpx.ConnectError, CoupaConnectionError, False),
        (httpx.ReadError, CoupaConnectionError, True),
        (httpx.RemoteProtocolError, CoupaConnectionError, True),
        (httpx.ProxyError, CoupaTransportError, True),
    ],
)
def test_transport_errors(exc_type: type[httpx.TransportError], cls: type[CoupaTransportError], sent: bool) -> None:
    request = httpx.Request("GET", f"{HOST}/api/invoices")
    error = transport_error_from_httpx(exc_type("peer closed connection", request=request))
    assert type(error) is cls
    assert error.request_sent is sent
    assert error.cause == exc_type.__name__
    assert str(error) == f"{exc_type.__name__} on GET {HOST}/api/invoices: peer closed connection"
    # The class can also be built straight from the httpx exception.
    direct = cls(exc_type("x"), request)
    assert direct.request_sent is sent and direct.url == f"{HOST}/api/invoices"


@pytest.mark.parametrize(
    ("code", "cls"),
    [
        ("invalid_client", InvalidClientError),
        ("invalid_grant", InvalidGrantError),
        ("invalid_scope", InvalidScopeError),
        ("unauthorized_client", UnauthorizedClientError),
        ("unsupported_grant_type", UnsupportedGrantTypeError),
        ("invalid_request", OAuthError),
    ],
)
def test_oauth_error_codes(code: str, cls: type[OAuthError]) -> None:
    body = orjson.dumps({"error": code, "error_description": "nope"})
    error = oauth_error_from_response(_response(400, body, JSON, method="POST", url=f"{HOST}/oauth2/token"))
    assert type(error) is cls
    assert (error.error, error.description, error.status) == (code, "nope", 400)
    assert str(error) == f"400 Bad Request on POST {HOST}/oauth2/token: {code}: nope"


async def test_oauth_errors_from_the_emulator(emu: Emulator, http: httpx.AsyncClient) -> None:
    client_id, secret = emu.create_oauth_client(["core.invoice.read"])
    form = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret + "x"}
    wrong = oauth_error_from_response(await http.post("/oauth2/token", data=form))
    assert isinstance(wrong, InvalidClientError) and wrong.status == 401
    assert secret not in _everything(wrong)
    form = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret, "scope": "core.x.read"}
    scope = oauth_error_from_response(await http.post("/oauth2/token", data=form))
    assert isinstance(scope, InvalidScopeError) and "core.x.read" in (scope.description or "")


@pytest.mark.parametrize(
    ("status", "code"), [(503, "temporarily_unavailable"), (429, "temporarily_unavailable"), (500, "server_error")]
)
def test_oauth_error_without_an_rfc_body(status: int, code: str) -> None:
    error = oauth_error_from_response(_response(status, b"<html><title>down</title></html>", {"Retry-After": "4"}))
    assert type(error) is OAuthError
    assert error.error == code and error.retry_after == 4.0


def test_parsed_body_decodes_json_and_xml_but_not_html() -> None:
    as_json = error_from_response(_response(400, VALIDATION_JSON, JSON, method="POST"))
    assert isinstance(as_json.parsed_body, dict) and as_json.parsed_body["errors"]
    xml = b'<?xml version="1.0" encoding="UTF-8"?><errors><error>Name can\'t be blank</error></errors>'
    as_xml = error_from_response(_response(422, xml, {"content-type": "application/xml"}, method="POST"))
    assert as_xml.parsed_body is not None and "Name can't be blank" in str(as_xml.parsed_body)
    page = error_from_response(_response(503, b"<html><body>Service Unavailable</body></html>",
                                         {"content-type": "text/html"}))  # fmt: skip
    assert page.parsed_body is None
    assert error_from_response(_response(502, b"not json {", {"content-type": "application/json"})).parsed_body is None
