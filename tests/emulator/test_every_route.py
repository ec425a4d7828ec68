"""Every operation of the catalog answers with a sensible Coupa status, and every scoped one refuses a
token that lacks its scopes.

One emulator (rate limiting off) serves the whole module. For each operation the test calls the route
twice when it can:

- on a *missing* record (every path parameter 999999): member routes and nested collections answer 404
  in the ``errors`` envelope naming the id, top-level collections answer as on an empty instance;
- on *real* records, created through the API from each definition's required fields (parents first,
  references created or taken from the reference data): lists answer 200 with an array, shows and
  updates 200 with the record, deletes remove it, actions answer 2xx or a 400 validation envelope.

A 500 is never acceptable; a 501 only for a route whose resource has no record definition in R39.
"""

from __future__ import annotations

import asyncio
import itertools
import re
from collections import Counter
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from pycoupa.catalog.model import Field, Operation, load_catalog
from pycoupa.emulator.app import Emulator
from pycoupa.emulator.ratelimit import RateLimitSettings

CATALOG = load_catalog()
OPERATIONS = CATALOG.operations
SCOPED = [op for op in OPERATIONS if op.scopes]
UNSCOPED = [op for op in OPERATIONS if not op.scopes]
MISSING = 999999
UNRELATED_SCOPE = "openid"
JSON = "application/json"

_OPTIONAL_PARAM = re.compile(r"\(/\{[^}]+\}\)")
_PARAM = re.compile(r"\{([^}]+)\}")
_WRITES = ("POST", "PUT", "PATCH")


def _has_record_definition(op: Operation) -> bool:
    """Whether the route's resource is backed by a record definition of R39 (else 501 is allowed)."""
    res = CATALOG.resources[op.resource]
    return res.definition is not None and res.definition in CATALOG.definitions


# Counted once, so a change in the catalog or in the emulator's 501 policy shows up here.
NO_DEFINITION = [op.key for op in OPERATIONS if not _has_record_definition(op)]

# Emulator bugs found by the route test, as strict xfails naming the code at fault: when one is
# fixed the test XPASSes and fails, so its entry must go. None is open.
KNOWN_BUGS: dict[str, str] = {}


def _route_params() -> list[Any]:
    return [
        pytest.param(op, id=op.key, marks=pytest.mark.xfail(strict=True, reason=KNOWN_BUGS[op.key]))
        if op.key in KNOWN_BUGS
        else pytest.param(op, id=op.key)
        for op in OPERATIONS
    ]


def _url(op: Operation, params: dict[str, int]) -> str:
    path = _OPTIONAL_PARAM.sub("", op.path)
    return "/api" + _PARAM.sub(lambda m: str(params[m.group(1)]), path)


class SyncClient:
    """An in-process httpx client driven from synchronous tests through a private event loop."""

    def __init__(self, emu: Emulator) -> None:
        self.loop = asyncio.new_event_loop()
        transport = httpx.ASGITransport(app=emu.app, raise_app_exceptions=False)
        self.client = httpx.AsyncClient(transport=transport, base_url="http://coupa.test")

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        return self.loop.run_until_complete(self.client.request(method, url, **kwargs))

    def close(self) -> None:
        self.loop.run_until_complete(self.client.aclose())
        self.loop.close()


def mint_token(emu: Emulator, client: SyncClient, scopes: list[str]) -> str:
    client_id, secret = emu.create_oauth_client(scopes)
    r = client.request(
        "POST",
        "/oauth2/token",
        data={
            "grant_type": "client_credentials",
            "client_id": client_id,
            "client_secret": secret,
            "scope": " ".join(scopes),
        },
    )
    assert r.status_code == 200, r.text
    return str(r.json()["access_token"])


def error_messages(r: httpx.Response) -> list[str]:
    """The messages of Coupa's JSON errors envelope ``{"errors": {"<key>": ["...", ...]}}``."""
    assert r.headers.get("content-type", "").startswith(JSON), r.headers
    body = r.json()
    assert isinstance(body, dict) and set(body) == {"errors"}, body
    errors = body["errors"]
    assert isinstance(errors, dict) and errors, body
    messages: list[str] = []
    for key, values in errors.items():
        assert isinstance(key, str) and key, body
        assert isinstance(values, list) and values, body
        assert all(isinstance(v, str) and v for v in values), body
        messages.extend(values)
    return messages


class World:
    """The shared instance plus the records created for path parameters (per resource)."""

    def __init__(self) -> None:
        self.emu = Emulator()
        self.emu.buckets.configure(RateLimitSettings(enabled=False))
        self.client = SyncClient(self.emu)
        self.headers = {
            "Authorization": f"Bearer {mint_token(self.emu, self.client, sorted(self.emu.known_scopes))}",
            "Accept": JSON,
        }
        self.counter = itertools.count(1)
        self.members: dict[str, dict[str, int] | None] = {}
        self.by_kind: dict[str, int | None] = {}
        self.statuses: Counter[tuple[str, str, int]] = Counter()

    def call(self, op: Operation, params: dict[str, int], body: dict[str, Any] | None = None) -> httpx.Response:
        kwargs: dict[str, Any] = {"headers": self.headers}
        if op.method in _WRITES:
            kwargs["json"] = body or {}
        return self.client.request(op.method, _url(op, params), **kwargs)

    # -- building records through the API ----------------------------------------------------------
    def scalar(self, f: Field) -> Any:
        n = next(self.counter)
        if f.enum:
            return next((v for v in f.enum if v), f.enum[0])
        stype = f.scalar_type
        if stype == "integer":
            return 1
        if stype in ("decimal", "float"):
            return "1.00"
        if stype == "boolean":
            return True
        if stype == "datetime":
            return "2024-01-02T03:04:05Z"
        if stype == "date":
            return "2024-01-02"
        text = f"r{n}@example.com" if "email" in f.name else f"r{n}"
        return text[: f.max_length] if f.max_length else text

    def body_for(self, kind: str, depth: int) -> dict[str, Any] | None:
        """A body from the required fields of ``kind`` (None when a reference cannot be satisfied)."""
        schema = self.emu.schema
        defn = schema.definition(kind)
        plans = schema.plan_by_name(kind)
        body: dict[str, Any] = {}
        for name in schema.required(kind):
            plan = plans.get(name)
            if plan is None:
                continue
            if plan.role == "scalar":
                body[name] = self.scalar(plan.field)
            elif plan.role == "scalar_list":
                body[name] = [self.scalar(plan.field)]
            elif plan.role == "owned_list":
                inner = self.body_for(plan.target or "", depth + 1)
                if inner is None:
                    return None
                body[name] = [inner]
            else:
                rid = self.record_of_kind(plan.target or "", depth + 1)
                if rid is None:
                    return None
                body[name] = [{"id": rid}] if plan.role == "reference_list" else {"id": rid}
        assert all(k in defn.fields for k in body)
        return body

    def record_of_kind(self, kind: str, depth: int) -> int | None:
        """Any record of ``kind``: an existing one (reference data) or one created on its top-level route."""
        if kind in self.by_kind:
            return self.by_kind[kind]
        rid: int | None = None
        rows = self.emu.store.select(kind, limit=1)
        if rows:
            rid = int(rows[0]["id"])
        elif depth <= 4 and kind in CATALOG.top_level_definitions:
            member = self.member(CATALOG.top_level_definitions[kind].path, depth)
            rid = member["id"] if member else None
        self.by_kind[kind] = rid
        return rid

    def member(self, resource_path: str, depth: int = 0, *, fresh: bool = False) -> dict[str, int] | None:
        """Path parameters naming a real record of the resource (its parents' ids and ``id``)."""
        if not fresh and resource_path in self.members:
            return self.members[resource_path]
        if not fresh:
            self.members[resource_path] = None  # breaks reference cycles while building
        res = CATALOG.resources[resource_path]
        found: dict[str, int] | None = None
        ancestors: dict[str, int] | None = {}
        if res.parent and res.parent_param:
            parent = self.member(res.parent, depth + 1) if res.parent in CATALOG.resources else None
            if parent is None:
                ancestors = None
            else:
                ancestors = {k: v for k, v in parent.items() if k != "id"}
                ancestors[res.parent_param] = parent["id"]
        if ancestors is not None:
            rid = self.create(resource_path, ancestors, depth)
            if rid is not None:
                found = {**ancestors, "id": rid}
        if not fresh:
            self.members[resource_path] = found
        return found

    def create(self, resource_path: str, ancestors: dict[str, int], depth: int) -> int | None:
        res = CATALOG.resources[resource_path]
        op = res.op("create")
        kind = self.emu.schema.storage_kind(res.definition or (op.body if op else None) or "")
        if kind not in CATALOG.definitions or depth > 4:
            return None
        if op is None or op.multipart:
            if res.parent is None:  # e.g. currencies: reference data, no create route
                rows = self.emu.store.select(kind, limit=1)
                return int(rows[0]["id"]) if rows else None
            return None
        body = self.body_for(kind, depth)
        if body is None:
            return None
        r = self.call(op, ancestors, body)
        assert r.status_code != 500, f"{op.key} with {body}: {r.text}"
        if r.status_code != 201:
            return None
        rid = r.json()["id"]
        assert isinstance(rid, int)
        return rid

    def close(self) -> None:
        self.client.close()


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    w = World()
    yield w
    w.close()
    if w.statuses:  # shown with -s: how the routes answered
        for (case, kind, status), n in sorted(w.statuses.items()):
            print(f"{case:8} {kind:18} {status}: {n}")


def _id(op: Operation) -> str:
    return op.key


# --------------------------------------------------------------------------- the catalog itself


def test_catalog_size_and_no_definition_routes() -> None:
    assert len(OPERATIONS) == 809
    # Measured: seven operations sit on resources R39 gives no record definition; only they may answer
    # 501. Five of them name a body definition and are served through it (see the route test).
    assert sorted(NO_DEFINITION) == [
        "DELETE /expense_lines/{id}/unassign_attendee/{expense_attendee_id}",
        "GET /invoices/{invoice_id}/payment_receipts/{id}/retrieve_clearance_document",
        "POST /expense_lines/{id}/assign_attendee/{expense_attendee_id}",
        "PUT /asn/lines/receive",
        "PUT /asn/lines/void",
        "PUT /asn/lines/{id}/receive",
        "PUT /asn/lines/{id}/void",
    ]


def test_only_routes_without_a_definition_answer_501(world: World) -> None:
    """Counted: of the seven operations without a record definition, those with no body definition
    either answer 501; the five that name one are served like any other route."""
    answered = set()
    for op in OPERATIONS:
        if op.key in NO_DEFINITION:
            r = world.call(op, dict.fromkeys(_PARAM.findall(op.path), MISSING))
            assert r.status_code in (200, 404, 501), (op.key, r.status_code, r.text[:300])
            if r.status_code == 501:
                answered.add(op.key)
    assert answered == {
        "DELETE /expense_lines/{id}/unassign_attendee/{expense_attendee_id}",
        "GET /invoices/{invoice_id}/payment_receipts/{id}/retrieve_clearance_document",
    }


def test_every_route_resolves_to_itself(world: World) -> None:
    """The router sends a concrete URL of each operation to that operation, not to a sibling."""
    wrong = []
    for op in OPERATIONS:
        params = dict.fromkeys(_PARAM.findall(op.path), 7)
        found = world.emu.catalog.match(op.method, _url(op, params)[len("/api") :])
        if found is None or found[0].key != op.key:
            wrong.append((op.key, found[0].key if found else None))
    assert wrong == []


# --------------------------------------------------------------------------- every route, all scopes


def _check_missing(world: World, op: Operation) -> int:
    params = dict.fromkeys(_PARAM.findall(op.path), MISSING)
    r = world.call(op, params)
    status = r.status_code
    assert status != 500, f"{op.key}: 500 {r.text[:500]}"
    assert status not in (401, 403, 405, 429), f"{op.key}: {status} {r.text[:500]}"
    if status == 501:
        assert not _has_record_definition(op), f"{op.key} has a record definition but answered 501"
        assert error_messages(r)
        return status
    if params:
        # A member route or a nested collection: the record (or its parent) does not exist.
        assert status == 404, f"{op.key} on id {MISSING}: {status} {r.text[:500]}"
        assert any(str(MISSING) in m for m in error_messages(r)), r.text
    elif op.kind == "list" or (op.kind == "collection_action" and op.method == "GET"):
        assert status == 200, f"{op.key}: {status} {r.text[:500]}"
        assert isinstance(r.json(), list), r.text[:500]
    elif op.kind == "create":
        # An empty body: created (nothing is required) or refused with validation messages.
        assert status in (200, 201, 400), f"{op.key}: {status} {r.text[:500]}"
        if status == 400:
            assert error_messages(r)
        else:
            assert isinstance(r.json(), dict) and isinstance(r.json().get("id"), int), r.text[:500]
    else:
        assert status in (200, 201, 204, 400), f"{op.key}: {status} {r.text[:500]}"
        if status == 400:
            assert error_messages(r)
    return status


def _check_real(world: World, op: Operation) -> int | None:
    """The same route on records that exist; None when no record could be built for its parameters."""
    names = _PARAM.findall(_OPTIONAL_PARAM.sub("", op.path))
    res = CATALOG.resources[op.resource]
    if not names and op.kind != "create":
        return None
    member = world.member(op.resource, fresh=op.kind == "delete") if names else {}
    own_record = member is not None and not set(names) - set(member)
    if not own_record:
        # No record could be built for this resource; a nested collection may still have its parent.
        if op.kind not in ("list", "create", "collection_action") or not res.parent or not res.parent_param:
            return None
        parent = world.member(res.parent) if res.parent in CATALOG.resources else None
        if parent is None:
            return None
        member = {k: v for k, v in parent.items() if k != "id"}
        member[res.parent_param] = parent["id"]
        if set(names) - set(member):
            return None
    assert member is not None
    body = None
    if op.kind == "create" and not op.multipart:
        kind = world.emu.schema.storage_kind(res.definition or op.body or "")
        body = world.body_for(kind, 0) if kind in CATALOG.definitions else None
    r = world.call(op, member, body)
    status = r.status_code
    where = f"{op.key} on {member}"
    assert status != 500, f"{where}: 500 {r.text[:500]}"
    assert status not in (401, 403, 405, 429), f"{where}: {status} {r.text[:500]}"
    if status == 501:
        assert not _has_record_definition(op), f"{op.key} has a record definition but answered 501"
        return status
    assert status != 404, f"{where} (records that exist): 404 {r.text[:500]}"
    if op.kind == "list":
        assert status == 200, f"{where}: {status} {r.text[:500]}"
        listed = r.json()
        assert isinstance(listed, list), r.text[:500]
        if own_record:
            assert member["id"] in [item.get("id") for item in listed], f"{where}: record missing from {listed}"
    elif op.kind == "create" and body is not None:
        # The required fields of R39 (and the emulator's REQUIRED table) are not every business rule
        # (an account needs a segment, a requisition a line): a validation 400 is a fair answer.
        assert status in (201, 400), f"{where} with required fields {body}: {status} {r.text[:500]}"
        if status == 201:
            assert isinstance(r.json().get("id"), int), r.text[:500]
        else:
            assert error_messages(r)
    elif op.kind in ("show", "update"):
        assert status == 200, f"{where}: {status} {r.text[:500]}"
        assert r.json()["id"] == member["id"], r.text[:500]
    elif op.kind == "delete":
        assert status in (200, 204), f"{where}: {status} {r.text[:500]}"
        show = res.op("show")
        if show is not None:
            again = world.call(show, member)
            assert again.status_code == 404, f"{op.key} answered {status} but {show.key} still finds it"
    else:
        assert status in (200, 201, 204, 400), f"{where}: {status} {r.text[:500]}"
        if status == 400:
            assert error_messages(r)
    return status


@pytest.mark.parametrize("op", _route_params())
def test_route_answers_sensibly(world: World, op: Operation) -> None:
    status = _check_missing(world, op)
    world.statuses[("missing", op.kind, status)] += 1
    real = _check_real(world, op)
    if real is not None:
        world.statuses[("real", op.kind, real)] += 1


# --------------------------------------------------------------------------- scopes


def test_unrelated_scope_is_a_real_scope_granting_no_route() -> None:
    assert UNRELATED_SCOPE in load_catalog().scopes
    assert not any(UNRELATED_SCOPE in op.scopes for op in OPERATIONS)
    assert len(SCOPED) + len(UNSCOPED) == len(OPERATIONS)


@pytest.fixture(scope="module")
def openid_headers(world: World) -> dict[str, str]:
    return {
        "Authorization": f"Bearer {mint_token(world.emu, world.client, [UNRELATED_SCOPE])}",
        "Accept": JSON,
    }


@pytest.mark.parametrize("op", SCOPED, ids=_id)
def test_route_refuses_token_without_its_scope(world: World, openid_headers: dict[str, str], op: Operation) -> None:
    params = dict.fromkeys(_PARAM.findall(op.path), MISSING)
    kwargs: dict[str, Any] = {"headers": openid_headers}
    if op.method in _WRITES:
        kwargs["json"] = {}
    r = world.client.request(op.method, _url(op, params), **kwargs)
    assert r.status_code == 403, f"{op.key}: {r.status_code} {r.text[:300]}"
    messages = error_messages(r)
    assert any(scope in m for m in messages for scope in op.scopes), (op.scopes, messages)


@pytest.mark.parametrize("op", UNSCOPED, ids=_id)
def test_unscoped_route_needs_only_a_valid_token(world: World, openid_headers: dict[str, str], op: Operation) -> None:
    """Routes the scope table grants to no scope are served to any valid token (emulator policy)."""
    params = dict.fromkeys(_PARAM.findall(op.path), MISSING)
    kwargs: dict[str, Any] = {"headers": openid_headers}
    if op.method in _WRITES:
        kwargs["json"] = {}
    r = world.client.request(op.method, _url(op, params), **kwargs)
    assert r.status_code not in (401, 403, 500), f"{op.key}: {r.status_code} {r.text[:300]}"


def test_missing_token_is_401(world: World) -> None:
    r = world.client.request("GET", "/api/suppliers", headers={"Accept": JSON})
    assert r.status_code == 401
    assert error_messages(r)
