"""HTTP face of the OAuth server: token endpoint (and its R39 alias) and the consent page."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING
from urllib.parse import urlencode, urlsplit, urlunsplit

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from pycoupa.emulator.oauth import OAuthError

if TYPE_CHECKING:
    from pycoupa.emulator.app import Emulator

_AUTH_PARAMS = (
    "client_id",
    "response_type",
    "scope",
    "redirect_uri",
    "state",
    "code_challenge",
    "code_challenge_method",
)


def _oauth_error(exc: OAuthError) -> JSONResponse:
    headers = {"Cache-Control": "no-store", "Pragma": "no-cache"}
    if exc.status == 401:
        headers["WWW-Authenticate"] = 'Basic realm="oauth2"'
    return JSONResponse(exc.body(), exc.status, headers=headers)


def _with_query(url: str, params: dict[str, str]) -> str:
    parts = urlsplit(url)
    query = (parts.query + "&" if parts.query else "") + urlencode(params)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


def routes(emu: Emulator) -> list[Route]:
    from pycoupa.emulator.app import basic_credentials

    async def token(request: Request) -> Response:
        # Compass shows the parameters in the query string of the POST; clients send a form body.
        params = {k: v for k, v in request.query_params.items()}
        ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if ctype == "application/x-www-form-urlencoded" or ctype == "multipart/form-data":
            form = await request.form()
            params.update({k: v for k, v in form.items() if isinstance(v, str)})
        elif ctype == "application/json":
            try:
                import orjson

                data = orjson.loads(await request.body() or b"{}")
            except orjson.JSONDecodeError:
                return _oauth_error(OAuthError("invalid_request", "malformed JSON body"))
            if isinstance(data, dict):
                params.update({str(k): str(v) for k, v in data.items() if v is not None})
        try:
            basic = basic_credentials(request.headers.get("authorization"))
        except ValueError as exc:
            return _oauth_error(OAuthError("invalid_client", str(exc), 401))
        try:
            answer = emu.oauth.token(params, basic)
        except OAuthError as exc:
            response = _oauth_error(exc)
        else:
            response = JSONResponse(answer, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})
        emu.stats.record(
            f"POST {request.url.path}", response.status_code, params.get("client_id") or (basic or ("",))[0]
        )
        return response

    async def consent_page(request: Request) -> Response:
        params = {k: v for k, v in request.query_params.items() if k in _AUTH_PARAMS}
        try:
            client, scopes = emu.oauth.validate_authorization(params)
        except OAuthError as exc:
            return HTMLResponse(
                f"<!doctype html><title>Authorization error</title><h1>{html.escape(exc.error)}</h1>"
                f"<p>{html.escape(exc.description)}</p>",
                status_code=exc.status,
            )
        hidden = "".join(
            f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">' for k, v in params.items()
        )
        items = "".join(f"<li><code>{html.escape(s)}</code></li>" for s in scopes)
        return HTMLResponse(
            "<!doctype html><html><head><title>Authorize application</title></head><body>"
            f"<h1>Authorize {html.escape(client['name'])}?</h1>"
            f"<p>This application asks for access to your Coupa data:</p><ul>{items}</ul>"
            f'<form method="post" action="/oauth2/authorizations">{hidden}'
            '<button type="submit" name="decision" value="allow">Allow</button> '
            '<button type="submit" name="decision" value="deny">Deny</button>'
            "</form></body></html>"
        )

    async def decide(request: Request) -> Response:
        form = await request.form()
        params = {k: v for k, v in form.items() if k in _AUTH_PARAMS and isinstance(v, str)}
        try:
            client, scopes = emu.oauth.validate_authorization(params)
        except OAuthError as exc:
            return HTMLResponse(f"<h1>{html.escape(exc.error)}</h1><p>{html.escape(exc.description)}</p>", exc.status)
        redirect_uri = params["redirect_uri"]
        state = {"state": params["state"]} if params.get("state") else {}
        if form.get("decision") != "allow":
            return RedirectResponse(_with_query(redirect_uri, {"error": "access_denied", **state}), status_code=302)
        code = emu.oauth.issue_code(params, client, scopes)
        return RedirectResponse(_with_query(redirect_uri, {"code": code, **state}), status_code=302)

    return [
        Route("/oauth2/token", token, methods=["POST"]),
        Route("/oauth2/access_tokens", token, methods=["POST"]),
        Route("/oauth2/authorizations/new", consent_page, methods=["GET"]),
        Route("/oauth2/authorizations", decide, methods=["POST"]),
    ]
