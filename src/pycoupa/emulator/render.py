"""Turn stored documents into Coupa's response trees (typed values, ready for either codec).

Associations are expanded the way Coupa does by default: the record shows every attribute; a
record it references (supplier, currency, user) shows its id and natural keys (a user shows the
``UserSimple`` view); its lines and other inline objects show their attributes with their own
references reduced the same way. ``return_object`` and ``fields`` narrow this.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, tzinfo
from decimal import Decimal
from typing import Any

from pycoupa.emulator.schema import FieldPlan, Schema
from pycoupa.emulator.store import Store
from pycoupa.wire.query import FieldSpec, QueryError
from pycoupa.wire.values import TaggedList

FIRST = ("id", "created-at", "updated-at")


class Loader:
    """Per-request cache of referenced records, fetched in batches."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.cache: dict[tuple[str, int], dict[str, Any] | None] = {}

    def prefetch(self, kind: str, ids: Iterable[Any]) -> None:
        missing = [i for i in ids if isinstance(i, int) and (kind, i) not in self.cache]
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


class Renderer:
    def __init__(self, schema: Schema, store: Store, tz: tzinfo) -> None:
        self.schema = schema
        self.store = store
        self.tz = tz

    # -- typed values --------------------------------------------------------------------------
    def value(self, stype: str, raw: Any) -> Any:
        if raw is None:
            return None
        try:
            if stype == "datetime":
                return datetime.fromisoformat(raw).replace(tzinfo=UTC).astimezone(self.tz)
            if stype == "decimal":
                return Decimal(str(raw))
            if stype == "float":
                return float(raw)
            if stype == "integer":
                return int(raw)
            if stype == "boolean":
                return bool(raw)
            if stype == "date":
                return date.fromisoformat(str(raw)[:10])
        except (TypeError, ValueError, ArithmeticError):
            return raw
        return raw

    # -- public entry points ---------------------------------------------------------------------
    def render_many(
        self,
        definition: str,
        docs: list[dict[str, Any]],
        *,
        return_object: str | None = None,
        fields: FieldSpec | None = None,
        loader: Loader | None = None,
    ) -> list[dict[str, Any]]:
        loader = loader or Loader(self.store)
        if fields is not None:
            self._check_spec(definition, fields)
            return [self._project(definition, d, fields, loader) for d in docs]
        if return_object == "limited":
            return [{"id": d.get("id")} for d in docs]
        level = 1 if return_object == "shallow" else 0
        self._prefetch(definition, docs, loader, level)
        return [self._record(definition, d, level, loader) for d in docs]

    def render_one(self, definition: str, doc: dict[str, Any], **kw: Any) -> dict[str, Any]:
        return self.render_many(definition, [doc], **kw)[0]

    # -- expansion -------------------------------------------------------------------------------
    def _prefetch(self, definition: str, docs: list[dict[str, Any]], loader: Loader, level: int) -> None:
        """Fetch every referenced record of a page in one query per kind (not one per record)."""
        if not docs or level > 1:
            return
        wanted: dict[str, set[int]] = {}
        nested: dict[str, list[str]] = {}
        for plan in self.schema.plan(definition):
            if plan.target is None:
                continue
            for d in docs:
                v = d.get(plan.field.name)
                if isinstance(v, int):
                    wanted.setdefault(plan.target, set()).add(v)
                elif isinstance(v, list):
                    wanted.setdefault(plan.target, set()).update(i for i in v if isinstance(i, int))
            if plan.role in ("owned", "owned_list"):
                nested.setdefault(plan.target, [])
        for kind, ids in wanted.items():
            loader.prefetch(kind, ids)
        if level == 0:
            for kind in nested:
                children = [loader.cache.get((kind, i)) for i in wanted.get(kind, ())]
                self._prefetch(kind, [c for c in children if c], loader, 1)

    def _ordered_plans(self, definition: str) -> list[FieldPlan]:
        plans = self.schema.plan(definition)
        first = [p for name in FIRST for p in plans if p.field.name == name]
        return first + [p for p in plans if p.field.name not in FIRST]

    def _record(self, definition: str, doc: dict[str, Any], level: int, loader: Loader) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for plan in self._ordered_plans(definition):
            name = plan.field.name
            raw = doc.get(name)
            role = plan.role
            if role == "scalar":
                out[name] = self.value(plan.field.scalar_type, raw)
            elif role == "scalar_list":
                out[name] = list(raw) if isinstance(raw, list) else []
            elif role in ("reference", "owned"):
                target = loader.get(plan.target or "", raw)
                if target is None:
                    out[name] = None
                elif role == "owned" and level == 0:
                    out[name] = self._record(plan.target or "", target, 1, loader)
                else:
                    out[name] = self._compact(plan.field.ref or "", target)
            else:
                element = self.schema.definition(plan.field.ref or "").element
                items = []
                for rid in raw if isinstance(raw, list) else ():
                    target = loader.get(plan.target or "", rid)
                    if target is None:
                        continue
                    if role == "owned_list" and level == 0:
                        items.append(self._record(plan.target or "", target, 1, loader))
                    else:
                        items.append(self._compact(plan.field.ref or "", target))
                out[name] = TaggedList(element, items)
        self._custom_fields(doc, out)
        return out

    def _compact(self, definition: str, doc: dict[str, Any]) -> dict[str, Any]:
        defn = self.schema.definition(definition)
        out: dict[str, Any] = {}
        for name in self.schema.compact_fields(definition):
            f = defn.fields.get(name)
            out[name] = doc.get(name) if f is None else self.value(f.scalar_type, doc.get(name))
        return out

    @staticmethod
    def _custom_fields(doc: dict[str, Any], out: dict[str, Any]) -> None:
        for key, value in doc.items():
            if key.startswith("custom-field-"):
                out[key] = value
        if "custom-fields" in doc:
            out["custom-fields"] = doc["custom-fields"]

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
        self, definition: str, doc: dict[str, Any], spec: FieldSpec, loader: Loader
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
                out[name] = self.value(plan.field.scalar_type, raw)
            elif plan.role == "scalar_list":
                out[name] = list(raw) if isinstance(raw, list) else []
            elif plan.role in ("reference", "owned"):
                target = loader.get(plan.target or "", raw)
                out[name] = None if target is None else self._sub(plan, target, sub, loader)
            else:
                element = self.schema.definition(plan.field.ref or "").element
                loader.prefetch(plan.target or "", raw if isinstance(raw, list) else ())
                items = [loader.get(plan.target or "", rid) for rid in (raw if isinstance(raw, list) else ())]
                out[name] = TaggedList(
                    element, [self._sub(plan, t, sub, loader) for t in items if t is not None]
                )
        return out

    def _sub(
        self, plan: FieldPlan, target: dict[str, Any], sub: FieldSpec | None, loader: Loader
    ) -> dict[str, Any]:
        if not sub:
            return self._compact(plan.field.ref or "", target)
        # The stored record carries the full definition, so project against that.
        return self._project(plan.target or "", target, sub, loader)
