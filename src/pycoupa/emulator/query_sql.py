"""Compile Coupa query conditions into SQLite over the emulator's JSON documents.

The semantics are those of :mod:`pycoupa.wire.reference_eval` (checked by property tests):
association paths become nested ``EXISTS`` sub-queries, collections ``EXISTS`` over
``json_each``, and every value is coerced by the catalog type of the field it is compared with.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, tzinfo
from typing import Any

from pycoupa.catalog.model import Field
from pycoupa.emulator.schema import Schema
from pycoupa.emulator.store import table_name
from pycoupa.wire.query import Condition, QueryError, condition_key
from pycoupa.wire.values import WireValueError, parse_bool, parse_date, parse_datetime, parse_decimal

_TEXT_OPS = {"contains": "icontains", "starts_with": "istarts", "ends_with": "iends"}
_CMP = {"eq": "=", "not_eq": "!=", "gt": ">", "lt": "<", "gt_or_eq": ">=", "lt_or_eq": "<="}


def db_datetime(value: Any) -> str:
    """The stored form of an aware datetime: UTC, fixed width, so text order is time order."""
    return str(value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S"))


@dataclass
class _Ctx:
    schema: Schema
    tz: tzinfo
    params: list[Any] = field(default_factory=list)
    n: int = 0

    def alias(self) -> str:
        self.n += 1
        return f"a{self.n}"


def compile_conditions(
    schema: Schema, definition: str, conditions: Sequence[Condition], tz: tzinfo, alias: str = "t"
) -> tuple[str, list[Any]]:
    """``(where_sql, params)`` for all conditions ANDed; raises QueryError naming a bad key."""
    ctx = _Ctx(schema, tz)
    parts = [_compile(ctx, definition, alias, cond.path, cond) for cond in conditions]
    return " AND ".join(parts), ctx.params


def order_clause(schema: Schema, definition: str, order_by: str | None, direction: str, alias: str = "t") -> str:
    """ORDER BY text; ties are always broken by id ascending (reference_eval's rule)."""
    dir_sql = "DESC" if direction == "desc" else "ASC"
    if not order_by or order_by == "id":
        return f"{alias}.id {dir_sql}"
    defn = schema.definition(definition)
    f = defn.fields.get(order_by)
    if f is None or not f.is_scalar:
        raise QueryError(f"order_by: unknown attribute '{order_by}' for {defn.element}", "order_by")
    expr = _json(alias, order_by)
    if f.scalar_type in ("decimal", "float"):
        expr += " COLLATE DECIMAL"
    # SQLite puts NULLs first in ASC and last in DESC, as the reference does.
    return f"{expr} {dir_sql}, {alias}.id ASC"


def _json(alias: str, name: str) -> str:
    return f"json_extract({alias}.doc, '$.\"{name}\"')"


def _compile(ctx: _Ctx, definition: str, alias: str, path: tuple[str, ...], cond: Condition) -> str:
    defn = ctx.schema.definition(definition)
    key = condition_key(cond.path, cond.op)
    seg = path[0]
    plans = ctx.schema.plan_by_name(definition)
    if len(path) == 1:
        if seg == "id":
            return _scalar_test(ctx, f"{alias}.id", "integer", cond, key)
        plan = plans.get(seg)
        fk = seg.endswith("-id") and plans.get(seg[:-3])
        if fk and fk.role in ("reference", "owned"):
            # ``supplier_id=4``: the foreign-key column, i.e. the association's stored id.
            return _scalar_test(ctx, _json(alias, seg[:-3]), "integer", cond, key)
        if plan is None:
            raise QueryError(f"{key}: unknown attribute '{seg}' for {defn.element}", key)
        if plan.role in ("reference", "owned"):
            return _scalar_test(ctx, _json(alias, seg), "integer", cond, key)
        if plan.role != "scalar":
            raise QueryError(f"{key}: '{seg}' is a collection; name one of its attributes", key)
        return _scalar_test(ctx, _json(alias, seg), plan.field.scalar_type, cond, key)
    if seg == "custom-fields":
        if len(path) != 2:
            raise QueryError(f"{key}: custom-fields takes one field name", key)
        return _scalar_test(ctx, f'json_extract({alias}.doc, \'$."custom-fields"."{path[1]}"\')', "string", cond, key)
    plan = plans.get(seg)
    if plan is None:
        raise QueryError(f"{key}: unknown association '{seg}' for {defn.element}", key)
    if plan.target is None:
        if len(path) == 2:
            raise QueryError(f"{key}: unknown operator '{path[1]}' for '{seg}'", key)
        raise QueryError(f"{key}: '{seg}' of {defn.element} is not an association", key)
    sub = ctx.alias()
    table = table_name(plan.target)
    inner = _compile(ctx, _definition_for(ctx.schema, plan.field), sub, path[1:], cond)
    if plan.role in ("reference", "owned"):
        return f'EXISTS (SELECT 1 FROM "{table}" {sub} WHERE {sub}.id = {_json(alias, seg)} AND {inner})'
    each = ctx.alias()
    return (
        f"EXISTS (SELECT 1 FROM json_each({alias}.doc, '$.\"{seg}\"') {each} "
        f'JOIN "{table}" {sub} ON {sub}.id = {each}.value WHERE {inner})'
    )


def _definition_for(schema: Schema, f: Field) -> str:
    # Filters walk the stored record, whose fields are those of the full definition.
    assert f.ref is not None
    return schema.storage_kind(f.ref)


def _coerce(ctx: _Ctx, value: str, stype: str, key: str) -> Any:
    try:
        if stype == "integer":
            return int(value.strip())
        if stype in ("decimal", "float"):
            return str(parse_decimal(value.strip()))
        if stype == "boolean":
            return 1 if parse_bool(value) else 0
        if stype == "datetime":
            return db_datetime(parse_datetime(value, ctx.tz))
        if stype == "date":
            return parse_date(value).isoformat()
    except (ValueError, WireValueError) as exc:
        raise QueryError(f"{key}: invalid {stype} value {value!r}", key) from exc
    return value


def _scalar_test(ctx: _Ctx, expr: str, stype: str, cond: Condition, key: str) -> str:
    op = cond.op
    collate = " COLLATE DECIMAL" if stype in ("decimal", "float") else ""
    if op in _TEXT_OPS:
        if stype in ("datetime", "date", "boolean"):
            raise QueryError(f"{key}: '{op}' does not apply to {stype} attributes", key)
        ctx.params.append(str(cond.value))
        return f"{_TEXT_OPS[op]}({expr}, ?) = 1"
    if op == "blank":
        if stype in ("datetime",):
            raise QueryError(f"{key}: 'blank' does not apply to datetime attributes", key)
        want = str(cond.value).lower() == "true"
        return f"({expr} IS NULL OR {expr} = '')" if want else f"({expr} IS NOT NULL AND {expr} != '')"
    if op in ("in", "not_in"):
        values = cond.value if isinstance(cond.value, tuple) else (str(cond.value),)
        if not values:
            return "0" if op == "in" else f"{expr} IS NOT NULL"
        coerced = [_coerce(ctx, v, stype, key) for v in values]
        ctx.params.extend(coerced)
        marks = ",".join("?" * len(coerced))
        neg = "NOT " if op == "not_in" else ""
        return f"({expr}{collate} {neg}IN ({marks}) AND {expr} IS NOT NULL)"
    if op in _CMP:
        ctx.params.append(_coerce(ctx, str(cond.value), stype, key))
        return f"{expr}{collate} {_CMP[op]} ?"
    raise QueryError(f"{key}: unknown operator '{op}'", key)
