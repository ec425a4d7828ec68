"""The unified API server's HTTP surface (FastAPI). Routes are thin: the work is in
``platform.py`` (accounts, keys, vault), ``unified/engine.py`` (unified reads) and ``proxy.py``."""

# No ``from __future__ import annotations``: FastAPI reads the route signatures' annotations,
# and the dependency aliases below are local to create_app.
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Annotated, Any, TypeVar

import orjson
from fastapi import Depends, FastAPI, Query, Request
from fastapi.responses import Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.security.utils import get_authorization_scheme_param
from pydantic import BaseModel, Field, SecretStr, field_validator

from pycoupa.client._base import check_instance_url
from pycoupa.client.errors import ConfigurationError, CoupaError, OAuthError
from pycoupa.server import errors, proxy
from pycoupa.server.capabilities import capabilities
from pycoupa.server.connections import Credentials, TransportFactory
from pycoupa.server.errors import APIError, from_coupa
from pycoupa.server.fast_path import ListHandler, UnifiedListFastPath
from pycoupa.server.limits import retry_after_header
from pycoupa.server.platform import ACTIVE, ERROR, NEEDS_REAUTH, Platform, Principal, account_view, check_scopes
from pycoupa.server.settings import ServerSettings
from pycoupa.server.tables import IntegratedAccount
from pycoupa.server.timing import Stopwatch
from pycoupa.server.unified import engine

T = TypeVar("T")
log = logging.getLogger("pycoupa.server")
JSON = "application/json"


def filter_parameters(spec: Any) -> list[dict[str, Any]]:
    """The resource's filters as OpenAPI query parameters (``status``, ``updated_at[gt]``...), so
    that generated clients and the docs page show them; the route reads them from the raw query."""
    ops: dict[str, set[str]] = {}
    for source in spec.sources:
        for name, flt in source.filters.items():
            ops.setdefault(name, set()).update(flt.ops)
    if spec.selector_filter:
        ops[spec.selector_filter] = {"eq", "in"}
    out = []
    for name in sorted(ops):
        for op in sorted(ops[name]):
            out.append({
                "name": name if op == "eq" else f"{name}[{op}]", "in": "query", "required": False,
                "schema": {"type": "string"},
                "description": f"{name}, {op}" + (" (comma-separated values)" if op == "in" else ""),
            })  # fmt: skip
    return out


def json_response(data: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(data), status_code=status, media_type=JSON)


def timed_json_response(data: Any, watch: Stopwatch) -> Response:
    """A 200 with ``Server-Timing`` (see ``timing.py``); the clock stops once the body is encoded."""
    body = orjson.dumps(data)
    return Response(body, media_type=JSON, headers={"Server-Timing": watch.header()})


class AccountIn(BaseModel):
    instance_url: str = Field(description="https://<instance>.coupahost.com (http only for loopback)")
    client_id: str = Field(min_length=1, max_length=200)
    client_secret: SecretStr
    scopes: list[str] = Field(min_length=1)
    label: str | None = Field(default=None, max_length=200)

    @field_validator("instance_url")
    @classmethod
    def _url(cls, value: str) -> str:
        try:
            return check_instance_url(value)
        except ConfigurationError as exc:
            raise ValueError(str(exc)) from None


class AccountPatch(BaseModel):
    instance_url: str | None = None
    client_id: str | None = Field(default=None, min_length=1, max_length=200)
    client_secret: SecretStr | None = None
    scopes: list[str] | None = None
    label: str | None = Field(default=None, max_length=200)

    @field_validator("instance_url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            return check_instance_url(value)
        except ConfigurationError as exc:
            raise ValueError(str(exc)) from None


class KeyIn(BaseModel):
    name: str = Field(default="", max_length=200)


bearer = HTTPBearer(auto_error=False, description="A pycoupa API key: `Authorization: Bearer pck_...`")


def create_app(
    settings: ServerSettings | None = None,
    *,
    transport_factory: TransportFactory | None = None,
    platform: Platform | None = None,
    fast_path: bool = True,
) -> FastAPI:
    """The server's app. ``fast_path=False`` leaves unified lists to FastAPI too (tests compare both)."""
    from pycoupa.server.unified.registry import RESOURCES

    settings = settings or ServerSettings.load()
    # A platform passed in is started and closed by the caller (tests drive the app in-process,
    # where no lifespan runs); otherwise the lifespan builds one.
    state: dict[str, Platform] = {"platform": platform} if platform is not None else {}

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if platform is not None:
            yield
            return
        p = Platform(settings, transport_factory=transport_factory)
        try:
            p.load_keys()  # no key, no server: fail now, not on the first request that needs it
            await p.start()
        except BaseException:
            await p.aclose()
            raise
        state["platform"] = p
        try:
            yield
        finally:
            await p.aclose()

    app = FastAPI(
        title="pycoupa unified API",
        version="0.1.0",
        description="Unified Accounting and User Directory APIs, a 1:1 proxy and integrated accounts over Coupa.",
        lifespan=lifespan,
    )
    errors.install(app)

    async def get_platform() -> Platform:  # async: FastAPI runs a plain def in a worker thread
        return state["platform"]

    async def authorize(scheme: str, key: str) -> Principal:
        """The caller of an ``Authorization: <scheme> <key>`` header (the dependency and the fast path)."""
        p = state["platform"]
        if not key or scheme.lower() != "bearer":
            raise APIError(401, "unauthorized", "send an API key as 'Authorization: Bearer <key>'", None,
                           headers={"WWW-Authenticate": "Bearer"})  # fmt: skip
        who = await p.authenticate(key)
        if who is None:
            raise APIError(401, "unauthorized", "the API key is unknown or revoked", None,
                           headers={"WWW-Authenticate": "Bearer"})  # fmt: skip
        wait = await p.key_limiter.check(who.key_id)
        if wait > 0:
            raise APIError(429, "rate_limited", "too many requests for this API key", {"limit": "api_key"},
                           headers={"Retry-After": retry_after_header(wait)})  # fmt: skip
        return who

    async def principal(creds: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> Principal:
        return await authorize(creds.scheme, creds.credentials) if creds else await authorize("", "")

    Auth = Annotated[Principal, Depends(principal)]
    PlatformDep = Annotated[Platform, Depends(get_platform)]

    async def account_for(p: Platform, who: Principal, account_id: str | None) -> IntegratedAccount:
        if not account_id:
            raise APIError(
                400, "bad_request", "integrated_account_id is required", {"parameter": "integrated_account_id"}
            )
        row = await p.get_account(who.tenant_id, account_id)
        if row.status == NEEDS_REAUTH:
            raise APIError(403, "needs_reauth", "the integrated account needs new credentials (PATCH them)",
                           {"integrated_account_id": row.id, "status": row.status})  # fmt: skip
        wait = await p.account_limiter.check(row.id)
        if wait > 0:
            raise APIError(429, "rate_limited", "too many requests for this integrated account",
                           {"limit": "integrated_account", "integrated_account_id": row.id},
                           headers={"Retry-After": retry_after_header(wait)})  # fmt: skip
        return row

    async def calling_coupa(
        p: Platform,
        row: IntegratedAccount,
        call: Callable[[], Awaitable[T]],
        worked: Callable[[T], bool] = lambda _: True,
    ) -> T:
        """Run a call to the account's Coupa; ``worked`` says whether its answer shows Coupa working."""
        try:
            result = await call()
        except CoupaError as exc:
            answer = from_coupa(exc)
            if answer.error != "needs_reauth":
                raise
            # The SDK already re-minted once and replayed: Coupa refuses these credentials (or the
            # scopes granted with them). The account's status says what the answer says.
            reason = f" ({exc.error})" if isinstance(exc, OAuthError) and exc.error else ""
            await p.set_status(row.id, NEEDS_REAUTH, f"Coupa refused the credentials{reason}")
            raise answer from None
        if row.status == ERROR and worked(result):
            # A failed validation put it there (Coupa or its token endpoint down); a call that went
            # through says it is over, so nobody has to remember to validate again.
            await p.set_status(row.id, ACTIVE, "")
        return result

    def client_of(p: Platform, row: IntegratedAccount) -> Any:
        return p.pool.get(row.id, row.credentials_version, lambda: p.credentials(row))

    # -- platform ---------------------------------------------------------------------------------
    @app.get("/health", tags=["platform"])
    async def health() -> Response:
        return json_response({"status": "ok"})

    @app.post("/keys", tags=["platform"], status_code=201)
    async def create_key(body: KeyIn, who: Auth, p: PlatformDep) -> Response:
        row, key = await p.create_key(who.tenant_id, body.name)
        return json_response({"id": row.id, "key": key, "prefix": row.prefix, "name": row.name,
                              "created_at": row.created_at.isoformat()}, 201)  # fmt: skip

    @app.get("/keys", tags=["platform"])
    async def list_keys(who: Auth, p: PlatformDep) -> Response:
        rows = await p.list_keys(who.tenant_id)
        return json_response({"result": [
            {"id": r.id, "prefix": r.prefix, "name": r.name, "created_at": r.created_at.isoformat(),
             "revoked_at": r.revoked_at.isoformat() if r.revoked_at else None} for r in rows
        ]})  # fmt: skip

    @app.delete("/keys/{key_id}", tags=["platform"])
    async def revoke_key(key_id: str, who: Auth, p: PlatformDep) -> Response:
        if not await p.revoke_key(who.tenant_id, key_id):
            raise APIError(404, "not_found", f"no active API key {key_id!r}", None)
        return json_response({"id": key_id})

    # -- integrated accounts ----------------------------------------------------------------------
    @app.post("/integrated-accounts", tags=["integrated accounts"], status_code=201)
    async def create_account(body: AccountIn, who: Auth, p: PlatformDep) -> Response:
        creds = Credentials(body.instance_url, body.client_id, body.client_secret.get_secret_value(),
                            check_scopes(body.scopes))  # fmt: skip
        row = await p.create_account(who.tenant_id, creds, body.label or "")
        return json_response(account_view(row), 201)

    @app.get("/integrated-accounts", tags=["integrated accounts"])
    async def list_accounts(who: Auth, p: PlatformDep) -> Response:
        rows = await p.list_accounts(who.tenant_id)
        return json_response({"result": [account_view(r) for r in rows], "next_cursor": None,
                              "result_count": len(rows)})  # fmt: skip

    @app.get("/integrated-accounts/{account_id}", tags=["integrated accounts"])
    async def get_account(account_id: str, who: Auth, p: PlatformDep) -> Response:
        return json_response(account_view(await p.get_account(who.tenant_id, account_id, fresh=True)))

    @app.patch("/integrated-accounts/{account_id}", tags=["integrated accounts"])
    async def update_account(account_id: str, body: AccountPatch, who: Auth, p: PlatformDep) -> Response:
        changes: dict[str, Any] = body.model_dump(exclude_none=True)
        if body.client_secret is not None:
            changes["client_secret"] = body.client_secret.get_secret_value()
        if body.scopes is not None:
            changes["scopes"] = list(check_scopes(body.scopes))
        if not changes:
            raise APIError(400, "bad_request", "nothing to change: give instance_url, client_id, client_secret, "
                           "scopes or label", None)  # fmt: skip
        return json_response(account_view(await p.update_account(who.tenant_id, account_id, changes)))

    @app.post("/integrated-accounts/{account_id}/validate", tags=["integrated accounts"])
    async def validate_account(account_id: str, who: Auth, p: PlatformDep) -> Response:
        return json_response(account_view(await p.revalidate(who.tenant_id, account_id)))

    @app.delete("/integrated-accounts/{account_id}", tags=["integrated accounts"])
    async def delete_account(account_id: str, who: Auth, p: PlatformDep) -> Response:
        await p.delete_account(who.tenant_id, account_id)
        return json_response({"id": account_id})

    @app.get("/integrated-accounts/{account_id}/capabilities", tags=["integrated accounts"])
    # Truto's spelling of the same route, so a client written for Truto finds it.
    @app.get("/integrated-account/{account_id}/capabilities", tags=["integrated accounts"])
    async def account_capabilities(account_id: str, who: Auth, p: PlatformDep) -> Response:
        row = await p.get_account(who.tenant_id, account_id, fresh=True)
        return json_response({"integrated_account_id": row.id, "status": row.status, **capabilities(row.scopes)})

    # -- unified ----------------------------------------------------------------------------------
    async def list_unified(
        p: Platform, who: Principal, spec: Any, account_id: str | None, query: list[tuple[str, str]]
    ) -> Response:
        watch = Stopwatch()
        row = await account_for(p, who, account_id)
        parsed = engine.parse_list_request(spec, query)
        client = client_of(p, row)
        body = await calling_coupa(p, row, lambda: engine.list_records(client, spec, parsed, p.signer, row.id, watch))
        return timed_json_response(body, watch)

    def fast_list(spec: Any) -> ListHandler:
        async def handle(authorization: str, query: list[tuple[str, str]]) -> Response:
            try:
                who = await authorize(*get_authorization_scheme_param(authorization))
                account_id = next(v for k, v in query if k == "integrated_account_id")
                return await list_unified(state["platform"], who, spec, account_id, query)
            except Exception as exc:
                if not isinstance(exc, APIError | CoupaError):
                    log.error("unhandled error in GET /unified/%s/%s", spec.model, spec.name, exc_info=exc)
                return errors.error_response(exc)

        return handle

    def add_unified(model: str, name: str) -> None:
        spec = RESOURCES[(model, name)]
        filters = ", ".join(spec.filter_names) or "none"

        async def list_route(
            request: Request,
            who: Auth,
            p: PlatformDep,
            integrated_account_id: Annotated[str, Query()],
            limit: Annotated[int, Query(ge=1, le=engine.MAX_LIMIT)] = engine.DEFAULT_LIMIT,
            next_cursor: Annotated[str | None, Query()] = None,
            include_remote_data: Annotated[bool, Query()] = False,
            truto_ignore_remote_data: Annotated[
                bool | None, Query(description="Truto's spelling: true leaves remote_data out (the default)")
            ] = None,
        ) -> Response:
            return await list_unified(p, who, spec, integrated_account_id, list(request.query_params.multi_items()))

        async def get_route(
            request: Request,
            record_id: str,
            who: Auth,
            p: PlatformDep,
            integrated_account_id: Annotated[str, Query()],
            include_remote_data: Annotated[bool, Query()] = False,
            truto_ignore_remote_data: Annotated[
                bool | None, Query(description="Truto's spelling: true leaves remote_data out (the default)")
            ] = None,
        ) -> Response:
            watch = Stopwatch()
            unknown = sorted(set(request.query_params) - {"integrated_account_id", *engine.REMOTE_DATA_SWITCHES})
            if unknown:  # a misspelt include_remote_data must not be ignored silently
                raise APIError(400, "bad_request", f"unknown parameter {', '.join(map(repr, unknown))}; a get takes "
                               "integrated_account_id and include_remote_data (or truto_ignore_remote_data)",
                               {"parameters": unknown})  # fmt: skip
            # The list's spelling rules (true/false/1/0), not pydantic's looser ones (yes, on...).
            seen: set[str] = set()
            for key in engine.REMOTE_DATA_SWITCHES:
                raw_switch = request.query_params.get(key)
                if raw_switch is not None:
                    seen.add(key)
                    include_remote_data = engine.remote_data_switch(key, raw_switch, seen)
            row = await account_for(p, who, integrated_account_id)
            client = client_of(p, row)
            body = await calling_coupa(
                p, row, lambda: engine.get_record(client, spec, record_id, include_remote_data, watch)
            )
            return timed_json_response(body, watch)

        tag = f"unified {model}"
        app.add_api_route(
            f"/unified/{model}/{name}", list_route, methods=["GET"], tags=[tag], name=f"list {model} {name}",
            description=f"{spec.description}\n\nFilters: {filters}; `remote_query[<attr>]` passes raw Coupa filters.",
            openapi_extra={"parameters": filter_parameters(spec)},
        )  # fmt: skip
        app.add_api_route(
            f"/unified/{model}/{name}/{{record_id}}", get_route, methods=["GET"], tags=[tag],
            name=f"get {model} {name}",
        )  # fmt: skip

    for model, name in sorted(RESOURCES):
        add_unified(model, name)
    if fast_path:  # the routes above still serve the docs and every request the fast path leaves
        handlers = {f"/unified/{m}/{n}": fast_list(spec) for (m, n), spec in RESOURCES.items()}
        app.add_middleware(UnifiedListFastPath, handlers=handlers)

    @app.get("/unified/{model}/{name}", include_in_schema=False)
    async def unknown_unified(model: str, name: str) -> Response:
        known = sorted(f"{m}/{n}" for m, n in RESOURCES)
        raise APIError(404, "not_found", f"no unified resource {model}/{name}; known: {', '.join(known)}", None)

    # -- proxy ------------------------------------------------------------------------------------
    async def proxy_route(request: Request, who: Auth, p: PlatformDep) -> Response:
        raw = request.scope.get("raw_path") or request.url.path.encode()
        raw_text = raw.decode("latin-1").split("?", 1)[0]
        prefix = "/proxy/"
        if not raw_text.startswith(prefix):
            raise APIError(400, "invalid_proxy_path", "the proxy path must follow /proxy/", None)
        path = proxy.check_path(raw_text[len(prefix) :])
        query = [(k, v) for k, v in request.query_params.multi_items() if k != "integrated_account_id"]
        account_id = request.query_params.get("integrated_account_id") or request.headers.get("x-integrated-account-id")
        row = await account_for(p, who, account_id)
        client = client_of(p, row)
        body = await proxy.read_body(request.headers.get("content-length"), request.stream())
        headers = {k.lower(): v for k, v in request.headers.items()}
        answer = await calling_coupa(
            p,
            row,
            lambda: proxy.forward(client, row.instance_url, request.method, path, query, headers, body),
            lambda a: a.status_code < 500 and a.status_code != 401,
        )
        if answer.status_code == 401:
            await p.set_status(row.id, NEEDS_REAUTH, "Coupa answered 401 after a fresh token")
        return Response(answer.content, status_code=answer.status_code, headers=proxy.response_headers(answer))

    for method in ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"):
        app.add_api_route(
            "/proxy/{path:path}", proxy_route, methods=[method], tags=["proxy"], name=f"proxy {method}",
            operation_id=f"proxy_{method.lower()}",
            description="Forwards 1:1 to the account's Coupa /api/{path}; give integrated_account_id.",
        )  # fmt: skip
    return app
