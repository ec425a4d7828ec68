"""Compile Coupa query conditions into SQLite over the emulator's JSON documents.

The semantics are those of :mod:`pycoupa.wire.reference_eval` (checked by property tests):
association paths become nested ``EXISTS`` sub-queries, collections ``EXISTS`` over
``json_each``, and every value is coerced by the catalog type of the field it is compared with.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from pycoupa.catalog.model import Field
from pycoupa.emulator.schema import Schema
from pycoupa.emulator.store import table_name
from pycoupa.wire.query import Condition, QueryError, condition_key
from pycoupa.wire.values import WireValueError, parse_date, parse_decimal

_TEXT_OPS = {"contains": "icontains", "starts_with": "istarts", "ends_with": "iends"}
_CMP = {"eq": "=", "not_eq": "!=", "gt": ">", "lt": "<", "gt_or_eq": ">=", "lt_or_eq": "<="}


def db_datetime(value: Any) -> str:
    """The stored form of an aware datetime: UTC, fixed width, so text order is time order."""
    u = value.astimezone(UTC)
    return f"{u.year:04d}-{u.month:02d}-{u.day:02d}T{u.hour:02d}:{u.minute:02d}:{u.second:02d}"


# Instants beyond what a datetime holds once in UTC: below or above every stored value.
_BEFORE_ALL = "0000-00-00T00:00:00"
_AFTER_ALL = "9999-99-99T99:99:99"
_INT64 = 2**63 - 1
# Filter value spellings (those reference_eval accepts): ASCII only, no surrounding spaces.
_INT_RE = re.compile(r"[+-]?[0-9]+")
_DECIMAL_RE = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_BOOLS = {"true": 1, "yes": 1, "1": 1, "false": 0, "no": 0, "0": 0}
_DATETIME_RE = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})"
    r"(?:[Tt ]([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:[.,]([0-9]+))?)?"
    r"\s*(?:([Zz]|UTC)|([+-])([0-9]{2})(?::?([0-9]{2}))?)?)?"
)


def filter_datetime(text: str) -> str:
    """A datetime filter value in the stored form (UTC text), keeping fractions of a second.

    A value without an offset is UTC, like a bare date (coupa-api.md section 3); fractions sort
    after the whole second (``...:00`` < ``...:00.5``), so comparisons stay exact.
    """
    m = _DATETIME_RE.fullmatch(text.strip())
    if m is None:
        raise ValueError(text)
    year, month, day = int(m[1]), int(m[2]), int(m[3])
    hour, minute, second = int(m[4] or 0), int(m[5] or 0), int(m[6] or 0)
    micro = int((m[7] or "0")[:6].ljust(6, "0"))
    offset = timedelta(0)
    if m[9]:
        if int(m[10]) > 23 or int(m[11] or 0) > 59:
            raise ValueError(text)
        offset = timedelta(hours=int(m[10]), minutes=int(m[11] or 0)) * (-1 if m[9] == "-" else 1)
    local = datetime(year, month, day, hour, minute, second, micro)  # ValueError on a bad date
    try:
        u = local - offset
    except OverflowError:
        return _BEFORE_ALL if offset > timedelta(0) else _AFTER_ALL
    base = f"{u.year:04d}-{u.month:02d}-{u.day:02d}T{u.hour:02d}:{u.minute:02d}:{u.second:02d}"
    return base + (f".{u.microsecond:06d}".rstrip("0") if u.microsecond else "")


@dataclass
class _Ctx:
    schema: Schema
    tz: tzinfo
    params: list[Any] = field(default_factory=list)
    tables: set[str] = field(default_factory=set)  # record kinds the SQL joins
    n: int = 0

    def alias(self) -> str:
        self.n += 1
        return f"a{self.n}"


def compile_conditions(
    schema: Schema, definition: str, conditions: Sequence[Condition], tz: tzinfo, alias: str = "t"
) -> tuple[str, list[Any]]:
    """``(where_sql, params)`` for all conditions ANDed; raises QueryError naming a bad key."""
    where, params, _ = compile_with_tables(schema, definition, conditions, tz, alias)
    return where, params


def compile_with_tables(
    schema: Schema, definition: str, conditions: Sequence[Condition], tz: tzinfo, alias: str = "t"
) -> tuple[str, list[Any], set[str]]:
    """Like :func:`compile_conditions`, also naming the record kinds the SQL joins (their tables
    must exist before it runs, even when empty)."""
    ctx = _Ctx(schema, tz)
    parts = [_compile(ctx, definition, alias, cond.path, cond) for cond in conditions]
    return " AND ".join(parts), ctx.params, ctx.tables


def order_clause(schema: Schema, definition: str, order_by: str | None, direction: str, alias: str = "t") -> str:
    """ORDER BY text; ties are always broken by id ascending (reference_eval's rule)."""
    dir_sql = "DESC" if direction == "desc" else "ASC"
    if not order_by or order_by == "id":
        return f"{alias}.id {dir_sql}"
    defn = schema.definition(definition)
    plans = schema.plan_by_name(definition)
    fk = plans.get(order_by[:-3]) if order_by.endswith("-id") else None
    if fk is not None and fk.role in ("reference", "owned"):
        # ``order_by=supplier_id``: the foreign key, as in filters
        return f"{_json(alias, fk.field.name)} {dir_sql}, {alias}.id ASC"
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
    ctx.tables.add(plan.target)
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
    if "\x00" in value:
        raise QueryError(f"{key}: a value may not contain a NUL character", key)
    try:
        if stype == "integer":
            if not _INT_RE.fullmatch(value):
                raise ValueError(value)
            number = int(value)
            # SQLite integers are 64-bit; a float beyond that compares correctly with all of them.
            return number if -_INT64 <= number <= _INT64 else float(number)
        if stype in ("decimal", "float"):
            if not _DECIMAL_RE.fullmatch(value):
                raise ValueError(value)
            return str(parse_decimal(value))
        if stype == "boolean":
            return _BOOLS[value.lower()]
        if stype == "datetime":
            return filter_datetime(value)
        if stype == "date":
            return parse_date(value).isoformat()
    except (ValueError, KeyError, WireValueError) as exc:
        raise QueryError(f"{key}: invalid {stype} value {value!r}", key) from exc
    return value


def _scalar_test(ctx: _Ctx, expr: str, stype: str, cond: Condition, key: str) -> str:
    op = cond.op
    collate = " COLLATE DECIMAL" if stype in ("decimal", "float") else ""
    if op in _TEXT_OPS:
        if stype in ("datetime", "date", "boolean"):
            raise QueryError(f"{key}: '{op}' does not apply to {stype} attributes", key)
        if "\x00" in str(cond.value):
            raise QueryError(f"{key}: a value may not contain a NUL character", key)
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
