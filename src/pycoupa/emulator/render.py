"""Turn stored documents into Coupa's responses, ready for either codec.

Associations are expanded the way Coupa does by default: the record shows every attribute; a
record it references (supplier, currency, user) shows its id and natural keys (a user shows the
``UserSimple`` view); its lines and other inline objects show their attributes with their own
references reduced the same way. ``return_object`` and ``fields`` narrow this.

Speed matters here (a page of 50 fully expanded invoices is ~30,000 values), so each
(definition, depth, format) gets a precompiled template: a dict holding every field's empty value
in output order, copied per record and filled from the few keys the stored document has. In JSON
mode values come out JSON-ready (decimals and datetimes as Coupa's strings), so orjson needs no
per-value callback; in XML mode they are typed (``Decimal``, aware ``datetime``) for the ``type=``
attributes.

Fully expanded JSON, what integrations pull page after page, has a path of its own
(:meth:`Renderer.full_json`): it answers bytes and keeps two caches across requests.

- Views: the reduced view of each referenced record (a supplier's ``{id, name, number}``, a user's
  ``UserSimple``) as a JSON fragment. Pages reference the same few hundred records over and over,
  so even a page of records never rendered before finds most of its references ready.
- Records: the JSON of each rendered record, up to :data:`RECORD_CACHE_BYTES` (oldest out first),
  with the records it was built from: its own document, its owned records (lines), and the
  records it shows by id only (approvals).

The store reports every record it writes, under its lock (:meth:`Store.watch`), and the JSON path
reads and fills both caches under that same lock, so nothing stale can be kept. A write to a
record drops its views and every cached record built from it; a write to a record whose view is
cached empties the record cache (any cached record may show that view: such writes, to suppliers,
users, currencies, are rare next to writes to invoices). A change the store cannot attribute to
records (a rollback, a reset, raw SQL) empties both. A cached record is used only when the
document asked for equals the one it was rendered from, so a handler answering a record it
changed without storing it never gets an older rendering.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, timedelta, tzinfo
from decimal import Decimal
from functools import lru_cache
from typing import Any

import orjson

from pycoupa.emulator.schema import FieldPlan, Schema
from pycoupa.emulator.store import Store
from pycoupa.wire import codec_json
from pycoupa.wire.query import FieldSpec, QueryError
from pycoupa.wire.values import Symbol, TaggedList, format_datetime, singularize

FIRST = ("id", "created-at", "updated-at")
# JSON of rendered records kept across requests (an invoice with its lines is about 15 kB).
RECORD_CACHE_BYTES = 48 * 1024 * 1024
SEEN_ONCE_LIMIT = 200_000  # keys of records rendered once, remembered to keep them the next time
# Reduced views kept per (view, kind): past this the kind's views (and the records) start over.
VIEW_CACHE_LIMIT = 50_000
# A kind whose ids go no higher has all its views made at once, the first time one is needed.
VIEW_PRELOAD_LIMIT = 20_000
DATETIME_CACHE_LIMIT = 200_000  # stored datetime -> local text
Convert = Callable[[Any], Any]
Dep = tuple[str, Any]  # (storage kind, record id) a rendering was built from
RecordKey = tuple[str, Any]  # (definition, record id)
Step = tuple[str, int, Any]  # (field, what to do, converter or view cache or view or kind)
Pending = list[tuple[dict[str, Any], str, Any, Any]]  # (output, field, view, stored value)

LAYOUT_LIMIT = 1_000  # key layouts of stored documents remembered per template
# What the JSON path does with a field whose stored value is not its output: convert it; show the
# view of the record it references (kept across requests, or the bare id of an existing record);
# the same for a list of references; render the owned record(s) in full; make it a list.
_DATETIME, _VIEW, _ID_VIEW, _VIEWS, _ID_VIEWS, _CONVERT, _LIST, _OWNED, _OWNED_LIST = range(9)
_UNSEEN: Any = object()
_MINUTES_SECONDS = frozenset(f"{m:02d}:{s:02d}" for m in range(60) for s in range(60))


def _dumps(value: Any) -> bytes:
    """JSON as the codec writes it (a handler's document may hold a ``Decimal``), in a bytes object
    of its own size: orjson hands back its growing buffer, often four times the JSON."""
    return bytes(memoryview(codec_json.dumps(value)))


def _symbol(raw: Any) -> Any:
    return Symbol(raw) if isinstance(raw, str) else raw


class Loader:
    """Per-request cache of referenced records (fetched in batches) and of their reduced views."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.cache: dict[tuple[str, int], dict[str, Any] | None] = {}
        # (definition, json mode) -> record id -> reduced view, shared by every record of a page
        self.compact: dict[tuple[str, bool], dict[Any, dict[str, Any]]] = {}

    def prefetch(self, kind: str, ids: Iterable[Any]) -> None:
        missing = {i for i in ids if isinstance(i, int) and (kind, i) not in self.cache}
        if not missing:
            return
        found = self.store.get_many(kind, missing)
        for i in missing:
            self.cache[(kind, i)] = found.get(i)

    def get(self, kind: str, record_id: Any) -> dict[str, Any] | None:
        if not isinstance(record_id, int):
            return None
        key = (kind, record_id)
        if key not in self.cache:
            self.cache[key] = self.store.get(kind, record_id)
        return self.cache[key]


class _View:
    """How records of one kind show inside others in JSON (``spec``: fields and converters), and
    the views shown so far (record id -> JSON, None for no such record). A view of the id alone
    needs only the record to exist; those are not kept."""

    __slots__ = ("cache", "id_only", "kind", "spec")

    def __init__(self, kind: str, spec: list[tuple[str, Convert | None]]) -> None:
        self.kind = kind
        self.spec = spec
        self.id_only = [name for name, _ in spec] == ["id"]
        self.cache: dict[int, orjson.Fragment | None] = {}


class _Template:
    """What rendering one definition at one depth in one format needs, computed once.

    ``special`` holds the fields whose stored value cannot be copied to the output as it is
    (associations, lists, values needing conversion); the rest are copied in one ``dict.update``.
    For JSON, ``actions`` says what to do with each of them (a :data:`Step`), ``owned`` names the
    fields holding records shown in full (level 0 only), and ``layouts`` maps the keys of a stored
    document, in order, to what rendering it takes: the keys to drop and the steps to run (the
    documents of a kind share a handful of layouts).
    """

    __slots__ = ("actions", "empty", "keys", "layouts", "owned", "plans", "special")

    def __init__(self, empty: dict[str, Any], plans: dict[str, tuple[FieldPlan, Convert | None]]) -> None:
        self.empty = empty
        self.plans = plans
        self.keys = frozenset(empty)
        self.special = {
            name: entry for name, entry in plans.items() if entry[0].role != "scalar" or entry[1] is not None
        }
        self.actions: dict[str, Step] = {}
        self.owned: dict[str, str] = {}
        self.layouts: dict[tuple[str, ...], tuple[tuple[str, ...], tuple[Step, ...]]] = {}

    def layout(self, shape: tuple[str, ...]) -> tuple[tuple[str, ...], tuple[Step, ...]]:
        if len(self.layouts) >= LAYOUT_LIMIT:
            self.layouts.clear()
        # Not an attribute: dropped, but legacy custom-field-N keys and custom-fields are kept.
        drop = tuple(k for k in shape if k not in self.keys and not k.startswith("custom-field"))
        steps = tuple(self.actions[k] for k in shape if k in self.actions)
        self.layouts[shape] = found = (drop, steps)
        return found


class Renderer:
    def __init__(self, schema: Schema, store: Store, tz: tzinfo) -> None:
        self.schema = schema
        self.store = store
        self.tz = tz
        self._templates: dict[tuple[str, int, bool], _Template] = {}
        self._compact_fields: dict[tuple[str, bool], list[tuple[str, Convert | None]]] = {}
        # Across requests (see the module docstring); emptied when the store's generation moves.
        self._generation = store.generation
        self._views: dict[tuple[str, str], _View] = {}
        self._kept_views: dict[str, list[_View]] = {}  # kind -> its views that keep what they show
        self._view_of_cache: dict[int, _View] = {}  # id(view.cache) -> view (steps hold the cache)
        # key -> (the document's JSON, the record's JSON, what it was built from); all of it
        # immutable and untracked by the garbage collector, which would otherwise walk it.
        self._records: OrderedDict[RecordKey, tuple[bytes, bytes, tuple[Dep, ...]]] = OrderedDict()
        self._record_bytes = 0
        # Records rendered once and not kept: a record is kept the second time it is rendered.
        # A client paging through an instance reads each record once; keeping those would cost
        # (serialising the document, indexing what the record shows, evicting older records)
        # on every page for nothing. A record asked for again is worth it.
        self._seen_once: set[RecordKey] = set()
        self.keep_at_first_render = False  # tests of the cache keep every record at once
        self._dependents: dict[Dep, RecordKey | set[RecordKey]] = {}  # a set when several
        self._views_restarted = False  # a view cache started over while a page rendered
        self._datetimes: dict[str, str] = {}
        self._hours: dict[str, tuple[str, str] | None] = {}
        store.watch(self._changed)

        @lru_cache(maxsize=131072)
        def local_text(raw: str) -> str:
            return format_datetime(datetime.fromisoformat(raw).replace(tzinfo=UTC), tz)

        @lru_cache(maxsize=131072)
        def local_dt(raw: str) -> datetime:
            return datetime.fromisoformat(raw).replace(tzinfo=UTC).astimezone(tz)

        self._local_text = local_text
        self._local_dt = local_dt

    # -- typed values ----------------------------------------------------------------------------
    def _converter(self, stype: str, json_mode: bool) -> Convert | None:
        """None means the stored value is already what the format wants."""

        def guard(fn: Convert) -> Convert:
            def safe(raw: Any) -> Any:
                if raw is None:
                    return None
                try:
                    return fn(raw)
                except (TypeError, ValueError, ArithmeticError):
                    return raw

            return safe

        if stype == "datetime":
            return self._datetime_text if json_mode else guard(self._local_dt)
        if stype == "float":
            return guard(float)
        if json_mode:
            # Decimals and dates are stored as Coupa's JSON spells them; booleans as JSON booleans.
            return None
        if stype == "decimal":
            return guard(lambda raw: Decimal(str(raw)))
        if stype == "date":
            return guard(lambda raw: date.fromisoformat(str(raw)[:10]))
        if stype == "boolean":
            return guard(bool)
        return None

    def _datetime_text(self, raw: Any) -> Any:
        """A stored UTC datetime as Coupa's JSON spells it in the instance's zone (the stored
        value itself when it is not a datetime).

        Stored datetimes are ``YYYY-MM-DDTHH:MM:SS``. Where the zone's offset is a whole number
        of hours and stays the same over an hour (every hour of most zones), the local text is
        that hour's local text with the minutes and seconds copied.
        """
        if type(raw) is not str:
            return self._local_text_or_raw(raw) if raw is not None else None
        text = self._datetimes.get(raw)
        if text is not None:
            return text
        if len(raw) == 19 and raw[13] == ":" and raw[14:19] in _MINUTES_SECONDS:
            hour = raw[:13]
            known = self._hours.get(hour, _UNSEEN)
            if known is _UNSEEN:
                known = self._hours[hour] = self._hour_text(hour)
            if known is not None:
                text = known[0] + raw[13:] + known[1]
        if text is None:
            text = self._local_text_or_raw(raw)
            if text is raw:
                return raw
        if len(self._datetimes) >= DATETIME_CACHE_LIMIT:
            self._datetimes.clear()
        self._datetimes[raw] = text
        return text

    def _local_text_or_raw(self, raw: Any) -> Any:
        try:
            return self._local_text(raw)
        except (TypeError, ValueError, ArithmeticError):
            return raw

    def _hour_text(self, hour: str) -> tuple[str, str] | None:
        """(local ``YYYY-MM-DDTHH``, offset text) for a UTC hour, or None when minutes and
        seconds cannot simply be copied (an offset with minutes, a change of offset in the hour)."""
        try:
            start = datetime.fromisoformat(hour + ":00:00").replace(tzinfo=UTC)
            first, last = start.astimezone(self.tz), (start + timedelta(seconds=3599)).astimezone(self.tz)
        except (ValueError, OverflowError):
            return None
        offset = first.utcoffset()
        if offset is None or offset != last.utcoffset() or offset % timedelta(hours=1):
            return None
        text = format_datetime(start, self.tz)
        if len(text) < 19 or text[13:19] != ":00:00":
            return None
        return text[:13], text[19:]

    def value(self, stype: str, raw: Any, json_mode: bool = False) -> Any:
        conv = self._converter(stype, json_mode)
        return raw if conv is None else conv(raw)

    def _template(self, definition: str, level: int, json_mode: bool) -> _Template:
        key = (definition, level, json_mode)
        tpl = self._templates.get(key)
        if tpl is not None:
            return tpl
        plans = self.schema.plan(definition)
        ordered = [p for name in FIRST for p in plans if p.field.name == name]
        ordered += [p for p in plans if p.field.name not in FIRST]
        empty: dict[str, Any] = {}
        table: dict[str, tuple[FieldPlan, Convert | None]] = {}
        for plan in ordered:
            name = plan.field.name
            if plan.role in ("reference_list", "owned_list"):
                # Rails names the items of a nested collection after the attribute (<lines><line>).
                empty[name] = [] if json_mode else TaggedList(singularize(name))
            elif plan.role == "scalar_list":
                empty[name] = []
            else:
                empty[name] = None
            conv = self._converter(plan.field.scalar_type, json_mode) if plan.role == "scalar" else None
            if not json_mode and self.schema.is_symbol(definition, name):
                conv = _symbol
            table[name] = (plan, conv)
        tpl = _Template(empty, table)
        if json_mode:
            with self.store.lock:  # views are shared with full_json, which holds the lock
                self._json_actions(tpl, level)
        self._templates[key] = tpl
        return tpl

    def _json_actions(self, tpl: _Template, level: int) -> None:
        for name, (plan, conv) in tpl.special.items():
            role, kind = plan.role, plan.target or ""
            step: Step
            if role == "scalar":
                step = (name, _DATETIME, None) if conv == self._datetime_text else (name, _CONVERT, conv)
            elif role == "scalar_list":
                step = (name, _LIST, None)
            elif role in ("owned", "owned_list") and level == 0:
                step = (name, _OWNED if role == "owned" else _OWNED_LIST, kind)
                tpl.owned[name] = kind
            else:
                view = self._view(plan.field.ref or "", kind)
                single = role in ("reference", "owned")
                if view.id_only:
                    step = (name, _ID_VIEW if single else _ID_VIEWS, view)
                else:
                    step = (name, _VIEW if single else _VIEWS, view.cache)
            tpl.actions[name] = step

    def _view(self, definition: str, kind: str) -> _View:
        view = self._views.get((definition, kind))
        if view is None:
            view = self._views[(definition, kind)] = _View(kind, self._compact_spec(definition, True))
            if not view.id_only:
                self._kept_views.setdefault(kind, []).append(view)
                self._view_of_cache[id(view.cache)] = view
        return view

    # -- public entry points ---------------------------------------------------------------------
    def render_many(
        self,
        definition: str,
        docs: list[dict[str, Any]],
        *,
        return_object: str | None = None,
        fields: FieldSpec | None = None,
        loader: Loader | None = None,
        json_mode: bool = False,
    ) -> list[dict[str, Any]]:
        """Response trees for either codec (fully expanded JSON: :meth:`full_json` is faster)."""
        loader = loader or Loader(self.store)
        if fields is not None:
            self._check_spec(definition, fields)
            return [self._project(definition, d, fields, loader, json_mode) for d in docs]
        if return_object == "limited":
            return [{"id": d.get("id")} for d in docs]
        if return_object == "shallow":
            self._prefetch(definition, docs, loader, 1)
            return [self._shallow(definition, d, loader, json_mode) for d in docs]
        self._prefetch(definition, docs, loader, 0)
        return [self._record(definition, d, 0, loader, json_mode) for d in docs]

    def render_one(self, definition: str, doc: dict[str, Any], **kw: Any) -> dict[str, Any]:
        return self.render_many(definition, [doc], **kw)[0]

    # -- fully expanded JSON -----------------------------------------------------------------------
    def full_json(self, definition: str, docs: list[dict[str, Any]]) -> bytes:
        """A JSON array of fully expanded records (the values ``render_many`` gives with
        ``json_mode=True``), reusing what earlier requests rendered."""
        if not docs:
            return b"[]"
        with self.store.lock:  # no write between what is read and what is kept
            if self.store.generation != self._generation:
                self._clear()
            parts: list[bytes] = []
            missing: list[tuple[int, dict[str, Any]]] = []
            records = self._records
            for i, doc in enumerate(docs):
                hit = records.get((definition, doc.get("id")))
                if hit is not None and hit[0] == _dumps(doc):
                    parts.append(hit[1])
                else:
                    parts.append(b"")
                    missing.append((i, doc))
            if missing:
                self._views_restarted = False
                rendered = self._render_json(definition, [doc for _, doc in missing])
                # Every view a kept record shows must stay in its cache (a write to the record
                # shown finds it there and drops the records): not so if a cache started over.
                keep = not self._views_restarted
                seen = self._seen_once
                for (i, doc), (data, deps) in zip(missing, rendered, strict=True):
                    parts[i] = data
                    if keep and doc.get("id") is not None:
                        key = (definition, doc["id"])
                        if key in seen or self.keep_at_first_render:
                            self._keep(key, _dumps(doc), data, tuple(deps))
                        else:
                            if len(seen) >= SEEN_ONCE_LIMIT:
                                seen.clear()
                            seen.add(key)
        parts[0] = b"[" + parts[0]
        parts[-1] = parts[-1] + b"]"
        return b",".join(parts)

    def _render_json(self, definition: str, docs: list[dict[str, Any]]) -> list[tuple[bytes, list[Dep]]]:
        top = self._template(definition, 0, True)
        # The owned records the page shows in full (lines), one query per kind.
        children: dict[str, dict[int, dict[str, Any]]] = {}
        for name, kind in top.owned.items():
            ids: set[int] = set()
            for doc in docs:
                raw = doc.get(name)
                if type(raw) is list:
                    ids.update(i for i in raw if type(i) is int)
                elif type(raw) is int:
                    ids.add(raw)
            if ids:
                found = self.store.get_many(kind, ids)
                if kind in children:
                    children[kind].update(found)
                else:
                    children[kind] = found
        # Views never shown before, and records shown by id alone (which must exist), are noted
        # while rendering, then fetched in one query per kind.
        pending: Pending = []
        trees = []
        kind = self.schema.storage_kind(definition)  # what the store names in its reports
        for doc in docs:
            deps: list[Dep] = [(kind, doc.get("id"))]
            trees.append((self._json_record(top, doc, children, deps, pending), deps))
        if pending:
            self._resolve(pending)
        return [(_dumps(tree), deps) for tree, deps in trees]

    def _json_record(
        self,
        tpl: _Template,
        doc: dict[str, Any],
        children: dict[str, dict[int, dict[str, Any]]],
        deps: list[Dep],
        pending: Pending,
    ) -> dict[str, Any]:
        """One record as a JSON-ready dict: the stored values copied wholesale (C speed), what is
        not an attribute dropped, and only the fields that need work redone."""
        out = tpl.empty.copy()
        out.update(doc)
        shape = tuple(doc)
        layout = tpl.layouts.get(shape)
        if layout is None:
            layout = tpl.layout(shape)
        drop, steps = layout
        for name in drop:
            del out[name]
        datetimes = self._datetimes
        for name, what, how in steps:
            raw = doc[name]
            if raw is None:
                out[name] = tpl.empty[name]
            elif what == _DATETIME:
                text = datetimes.get(raw) if type(raw) is str else None
                out[name] = text if text is not None else self._datetime_text(raw)
            elif what == _VIEW:
                shown = how.get(raw, _UNSEEN) if type(raw) is int else None
                if shown is _UNSEEN:
                    pending.append((out, name, how, raw))
                else:
                    out[name] = shown
            elif what == _VIEWS:
                if type(raw) is list:
                    items = []
                    for rid in raw:
                        shown = how.get(rid, _UNSEEN) if type(rid) is int else None
                        if shown is _UNSEEN:
                            pending.append((out, name, how, raw))
                            break
                        if shown is not None:
                            items.append(shown)
                    else:
                        out[name] = items
                else:
                    out[name] = []
            elif what == _ID_VIEW:
                if type(raw) is int:
                    deps.append((how.kind, raw))
                    pending.append((out, name, how, raw))
                else:
                    out[name] = None
            elif what == _ID_VIEWS:
                if type(raw) is list:
                    kind = how.kind
                    deps.extend((kind, rid) for rid in raw if type(rid) is int)
                    pending.append((out, name, how, raw))
                else:
                    out[name] = []
            elif what == _CONVERT:
                out[name] = how(raw)
            elif what == _LIST:
                if type(raw) is not list:
                    out[name] = []
            else:
                found = children.get(how, {})
                sub = self._template(how, 1, True)
                if what == _OWNED:
                    child = None
                    if type(raw) is int:
                        deps.append((how, raw))
                        child = found.get(raw)
                    out[name] = None if child is None else self._json_record(sub, child, {}, deps, pending)
                else:
                    rendered = []
                    if type(raw) is list:
                        for rid in raw:
                            if type(rid) is int:
                                deps.append((how, rid))
                                child = found.get(rid)
                                if child is not None:
                                    rendered.append(self._json_record(sub, child, {}, deps, pending))
                    out[name] = rendered
        return out

    def _resolve(self, pending: Pending) -> None:
        """Fetch what a page lacked, one query per kind, and put it in place."""
        wanted: dict[int, tuple[Any, set[int]]] = {}
        for _, _, how, raw in pending:
            entry = wanted.get(id(how))
            if entry is None:
                entry = wanted[id(how)] = (how, set())
            if type(raw) is int:
                entry[1].add(raw)
            else:
                entry[1].update(i for i in raw if type(i) is int)
        found: dict[int, Any] = {}
        for key, (how, ids) in wanted.items():
            if isinstance(how, _View):  # shown by id alone (``approvals: [{"id": 9660}]``): must exist
                exist = self.store.existing(how.kind, ids)
                found[key] = {i: orjson.Fragment(b'{"id":%d}' % i) for i in exist}
            else:
                found[key] = self._fetch_views(how, ids)
        for out, name, how, raw in pending:
            shown = found[id(how)]
            if type(raw) is int:
                out[name] = shown.get(raw)
            else:
                out[name] = [s for s in (shown.get(i) for i in raw if type(i) is int) if s is not None]

    def _fetch_views(self, cache: dict[int, orjson.Fragment | None], ids: set[int]) -> dict[int, Any]:
        view = self._view_of_cache[id(cache)]
        if not cache and self.store.max_id(view.kind) <= min(VIEW_PRELOAD_LIMIT, VIEW_CACHE_LIMIT):
            # A small kind (suppliers, users, accounts, items...): all its views in one scan. Pages
            # then find every one of them, however many records the instance holds, instead of
            # fetching a few scattered ones each.
            for rid, stored in self.store.documents(view.kind).items():
                cache[rid] = self._view_json(view, stored)
        missing = ids - cache.keys()
        if len(cache) + len(missing) > VIEW_CACHE_LIMIT:
            self._drop_records()  # records show views: they go with them
            self._views_restarted = True  # and so do those of this page that showed one already
            cache.clear()
            missing = ids
        docs = self.store.get_many(view.kind, missing) if missing else {}
        for i in missing:
            doc = docs.get(i)
            cache[i] = None if doc is None else self._view_json(view, doc)
        return cache

    @staticmethod
    def _view_json(view: _View, doc: dict[str, Any]) -> orjson.Fragment:
        get = doc.get
        return orjson.Fragment(
            _dumps({name: (get(name) if conv is None else conv(get(name))) for name, conv in view.spec})
        )

    # -- cache upkeep ----------------------------------------------------------------------------------
    def _keep(self, key: RecordKey, doc: bytes, data: bytes, deps: tuple[Dep, ...]) -> None:
        self._forget(key)
        self._records[key] = (doc, data, deps)
        self._record_bytes += len(data)
        dependents = self._dependents
        for dep in deps:
            keys = dependents.get(dep)
            if keys is None:
                dependents[dep] = key
            elif isinstance(keys, set):
                keys.add(key)
            elif keys != key:
                dependents[dep] = {keys, key}
        while self._record_bytes > RECORD_CACHE_BYTES and self._records:
            self._forget(next(iter(self._records)))  # the oldest (O(1) in an OrderedDict)

    def _forget(self, key: RecordKey) -> None:
        entry = self._records.pop(key, None)
        if entry is None:
            return
        self._record_bytes -= len(entry[1])
        dependents = self._dependents
        for dep in entry[2]:
            keys = dependents.get(dep)
            if isinstance(keys, set):
                keys.discard(key)
                if not keys:
                    del dependents[dep]
            elif keys == key:
                del dependents[dep]

    def _changed(self, kind: str, ids: Iterable[int]) -> None:
        """The store wrote these records (under its lock): drop their views and what was built
        from them."""
        views = self._kept_views.get(kind)
        if views and any(view.cache for view in views):
            shown = False
            for view in views:
                cache = view.cache
                for i in ids:
                    if cache.pop(i, _UNSEEN) is not _UNSEEN:
                        shown = True
            if shown:
                self._drop_records()
        dependents = self._dependents
        if dependents:
            for i in ids:
                keys = dependents.get((kind, i))
                if isinstance(keys, set):
                    for key in list(keys):
                        self._forget(key)
                elif keys is not None:
                    self._forget(keys)

    def _drop_records(self) -> None:
        self._records.clear()
        self._seen_once.clear()
        self._record_bytes = 0
        self._dependents.clear()

    def clear_caches(self) -> None:
        """Forget every rendered view and record (benchmarks start cold with it)."""
        with self.store.lock:
            self._clear()
            self._datetimes.clear()

    def _clear(self) -> None:
        self._generation = self.store.generation
        for view in self._views.values():
            view.cache.clear()
        self._drop_records()

    # -- expansion -------------------------------------------------------------------------------
    def _prefetch(self, definition: str, docs: list[dict[str, Any]], loader: Loader, level: int) -> None:
        """Fetch every referenced record of a page in one query per kind (not one per record)."""
        if not docs or level > 1:
            return
        plans = self.schema.plan_by_name(definition)
        linked = self.schema.association_names(definition)
        wanted: dict[str, set[int]] = {}
        owned: set[str] = set()
        # Only the associations a document actually holds (a set intersection, in C).
        for d in docs:
            for name in d.keys() & linked:
                v = d[name]
                if v is None:
                    continue
                plan = plans[name]
                assert plan.target is not None
                bucket = wanted.get(plan.target)
                if bucket is None:
                    bucket = wanted[plan.target] = set()
                if isinstance(v, int):
                    bucket.add(v)
                elif isinstance(v, list):
                    bucket.update(i for i in v if isinstance(i, int))
                if plan.role == "owned" or plan.role == "owned_list":
                    owned.add(plan.target)
        for kind, ids in wanted.items():
            loader.prefetch(kind, ids)
        if level == 0:
            for kind in owned:
                children = [loader.cache.get((kind, i)) for i in wanted.get(kind, ())]
                self._prefetch(kind, [c for c in children if c], loader, 1)

    def _record(
        self, definition: str, doc: dict[str, Any], level: int, loader: Loader, json_mode: bool
    ) -> dict[str, Any]:
        tpl = self._template(definition, level, json_mode)
        out = tpl.empty.copy()
        if json_mode:
            # Copy the stored values wholesale (C speed), then drop what is not an attribute and
            # redo only the fields that need work.
            out.update(doc)
            for name in doc.keys() - tpl.keys:
                if not name.startswith("custom-field"):  # keep legacy custom-field-N and custom-fields
                    del out[name]
            names: Iterable[str] = doc.keys() & tpl.special.keys()
            plans = tpl.special
        else:
            names = doc.keys()
            plans = tpl.plans
        for name in names:
            raw = doc[name]
            entry = plans.get(name)
            if entry is None:
                if name.startswith("custom-field"):  # legacy custom-field-N keys and the custom-fields object
                    out[name] = raw
                continue
            if raw is None:
                out[name] = tpl.empty[name]
                continue
            plan, conv = entry
            role = plan.role
            if role == "scalar":
                out[name] = raw if conv is None else conv(raw)
            elif role == "scalar_list":
                out[name] = list(raw) if isinstance(raw, list) else []
            elif role == "reference" or role == "owned":
                target = loader.get(plan.target or "", raw)
                if target is None:
                    out[name] = None  # a dangling reference shows as null (in JSON as in XML)
                    continue
                if role == "owned" and level == 0:
                    out[name] = self._record(plan.target or "", target, 1, loader, json_mode)
                else:
                    out[name] = self._compact(plan.field.ref or "", plan.target or "", target, loader, json_mode)
            else:
                items = []
                kind = plan.target or ""
                full = role == "owned_list" and level == 0
                for rid in raw if isinstance(raw, list) else ():
                    target = loader.get(kind, rid)
                    if target is None:
                        continue
                    if full:
                        items.append(self._record(kind, target, 1, loader, json_mode))
                    else:
                        items.append(self._compact(plan.field.ref or "", kind, target, loader, json_mode))
                out[name] = items if json_mode else TaggedList(singularize(name), items)
        return out

    def _shallow(self, definition: str, doc: dict[str, Any], loader: Loader, json_mode: bool) -> dict[str, Any]:
        """``return_object=shallow``: every attribute; associations reduced to id and naming keys."""
        tpl = self._template(definition, 1, json_mode)
        out = tpl.empty.copy()
        for name, raw in doc.items():
            entry = tpl.plans.get(name)
            if entry is None or raw is None:
                continue
            plan, conv = entry
            if plan.role == "scalar":
                out[name] = raw if conv is None else conv(raw)
            elif plan.role == "scalar_list":
                out[name] = list(raw) if isinstance(raw, list) else []
            elif plan.role in ("reference", "owned"):
                target = loader.get(plan.target or "", raw)
                if target is not None:
                    out[name] = self._keys(plan.field.ref or "", target, json_mode)
            else:
                ids = raw if isinstance(raw, list) else []
                items = [
                    self._keys(plan.field.ref or "", t, json_mode)
                    for t in (loader.get(plan.target or "", i) for i in ids)
                    if t is not None
                ]
                out[name] = items if json_mode else TaggedList(singularize(name), items)
        return out

    def _keys(self, definition: str, doc: dict[str, Any], json_mode: bool) -> dict[str, Any]:
        defn = self.schema.definition(definition)
        out: dict[str, Any] = {}
        for name in self.schema.shallow_fields(definition):
            f = defn.fields.get(name)
            out[name] = doc.get(name) if f is None else self.value(f.scalar_type, doc.get(name), json_mode)
        return out

    def _compact(
        self, definition: str, kind: str, doc: dict[str, Any], loader: Loader | None, json_mode: bool
    ) -> dict[str, Any]:
        rid = doc.get("id")
        cache = None
        if loader is not None and rid is not None:
            cache = loader.compact.get((definition, json_mode))
            if cache is None:
                cache = loader.compact[(definition, json_mode)] = {}
            hit = cache.get(rid)
            if hit is not None:
                return hit
        spec = self._compact_spec(definition, json_mode)
        get = doc.get
        out = {name: (get(name) if conv is None else conv(get(name))) for name, conv in spec}
        if cache is not None:
            cache[rid] = out
        return out

    def _compact_spec(self, definition: str, json_mode: bool) -> list[tuple[str, Convert | None]]:
        """The fields of a reduced view (``Schema.compact_fields``), each with its converter."""
        spec = self._compact_fields.get((definition, json_mode))
        if spec is None:
            defn = self.schema.definition(definition)
            spec = []
            for name in self.schema.compact_fields(definition):
                f = defn.fields.get(name)
                spec.append((name, None if f is None else self._converter(f.scalar_type, json_mode)))
            self._compact_fields[(definition, json_mode)] = spec
        return spec

    # -- fields= projection --------------------------------------------------------------------
    def _check_spec(self, definition: str, spec: FieldSpec) -> None:
        defn = self.schema.definition(definition)
        plans = self.schema.plan_by_name(definition)
        for name, sub in spec.items():
            if name in ("custom-fields",) or name.startswith("custom-field-"):
                continue
            plan = plans.get(name)
            if plan is None:
                raise QueryError(f"fields: unknown attribute '{name}' for {defn.element}", "fields")
            if sub and plan.target is None:
                raise QueryError(f"fields: '{name}' of {defn.element} has no attributes to select", "fields")
            if sub and plan.target:
                self._check_spec(plan.target, sub)

    def _project(
        self, definition: str, doc: dict[str, Any], spec: FieldSpec, loader: Loader, json_mode: bool
    ) -> dict[str, Any]:
        plans = self.schema.plan_by_name(definition)
        out: dict[str, Any] = {}
        for name, sub in spec.items():
            if name == "custom-fields":
                cf = doc.get("custom-fields") or {}
                out[name] = dict(cf) if not sub else {k: cf.get(k) for k in sub}
                continue
            if name.startswith("custom-field-"):
                out[name] = doc.get(name)
                continue
            plan = plans[name]
            raw = doc.get(name)
            if plan.role == "scalar":
                out[name] = self.value(plan.field.scalar_type, raw, json_mode)
                if not json_mode and self.schema.is_symbol(definition, name):
                    out[name] = _symbol(out[name])
            elif plan.role == "scalar_list":
                out[name] = list(raw) if isinstance(raw, list) else []
            elif plan.role in ("reference", "owned"):
                target = loader.get(plan.target or "", raw)
                out[name] = None if target is None else self._sub(plan, target, sub, loader, json_mode)
            else:
                ids = raw if isinstance(raw, list) else []
                loader.prefetch(plan.target or "", ids)
                items = [loader.get(plan.target or "", rid) for rid in ids]
                rendered = [self._sub(plan, t, sub, loader, json_mode) for t in items if t is not None]
                out[name] = rendered if json_mode else TaggedList(singularize(name), rendered)
        return out

    def _sub(
        self, plan: FieldPlan, target: dict[str, Any], sub: FieldSpec | None, loader: Loader, json_mode: bool
    ) -> dict[str, Any]:
        if not sub:
            return self._compact(plan.field.ref or "", plan.target or "", target, loader, json_mode)
        # The stored record carries the full definition, so project against that.
        return self._project(plan.target or "", target, sub, loader, json_mode)
