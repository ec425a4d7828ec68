"""The emulated Coupa instance: an ASGI app serving ``/oauth2``, ``/api`` and ``/__emulator__``.

One :class:`Emulator` is one instance. Its ``app`` can be served by uvicorn
(``pycoupa emulator serve``) or called in-process through ``httpx.ASGITransport``.
Request flow on /api: authenticate -> throttle -> route (catalog) -> scope check -> parse query
and body -> behaviour or generic handler -> render in the negotiated format.
"""

from __future__ import annotations

import base64
import binascii
import functools
import secrets
from datetime import tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp

from pycoupa.catalog.corrections import documented_operations
from pycoupa.catalog.model import Catalog, Operation, Resource, load_catalog
from pycoupa.emulator import behaviours, reference_data
from pycoupa.emulator.api_filters import ApiFilters
from pycoupa.emulator.handlers import BEHAVIOURS, GENERIC, Call, Result, generic_action
from pycoupa.emulator.oauth import Clock, OAuthServer, Principal, TokenRejected
from pycoupa.emulator.query_sql import compile_with_tables, db_datetime, order_clause
from pycoupa.emulator.ratelimit import LeakyBuckets
from pycoupa.emulator.render import Renderer
from pycoupa.emulator.schema import Schema
from pycoupa.emulator.stats import Stats
from pycoupa.emulator.store import INDEXED_FIELDS, Store
from pycoupa.emulator.writes import CoupaError, Writer, not_found
from pycoupa.wire import codec_json, codec_xml
from pycoupa.wire.errors import WireDecodeError, render_errors_json, render_errors_xml
from pycoupa.wire.query import QueryError, parse_query
from pycoupa.wire.values import TaggedList, singularize

NO_RESULTS = "No results match your search criteria."
JSON = "application/json"
XML = "application/xml"
NARROWED = ("limited", "shallow")  # return_object values that render less than everything


assert behaviours  # imported for its registrations


class Emulator:
    """One emulated Coupa instance."""

    def __init__(
        self,
        data: str | None = None,
        *,
        time_zone: str = "America/Los_Angeles",
        base_url: str = "http://127.0.0.1:8765",
        legacy_api_keys: bool = False,
    ) -> None:
        self.catalog: Catalog = load_catalog()
        self.schema = Schema(self.catalog)
        self.store = Store(data or ":memory:")
        self.store.index_fields = self._indexed_fields
        try:
            self.tz: tzinfo = ZoneInfo(time_zone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {time_zone!r}") from exc
        self.time_zone = time_zone
        self.base_url = base_url.rstrip("/")
        self.legacy_api_keys = legacy_api_keys
        self.clock = Clock(self.store)
        self.buckets = LeakyBuckets()
        self.stats = Stats()
        self.known_scopes = set(self.catalog.scopes)
        self.extra_ops = documented_operations()
        self._bootstrap()
        self.oauth = OAuthServer(self.store, self.clock, self.known_scopes, self.base_url)
        self.renderer = Renderer(self.schema, self.store, self.tz)
        from pycoupa.emulator import control, faults, oauth_routes

        self.faults = faults.FaultInjector()
        self.api_filters = ApiFilters()
        # Faults sit in front of everything but the control plane (the middleware skips it).
        self.app: ASGIApp = faults.FaultMiddleware(
            Starlette(
                routes=[
                    *oauth_routes.routes(self),
                    *control.routes(self),
                    *faults.routes(self),
                    Route("/api/{path:path}", self._api, methods=["GET", "POST", "PUT", "PATCH", "DELETE"]),
                ]
            ),
            self.faults,
        )

    # -- lifecycle -------------------------------------------------------------------------------
    def _bootstrap(self) -> None:
        if self.store.setting("initialised"):
            return
        with self.store.transaction():
            reference_data.load(self.store, db_datetime(self.clock.now()))
            self.store.set_setting("initialised", True)

    def _indexed_fields(self, kind: str) -> list[str]:
        defn = self.schema.definitions.get(kind)
        return [f for f in INDEXED_FIELDS if defn and f in defn.fields]

    def reset(self) -> None:
        """Back to a brand-new instance: data, clients, tokens, clock, throttle and stats."""
        self.store.wipe()
        self.clock.offset = 0.0
        self.buckets = LeakyBuckets(self.buckets.settings)
        self.stats.reset()
        self.faults.clear()
        self.api_filters.clear()
        self._bootstrap()
        self.oauth = OAuthServer(self.store, self.clock, self.known_scopes, self.base_url)

    def create_oauth_client(
        self,
        scopes: list[str],
        *,
        name: str | None = None,
        redirect_uris: list[str] | None = None,
        client_id: str | None = None,
        client_secret: str | None = None,
    ) -> tuple[str, str]:
        """A new OAuth client with its own API user; returns (client_id, client_secret)."""
        unknown = sorted(set(scopes) - self.oauth.known_scopes)
        if unknown:
            raise ValueError(f"unknown scopes: {', '.join(unknown)}")
        with self.store.transaction():
            label = name or secrets.token_hex(4)
            user = reference_data.api_user(0, label, db_datetime(self.clock.now()))
            del user["id"]
            n = 1
            while self.store.execute("SELECT 1 FROM r_User WHERE json_extract(doc, '$.login') = ?", (user["login"],)):
                n += 1
                user["login"] = f"oauth-{label}-{n}"[:40]
                user["email"] = f"{user['login']}@api.example.invalid"
            user_id = self.store.insert("User", user)
            return self.oauth.create_client(
                scopes,
                user_id,
                name=name,
                redirect_uris=redirect_uris,
                client_id=client_id,
                client_secret=client_secret,
            )

    def create_api_key(self) -> str:
        """A legacy 40-character X-COUPA-API-KEY with every scope (works only when enabled)."""
        key = secrets.token_hex(20)
        client_id, _ = self.create_oauth_client(sorted(self.known_scopes), name="api-key")
        keys = dict(self.store.setting("api_keys") or {})
        keys[key] = client_id
        self.store.set_setting("api_keys", keys)
        return key

    # -- /api ------------------------------------------------------------------------------------
    def _negotiate(self, request: Request) -> str:
        accept = request.headers.get("accept", "")
        return JSON if "json" in accept.lower() else XML

    def _authenticate(self, request: Request) -> Principal:
        header = request.headers.get("authorization")
        if header:
            scheme, _, token = header.strip().partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                raise CoupaError(401, ["Authorization header must be 'Bearer <access token>'"])
            try:
                return self.oauth.verify(token.strip())
            except TokenRejected as exc:
                raise CoupaError(401, [str(exc)]) from exc
        api_key = request.headers.get("x-coupa-api-key")
        if api_key is not None:
            if not self.legacy_api_keys:
                raise CoupaError(401, ["API keys are disabled on this instance; use OAuth 2.0"])
            client_id = (self.store.setting("api_keys") or {}).get(api_key)
            client = self.oauth.client(client_id) if client_id else None
            if client is None:
                raise CoupaError(401, ["Invalid API key"])
            return Principal(client["client_id"], frozenset(client["scopes"]), client.get("user_id"), "api_key")
        raise CoupaError(401, ["Missing access token: send 'Authorization: Bearer <token>'"])

    def _route(self, method: str, path: str) -> tuple[Operation, dict[str, int]]:
        for op in self.extra_ops:
            if op.method == method and op.path == path:
                return op, {}
        found = self.catalog.match(method, path)
        if found:
            return found
        allowed = self.catalog.path_allowed_methods(path)
        if allowed:
            raise CoupaError(
                405,
                [f"{method} is not allowed on /api{path}; allowed: {', '.join(allowed)}"],
                headers={"Allow": ", ".join(allowed)},
            )
        raise CoupaError(404, [f"No route matches /api{path}"])

    async def _body(self, request: Request, op: Operation) -> tuple[dict[str, Any], dict[str, tuple[str, str, bytes]]]:
        ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if ctype == "multipart/form-data":
            form = await request.form()
            fields: dict[str, Any] = {}
            files: dict[str, tuple[str, str, bytes]] = {}
            for key, value in form.multi_items():
                if not isinstance(value, str):
                    files[key] = (
                        value.filename or key,
                        value.content_type or "application/octet-stream",
                        await value.read(),
                    )
                else:
                    fields[key] = value
            return fields, files
        raw = await request.body()
        if not raw.strip():
            return {}, {}
        try:
            if ctype in ("application/json", "text/json") or (not ctype and raw.lstrip()[:1] in (b"{", b"[")):
                value = codec_json.loads(raw, expect_object=True)
                if not isinstance(value, dict):
                    raise CoupaError(400, ["Request body must be a JSON object (Coupa bodies have no root wrapper)"])
                return codec_json.normalise_keys(value), {}
            if ctype in ("application/xml", "text/xml") or not ctype:
                _root, value = codec_xml.loads(raw)
                if not isinstance(value, dict):
                    raise CoupaError(400, ["Request body must be one XML record element"])
                return codec_json.normalise_keys(value), {}
            if ctype == "application/x-www-form-urlencoded":
                form = await request.form()
                return {k: v for k, v in form.items() if isinstance(v, str)}, {}
        except WireDecodeError as exc:
            raise CoupaError(400, [f"Malformed request body: {exc}"]) from exc
        raise CoupaError(415, [f"Unsupported Content-Type {ctype!r}: send application/xml or application/json"])

    async def _api(self, request: Request) -> Response:
        fmt = self._negotiate(request)
        path = "/" + request.path_params["path"].strip("/")
        # Rails answers HEAD as the GET it stands for, without the body.
        method = "GET" if request.method == "HEAD" else request.method
        route_key = f"{method} /api{path}"
        principal: Principal | None = None
        try:
            principal = self._authenticate(request)
            wait = self.buckets.take(principal.client_id)
            if wait is not None:
                headers = (
                    {"Retry-After": self.buckets.retry_after_header(wait)} if self.buckets.settings.retry_after else {}
                )
                raise CoupaError(429, ["Rate limit exceeded: too many requests, slow down"], headers=headers)
            op, params = self._route(method, path)
            route_key = op.key
            if op.scopes and not (principal.scopes & set(op.scopes)):
                needed = " or ".join(op.scopes)
                raise CoupaError(403, [f"Access denied: this action needs the scope {needed}"])
            resource = self.catalog.resources.get(op.resource) or Resource(op.resource, None, None)
            definition = self.schema.storage_kind(resource.definition or op.body or "")
            writing = method in ("PUT", "PATCH", "POST")
            try:
                query = parse_query(request.query_params.multi_items(), for_write=writing)
            except QueryError as exc:
                raise CoupaError(400, [str(exc)]) from exc
            query = self.api_filters.apply(query, resource.name)
            body, files = await self._body(request, op) if method != "GET" else ({}, {})
            call = Call(op, resource, definition, params, query, body, files, principal, fmt)
            handler = BEHAVIOURS.get((op.resource, op.action or op.kind)) or GENERIC.get(op.kind) or generic_action
            with self.store.transaction():
                result = handler(self, call)
            response = self._respond(call, result)
        except CoupaError as exc:
            response = self._error(exc, fmt)
        self.stats.record(route_key, response.status_code, principal.client_id if principal else None)
        if request.method == "HEAD":
            response.body = b""  # Content-Length stays the GET's, as HTTP asks
        return response

    def _respond(self, call: Call, result: Result) -> Response:
        headers = {**call.headers, **result.headers}
        if result.raw is not None:
            return Response(result.raw, result.status, headers=headers, media_type=result.media_type)
        definition = result.definition or call.definition
        if call.query.return_object == "none" and call.op.method != "GET":
            return Response(b"", result.status, headers=headers)
        full_json = call.fmt == JSON and call.query.fields is None and call.query.return_object not in NARROWED
        if result.records is not None:
            if not result.records and call.fmt == XML:
                return self._error(CoupaError(404, [NO_RESULTS]), XML)
            if full_json:  # what integrations pull page after page: straight to bytes, cached
                body = self.renderer.full_json(definition, result.records)
                return Response(body, result.status, headers=headers, media_type=JSON)
            tree = self.renderer.render_many(
                definition,
                result.records,
                return_object=call.query.return_object,
                fields=call.query.fields,
                json_mode=call.fmt == JSON,
            )
            return self._tree(tree, definition, call, result.status, headers, collection=True)
        if result.record is not None:
            if full_json:
                body = self.renderer.full_json(definition, [result.record])[1:-1]
                return Response(body, result.status, headers=headers, media_type=JSON)
            tree1 = self.renderer.render_one(
                definition,
                result.record,
                return_object=call.query.return_object,
                fields=call.query.fields,
                json_mode=call.fmt == JSON,
            )
            return self._tree(tree1, definition, call, result.status, headers, collection=False)
        return Response(b"", result.status, headers=headers)

    def _tree(
        self,
        tree: Any,
        definition: str,
        call: Call,
        status: int,
        headers: dict[str, str],
        *,
        collection: bool,
    ) -> Response:
        element = self.schema.definition(definition).element
        if call.fmt == JSON:
            return Response(codec_json.dumps(tree), status, headers=headers, media_type=JSON)
        if collection:
            root = call.resource.xml_collection if call.resource.definition else None
            body = codec_xml.dumps(root or element + "s", TaggedList(element, tree))
        else:
            body = codec_xml.dumps(element, tree)
        return Response(body, status, headers=headers, media_type=XML)

    def _error(self, exc: CoupaError, fmt: str) -> Response:
        body = render_errors_json(exc.messages, exc.key) if fmt == JSON else render_errors_xml(exc.messages)
        return Response(body, exc.status, headers=exc.headers, media_type=fmt)

    # -- helpers for handlers ----------------------------------------------------------------------
    def writer(self, call: Call) -> Writer:
        return Writer(self.schema, self.store, self.tz, self.clock.now(), call.principal.user_id)

    def parent_kind(self, parent_path: str) -> str | None:
        """The storage kind of a nested route's parent: its collection's definition, or for a
        parent with no routes of its own the definition named like the path (``/charges`` -> Charge)."""
        parent = self.catalog.resources.get(parent_path)
        if parent is not None and parent.definition:
            return self.schema.storage_kind(parent.definition)
        element = singularize(parent_path.rsplit("/", 1)[-1]).replace("_", "-")
        return self._definitions_by_element().get(element)

    @functools.cache  # noqa: B019 - one per instance, lives as long as it
    def _definitions_by_element(self) -> dict[str, str]:
        return {d.element: name for name, d in self.schema.definitions.items()}

    def load(self, call: Call, record_id: int | None = None) -> dict[str, Any]:
        """The record a member route names, checked against its parent for nested routes."""
        rid = record_id if record_id is not None else call.record_id
        element = self.schema.definition(call.definition).element
        found = self.store.get_with_parent(call.definition, rid) if rid is not None else None
        if found is None:
            raise not_found(element, rid)
        doc, parent = found
        if call.parent and parent != call.parent:
            raise not_found(element, rid)
        return doc

    def query(
        self, call: Call, extra_where: str = "", extra_params: tuple[Any, ...] = (), order: str | None = None
    ) -> list[dict[str, Any]]:
        """One page of the call's collection: its filters ANDed with ``extra_where``."""
        q = call.query
        try:
            where, params, joined = compile_with_tables(self.schema, call.definition, q.conditions, self.tz)
            order = order or order_clause(self.schema, call.definition, q.order_by, q.dir)
        except QueryError as exc:
            raise CoupaError(400, [str(exc)]) from exc
        for kind in joined:
            self.store.ensure_table(kind)  # a filter through an association with no records yet
        clauses = [c for c in (where, extra_where) if c]
        all_params = [*params, *extra_params]
        if call.parent:
            clauses.append("t.parent_res = ? AND t.parent_id = ?")
            all_params.extend(call.parent)
        return self.store.select(
            call.definition, " AND ".join(clauses), all_params, order=order, limit=q.limit, offset=q.offset
        )


def basic_credentials(header: str | None) -> tuple[str, str] | None:
    """``Authorization: Basic`` -> (user, password), or None; malformed -> ValueError."""
    if not header:
        return None
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        user, sep, password = base64.b64decode(value.strip(), validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise ValueError("malformed HTTP Basic credentials") from exc
    if not sep:
        raise ValueError("malformed HTTP Basic credentials")
    from urllib.parse import unquote

    return unquote(user), unquote(password)
