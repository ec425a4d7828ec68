"""Turn stored documents into Coupa's response trees, ready for either codec.

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
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, tzinfo
from decimal import Decimal
from functools import lru_cache
from typing import Any

from pycoupa.emulator.schema import FieldPlan, Schema
from pycoupa.emulator.store import Store
from pycoupa.wire.query import FieldSpec, QueryError
from pycoupa.wire.values import Symbol, TaggedList, format_datetime, singularize

FIRST = ("id", "created-at", "updated-at")
CACHE_LIMIT = 20_000  # rendered records kept between writes (about 15 kB of JSON each for an invoice)
Convert = Callable[[Any], Any]


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


class _Template:
    """What rendering one definition at one depth in one format needs, computed once.

    ``special`` holds the fields whose stored value cannot be copied to the output as it is
    (associations, lists, values needing conversion); the rest are copied in one ``dict.update``.
    """

    __slots__ = ("empty", "keys", "plans", "special")

    def __init__(self, empty: dict[str, Any], plans: dict[str, tuple[FieldPlan, Convert | None]]) -> None:
        self.empty = empty
        self.plans = plans
        self.keys = frozenset(empty)
        self.special = {
            name: entry for name, entry in plans.items() if entry[0].role != "scalar" or entry[1] is not None
        }


class Renderer:
    def __init__(self, schema: Schema, store: Store, tz: tzinfo) -> None:
        self.schema = schema
        self.store = store
        self.tz = tz
        self._templates: dict[tuple[str, int, bool], _Template] = {}
        self._cache: dict[tuple[str, Any], dict[str, Any]] = {}
        self._cache_generation = -1
        self._compact_fields: dict[tuple[str, bool], list[tuple[str, Convert | None]]] = {}

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
            return guard(self._local_text if json_mode else self._local_dt)
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
        self._templates[key] = tpl
        return tpl

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
        loader = loader or Loader(self.store)
        if fields is not None:
            self._check_spec(definition, fields)
            return [self._project(definition, d, fields, loader, json_mode) for d in docs]
        if return_object == "limited":
            return [{"id": d.get("id")} for d in docs]
        if return_object == "shallow":
            self._prefetch(definition, docs, loader, 1)
            return [self._shallow(definition, d, loader, json_mode) for d in docs]
        if not json_mode:
            self._prefetch(definition, docs, loader, 0)
            return [self._record(definition, d, 0, loader, json_mode) for d in docs]
        return self._full_json(definition, docs, loader)

    def _full_json(self, definition: str, docs: list[dict[str, Any]], loader: Loader) -> list[dict[str, Any]]:
        """Fully expanded JSON records, reused across requests until any write (a page polled again,
        or pulled by several clients, costs little). Cached trees are shared: never mutated."""
        generation = self.store.generation
        if generation != self._cache_generation:
            self._cache.clear()
            self._cache_generation = generation
        out: list[dict[str, Any] | None] = [self._cache.get((definition, d.get("id"))) for d in docs]
        missing = [d for d, hit in zip(docs, out, strict=True) if hit is None]
        if missing:
            self._prefetch(definition, missing, loader, 0)
            rendered = {id(d): self._record(definition, d, 0, loader, True) for d in missing}
            out = [hit if hit is not None else rendered[id(d)] for d, hit in zip(docs, out, strict=True)]
            if len(self._cache) > CACHE_LIMIT:
                self._cache.clear()
            for d in missing:
                if d.get("id") is not None:
                    self._cache[(definition, d["id"])] = rendered[id(d)]
        return [r for r in out if r is not None]

    def render_one(self, definition: str, doc: dict[str, Any], **kw: Any) -> dict[str, Any]:
        return self.render_many(definition, [doc], **kw)[0]

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
                out[name] = (
                    items if json_mode else TaggedList(singularize(name), items)
                )
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
        spec = self._compact_fields.get((definition, json_mode))
        if spec is None:
            defn = self.schema.definition(definition)
            spec = []
            for name in self.schema.compact_fields(definition):
                f = defn.fields.get(name)
                spec.append((name, None if f is None else self._converter(f.scalar_type, json_mode)))
            self._compact_fields[(definition, json_mode)] = spec
        get = doc.get
        out = {name: (get(name) if conv is None else conv(get(name))) for name, conv in spec}
        if cache is not None:
            cache[rid] = out
        return out

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
