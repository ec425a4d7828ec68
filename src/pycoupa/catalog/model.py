"""The catalog as Python objects: definitions, fields, operations, resources and scopes.

Everything here is derived from the committed data in ``data/`` (see ``build.py``), so that the
emulator, the SDK and the server ask one place about Coupa's API instead of hard-coding names.

Terms:
- *definition*: an R39 schema (``InvoiceHeader``), i.e. a kind of record;
- *operation*: one (method, path template) of R39, e.g. ``PUT /invoices/{id}/void``;
- *resource*: a collection path (``/invoices``, ``/suppliers/{supplier_id}/invoice_emails``) with
  its definition and the operations on it, classified as list/create/show/update/delete or as a
  named action on the collection or on a member.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any, Literal

DATA_DIR = Path(__file__).parent / "data"

ScalarType = Literal["string", "integer", "decimal", "float", "boolean", "datetime", "date", "any"]
OpKind = Literal["list", "create", "show", "update", "delete", "collection_action", "member_action"]

_LEN_RE = re.compile(r"^string\((\d+)\)$")
_PARAM_RE = re.compile(r"\{([^}]+)\}")


def dasherize(name: str) -> str:
    """``InvoiceHeader`` -> ``invoice-header``; ``CoupaPay-Payment`` -> ``coupa-pay-payment``."""
    out = re.sub(r"(?<=[a-z0-9])([A-Z])", r"-\1", name)
    out = re.sub(r"(?<=[A-Z])([A-Z][a-z])", r"-\1", out)
    return re.sub(r"[-_:\s]+", "-", out).lower()


@dataclass(frozen=True)
class Field:
    name: str  # hyphenated wire name
    type: str | None  # JSON-schema type as written: string, integer, number, boolean, array, or None
    format: str | None
    enum: tuple[str, ...] | None
    read_only: bool
    ref: str | None  # referenced definition for associations (single or list)
    items: str | None  # scalar item type for arrays of scalars

    @property
    def is_association(self) -> bool:
        return self.ref is not None and self.type != "array"

    @property
    def is_collection(self) -> bool:
        return self.ref is not None and self.type == "array"

    @property
    def is_scalar(self) -> bool:
        return self.ref is None and self.type != "array"

    @cached_property
    def scalar_type(self) -> ScalarType:
        """The value kind used for coercion, filtering and rendering."""
        fmt = (self.format or "").lower()
        if self.type == "integer":
            return "integer"
        if self.type == "boolean":
            return "boolean"
        if self.type == "number":
            return "float" if fmt == "float" else "decimal"
        if fmt in ("datetime", "date-time"):
            return "datetime"
        if fmt == "date":
            return "date"
        if self.type == "string":
            return "string"
        return "any"

    @cached_property
    def max_length(self) -> int | None:
        m = _LEN_RE.match(self.format or "")
        return int(m.group(1)) if m else None


@dataclass(frozen=True)
class Definition:
    name: str
    fields: dict[str, Field]
    required: tuple[str, ...]

    @cached_property
    def element(self) -> str:
        """The XML element of one record (``<invoice-header>``)."""
        return dasherize(self.name)

    @cached_property
    def scalar_fields(self) -> tuple[Field, ...]:
        return tuple(f for f in self.fields.values() if f.is_scalar)

    @cached_property
    def natural_keys(self) -> tuple[str, ...]:
        """Fields by which a reference to this kind of record may name it, besides ``id``."""
        return tuple(k for k in NATURAL_KEY_CANDIDATES if k in self.fields and self.fields[k].is_scalar)


# Keys Coupa accepts to identify a referenced record (coupa-api.md section 4); order matters only
# for display. A reference may give several; then all must match.
NATURAL_KEY_CANDIDATES = (
    "code",
    "name",
    "login",
    "email",
    "number",
    "invoice-number",
    "po-number",
    "item-number",
    "external-ref-code",
    "external-ref-num",
    "location-code",
    "employee-number",
    "external-ref-id",
    "iso-code",
)


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    area: str
    tag: str | None
    params: tuple[dict[str, Any], ...]
    body: str | None
    response: dict[str, Any] | None
    consumes: tuple[str, ...]
    statuses: tuple[int, ...]
    kind: OpKind = "show"
    resource: str = ""  # collection path template this operation belongs to
    action: str | None = None  # for *_action kinds, e.g. "void" or "business_groups/add"
    scopes: tuple[str, ...] = ()  # scopes that grant it (any one suffices)

    @property
    def key(self) -> str:
        return f"{self.method} {self.path}"

    @property
    def path_params(self) -> tuple[str, ...]:
        return tuple(_PARAM_RE.findall(self.path))

    @property
    def multipart(self) -> bool:
        return "multipart/form-data" in self.consumes


@dataclass
class Resource:
    path: str  # collection path template, e.g. "/suppliers/{supplier_id}/invoice_emails"
    definition: str | None
    xml_collection: str | None
    parent: str | None = None  # parent collection path for nested collections
    parent_param: str | None = None  # e.g. "supplier_id"
    operations: list[Operation] = field(default_factory=list)

    @property
    def name(self) -> str:
        """Readable name: the path without the leading slash (``coupa_pay/payments``)."""
        return self.path.lstrip("/")

    def op(self, kind: OpKind, action: str | None = None, method: str | None = None) -> Operation | None:
        for o in self.operations:
            if o.kind == kind and (action is None or o.action == action) and (method is None or o.method == method):
                return o
        return None

    @property
    def actions(self) -> dict[str, list[Operation]]:
        out: dict[str, list[Operation]] = {}
        for o in self.operations:
            if o.action:
                out.setdefault(o.action, []).append(o)
        return out


class Catalog:
    """All facts about Coupa's R39 API. Load once with :func:`load_catalog`."""

    def __init__(self, raw: dict[str, Any], scopes: dict[str, list[dict[str, Any]]]) -> None:
        self.release: str = raw["release"]
        self.definitions: dict[str, Definition] = {
            name: Definition(
                name=name,
                fields={
                    fname: Field(
                        name=fname,
                        type=f.get("type"),
                        format=f.get("format"),
                        enum=tuple(f["enum"]) if f.get("enum") else None,
                        read_only=bool(f.get("ro")),
                        ref=f.get("ref"),
                        items=f.get("items"),
                    )
                    for fname, f in d["fields"].items()
                },
                required=tuple(d.get("required", ())),
            )
            for name, d in raw["definitions"].items()
        }
        self.scopes: dict[str, list[dict[str, Any]]] = scopes
        grants: dict[tuple[str, str], list[str]] = {}
        for scope, lines in scopes.items():
            for line in lines:
                for method, path in line["routes"]:
                    bucket = grants.setdefault((method, path), [])
                    if scope not in bucket:
                        bucket.append(scope)
        raw_ops = raw["operations"]
        all_paths = {o["path"] for o in raw_ops}
        self.operations: list[Operation] = []
        self.resources: dict[str, Resource] = {}
        for o in raw_ops:
            kind, resource, action = _classify(o["method"], o["path"], all_paths, o.get("response"))
            op = Operation(
                method=o["method"],
                path=o["path"],
                area=o["area"],
                tag=o.get("tag"),
                params=tuple(o.get("params", ())),
                body=o.get("body"),
                response=o.get("response"),
                consumes=tuple(o.get("consumes", ())),
                statuses=tuple(o.get("statuses", ())),
                kind=kind,
                resource=resource,
                action=action,
                scopes=tuple(grants.get((o["method"], o["path"]), ())),
            )
            self.operations.append(op)
            self.resources.setdefault(resource, Resource(path=resource, definition=None, xml_collection=None))
            self.resources[resource].operations.append(op)
        for res in self.resources.values():
            _complete_resource(res, self)
        self._inherit_scopes()
        self._router = _Router(self.operations)

    # -- lookups -------------------------------------------------------------------------------
    def definition(self, name: str) -> Definition:
        try:
            return self.definitions[name]
        except KeyError:
            raise KeyError(f"no definition {name!r} in the {self.release} catalog") from None

    def resource(self, name: str) -> Resource:
        """A resource by path (``/invoices``) or readable name (``invoices``, ``coupa_pay/payments``)."""
        key = name if name.startswith("/") else "/" + name
        try:
            return self.resources[key]
        except KeyError:
            raise KeyError(f"no resource {name!r} in the {self.release} catalog") from None

    def match(self, method: str, path: str) -> tuple[Operation, dict[str, int]] | None:
        """The operation serving ``method path`` (path relative to /api), with its path parameters."""
        return self._router.match(method.upper(), path)

    def path_allowed_methods(self, path: str) -> list[str]:
        return self._router.methods_for(path)

    @cached_property
    def top_level_definitions(self) -> dict[str, Resource]:
        """Definition -> the top-level (not nested) collection resource serving it with a list route."""
        out: dict[str, Resource] = {}
        for res in sorted(self.resources.values(), key=lambda r: (r.parent is not None, len(r.path))):
            if res.definition and res.parent is None and res.op("list") and res.definition not in out:
                out[res.definition] = res
        return out

    def scopes_for_operation(self, op: Operation) -> tuple[str, ...]:
        return op.scopes

    def _inherit_scopes(self) -> None:
        """Give routes the scope table does not name the scopes of their resource's siblings.

        The table (as of R34.3) predates some R39 routes; a read route takes the scopes that grant
        the resource's list/show, a write route those that grant its create/update. A route left
        with none is reported by the catalog tests and needs only a valid token (emulator policy).
        """
        updated: list[Operation] = []
        for op in self.operations:
            if op.scopes:
                updated.append(op)
                continue
            res = self.resources[op.resource]
            reading = op.method == "GET"
            pool: list[str] = []
            for sibling in res.operations:
                if not sibling.scopes:
                    continue
                if (sibling.method == "GET") == reading:
                    pool.extend(s for s in sibling.scopes if s not in pool)
            updated.append(_replace(op, scopes=tuple(pool)) if pool else op)
        self.operations = updated
        for res in self.resources.values():
            res.operations = [o for o in updated if o.resource == res.path]


def _replace(op: Operation, **changes: Any) -> Operation:
    from dataclasses import replace

    return replace(op, **changes)


def _strip_optional(path: str) -> str:
    return re.sub(r"\(/\{[^}]+\}\)$", "", path)


def _classify(
    method: str, path: str, all_paths: set[str], response: dict[str, Any] | None
) -> tuple[OpKind, str, str | None]:
    """Work out what an operation does from the shape of its path.

    ``/x`` and ``/p/{p_id}/x`` are collections when ``…/x/{id}`` exists or a GET there answers
    an array; ``…/{id}/act`` is an action on a member, ``/x/act`` an action on collection ``/x``.
    """
    segs = _strip_optional(path).strip("/").split("/")
    member_parents = {p.rsplit("/", 1)[0] for p in all_paths if p.rsplit("/", 1)[-1].startswith("{")}
    known = member_parents | all_paths

    def joined(parts: list[str]) -> str:
        return "/" + "/".join(parts)

    if segs[-1].startswith("{"):
        collection = joined(segs[:-1])
        kinds: dict[str, OpKind] = {"GET": "show", "PUT": "update", "PATCH": "update", "DELETE": "delete"}
        if method in kinds:
            return kinds[method], collection, None
        return "member_action", collection, method.lower()
    here = joined(segs)
    collection_kinds: dict[str, OpKind] = {"GET": "list", "POST": "create"}
    lists_here = method == "GET" and bool((response or {}).get("array"))
    if len(segs) == 1 or here in member_parents or (segs[-2].startswith("{") and lists_here):
        if method in collection_kinds:
            return collection_kinds[method], here, None
        return "collection_action", here, method.lower()
    # An action: the nearest enclosing member (…/{id}/act) or known collection (/x/act) owns it.
    for cut in range(len(segs) - 1, 0, -1):
        head = segs[:cut]
        action = "/".join(segs[cut:])
        if head[-1].startswith("{"):
            return "member_action", joined(head[:-1]), action
        if joined(head) in known:
            return "collection_action", joined(head), action
    # A namespaced collection with no member routes (``/payables/external/payables`` style).
    if method in collection_kinds:
        return collection_kinds[method], here, None
    return "collection_action", here, method.lower()


def _complete_resource(res: Resource, catalog: Catalog) -> None:
    """Fill in a resource's definition, XML collection name and parent from its operations."""
    order: dict[OpKind, int] = {"list": 0, "show": 1, "create": 2, "update": 3}
    for op in sorted(res.operations, key=lambda o: order.get(o.kind, 9)):
        resp = op.response or {}
        if res.definition is None:
            if op.kind in ("list", "show") and resp.get("ref"):
                res.definition = resp["ref"]
            elif op.kind in ("create", "update") and (op.body or resp.get("ref")):
                res.definition = op.body or resp.get("ref")
        if op.kind == "list" and resp.get("xml") and res.xml_collection is None:
            res.xml_collection = resp["xml"]
    if res.definition and res.xml_collection is None:
        res.xml_collection = _pluralise(catalog.definitions[res.definition].element)
    segs = res.path.strip("/").split("/")
    for i in range(len(segs) - 1, 0, -1):
        if segs[i].startswith("{"):
            res.parent = "/" + "/".join(segs[:i])
            res.parent_param = segs[i][1:-1]
            break


def _pluralise(word: str) -> str:
    if word.endswith("y") and not word.endswith(("ay", "ey", "oy", "uy")):
        return word[:-1] + "ies"
    if word.endswith(("s", "x", "ch", "sh")):
        return word + "es"
    return word + "s"


class _Router:
    """Matches a request path to its operation; literal segments win over ``{id}`` ones."""

    def __init__(self, operations: Iterable[Operation]) -> None:
        self._by_first: dict[str, list[tuple[re.Pattern[str], Operation]]] = {}
        entries = []
        for op in operations:
            pattern = re.escape(op.path)
            pattern = re.sub(r"\\\(/\\\{([^}]+)\\\}\\\)", r"(?:/(?P<\1>\\d+))?", pattern)
            pattern = re.sub(r"\\\{([^}]+)\\\}", r"(?P<\1>\\d+)", pattern)
            first = op.path.strip("/").split("/")[0]
            literal_count = sum(1 for s in op.path.split("/") if s and not s.startswith("{"))
            entries.append((first, -literal_count, op.path, re.compile(pattern + r"/?\Z"), op))
        entries.sort(key=lambda e: (e[0], e[1], e[2]))
        for first, _n, _p, rx, op in entries:
            self._by_first.setdefault(first, []).append((rx, op))

    def _candidates(self, path: str) -> list[tuple[re.Pattern[str], Operation]]:
        first = path.strip("/").split("/")[0]
        return self._by_first.get(first, [])

    def match(self, method: str, path: str) -> tuple[Operation, dict[str, int]] | None:
        for rx, op in self._candidates(path):
            if op.method != method:
                continue
            m = rx.match(path)
            if m:
                return op, {k: int(v) for k, v in m.groupdict().items() if v is not None}
        return None

    def methods_for(self, path: str) -> list[str]:
        return sorted({op.method for rx, op in self._candidates(path) if rx.match(path)})


@lru_cache(maxsize=1)
def load_catalog() -> Catalog:
    raw = json.loads((DATA_DIR / "catalog.json").read_text())
    scopes = json.loads((DATA_DIR / "scopes.json").read_text())
    return Catalog(raw, scopes)
