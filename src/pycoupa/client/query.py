"""Keyword filters -> Coupa's query grammar, checked against the catalog before any request.

``status__in=["approved", "voided"]``, ``updated_at__gt=datetime(...)``,
``supplier__name__contains="Acme"``, ``invoice_lines__account__code="a-c"``: the parts are joined
by double underscores, the last one may be an operator, and every other part must name a field
(or, for all but the last, an association) of the resource's definition.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any

from pycoupa.catalog.corrections import patched_definitions
from pycoupa.catalog.model import Definition, load_catalog
from pycoupa.client.errors import ConfigurationError
from pycoupa.wire.query import OPERATORS, Condition, FieldSpec, QueryError, encode_filter_value

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


def conditions_from_kwargs(definition: str, filters: Mapping[str, Any]) -> list[Condition]:
    """``{"supplier__name__contains": "Acme"}`` -> ``[Condition(("supplier", "name"), "contains", "Acme")]``."""
    out = []
    for key, value in filters.items():
        parts = key.split("__")
        op = "eq"
        if len(parts) > 1 and parts[-1] in OPERATORS:
            op = parts.pop()
        path = tuple(p.replace("_", "-") for p in parts)
        _check_path(definition, path, key)
        try:
            if op in ("in", "not_in"):
                items = value if isinstance(value, list | tuple | set | frozenset) else [value]
                encoded: str | tuple[str, ...] = tuple(encode_filter_value(v, param=key) for v in items)
            elif op == "blank":
                encoded = "true" if value else "false"
            else:
                encoded = encode_filter_value(value, param=key)
        except QueryError as exc:
            raise ConfigurationError(f"filter {key}: {exc}") from exc
        out.append(Condition(path, op, encoded))
    return out


def _check_path(definition: str, path: tuple[str, ...], key: str) -> None:
    defn = _definition(definition)
    for n, seg in enumerate(path):
        last = n == len(path) - 1
        if seg == "id" and last:
            return
        field = defn.fields.get(seg)
        if field is None and last and seg.endswith("-id") and seg[:-3] in defn.fields:
            return  # foreign-key shorthand (supplier_id)
        if field is None and seg == "custom-fields" and not last:
            return
        if field is None:
            raise ConfigurationError(
                f"filter {key}: {defn.element} has no attribute '{seg}'" + _suggest(seg, list(defn.fields))
            )
        if last:
            return
        if field.ref is None:
            raise ConfigurationError(f"filter {key}: '{seg}' of {defn.element} is not an association")
        defn = _definition(field.ref)


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


def fields_spec(fields: Sequence[Any] | Mapping[str, Any] | None) -> FieldSpec | None:
    """Python-friendly projections: ``["id", {"invoice_lines": ["id", "total"]}]`` -> a FieldSpec."""
    if fields is None:
        return None
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
