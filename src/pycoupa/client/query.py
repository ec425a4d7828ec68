"""Keyword filters -> Coupa's query grammar, checked against the catalog before any request.

``status__in=["approved", "voided"]``, ``updated_at__gt=datetime(...)``,
``supplier__name__contains="Acme"``, ``invoice_lines__account__code="a-c"``: the parts are joined
by double underscores, the last one may be an operator, and every other part must name a field
(or, for all but the last, an association) of the resource's definition.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from functools import cache
from typing import Any

from pycoupa.catalog.corrections import patched_definitions
from pycoupa.catalog.model import Definition, load_catalog
from pycoupa.client.errors import ConfigurationError, QueryError
from pycoupa.wire.query import OPERATORS, Condition, FieldSpec, build_query, encode_filter_value
from pycoupa.wire.query import QueryError as WireQueryError
from pycoupa.wire.values import hyphenate

# Names that are user-facing aliases of Coupa's reduced views.
_ALIASES = {"UserSimple": "User", "UserSimpleSerializer": "User", "SupplierSimpleSerializer": "Supplier"}


@cache
def definitions() -> dict[str, Definition]:
    return patched_definitions(load_catalog())


def _definition(name: str) -> Definition:
    return definitions()[_ALIASES.get(name, name)]


def _suggest(word: str, choices: Sequence[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=3)
    return f" (did you mean {', '.join(close)}?)" if close else ""


# Operators from other query languages (Django's, mostly) that Python callers type by habit.
_OPERATOR_HABITS = {
    "gte": "did you mean gt_or_eq?", "lte": "did you mean lt_or_eq?", "ge": "did you mean gt_or_eq?",
    "le": "did you mean lt_or_eq?", "ne": "did you mean not_eq?", "neq": "did you mean not_eq?",
    "startswith": "did you mean starts_with?", "endswith": "did you mean ends_with?",
    "icontains": "did you mean contains?", "nin": "did you mean not_in?", "isnull": "did you mean blank?",
    "eq": "for equality, name the field alone", "exact": "for equality, name the field alone",
}  # fmt: skip


def _unknown_operator(key: str, op: str) -> QueryError:
    habit = _OPERATOR_HABITS.get(op)
    hint = f" ({habit})" if habit else _suggest(op, OPERATORS)
    return QueryError(
        f"filter {key}: unknown operator '{op}'{hint}; operators: eq (the default), {', '.join(OPERATORS)}"
    )


def build_query_checked(**options: Any) -> list[tuple[str, str]]:
    """``wire.query.build_query``, its refusals raised as the SDK's ``QueryError`` (a ConfigurationError)."""
    try:
        return build_query(**options)
    except WireQueryError as exc:
        raise QueryError(f"query {exc.param}: {exc}") from None


def _split_key(key: str) -> tuple[tuple[str, ...], str]:
    """``supplier__name__contains`` -> ``(("supplier", "name"), "contains")``; no operator is ``eq``."""
    parts = key.split("__")
    op = parts.pop() if len(parts) > 1 and parts[-1] in OPERATORS else "eq"
    return tuple(p.replace("_", "-") for p in parts), op


def check_filter_name(definition: str, key: str) -> None:
    """Refuse a filter or order_by name the definition lacks (``supplier__name``), values aside."""
    _check_path(definition, _split_key(key)[0], key)


def conditions_from_kwargs(definition: str, filters: Mapping[str, Any]) -> list[Condition]:
    """``{"supplier__name__contains": "Acme"}`` -> ``[Condition(("supplier", "name"), "contains", "Acme")]``."""
    out = []
    for key, value in filters.items():
        path, op = _split_key(key)
        kind = _check_path(definition, path, key)
        try:
            if op in ("in", "not_in"):
                items = value if isinstance(value, list | tuple | set | frozenset) else [value]
                encoded: str | tuple[str, ...] = tuple(encode_filter_value(v, param=key) for v in items)
            elif op == "blank":
                encoded = "true" if value else "false"
            else:
                encoded = encode_filter_value(value, param=key)
        except WireQueryError as exc:
            raise QueryError(f"filter {key}: {exc}") from exc
        if op not in ("blank", "contains", "starts_with", "ends_with"):
            for item in encoded if isinstance(encoded, tuple) else (encoded,):
                _check_value(kind, item, key)
        if isinstance(encoded, tuple):
            if not encoded:
                # Coupa would get "key[in]=" and read it as no filter at all, not as "nothing".
                raise QueryError(f"filter {key}: the list is empty; skip the call (it would match nothing)")
            for item in encoded:
                if "," in item:
                    raise QueryError(
                        f"filter {key}: item {item!r} contains a comma, which separates the items of "
                        f"Coupa's [{op}] list; such a value cannot be matched with {op}"
                    )
        out.append(Condition(path, op, encoded))
    return out


_INTEGER = re.compile(r"^-?[0-9]+$")
_LEGACY_CUSTOM_FIELD = re.compile(r"^custom-field-[0-9]+$")
_SAVED_FILTER = re.compile(r"^[A-Za-z0-9_.-]{1,200}$")


def saved_filter(value: object) -> str:
    """``filter=`` names a filter saved in Coupa's setup (an "API filter"), sent as ``filter=<name>``."""
    if not isinstance(value, str) or not _SAVED_FILTER.match(value):
        raise QueryError(f"filter= names an API filter saved in Coupa (letters, digits, '_', '-', '.'), got {value!r}")
    return value


def _check_value(kind: str | None, value: str, key: str) -> None:
    """Refuse, before any request, a value Coupa could not compare with the attribute: it would
    answer 400, or worse, match nothing and look like an empty result."""
    problem = None
    if kind == "integer" and not _INTEGER.match(value):
        problem = "an integer"
    elif kind == "number":
        try:
            Decimal(value)
        except ArithmeticError:
            problem = "a number"
    elif kind == "boolean" and value not in ("true", "false"):
        problem = "true or false"
    elif kind == "datetime":
        try:
            datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            problem = "an aware datetime or an ISO 8601 date"
    if problem:
        raise QueryError(f"filter {key}: {value!r} is not {problem}")


def _check_path(definition: str, path: tuple[str, ...], key: str) -> str | None:
    """Check the attribute path; return the kind of value its last attribute takes (``integer``,
    ``number``, ``boolean``, ``datetime``, or None for text and what is not known)."""
    defn = _definition(definition)
    op = key.rsplit("__", 1)[-1]
    for n, seg in enumerate(path):
        last = n == len(path) - 1
        if seg == "id" and last:
            return "integer"
        field = defn.fields.get(seg)
        if field is None and last and seg.endswith("-id") and seg[:-3] in defn.fields:
            return "integer"  # foreign-key shorthand (supplier_id)
        if field is None and seg == "custom-fields" and not last:
            return None
        if field is None and last and _LEGACY_CUSTOM_FIELD.match(seg):
            return None  # custom_field_8: an instance's own top-level custom field, unknown to the catalog
        if field is None:
            if last and n > 0 and (op in _OPERATOR_HABITS or _suggest(op, OPERATORS)):
                raise _unknown_operator(key, op)  # supplier__gte: an operator was meant, not a field
            raise ConfigurationError(
                f"filter {key}: {defn.element} has no attribute '{seg}'" + _suggest(seg, list(defn.fields))
            )
        if last:
            if field.ref is not None:
                return None  # an association named whole: Coupa decides what it compares
            if field.format in ("datetime", "date-time", "date"):
                return "datetime"
            return field.type if field.type in ("integer", "number", "boolean") else None
        if field.ref is None:
            if n == len(path) - 2:
                raise _unknown_operator(key, op)  # status__gte: what follows a plain field is an operator
            raise ConfigurationError(f"filter {key}: '{seg}' of {defn.element} is not an association")
        defn = _definition(field.ref)
    return None  # an empty path


def check_fields(definition: str, spec: FieldSpec | None) -> None:
    """Refuse a ``fields`` projection naming an attribute the definition lacks."""
    if not spec:
        return
    defn = _definition(definition)
    for name, sub in spec.items():
        if name == "custom-fields" or name.startswith("custom-field-"):
            continue
        field = defn.fields.get(name)
        if field is None:
            raise ConfigurationError(
                f"fields: {defn.element} has no attribute '{name}'" + _suggest(name, list(defn.fields))
            )
        if sub:
            if field.ref is None:
                raise ConfigurationError(f"fields: '{name}' of {defn.element} has no attributes to select")
            check_fields(field.ref, sub)


def check_body(definition: str, body: Any, where: str = "body") -> None:
    """Refuse a write body key that looks like a misspelt attribute: Coupa ignores keys it does not
    know without a word, so ``dispaly_name`` would be lost while the call succeeds.

    Only a key close to a known attribute is refused: the API spec is not complete (documented
    payloads carry keys it lacks, and XML-shaped wrappers such as ``order-lines: {order-line: ...}``),
    so a key that resembles nothing is sent as given. Keys are checked as sent (hyphenated), through
    nested associations and lists of them; ``_``-keys (Rails' ``_delete``, ``_destroy``...) and an
    instance's own custom fields (``custom_fields``, ``custom_field_N``) always pass.
    """
    if not isinstance(body, Mapping):
        return
    defn = _definition(definition)
    for key, value in body.items():
        name = hyphenate(str(key))
        if name.startswith("_") or name == "custom-fields" or _LEGACY_CUSTOM_FIELD.match(name):
            continue
        field = defn.fields.get(name)
        if field is None:
            close = difflib.get_close_matches(name, list(defn.fields), n=3, cutoff=_TYPO_CUTOFF)
            if close:
                raise ConfigurationError(
                    f"{where}: {defn.element} has no attribute '{name}' (did you mean {', '.join(close)}?); "
                    "Coupa drops unknown keys without an error (coupa.request() sends a body unchecked)"
                )
            continue
        if field.ref is None:
            continue
        items = value if isinstance(value, list | tuple) else [value]
        for n, item in enumerate(items):
            check_body(field.ref, item, f"{where}.{name}" + (f"[{n}]" if items is value else ""))


# How close (difflib's ratio) an unknown body key must be to an attribute to be taken for its typo:
# "dispaly-name" and "nmae" are; "approver" beside "approvals", or "payment" beside "payment-date", are not.
_TYPO_CUTOFF = 0.75


def fields_spec(fields: Sequence[Any] | Mapping[str, Any] | None) -> FieldSpec | None:
    """Python-friendly projections: ``["id", {"invoice_lines": ["id", "total"]}]`` -> a FieldSpec."""
    if fields is None:
        return None
    if isinstance(fields, str):
        # One name is one field; a string is never split into letters.
        if not fields or any(c in fields for c in ",[]{}\"' "):
            raise QueryError(f"fields: give a list of names, e.g. ['id', 'status'], not the string {fields!r}")
        fields = [fields]
    spec: FieldSpec = {}
    items: list[Any] = list(fields.items()) if isinstance(fields, Mapping) else list(fields)
    for item in items:
        if isinstance(item, str):
            spec[item.replace("_", "-")] = None
        elif isinstance(item, tuple) and len(item) == 2:
            spec[str(item[0]).replace("_", "-")] = fields_spec(item[1]) if item[1] else {}
        elif isinstance(item, Mapping):
            for k, v in item.items():
                spec[str(k).replace("_", "-")] = fields_spec(v) if v else {}
        else:
            raise ConfigurationError(f"fields: expected names or {{name: [...]}} objects, got {item!r}")
    return spec
