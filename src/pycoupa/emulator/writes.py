"""Generic creates and updates for every catalog definition, with Coupa's write rules.

- Keys may be hyphenated or underscored; read-only fields are ignored; unknown attributes are
  ignored too (Rails ignores unpermitted attributes) and reported back in the
  ``X-Emulator-Ignored-Attributes`` response header so tests can notice typos.
- An association is given by id or by natural keys; when several keys are given all must match;
  an unknown reference is a 400 naming the field.
- Inline collections (lines): an entry without id is added, with id updated, with ``_delete``
  removed.
- Validation collects every problem and answers them together, as Rails does.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import date, datetime, tzinfo
from decimal import Decimal
from typing import Any

from pycoupa.emulator.query_sql import db_datetime
from pycoupa.emulator.schema import FieldPlan, Schema, humanize
from pycoupa.emulator.store import Store, table_name
from pycoupa.wire.values import (
    WireValueError,
    format_decimal,
    hyphenate,
    parse_bool,
    parse_date,
    parse_datetime,
    parse_decimal,
)

# Maintained by the instance, never taken from a body.
SYSTEM_FIELDS = frozenset(
    {"id", "created-at", "updated-at", "created-by", "updated-by", "exported", "last-exported-at"}
)
CONTROL_KEYS = frozenset({"_delete", "_cancel", "_close", "_destroy"})
_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


# Business rules run on every write of a definition, after the body is applied and before
# validation: computed fields (an account's code, an invoice's totals) and defaults. Filled in by
# ``pycoupa.emulator.behaviours``.
Deriver = Callable[["Writer", dict[str, Any], bool], None]
DERIVERS: dict[str, list[Deriver]] = {}


class CoupaError(Exception):
    """An answer in Coupa's errors envelope."""

    def __init__(self, status: int, messages: list[str], key: str = "error", headers: Mapping[str, str] | None = None):
        super().__init__("; ".join(messages))
        self.status = status
        self.messages = messages
        self.key = key
        self.headers = dict(headers or {})


def not_found(element: str, record_id: Any) -> CoupaError:
    return CoupaError(404, [f"Couldn't find {element} with id {record_id}"], key=element.replace("-", "_"))


class Writer:
    """Applies one request's body to the store. Use inside ``store.transaction()``."""

    def __init__(self, schema: Schema, store: Store, tz: tzinfo, now: datetime, user_id: int | None) -> None:
        self.schema = schema
        self.store = store
        self.tz = tz
        self.now = db_datetime(now)
        self.user_id = user_id
        self.errors: list[str] = []
        self.ignored: list[str] = []

    # -- entry points ----------------------------------------------------------------------------
    def create(
        self, definition: str, body: Mapping[str, Any], *, parent: tuple[str, int] | None = None
    ) -> dict[str, Any]:
        doc: dict[str, Any] = {}
        self._stamp(definition, doc, creating=True)
        self._apply(definition, body, doc, prefix="")
        self.derive(definition, doc, creating=True)
        self._validate(definition, doc, None)
        self._raise(definition)
        self.store.insert(definition, doc, parent=parent)
        return doc

    def update(self, definition: str, record_id: int, body: Mapping[str, Any]) -> dict[str, Any]:
        doc = self.store.get(definition, record_id)
        if doc is None:
            raise not_found(self.schema.definition(definition).element, record_id)
        self._apply(definition, body, doc, prefix="")
        self._stamp(definition, doc, creating=False)
        self.derive(definition, doc, creating=False)
        self._validate(definition, doc, record_id)
        self._raise(definition)
        self.store.update(definition, record_id, doc)
        return doc

    def mark_exported(self, definition: str, doc: dict[str, Any], exported: bool) -> None:
        """``exported`` changes only here: ``?exported=true``, a PUT body, or an export action."""
        defn = self.schema.definition(definition)
        if "exported" not in defn.fields:
            raise CoupaError(400, [f"{defn.element} has no exported flag"], key=defn.element.replace("-", "_"))
        doc["exported"] = exported
        if exported and "last-exported-at" in defn.fields:
            doc["last-exported-at"] = self.now
        self._stamp(definition, doc, creating=False)
        self.store.update(definition, doc["id"], doc)

    def derive(self, definition: str, doc: dict[str, Any], *, creating: bool) -> None:
        plans = self.schema.plan_by_name(definition)
        for plan in self.schema.plan(definition):
            # Keep R39's ``x-id`` columns in step with association ``x`` (they read nil otherwise).
            fk = plans.get(plan.field.name + "-id")
            linked = plan.role in ("reference", "owned") and fk is not None and fk.role == "scalar"
            if linked and fk is not None and (plan.field.name in doc or fk.field.name in doc):
                doc[fk.field.name] = doc.get(plan.field.name)
        for rule in DERIVERS.get(definition, ()):
            rule(self, doc, creating)

    def insert_system(self, definition: str, doc: dict[str, Any]) -> dict[str, Any]:
        """A record the instance makes itself (an approval, a purchase order): fields a body could
        not set are allowed, and only the definition's derived rules run."""
        self._stamp(definition, doc, creating=True)
        self.derive(definition, doc, creating=True)
        self._raise(definition)
        self.store.insert(definition, doc)
        return doc

    def save(self, definition: str, doc: dict[str, Any]) -> None:
        """Store a record a behaviour changed (status moves), stamping updated-at/-by."""
        self._stamp(definition, doc, creating=False)
        self.derive(definition, doc, creating=False)
        self._raise(definition)
        self.store.update(definition, doc["id"], doc)

    def fail(self, definition: str, *messages: str) -> CoupaError:
        """A 400 in the envelope keyed by the record's name, for a behaviour to raise."""
        return CoupaError(400, list(messages), key=self.schema.definition(definition).element.replace("-", "_"))

    # -- internals -------------------------------------------------------------------------------
    def _raise(self, definition: str) -> None:
        if self.errors:
            element = self.schema.definition(definition).element
            errors, self.errors = self.errors, []
            raise CoupaError(400, errors, key=element.replace("-", "_"))

    def _stamp(self, definition: str, doc: dict[str, Any], *, creating: bool) -> None:
        fields = self.schema.definition(definition).fields
        if creating:
            if "created-at" in fields:
                doc["created-at"] = self.now
            if "created-by" in fields:
                doc["created-by"] = self.user_id
            if "exported" in fields:
                doc["exported"] = False
        if "updated-at" in fields:
            doc["updated-at"] = self.now
        if "updated-by" in fields:
            doc["updated-by"] = self.user_id

    def _apply(self, definition: str, body: Mapping[str, Any], doc: dict[str, Any], prefix: str) -> None:
        plans = self.schema.plan_by_name(definition)
        for raw_key, value in body.items():
            key = hyphenate(str(raw_key))
            label = prefix + humanize(key)
            if key in SYSTEM_FIELDS or key in CONTROL_KEYS:
                continue
            if key.startswith("custom-field-"):
                doc[key] = value if value is None or isinstance(value, (str, int, bool)) else str(value)
                continue
            if key == "custom-fields":
                if not isinstance(value, Mapping):
                    self.errors.append(f"{label} must be an object of custom field values")
                    continue
                merged = dict(doc.get("custom-fields") or {})
                merged.update({hyphenate(str(k)): v for k, v in value.items()})
                doc["custom-fields"] = merged
                continue
            plan = plans.get(key)
            fk_plan = plans.get(key[:-3]) if key.endswith("-id") else None
            if fk_plan is not None and fk_plan.target and fk_plan.role in ("reference", "owned"):
                # ``lookup-id: 4`` names the association by its id (R39 lists such keys read-only).
                label = prefix + humanize(fk_plan.field.name)
                doc[fk_plan.field.name] = None if value is None else self._reference(fk_plan, {"id": value}, label)
                continue
            if plan is None:
                self.ignored.append(prefix + key)
                continue
            if plan.role == "scalar":
                if plan.field.read_only:
                    self.ignored.append(prefix + key)
                    continue
                doc[key] = self._scalar(definition, plan, value, label)
            elif plan.role == "scalar_list":
                doc[key] = list(value) if isinstance(value, list) else ([] if value is None else [value])
            elif plan.role == "reference":
                doc[key] = None if value is None else self._reference(plan, value, label)
            elif plan.role == "owned":
                doc[key] = None if value is None else self._owned(plan, value, label, doc.get(key))
            elif plan.role == "reference_list":
                items = _collection_items(value)
                doc[key] = [rid for rid in (self._reference(plan, v, label) for v in items if v is not None) if rid]
            else:
                doc[key] = self._owned_list(plan, value, label, doc.get(key) or [])

    def _scalar(self, definition: str, plan: FieldPlan, value: Any, label: str) -> Any:
        f = plan.field
        if value is None:
            return None
        if isinstance(value, (dict, list)):
            self.errors.append(f"{label} must be a single value")
            return None
        stype = f.scalar_type
        try:
            if stype == "integer":
                if isinstance(value, bool) or (isinstance(value, str) and not value.strip().lstrip("+-").isdigit()):
                    raise ValueError(value)
                return int(value) if not isinstance(value, str) or value.strip() else None
            if stype in ("decimal", "float"):
                if isinstance(value, str) and not value.strip():
                    return None
                return format_decimal(parse_decimal(value if isinstance(value, (str, int, Decimal)) else str(value)))
            if stype == "boolean":
                return value if isinstance(value, bool) else parse_bool(str(value))
            if stype == "datetime":
                if isinstance(value, datetime):
                    return db_datetime(value if value.tzinfo else value.replace(tzinfo=self.tz))
                text = str(value).strip()
                if not text:
                    return None
                if _DATE_ONLY.match(text):
                    # A bare date in a body is that day in the instance's zone (Rails Time.zone).
                    text += "T00:00:00"
                return db_datetime(parse_datetime(text, self.tz))
            if stype == "date":
                return value.isoformat() if isinstance(value, date) else parse_date(str(value)[:10]).isoformat()
        except (ValueError, WireValueError, ArithmeticError):
            kind = "a number" if stype in ("integer", "decimal", "float") else f"a valid {stype}"
            self.errors.append(f"{label} is not {kind}")
            return None
        text = (
            value
            if isinstance(value, str)
            else ("true" if value is True else "false" if value is False else str(value))
        )
        if "\x00" in text:
            # SQLite's JSON functions stop at NUL: such a value could never be found or kept unique.
            self.errors.append(f"{label} may not contain a NUL character")
            return None
        if f.max_length is not None and len(text) > f.max_length:
            self.errors.append(f"{label} is too long (maximum is {f.max_length} characters)")
        allowed = self.schema.enum(definition, f)
        if allowed and text not in allowed and text != "":
            self.errors.append(f"{label} is not included in the list")
        return text

    def _lookup(self, kind: str, keys: dict[str, Any]) -> int | None:
        where = []
        params: list[Any] = []
        for k, v in keys.items():
            if k == "id":
                where.append("id = ?")
            else:
                where.append(f"json_extract(doc, '$.\"{k}\"') = ?")
            params.append(v)
        if not self.store.has_table(kind):
            return None
        rows = self.store.execute(
            f'SELECT id FROM "{table_name(kind)}" WHERE {" AND ".join(where)} ORDER BY id LIMIT 1', params
        )
        return int(rows[0][0]) if rows else None

    def _reference_keys(self, plan: FieldPlan, value: Any, label: str) -> dict[str, Any] | None:
        if isinstance(value, bool):
            self.errors.append(f"{label} must be given by id or by natural key")
            return None
        if isinstance(value, int) or (isinstance(value, str) and value.strip().isdigit()):
            return {"id": int(value)}
        if not isinstance(value, Mapping):
            self.errors.append(f"{label} must be given by id or by natural key, not {value!r}")
            return None
        defn = self.schema.definition(plan.target or "")
        given = {hyphenate(str(k)): v for k, v in value.items()}
        keys: dict[str, Any] = {}
        if given.get("id") not in (None, ""):
            try:
                keys["id"] = int(given["id"])
            except (TypeError, ValueError):
                self.errors.append(f"{label} id is not a number")
                return None
        for k in defn.natural_keys:
            v = given.get(k)
            if v is not None and not isinstance(v, (dict, list)) and v != "":
                keys[k] = v if isinstance(v, str) else str(v)
        return keys

    def _reference(self, plan: FieldPlan, value: Any, label: str) -> int | None:
        keys = self._reference_keys(plan, value, label)
        if keys is None:
            return None
        kind = plan.target or ""
        if not keys:
            names = ", ".join(("id", *self.schema.definition(kind).natural_keys))
            self.errors.append(f"{label} must be given by one of: {names}")
            return None
        found = self._lookup(kind, keys)
        if found is None:
            described = " and ".join(f"{k} '{v}'" for k, v in keys.items())
            self.errors.append(f"{label} not found: no {self.schema.definition(kind).element} with {described}")
        return found

    def _owned(self, plan: FieldPlan, value: Any, label: str, current: Any) -> int | None:
        kind = plan.target or ""
        if not isinstance(value, Mapping):
            return self._reference(plan, value, label)
        body = {hyphenate(str(k)): v for k, v in value.items()}
        keys = self._reference_keys(plan, body, label)
        if keys is None:
            return None
        child_id: int | None = None
        if "id" in keys:
            child_id = self._lookup(kind, keys)
            if child_id is None:
                self.errors.append(f"{label} not found: no {self.schema.definition(kind).element} with id {keys['id']}")
                return None
        elif keys and len(body) == len(keys):
            # Only natural keys given: a reference to an existing record, if there is one.
            child_id = self._lookup(kind, keys)
        elif isinstance(current, int) and self.store.get(kind, current) is not None:
            child_id = current  # editing the attributes of the current inline object
        if child_id is not None:
            child = self.store.get(kind, child_id) or {}
            edits = {k: v for k, v in body.items() if k != "id"}
            if edits and not (len(edits) == len(keys) - ("id" in keys) and set(edits) <= set(keys)):
                self._apply(kind, edits, child, prefix=label + " ")
                self._stamp(kind, child, creating=False)
                self.store.update(kind, child_id, child)
            return child_id
        return self._new_child(kind, body, label)

    def _new_child(self, kind: str, body: Mapping[str, Any], label: str) -> int | None:
        child: dict[str, Any] = {}
        self._stamp(kind, child, creating=True)
        self._apply(kind, body, child, prefix=label + " ")
        for name in self.schema.required(kind, inline=True):
            if child.get(name) in (None, ""):
                self.errors.append(f"{label} {humanize(name).lower()} can't be blank")
        if self.errors:
            return None
        return self.store.insert(kind, child)

    def _owned_list(self, plan: FieldPlan, value: Any, label: str, current: list[Any]) -> list[int]:
        kind = plan.target or ""
        items = _collection_items(value)
        result = [i for i in current if isinstance(i, int)]
        for n, item in enumerate(items, start=1):
            if not isinstance(item, Mapping):
                self.errors.append(f"{label} entry {n} must be an object")
                continue
            body = {hyphenate(str(k)): v for k, v in item.items()}
            delete = any(_truthy(body.get(k)) for k in ("_delete", "_destroy"))
            raw_id = body.get("id")
            if raw_id not in (None, ""):
                try:
                    child_id = int(raw_id)
                except (TypeError, ValueError):
                    self.errors.append(f"{label} entry {n}: id is not a number")
                    continue
                if child_id not in result:
                    self.errors.append(f"{label}: no entry with id {child_id} on this record")
                    continue
                if delete:
                    result.remove(child_id)
                    self.store.delete(kind, child_id)
                    continue
                child = self.store.get(kind, child_id) or {}
                self._apply(kind, body, child, prefix=f"{label} ")
                self._stamp(kind, child, creating=False)
                self.store.update(kind, child_id, child)
            elif delete:
                self.errors.append(f"{label} entry {n}: _delete needs the id of the entry")
            else:
                new_id = self._new_child(kind, body, label)
                if new_id is not None:
                    result.append(new_id)
        return result

    def _validate(self, definition: str, doc: dict[str, Any], record_id: int | None) -> None:
        if record_id is None:
            for name in self.schema.required(definition):
                if doc.get(name) in (None, "", []):
                    self.errors.append(f"{humanize(name)} can't be blank")
        for name in self.schema.unique(definition):
            value = doc.get(name)
            if value in (None, ""):
                continue
            rows = (
                self.store.execute(
                    f'SELECT id FROM "{table_name(definition)}" '
                    f"WHERE json_extract(doc, '$.\"{name}\"') = ? AND id != ?",
                    (value, record_id or -1),
                )
                if self.store.has_table(definition)
                else []
            )
            if rows:
                self.errors.append(f"{humanize(name)} has already been taken")


def _collection_items(value: Any) -> list[Any]:
    """The entries of a collection in a body. XML written without ``type="array"``
    (``<order-lines><order-line>…</order-line></order-lines>``, as Coupa's own examples do) and JSON
    wrapped the same way (``{"payments": {"payment": [...]}}``) arrive as a one-key object."""
    if isinstance(value, list):
        return value
    if value is None:
        return []
    if isinstance(value, Mapping) and len(value) == 1:
        (inner,) = value.values()
        if isinstance(inner, list):
            return inner
        if isinstance(inner, Mapping):
            return [inner]
    return [value]


def _truthy(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    try:
        return parse_bool(str(value)) if value is not None else False
    except WireValueError:
        return False
