"""What an /api request becomes once routed: a :class:`Call`, answered by a handler with a
:class:`Result`. Generic handlers serve every catalog resource; behaviours (``behaviours/``)
register handlers of their own for Coupa's business rules, keyed by resource and action."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pycoupa.catalog.model import Operation, Resource
from pycoupa.emulator.oauth import Principal
from pycoupa.emulator.writes import CoupaError, Writer, not_found
from pycoupa.wire.query import ParsedQuery
from pycoupa.wire.values import WireValueError, parse_bool

if TYPE_CHECKING:
    from pycoupa.emulator.app import Emulator


@dataclass
class Call:
    """Everything a handler needs about one /api request."""

    op: Operation
    resource: Resource
    definition: str  # storage kind of the resource's records
    path_params: dict[str, int]
    query: ParsedQuery
    body: dict[str, Any]
    files: dict[str, tuple[str, str, bytes]]
    principal: Principal
    fmt: str
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def record_id(self) -> int | None:
        """The member a route names: ``{id}``, or the last path parameter of a member action
        written with its own name (``/suppliers/{supplier_id}/supplier_user_integration_contacts/add``)."""
        if "id" in self.path_params:
            return self.path_params["id"]
        if self.op.kind in ("member_action", "show", "update", "delete") and self.op.path_params:
            return self.path_params.get(self.op.path_params[-1])
        return None

    @property
    def parent(self) -> tuple[str, int] | None:
        if self.resource.parent_param and self.resource.parent_param in self.path_params:
            return (self.resource.parent or "", self.path_params[self.resource.parent_param])
        return None


@dataclass
class Result:
    """A handler's answer: records to render (one or a list), raw bytes, or nothing."""

    status: int = 200
    record: dict[str, Any] | None = None
    records: list[dict[str, Any]] | None = None
    definition: str | None = None
    raw: bytes | None = None
    media_type: str | None = None
    headers: dict[str, str] = field(default_factory=dict)


Handler = Callable[["Emulator", Call], Result]

# Behaviours registered by resource path and action (or kind) take over from the generic handler.
BEHAVIOURS: dict[tuple[str, str], Handler] = {}


def _check_definition(emu: Emulator, call: Call) -> None:
    if not call.definition or call.definition not in emu.schema.definitions:
        raise CoupaError(
            501, [f"{call.op.key} has no record definition in R39's OpenAPI, so the emulator cannot serve it"]
        )


def generic_list(emu: Emulator, call: Call) -> Result:
    _check_definition(emu, call)
    if call.parent:
        _check_parent(emu, call)
    return Result(records=emu.query(call))


def generic_show(emu: Emulator, call: Call) -> Result:
    _check_definition(emu, call)
    return Result(record=emu.load(call))


def generic_create(emu: Emulator, call: Call) -> Result:
    _check_definition(emu, call)
    if call.parent:
        _check_parent(emu, call)
    writer = emu.writer(call)
    doc = writer.create(call.definition, call.body, parent=call.parent)
    _ignored_header(call, writer)
    return Result(status=201, record=doc)


def generic_update(emu: Emulator, call: Call) -> Result:
    _check_definition(emu, call)
    doc = emu.load(call)
    writer = emu.writer(call)
    body = dict(call.body)
    exported = call.query.exported
    if "exported" in body:
        try:
            raw = body.pop("exported")
            exported = raw if isinstance(raw, bool) else parse_bool(str(raw))
        except WireValueError as exc:
            raise CoupaError(400, ["Exported must be true or false"]) from exc
    body.pop("last-exported-at", None)
    if body:
        doc = writer.update(call.definition, doc["id"], body)
    if exported is not None:
        writer.mark_exported(call.definition, doc, exported)
    _ignored_header(call, writer)
    return Result(record=doc)


def generic_delete(emu: Emulator, call: Call) -> Result:
    _check_definition(emu, call)
    doc = emu.load(call)
    emu.store.delete(call.definition, doc["id"])
    return Result(record=doc)


def generic_action(emu: Emulator, call: Call) -> Result:
    """Actions without a behaviour of their own: a read answers the record(s), a write applies
    the body as an update (``export`` marks exported) and answers the record."""
    _check_definition(emu, call)
    if call.parent:
        _check_parent(emu, call)
    if call.op.kind == "collection_action":
        if call.op.method == "GET":
            return Result(records=emu.query(call))
        if call.op.method == "POST" and call.body:
            return generic_create(emu, call)
        return Result(records=emu.query(call))
    doc = emu.load(call)
    if call.op.method == "GET":
        return Result(record=doc)
    writer = emu.writer(call)
    if call.op.action in ("export", "mark_exported"):
        writer.mark_exported(call.definition, doc, True)
        return Result(record=doc)
    if call.body:
        doc = writer.update(call.definition, doc["id"], call.body)
        _ignored_header(call, writer)
    return Result(record=doc)


GENERIC: dict[str, Handler] = {
    "list": generic_list,
    "show": generic_show,
    "create": generic_create,
    "update": generic_update,
    "delete": generic_delete,
}


def _check_parent(emu: Emulator, call: Call) -> None:
    """A nested route's parent must exist (404 otherwise), whether or not R39 gives the parent
    collection routes of its own (``/requisition_lines/{id}/attachments``)."""
    if call.parent is None:
        return
    kind = emu.parent_kind(call.resource.parent or "")
    if kind is None or emu.store.get(kind, call.parent[1]) is None:
        element = emu.schema.definition(kind).element if kind else (call.resource.parent or "").rsplit("/", 1)[-1]
        raise not_found(element, call.parent[1])


def _ignored_header(call: Call, writer: Writer) -> None:
    if writer.ignored:
        call.headers["X-Emulator-Ignored-Attributes"] = ", ".join(sorted(set(writer.ignored)))[:2000]
