"""Resource objects: every catalog resource, with list/iter/get/create/update/delete where the
route exists and Coupa's actions as methods (``coupa.invoices.void(id)``).

The flows (what to send, how to page) live in :class:`ResourceFlows`, shared by the sync and
async classes; those only drive them.
"""

from __future__ import annotations

import asyncio
import queue
import threading
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import pydantic

from pycoupa.catalog.model import Operation, Resource
from pycoupa.client import query as q
from pycoupa.client._base import (
    CoreClient,
    ParentId,
    RecordId,
    fields_pairs,
    find_operation,
    list_params,
    member_path,
    page_flow,
    parent_ids,
)
from pycoupa.client._pipeline import Flow
from pycoupa.client.errors import ConfigurationError, NoSuchAttributeError, ResponseDecodeError
from pycoupa.client.paging import Page, Pager, check_partition_count, partitions

if TYPE_CHECKING:
    from pycoupa.client.async_ import AsyncCoupa
    from pycoupa.client.sync import Coupa

# Friendly names for actions whose Coupa name is not what a Python caller reaches for; a resource's
# own action of the friendly name wins (integration_history_records has a real ``mark_exported``).
ACTION_ALIASES = {"mark_exported": "export"}
# list() options that iter() does not take as such, and why (else they would be read as filters).
_NOT_FOR_ITER = {
    "limit": "iter() pages by page_size (1..50); limit is list()'s",
    "offset": "iter() starts at the first record; use list(offset=...) for one page",
}


class ResourceFlows:
    """The flows of one resource; sync and async resources drive them."""

    def __init__(self, core: CoreClient, resource: Resource, parent_id: ParentId | None = None) -> None:
        self.core = core
        self.resource = resource
        self.parent_id = parent_id
        if resource.parent and parent_id is None:
            raise ConfigurationError(f"{resource.path} is nested: give the parent id (resource(name, parent_id=...))")
        parent_ids(parent_id)  # a bad parent id is refused here, not at the first call

    @property
    def name(self) -> str:
        return self.resource.name

    def _path(self, op: Operation, record_id: RecordId | None = None) -> str:
        return member_path(op, record_id, self.parent_id)

    def parse(self, data: Any) -> Any:
        if not self.core.settings.models or data is None:
            return data
        from pycoupa.client.models import model_for
        from pycoupa.client.models._fast import validate, validate_page

        model = model_for(self.resource.name)
        try:
            if isinstance(data, list):
                return validate_page(model, data)
            return validate(model, data) if isinstance(data, Mapping) else data
        except pydantic.ValidationError as exc:
            raise _refused(model, data, exc) from None

    # -- flows ----------------------------------------------------------------------------------
    def list_flow(self, arguments: Mapping[str, Any]) -> Flow[Any]:
        """``list(**arguments)``: the list options (limit, fields...) and the rest as filters."""
        filters = {k: v for k, v in arguments.items() if k not in _LIST_OPTIONS}
        options = {k: v for k, v in arguments.items() if k in _LIST_OPTIONS}
        op = find_operation(self.resource, "list")
        args = list_params(self.resource, filters, **options)
        page = yield from page_flow(self.core, self._path(op), args.pairs)
        return self.parse(page.records)

    def pager(
        self,
        filters: Mapping[str, Any],
        *,
        page_size: int,
        mode: str,
        fields: Any,
        order_by: str | None = None,
        dir: str | None = None,
        return_object: str | None = None,
    ) -> Pager:
        """An iteration's pager; refuses (before any request) what iteration cannot honour."""
        for name, why in _NOT_FOR_ITER.items():
            if name in filters:
                raise ConfigurationError(f"{self.name}.iter({name}=...): {why}")
        if mode == "keyset" and isinstance(fields, str | list | tuple) and fields:
            names = [fields] if isinstance(fields, str) else list(fields)
            if "id" not in names:  # keyset paging resumes after the last id: it must come back
                fields = ["id", *names]
        args = list_params(
            self.resource, filters, fields=fields, order_by=order_by, dir=dir, return_object=return_object
        )
        return Pager(base=args.pairs, page_size=page_size, mode=mode)

    def iteration(
        self, filters: Mapping[str, Any], options: Mapping[str, Any], *, mode: str, full_pull: object, partitions: int
    ) -> tuple[Pager, bool]:
        """``iter()``'s first pager, and whether it starts a full pull (all checks before any request)."""
        if _flag(full_pull, "full_pull"):
            return self.full_pull_pager(filters, mode=mode, count=partitions, **options), True
        return self.pager(filters, mode=mode, **options), False

    def full_pull_pager(self, filters: Mapping[str, Any], *, mode: str, count: int, **options: Any) -> Pager:
        """The first pager of a full pull, after the checks a full pull adds (all before any request)."""
        check_partition_count(count)
        if mode != "keyset":
            raise ConfigurationError(f"full_pull walks id partitions by keyset; mode={mode!r} does not apply")
        return self.pager(filters, mode="keyset", **options)

    def partition_pagers(
        self, filters: Mapping[str, Any], first: Pager, top: int | None, count: int, options: Mapping[str, Any]
    ) -> list[Pager]:
        """A full pull's partitions, once its first page and the highest id are known: one keyset
        pager per id range (none when the first page was all there is)."""
        if first.done or top is None:
            return []
        pagers = []
        for lower, upper in partitions(first.last_id or 0, top, count, first.page_size):
            pager = self.pager(filters, mode="keyset", **options)
            pager.lower, pager.upper = lower, upper
            pagers.append(pager)
        return pagers

    def page_flow(self, pager: Pager) -> Flow[Page]:
        """The next page of an iteration, its records parsed (models unless ``models=False``).

        Parsing here, as soon as the page has arrived, frees the decoded dicts at once; in a full
        pull, what waits for the caller is then the finished records.
        """
        op = find_operation(self.resource, "list")
        pairs = pager.next_pairs()
        assert pairs is not None
        page = yield from page_flow(self.core, self._path(op), pairs)
        page = Page(self.parse(page.records))
        pager.feed(page)
        return page

    def highest_id_flow(self, filters: Mapping[str, Any]) -> Flow[int | None]:
        """The highest id matching the filters (a one-record query; None when nothing matches)."""
        op = find_operation(self.resource, "list")
        pairs = [*list_params(self.resource, filters, fields=["id"]).pairs, ("order_by", "id"), ("dir", "desc")]
        page = yield from page_flow(self.core, self._path(op), [*pairs, ("limit", "1")])
        return int(page.records[0]["id"]) if page.records else None

    def get_flow(self, record_id: RecordId, fields: Any = None, return_object: str | None = None) -> Flow[Any]:
        op = find_operation(self.resource, "show")
        data = yield from self.core.request_flow(
            "GET", self._path(op, record_id), fields_pairs(self.resource, fields, return_object)
        )
        return self.parse(data)

    def _check_body(self, data: Any) -> None:
        if self.resource.definition:
            q.check_body(self.resource.definition, data)

    def create_flow(self, data: Any, fields: Any = None, return_object: str | None = None) -> Flow[Any]:
        from pycoupa.client._base import create_flow

        self._check_body(data)
        created = yield from create_flow(
            self.core, self.resource, data, fields_pairs(self.resource, fields, return_object), self.parent_id
        )
        return self.parse(created)

    def update_flow(
        self, record_id: RecordId, data: Any, fields: Any = None, return_object: str | None = None
    ) -> Flow[Any]:
        op = find_operation(self.resource, "update")
        self._check_body(data)
        answer = yield from self.core.request_flow(
            "PUT", self._path(op, record_id), fields_pairs(self.resource, fields, return_object), body=data
        )
        return self.parse(answer)

    def delete_flow(self, record_id: RecordId) -> Flow[Any]:
        op = find_operation(self.resource, "delete")
        answer = yield from self.core.request_flow("DELETE", self._path(op, record_id))
        return self.parse(answer)

    def mark_exported_flow(
        self, record_id: RecordId | None, data: Any, fields: Any = None, return_object: str | None = None
    ) -> Flow[Any]:
        """The resource's own ``mark_exported`` action (integration_history_records: a collection
        action whose body names the document), else its ``export`` action, else
        ``PUT /{id}?exported=true``: the same choice ``scopes_for`` makes."""
        options = {"fields": fields, "return_object": return_object}
        own = self._own_action("mark_exported")
        if own is not None and own.kind == "collection_action":
            if record_id is not None:
                raise ConfigurationError(
                    f"{self.name}.mark_exported is Coupa's {own.method} {own.path}: give the body "
                    "(document_type=..., document_id=..., ...), not a record id"
                )
            return (yield from self.action_flow("mark_exported", None, data, **options))
        if data:
            raise ConfigurationError(f"{self.name}.mark_exported takes the record's id only, not a body")
        if own is not None or self._own_action("export") is not None:
            return (yield from self.action_flow("mark_exported", record_id, None, **options))
        if record_id is None:
            raise ConfigurationError(f"{self.name}.mark_exported marks one record: give its id")
        op = find_operation(self.resource, "update")
        pairs = [*fields_pairs(self.resource, fields, return_object), ("exported", "true")]
        answer = yield from self.core.request_flow("PUT", self._path(op, record_id), pairs)
        return self.parse(answer)

    def _own_action(self, action: str) -> Operation | None:
        for op in self.resource.operations:
            if op.action == action and op.kind in ("member_action", "collection_action"):
                return op
        return None

    def action_names(self) -> list[str]:
        """The resource's Coupa actions that are Python names (``void``, ``submit``...)."""
        return sorted({o.action for o in self.resource.operations if o.action and o.action.isidentifier()})

    def action_operation(self, name: str) -> Operation:
        op = self._own_action(name) or self._own_action(ACTION_ALIASES.get(name, name))
        if op is not None:
            return op
        actions = sorted({o.action for o in self.resource.operations if o.action})
        # Also an AttributeError: resource.<name> is an attribute lookup (hasattr, getattr(..., default)).
        raise NoSuchAttributeError(
            f"{self.resource.name} has no action '{name}' in Coupa's API; actions: {', '.join(actions) or 'none'}"
        )

    def action_flow(self, name: str, record_id: RecordId | None, body: Any, **options: Any) -> Flow[Any]:
        op = self.action_operation(name)
        if op.kind == "member_action" and record_id is None:
            raise ConfigurationError(f"{self.resource.name}.{name} acts on one record: give its id")
        if op.kind == "collection_action" and record_id is not None:
            # A body passed positionally would land here and be dropped without a word.
            raise ConfigurationError(
                f"{self.resource.name}.{name} acts on the collection, not one record: pass the body as data=..., "
                f"not {type(record_id).__name__} {record_id!r} in the record id's place"
            )
        files = options.pop("files", None)
        pairs = fields_pairs(self.resource, options.pop("fields", None), options.pop("return_object", None))
        if options:
            raise ConfigurationError(f"{self.resource.name}.{name}: unexpected arguments {', '.join(sorted(options))}")
        path = self._path(op, record_id) if op.kind == "member_action" else member_path(op, None, self.parent_id)
        answer = yield from self.core.request_flow(op.method, path, pairs, body=body, files=files)
        return self.parse(answer)


def _flag(value: object, name: str) -> bool:
    if not isinstance(value, bool):  # "no" would be truthy and start a full pull
        raise ConfigurationError(f"{name} must be True or False, got {type(value).__name__} {value!r}")
    return value


def dispute_body(reason_code: str, comment: str | None) -> dict[str, Any]:
    body: dict[str, Any] = {"dispute-reason": {"code": reason_code}}
    if comment is not None:
        body["comment"] = comment
    return body


class SyncResource:
    def __init__(self, client: Coupa, flows: ResourceFlows) -> None:
        self._client = client
        self._flows = flows

    def __repr__(self) -> str:
        return f"<SyncResource {self._flows.name}>"

    def list(self, **filters: Any) -> Any:
        return self._client._run(self._flows.list_flow(filters))

    def iter(
        self,
        *,
        page_size: int = 50,
        mode: str = "keyset",
        full_pull: bool = False,
        partitions: int = 8,
        fields: Any = None,
        order_by: str | None = None,
        dir: str | None = None,
        return_object: str | None = None,
        **filters: Any,
    ) -> Iterator[Any]:
        options = {"page_size": page_size, "fields": fields, "order_by": order_by, "dir": dir,
                   "return_object": return_object}  # fmt: skip
        first, pulling = self._flows.iteration(filters, options, mode=mode, full_pull=full_pull, partitions=partitions)
        return self._full_pull(filters, first, partitions, options) if pulling else self._iter(first)

    def _iter(self, pager: Pager) -> Iterator[Any]:
        while not pager.done:
            yield from self._client._run(self._flows.page_flow(pager)).records

    def _full_pull(self, filters: dict[str, Any], first: Pager, count: int, options: dict[str, Any]) -> Iterator[Any]:
        out: queue.Queue[Any] = queue.Queue(maxsize=count * 2)
        done = object()
        stop = threading.Event()  # set when the consumer stops early: workers then give up

        def put(item: Any) -> None:
            while not stop.is_set():
                try:
                    out.put(item, timeout=0.1)
                    return
                except queue.Full:
                    continue

        def worker(pager: Pager) -> None:
            try:
                while not pager.done and not stop.is_set():
                    put(self._client._run(self._flows.page_flow(pager)).records)
            except BaseException as exc:  # handed to the consumer, which re-raises it
                put(exc)
            finally:
                put(done)

        with ThreadPoolExecutor(max_workers=count + 1, thread_name_prefix="coupa-pull") as pool:
            # The first page and the highest id together: one round trip before the partitions start.
            head_future = pool.submit(self._client._run, self._flows.page_flow(first))
            top_future = pool.submit(self._client._run, self._flows.highest_id_flow(filters))
            try:
                head = head_future.result()
                top = top_future.result()
                pagers = self._flows.partition_pagers(filters, first, top, count, options)
                for pager in pagers:
                    pool.submit(worker, pager)
                yield from head.records
                remaining = len(pagers)
                while remaining:
                    item = out.get()
                    if item is done:
                        remaining -= 1
                    elif isinstance(item, BaseException):
                        raise item
                    else:
                        yield from item
            finally:
                stop.set()

    def get(self, record_id: RecordId, *, fields: Any = None, return_object: str | None = None) -> Any:
        return self._client._run(self._flows.get_flow(record_id, fields, return_object))

    def create(self, data: Any = None, *, fields: Any = None, return_object: str | None = None, **values: Any) -> Any:
        return self._client._run(self._flows.create_flow(_body(data, values), fields, return_object))

    def update(
        self,
        record_id: RecordId,
        data: Any = None,
        *,
        fields: Any = None,
        return_object: str | None = None,
        **values: Any,
    ) -> Any:
        return self._client._run(self._flows.update_flow(record_id, _body(data, values), fields, return_object))

    def delete(self, record_id: RecordId) -> Any:
        return self._client._run(self._flows.delete_flow(record_id))

    def mark_exported(
        self,
        record_id: RecordId | None = None,
        data: Any = None,
        *,
        fields: Any = None,
        return_object: str | None = None,
        **values: Any,
    ) -> Any:
        flow = self._flows.mark_exported_flow(record_id, _body(data, values), fields, return_object)
        return self._client._run(flow)

    def dispute(self, record_id: RecordId, *, reason_code: str, comment: str | None = None) -> Any:
        return self._client._run(self._flows.action_flow("dispute", record_id, dispute_body(reason_code, comment)))

    def __dir__(self) -> Iterable[str]:
        # Coupa's actions are served by __getattr__: list them so dir() and completion show them.
        return sorted({*super().__dir__(), *self._flows.action_names()})

    def __getattr__(self, name: str) -> Callable[..., Any]:
        if name.startswith("_"):
            raise AttributeError(name)
        self._flows.action_operation(name)  # fails before any request if Coupa has no such action

        def call(record_id: RecordId | None = None, data: Any = None, **options: Any) -> Any:
            return self._client._run(self._flows.action_flow(name, record_id, data, **options))

        call.__name__ = name
        return call


class AsyncResource:
    def __init__(self, client: AsyncCoupa, flows: ResourceFlows) -> None:
        self._client = client
        self._flows = flows

    def __repr__(self) -> str:
        return f"<AsyncResource {self._flows.name}>"

    async def list(self, **filters: Any) -> Any:
        return await self._client._run(self._flows.list_flow(filters))

    def iter(
        self,
        *,
        page_size: int = 50,
        mode: str = "keyset",
        full_pull: bool = False,
        partitions: int = 8,
        fields: Any = None,
        order_by: str | None = None,
        dir: str | None = None,
        return_object: str | None = None,
        **filters: Any,
    ) -> AsyncIterator[Any]:
        options = {"page_size": page_size, "fields": fields, "order_by": order_by, "dir": dir,
                   "return_object": return_object}  # fmt: skip
        first, pulling = self._flows.iteration(filters, options, mode=mode, full_pull=full_pull, partitions=partitions)
        return self._full_pull(filters, first, partitions, options) if pulling else self._iter(first)

    async def _iter(self, pager: Pager) -> AsyncIterator[Any]:
        while not pager.done:
            page = await self._client._run(self._flows.page_flow(pager))
            for record in page.records:
                yield record

    async def _full_pull(
        self, filters: dict[str, Any], first: Pager, count: int, options: dict[str, Any]
    ) -> AsyncIterator[Any]:
        # The first page and the highest id together: one round trip before the partitions start.
        head, top = await asyncio.gather(
            self._client._run(self._flows.page_flow(first)), self._client._run(self._flows.highest_id_flow(filters))
        )
        pagers = self._flows.partition_pagers(filters, first, top, count, options)
        out: asyncio.Queue[Any] = asyncio.Queue(maxsize=count * 2)
        done = object()

        async def worker(pager: Pager) -> None:
            try:
                while not pager.done:
                    await out.put((await self._client._run(self._flows.page_flow(pager))).records)
            except asyncio.CancelledError:
                raise  # the consumer left: nobody reads the queue any more, so put nothing on it
            except BaseException as exc:  # handed to the consumer, which re-raises it
                await out.put(exc)
                return
            await out.put(done)

        tasks = [asyncio.create_task(worker(pager)) for pager in pagers]
        remaining = len(tasks)
        try:
            for record in head.records:
                yield record
            while remaining:
                item = await out.get()
                if item is done:
                    remaining -= 1
                elif isinstance(item, BaseException):
                    raise item
                else:
                    for record in item:
                        yield record
        finally:
            for task in tasks:
                task.cancel()
            # Wait for them to end, so that none outlives the pull (or this client's connections).
            await asyncio.gather(*tasks, return_exceptions=True)

    async def get(self, record_id: RecordId, *, fields: Any = None, return_object: str | None = None) -> Any:
        return await self._client._run(self._flows.get_flow(record_id, fields, return_object))

    async def create(
        self, data: Any = None, *, fields: Any = None, return_object: str | None = None, **values: Any
    ) -> Any:
        return await self._client._run(self._flows.create_flow(_body(data, values), fields, return_object))

    async def update(
        self,
        record_id: RecordId,
        data: Any = None,
        *,
        fields: Any = None,
        return_object: str | None = None,
        **values: Any,
    ) -> Any:
        return await self._client._run(self._flows.update_flow(record_id, _body(data, values), fields, return_object))

    async def delete(self, record_id: RecordId) -> Any:
        return await self._client._run(self._flows.delete_flow(record_id))

    async def mark_exported(
        self,
        record_id: RecordId | None = None,
        data: Any = None,
        *,
        fields: Any = None,
        return_object: str | None = None,
        **values: Any,
    ) -> Any:
        flow = self._flows.mark_exported_flow(record_id, _body(data, values), fields, return_object)
        return await self._client._run(flow)

    async def dispute(self, record_id: RecordId, *, reason_code: str, comment: str | None = None) -> Any:
        return await self._client._run(
            self._flows.action_flow("dispute", record_id, dispute_body(reason_code, comment))
        )

    def __dir__(self) -> Iterable[str]:
        # Coupa's actions are served by __getattr__: list them so dir() and completion show them.
        return sorted({*super().__dir__(), *self._flows.action_names()})

    def __getattr__(self, name: str) -> Callable[..., Any]:
        if name.startswith("_"):
            raise AttributeError(name)
        self._flows.action_operation(name)

        async def call(record_id: RecordId | None = None, data: Any = None, **options: Any) -> Any:
            return await self._client._run(self._flows.action_flow(name, record_id, data, **options))

        call.__name__ = name
        return call


_LIST_OPTIONS = frozenset({"limit", "offset", "order_by", "dir", "fields", "return_object"})


def _body(data: Any, values: Mapping[str, Any]) -> Any:
    if data is not None and values:
        raise ConfigurationError("give the body either as one object or as keyword values, not both")
    return data if data is not None else dict(values)


def _refused(model: type[Any], data: Any, exc: pydantic.ValidationError) -> ResponseDecodeError:
    """The SDK's error for a record its model refuses, naming the record and the fields."""
    records = data if isinstance(data, list) else [data]
    bad_id: Any = None
    for record in records:  # find the offending record: the page's error does not say which
        try:
            model.model_validate(record)
        except pydantic.ValidationError:
            bad_id = record.get("id") if isinstance(record, Mapping) else None
            break
    problems = [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors(include_input=False)][:10]
    return ResponseDecodeError(
        f"Coupa's {model.__name__} record {bad_id if bad_id is not None else '?'} does not fit its model "
        f"({'; '.join(problems[:3])}); pass models=False to get the raw records",
        record_id=bad_id,
        problems=problems,
    )
