"""Unified list and get over Coupa: filters -> Coupa conditions, keyset cursors, concurrent pages.

A list call with ``limit`` L asks Coupa for all its pages at once, each anchored on the same keyset
position (``id[gt]=<the cursor's id>``, ordered by id) and at most 50 records long (Coupa's ceiling).
Page k asks for ``offset=49k``: it overlaps the page before by one record, so it must start with
the record that page ends with. That takes ceil((L-1)/49) pages (3 for L=100, 5 for 200), fetched
concurrently within the instance's rate budget. The cursor records the last id returned; the next
call resumes after it. The ``fields`` projection always includes ``id``.

What a list guarantees:

- When nothing changes during the call, the answer is the next L records after the cursor (fewer
  only at the end of the data), each once, in id order, and ``result_count`` is their number.
- When records are deleted, or stop matching the filter, between two page fetches, the pages after
  the change shift. Each page's first record is checked against the page before's last one: where
  they differ, the answer stops at the end of the last page that checked out (fewer than L records
  then) and the cursor points there, so the next call reads on from that record. A record that
  exists and matches throughout a call is therefore never skipped, in that call or any later one;
  and a walk returns no record twice, because each call returns only ids above its cursor.
- Each record is as its page read it: the pages are not one snapshot, and a record returned may be
  gone or no longer match by the time the call answers.
- As with any keyset paging, records created during a walk (higher ids) are returned by its later
  calls, but a record that starts matching the filter with an id below the cursor is not.

A Coupa answer the engine cannot use (not JSON, a page that is not records with integer ids in
ascending order) is a 502 ``remote_error`` with Coupa's status and the start of its body.
"""

from __future__ import annotations

import asyncio
import dataclasses
import math
import re
from collections.abc import Coroutine, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

import httpx

from pycoupa.client import query as client_query
from pycoupa.client._base import MAX_PAGE, find_operation, member_path, page_flow
from pycoupa.client._pipeline import Flow
from pycoupa.client.async_ import AsyncCoupa
from pycoupa.client.errors import ResponseDecodeError
from pycoupa.server.cursor import CursorError, CursorSigner, Position, request_digest
from pycoupa.server.errors import APIError, decode_problem, unusable_answer
from pycoupa.server.timing import Stopwatch
from pycoupa.server.unified.registry import coupa_conditions, coupa_path
from pycoupa.server.unified.spec import OPERATORS, Source, UnifiedFilter, UnifiedResource
from pycoupa.wire.query import Condition, FieldSpec, build_query, format_fields, normalize_name

DEFAULT_LIMIT = 100
MAX_LIMIT = 500
# Query parameters every unified list takes, besides the resource's own filters.
COMMON = ("integrated_account_id", "limit", "next_cursor", "include_remote_data", "truto_ignore_remote_data")
_FILTER_KEY = re.compile(r"^(?P<name>[a-z_][a-z0-9_]*)(?:\[(?P<op>[a-z_]+)\])?$")
_REMOTE_KEY = re.compile(r"^remote_query\[(?P<attr>[A-Za-z0-9_\-]+)\](?P<rest>(?:\[[A-Za-z0-9_\-]+\])*)$")
_BOOL = {"true": True, "false": False, "1": True, "0": False}
# Coupa's query options the engine sets for paging and projection: passed through, they would move
# the keyset window (offset, dir, order_by) or drop what the mapping reads (fields, return_object).
_ENGINE_OWNED = frozenset({"limit", "offset", "order-by", "dir", "fields", "return-object"})


@dataclass(frozen=True)
class ListRequest:
    limit: int
    cursor: str | None
    include_remote_data: bool
    filters: tuple[tuple[str, str, str], ...]  # (name, op, raw value)
    remote_query: tuple[tuple[str, str], ...]  # raw Coupa pairs


def parse_bool(name: str, value: str) -> bool:
    found = _BOOL.get(value.strip().lower())
    if found is None:
        raise APIError(400, "bad_request", f"{name} must be true or false, got {value!r}", {"parameter": name})
    return found


# Truto's spelling (on unless ignored) beside pycoupa's (off unless included); one call takes one.
REMOTE_DATA_SWITCHES = ("include_remote_data", "truto_ignore_remote_data")


def remote_data_switch(key: str, value: str, seen: set[str]) -> bool:
    """Whether ``key=value`` asks for ``remote_data``; both spellings in one call answer 400."""
    if seen.issuperset(REMOTE_DATA_SWITCHES):
        raise APIError(
            400, "bad_request", "give include_remote_data or truto_ignore_remote_data, not both",
            {"parameters": list(REMOTE_DATA_SWITCHES)},
        )  # fmt: skip
    wanted = parse_bool(key, value)
    return not wanted if key == "truto_ignore_remote_data" else wanted


def parse_list_request(resource: UnifiedResource, params: Sequence[tuple[str, str]]) -> ListRequest:
    limit, cursor, include = DEFAULT_LIMIT, None, False
    filters: list[tuple[str, str, str]] = []
    remote: list[tuple[str, str]] = []
    supported = resource.filter_names
    seen: set[str] = set()
    for key, value in params:
        if key in seen and not key.startswith("remote_query["):
            raise APIError(400, "bad_request", f"parameter {key!r} is given twice", {"parameter": key})
        seen.add(key)
        if key == "integrated_account_id":
            continue
        if key == "limit":
            if not value.isdigit() or not 1 <= int(value) <= MAX_LIMIT:
                raise APIError(400, "bad_request", f"limit must be 1..{MAX_LIMIT}, got {value!r}", {"parameter": key})
            limit = int(value)
        elif key == "next_cursor":
            cursor = value or None
        elif key in REMOTE_DATA_SWITCHES:
            include = remote_data_switch(key, value, seen)
        elif key.startswith("remote_query"):
            m = _REMOTE_KEY.match(key)
            if not m:
                raise APIError(
                    400, "bad_request", f"{key!r}: write remote_query[<coupa attribute>][<operator>]=value",
                    {"parameter": key},
                )  # fmt: skip
            if not m["rest"] and normalize_name(m["attr"].lower()) in _ENGINE_OWNED:
                raise APIError(
                    400, "bad_request",
                    f"{key!r}: the unified API sets Coupa's {m['attr']} itself (paging and projection); "
                    "use limit, next_cursor and include_remote_data",
                    {"parameter": key},
                )  # fmt: skip
            remote.append((m["attr"] + m["rest"], value))
        else:
            m = _FILTER_KEY.match(key)
            name, op = (m["name"], m["op"] or "eq") if m else (key, "eq")
            if m is None or name not in supported:
                raise APIError(
                    400, "unsupported_filter",
                    f"{key!r} is not a filter of {resource.model}/{resource.name}; supported: "
                    f"{', '.join(supported) or 'none'} (and remote_query[...] for raw Coupa filters)",
                    {"parameter": key, "supported_filters": supported, "common_parameters": list(COMMON)},
                )  # fmt: skip
            if op not in OPERATORS:
                raise APIError(
                    400, "bad_request", f"{key!r}: unknown operator {op!r}; operators: {', '.join(sorted(OPERATORS))}",
                    {"parameter": key},
                )  # fmt: skip
            filters.append((name, op, value))
    return ListRequest(limit, cursor, include, tuple(filters), tuple(remote))


def _check_values(f: UnifiedFilter, values: list[str], key: str) -> list[str]:
    """``values`` checked for the filter's kind (booleans spelt as Coupa does)."""
    out: list[str] = []
    for v in values:
        if f.kind == "datetime":
            try:
                datetime.fromisoformat(v.replace("Z", "+00:00"))
            except ValueError:
                raise APIError(
                    400, "bad_request", f"{key}: {v!r} is not an ISO 8601 date or datetime", {"parameter": key}
                ) from None
        elif f.kind == "int":
            if not v.lstrip("-").isdigit():
                raise APIError(400, "bad_request", f"{key}: {v!r} is not an integer", {"parameter": key})
        elif f.kind == "bool":
            v = "true" if parse_bool(key, v) else "false"
        out.append(v)
    return out


def conditions_for(source: Source, request: ListRequest) -> list[Condition] | None:
    """The Coupa conditions of ``request`` for one source; None when the source cannot match."""
    out: list[Condition] = []
    for name, op, raw in request.filters:
        f = source.filters.get(name)
        if f is None:
            return None
        key = f"{name}[{op}]" if op != "eq" else name
        # Only [in] takes a list; a comma in any other value is part of it ("Acme, Inc.").
        found = filter_conditions(f, op, raw.split(",") if op == "in" else [raw], key)
        if found is None:
            return None
        out.extend(found)
    return out


def filter_conditions(f: UnifiedFilter, op: str, raw_values: list[str], key: str) -> list[Condition] | None:
    """Coupa conditions for one filter of a request; None when this source cannot match it."""
    extra: list[Condition] = []
    if f.by_prefix:
        picked = _pick_by_prefix(f, raw_values, key)
        if picked is None:
            return None
        f, raw_values, extra = picked
    values = _check_values(f, raw_values, key)
    try:
        return [*coupa_conditions(f, op, values), *extra]
    except ValueError as exc:
        text = str(exc)  # coupa_conditions names the filter itself
        raise APIError(
            400, "bad_request", text if text.startswith(f.name) else f"{key}: {text}", {"parameter": key}
        ) from None


_COMPOSITE_ID = re.compile(r"^[a-z_]+:[0-9]+$")


def _pick_by_prefix(
    f: UnifiedFilter, values: list[str], key: str
) -> tuple[UnifiedFilter, list[str], list[Condition]] | None:
    """The filter on the Coupa attribute the values' prefix names, the bare ids and the prefix's
    extra conditions; None when no value has a prefix this source knows (it cannot hold a match)."""
    bad = [v for v in values if not _COMPOSITE_ID.match(v)]
    if bad:
        raise APIError(
            400, "bad_request", f"{key}: {', '.join(map(repr, bad))} is not a tracking category id such as lookup:3",
            {"parameter": key},
        )  # fmt: skip
    picked: dict[str, list[str]] = {}
    for v in values:
        prefix, _, number = v.partition(":")
        if prefix + ":" in f.by_prefix:
            picked.setdefault(prefix + ":", []).append(number)
    if not picked:
        return None
    if len(picked) > 1:
        raise APIError(
            400, "bad_request",
            f"{key}: ids of {' and '.join(p.rstrip(':') for p in picked)} cannot be matched in one Coupa query; "
            "ask for each kind alone",
            {"parameter": key},
        )  # fmt: skip
    ((prefix, ids),) = picked.items()
    also = f.prefix_also.get(prefix)
    extra = [Condition(coupa_path(also[0]), also[1], also[2])] if also else []
    return dataclasses.replace(f, coupa=f.by_prefix[prefix], by_prefix={}, prefix_also={}), ids, extra


_FIELD_SPECS: dict[int, FieldSpec | None] = {}


def _field_spec(source: Source) -> FieldSpec | None:
    key = id(source)
    if key not in _FIELD_SPECS:
        _FIELD_SPECS[key] = client_query.fields_spec(list(source.fields)) if source.fields else None
    return _FIELD_SPECS[key]


def _with_id(spec: FieldSpec | None) -> FieldSpec | None:
    if spec is None or "id" in spec:
        return spec
    return {"id": None, **spec}


def selected_sources(resource: UnifiedResource, request: ListRequest) -> list[int]:
    wanted = None
    if resource.selector_filter:
        picked = [(n, op, v) for n, op, v in request.filters if n == resource.selector_filter]
        if picked:
            name, op, raw = picked[0]
            wanted = set(raw.split(",")) if op in ("eq", "in") else None
            if wanted is None:
                raise APIError(400, "bad_request", f"{name} takes only = or [in]", {"parameter": name})
            valid = [s.selector for s in resource.sources]
            bad = sorted(wanted - set(valid))
            if bad:
                raise APIError(
                    400, "bad_request", f"{name}: {', '.join(bad)} unknown; one of {', '.join(valid)}",
                    {"parameter": name, "choices": valid},
                )  # fmt: skip
    return [i for i, s in enumerate(resource.sources) if wanted is None or s.selector in wanted]


def _without_selector(resource: UnifiedResource, request: ListRequest) -> ListRequest:
    if not resource.selector_filter:
        return request
    kept = tuple(f for f in request.filters if f[0] != resource.selector_filter)
    return ListRequest(request.limit, request.cursor, request.include_remote_data, kept, request.remote_query)


def unified_record(source: Source, raw: Mapping[str, Any], include_remote: bool) -> dict[str, Any]:
    record = source.map(raw)
    if include_remote:
        record["remote_data"] = raw
    return record


T = TypeVar("T")


def _keeping_answer(flow: Flow[T], answer: list[httpx.Response]) -> Flow[T]:
    """``flow`` as is, noting in ``answer`` the last HTTP answer it received: an answer that cannot be
    used is shown in the error (Coupa's status and body)."""
    value: Any = None
    error: Exception | None = None
    try:
        while True:
            try:
                effect = flow.throw(error) if error is not None else flow.send(value)
            except StopIteration as stop:
                result: T = stop.value
                return result
            try:
                value, error = (yield effect), None
            except Exception as exc:  # what the driver throws in (a transport error...): the flow's to handle
                value, error = None, exc
            if isinstance(value, httpx.Response):
                answer[:] = [value]
    finally:
        flow.close()


async def _read(client: AsyncCoupa, flow: Flow[T]) -> tuple[T, httpx.Response | None]:
    """Run ``flow``; its result and the answer it came from. A body that cannot be decoded is 502."""
    answer: list[httpx.Response] = []
    try:
        result = await client._run(_keeping_answer(flow, answer))
    except ResponseDecodeError as exc:
        raise unusable_answer(decode_problem(exc), answer[-1] if answer else None) from None
    return result, answer[-1] if answer else None


def _not_json(response: httpx.Response | None) -> str:
    ctype = response.headers.get("content-type", "") if response is not None else ""
    return f"the body is not JSON (content type {ctype or 'none'!r})"


async def _fetch(client: AsyncCoupa, path: str, pairs: list[tuple[str, str]], after: int) -> list[dict[str, Any]]:
    """One Coupa list page, checked: records with integer ids, ascending, all above ``after``."""
    page, response = await _read(client, page_flow(client, path, pairs))
    records: list[dict[str, Any]] = page.records
    previous = after
    for raw in records:
        if not isinstance(raw, Mapping):
            problem = (
                _not_json(response) if isinstance(raw, bytes | str) else "the page holds something else than records"
            )
            raise unusable_answer(problem, response)
        rid = raw.get("id")
        if isinstance(rid, bool) or not isinstance(rid, int):
            raise unusable_answer("a record of the page has no integer id", response)
        if rid <= previous:
            raise unusable_answer(
                f"the page's ids are not ascending above {after} (id {rid} after {previous})", response
            )
        previous = rid
    return records


async def _gather(pages: list[Coroutine[Any, Any, list[dict[str, Any]]]]) -> list[list[dict[str, Any]]]:
    if len(pages) == 1:  # the common case (limit <= 50): no task to schedule
        return [await pages[0]]
    return list(await asyncio.gather(*pages))


async def list_records(
    client: AsyncCoupa,
    resource: UnifiedResource,
    request: ListRequest,
    signer: CursorSigner,
    account_id: str,
    watch: Stopwatch | None = None,
) -> dict[str, Any]:
    digest = request_digest(account_id, resource.model, resource.name, request.filters, request.remote_query)
    position = Position(0, 0)
    if request.cursor:
        try:
            position = signer.decode(request.cursor, digest)
        except CursorError as exc:
            raise APIError(400, "invalid_cursor", str(exc), {"parameter": "next_cursor"}) from None
    order = selected_sources(resource, request)
    coupa_request = _without_selector(resource, request)
    result: list[dict[str, Any]] = []
    remaining = request.limit
    next_position: Position | None = None
    for index in order:
        if index < position.source:
            continue
        source = resource.sources[index]
        conditions = conditions_for(source, coupa_request)
        if conditions is None:
            continue
        after = position.after_id if index == position.source else 0
        records, exhausted = await _collect(client, source, conditions, request, after, remaining, watch)
        for raw in records:
            result.append(unified_record(source, raw, request.include_remote_data))
        remaining -= len(records)
        if not exhausted:
            next_position = Position(index, int(records[-1]["id"]))
            break
        if remaining <= 0:
            later = [i for i in order if i > index]
            next_position = Position(later[0], 0) if later else None
            break
    cursor = signer.encode(next_position, digest) if next_position is not None else None
    return {"result": result, "next_cursor": cursor, "result_count": len(result)}


async def _collect(
    client: AsyncCoupa,
    source: Source,
    conditions: list[Condition],
    request: ListRequest,
    after: int,
    wanted: int,
    watch: Stopwatch | None = None,
) -> tuple[list[dict[str, Any]], bool]:
    """Up to ``wanted`` records with id > ``after``; and whether the source has no more."""
    resource = client.catalog_resource(source.coupa_resource)
    path = member_path(find_operation(resource, "list"), None)
    spec = None if request.include_remote_data else _with_id(_field_spec(source))
    conds = [*conditions]
    if after:
        conds.append(Condition(("id",), "gt", str(after)))
    base = [*source.base_query, *request.remote_query]
    plan = _page_plan(wanted)
    calls = []
    for offset, size in plan:
        pairs = build_query(conditions=conds, limit=size, offset=offset or None, order_by="id", dir="asc", fields=spec)
        calls.append(_fetch(client, path, [*pairs, *base], after))
    fetching = _gather(calls)
    answers = await (watch.on_coupa(fetching) if watch else fetching)
    records: list[dict[str, Any]] = []
    exhausted = False
    for (offset, size), page in zip(plan, answers, strict=True):
        fresh = page
        if offset:
            # A later page starts on the record the page before ends with. If it does not, records
            # moved between the two fetches (one deleted, or no longer matching) and the records
            # at the boundary may have shifted out of both pages: stop at the end of the page before;
            # the cursor points there, and the next call reads on from that record.
            if not page or page[0]["id"] != records[-1]["id"]:
                break
            fresh = page[1:]
        records.extend(fresh)
        if len(page) < size:
            exhausted = True
            break
    if not records:
        exhausted = True
    return records[:wanted], exhausted


# Each page after the first starts one record before the end of the one before it (see the module
# docstring): pages of at most MAX_PAGE records, MAX_PAGE - 1 apart.
_STRIDE = MAX_PAGE - 1


def _page_plan(wanted: int) -> list[tuple[int, int]]:
    """(offset, limit) of the Coupa pages that hold ``wanted`` records, overlapping by one."""
    pages = max(1, math.ceil((wanted - 1) / _STRIDE))
    return [(n * _STRIDE, min(MAX_PAGE, wanted - n * _STRIDE)) for n in range(pages)]


async def get_record(
    client: AsyncCoupa,
    resource: UnifiedResource,
    unified_id: str,
    include_remote: bool,
    watch: Stopwatch | None = None,
) -> dict[str, Any]:
    try:
        source, coupa_id = resource.source_for_id(unified_id)
    except ValueError as exc:
        raise APIError(400, "bad_request", str(exc), {"id": unified_id}) from None
    catalog_resource = client.catalog_resource(source.coupa_resource)
    op = find_operation(catalog_resource, "show")
    spec = None if include_remote else _with_id(_field_spec(source))
    pairs = [("fields", format_fields(spec))] if spec else []
    fetching = _read(client, client.request_flow("GET", member_path(op, coupa_id), pairs))
    raw, response = await (watch.on_coupa(fetching) if watch else fetching)
    if not isinstance(raw, Mapping):
        problem = (
            _not_json(response) if isinstance(raw, bytes | str) else "Coupa answered something other than a record"
        )
        raise unusable_answer(problem, response)
    return unified_record(source, raw, include_remote)
