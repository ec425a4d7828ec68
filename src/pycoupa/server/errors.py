"""One error shape for every answer that is not a success.

``{"status_code", "error", "message", "details"}``, plus ``remote_error`` (Coupa's status and
parsed body) when Coupa caused it. Messages never carry secrets: Coupa errors reach here already
redacted by the SDK, and nothing here formats credentials. An answer Coupa gave but the server
cannot use (malformed JSON, an HTML page with a 200, a list page without ids) is Coupa's fault:
502 ``remote_error``, never a 400 that blames the caller.
"""

from __future__ import annotations

import re
from typing import Any

import httpx
import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from pycoupa.client.errors import (
    AuthenticationError,
    ConfigurationError,
    CoupaAPIError,
    CoupaError,
    CoupaTimeoutError,
    CoupaTransportError,
    InvalidClientError,
    InvalidGrantError,
    InvalidScopeError,
    NotFoundError,
    OAuthError,
    PermissionDeniedError,
    RateBudgetExceededError,
    RateLimitedError,
    RateLimiterError,
    ResponseDecodeError,
    ServerError,
    TokenStoreError,
    UnauthorizedClientError,
    ValidationError,
    redact,
)
from pycoupa.server.limits import retry_after_header


class APIError(Exception):
    def __init__(
        self,
        status_code: int,
        error: str,
        message: str,
        details: Any = None,
        *,
        remote_error: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.error = error
        self.message = message
        self.details = details
        self.remote_error = remote_error
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "status_code": self.status_code,
            "error": self.error,
            "message": self.message,
            "details": self.details,
        }
        if self.remote_error is not None:
            out["remote_error"] = self.remote_error
        return out

    def response(self) -> Response:
        return Response(
            orjson.dumps(self.body()), status_code=self.status_code, media_type="application/json", headers=self.headers
        )


def remote_error_of(exc: CoupaError) -> dict[str, Any] | None:
    if isinstance(exc, CoupaAPIError):
        body: Any = exc.body.decode("utf-8", "replace") if exc.body else None
        if body and "json" in exc.headers.get("content-type", ""):
            try:
                body = orjson.loads(exc.body)
            except orjson.JSONDecodeError:
                pass
        return {"status_code": exc.status, "messages": exc.messages, "body": body}
    if isinstance(exc, OAuthError):
        return {"status_code": exc.status, "error": exc.error, "description": exc.description}
    return None


def from_coupa(exc: CoupaError) -> APIError:
    """The server's answer for an error Coupa (or the way to it) caused."""
    remote = remote_error_of(exc)
    if isinstance(exc, RateBudgetExceededError):
        return APIError(
            429, "rate_limited", "the Coupa instance's request budget is taken for now; retry later",
            {"limit": "coupa_budget", "retry_after": round(exc.retry_after, 3)},
            headers={"Retry-After": retry_after_header(exc.retry_after)},
        )  # fmt: skip
    if isinstance(exc, RateLimitedError):
        wait = exc.retry_after or 1.0
        return APIError(
            429, "remote_rate_limited", "Coupa is rate limiting this instance; retry later", None,
            remote_error=remote, headers={"Retry-After": retry_after_header(wait)},
        )  # fmt: skip
    if isinstance(exc, NotFoundError):
        return APIError(404, "not_found", "Coupa has no such record", None, remote_error=remote)
    if isinstance(exc, PermissionDeniedError):
        return APIError(
            403, "remote_forbidden", "the integrated account's scopes do not allow this call",
            {"missing_scopes": exc.missing_scopes}, remote_error=remote,
        )  # fmt: skip
    if isinstance(exc, TokenStoreError | RateLimiterError):
        # The server's own shared state (Redis) failed, not Coupa: nothing to blame on either side.
        return APIError(
            503, "internal_unavailable", "the server's token store or rate limiter is unavailable; retry later",
            None, headers={"Retry-After": "1"},
        )  # fmt: skip
    if isinstance(exc, OAuthError) and not refuses_credentials(exc):
        # The token endpoint is down or busy (5xx, 429), or answered something that is no OAuth
        # refusal (an HTML page, a proxy's bare 400): nothing is known to be wrong with the credentials.
        return APIError(
            502, "remote_auth_unavailable", "Coupa's token endpoint failed; retry later", None, remote_error=remote,
            headers={"Retry-After": retry_after_header(exc.retry_after)} if exc.retry_after else None,
        )  # fmt: skip
    if isinstance(exc, AuthenticationError | OAuthError):
        return APIError(
            403, "needs_reauth", "Coupa refused the integrated account's credentials; update them", None,
            remote_error=remote,
        )  # fmt: skip
    if isinstance(exc, ValidationError):
        status = exc.status if exc.status in (400, 422) else 422
        return APIError(status, "remote_validation_error", "; ".join(exc.messages) or "Coupa refused the request",
                        {"messages": exc.messages}, remote_error=remote)  # fmt: skip
    if isinstance(exc, ServerError):
        return APIError(502, "remote_server_error", f"Coupa answered {exc.status}", None, remote_error=remote)
    if isinstance(exc, CoupaTimeoutError):
        return APIError(504, "remote_timeout", "Coupa did not answer in time", None)
    if isinstance(exc, CoupaTransportError):
        return APIError(502, "remote_unreachable", f"could not reach Coupa: {exc}", None)
    if isinstance(exc, CoupaAPIError):
        status = exc.status if 400 <= exc.status < 500 else 502
        text = "; ".join(exc.messages) or f"Coupa answered {exc.status}"
        return APIError(status, "remote_error", text, None, remote_error=remote)
    if isinstance(exc, ResponseDecodeError):
        # Normally caught where the answer is still at hand (the unified engine shows its body);
        # here only the status and the parser's complaint are left, and the message's URL is dropped.
        lead = _ANSWER_STATUS.match(exc.message)
        return unusable_answer(decode_problem(exc), status=int(lead[1]) if lead else None)
    if isinstance(exc, ConfigurationError):
        # The caller's arguments (a filter Coupa's query grammar cannot express...), refused unsent.
        return APIError(400, "bad_request", str(exc), None)
    # Any other SDK error: the class name only, as for a 500 (its text can name internal URLs).
    return APIError(502, "remote_error", f"the call to Coupa failed ({type(exc).__name__})", None)


# The token endpoint's answers that say the credentials themselves are refused (RFC 6749 codes),
# as against an outage or a page that is no OAuth answer at all.
_CREDENTIAL_REFUSALS = (InvalidClientError, InvalidGrantError, InvalidScopeError, UnauthorizedClientError)


def refuses_credentials(exc: OAuthError) -> bool:
    """Whether the token endpoint refused the credentials (so the account needs new ones)."""
    if isinstance(exc, InvalidClientError):
        return True  # a 401, or invalid_client in the body: whatever else came with it
    return (exc.status or 0) < 429 and isinstance(exc, _CREDENTIAL_REFUSALS)


# How much of an unusable Coupa answer ``remote_error.body`` shows.
REMOTE_BODY_CHARS = 2000
_ANSWER_STATUS = re.compile(r"^([1-5][0-9][0-9]) answer to ")


def decode_problem(exc: ResponseDecodeError) -> str:
    """What was wrong with the body ("invalid JSON: ..."), without the SDK's "<status> answer to
    <method> <whole URL>" lead."""
    _, read, problem = exc.message.partition(" could not be read: ")
    return problem if read else ("; ".join(exc.problems) or "its body could not be read")


def unusable_answer(problem: str, response: httpx.Response | None = None, *, status: int | None = None) -> APIError:
    """502 ``remote_error`` for an answer Coupa gave that the server cannot use: malformed JSON, an
    HTML page with a 200, a list page that is not records with ids. ``remote_error`` holds Coupa's
    status and the start of its body (redacted); the message names the method and Coupa's path,
    never the whole URL with its query (the server's own paging and projection)."""
    body: str | None = None
    where = ""
    if response is not None:
        status = response.status_code
        try:
            where = f" to {response.request.method} {response.request.url.path}"
            content = response.content
        except (RuntimeError, httpx.ResponseNotRead):  # no request attached; a body nobody read
            content = b""
        # Redacted with a margin before the cut, so a secret straddling it is masked whole.
        body = redact(content[: REMOTE_BODY_CHARS * 4].decode("utf-8", "replace"))[:REMOTE_BODY_CHARS]
    return APIError(
        502, "remote_error", f"Coupa's answer{where} could not be used: {problem}", None,
        remote_error={"status_code": status, "messages": [], "body": body},
    )  # fmt: skip


_STATUS_ERROR = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
}


def internal_error_response(exc: BaseException) -> Response:
    # The class name only: an exception's text could hold anything.
    return JSONResponse(
        {"status_code": 500, "error": "internal_error", "message": f"internal error ({type(exc).__name__})",
         "details": None},
        status_code=500,
    )  # fmt: skip


def error_response(exc: Exception) -> Response:
    """The answer for an exception a request raised (``install``'s handlers; the fast path)."""
    if isinstance(exc, APIError):
        return exc.response()
    if isinstance(exc, CoupaError):
        return from_coupa(exc).response()
    return internal_error_response(exc)


def install(app: FastAPI) -> None:
    async def known_error(_: Request, exc: Exception) -> Response:  # APIError and CoupaError
        return error_response(exc)

    async def http_error(_: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        return APIError(
            exc.status_code, _STATUS_ERROR.get(exc.status_code, "error"), str(exc.detail), None,
            headers=dict(exc.headers or {}),
        ).response()  # fmt: skip

    async def validation_error(_: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        problems = [
            {"location": ".".join(str(p) for p in e.get("loc", ())), "problem": e.get("msg", "")} for e in exc.errors()
        ]
        text = "; ".join(f"{p['location']}: {p['problem']}" for p in problems)
        return APIError(400, "bad_request", f"invalid request: {text}", problems).response()

    async def unexpected(_: Request, exc: Exception) -> Response:
        return internal_error_response(exc)

    app.add_exception_handler(APIError, known_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(CoupaError, known_error)
    app.add_exception_handler(Exception, unexpected)
