"""Coupa's API response filters (Setup > Integrations > API Filters), as the emulator keeps them.

In Coupa an administrator saves a named filter that shapes what a resource's answers carry, and a
call picks it with ``filter=<name>`` (coupa-api.md section 3). The emulator keeps such filters as a
``fields`` projection per name, defined through the control plane
(``PUT /__emulator__/api-filters/<name>`` with ``{"resource": "invoices", "fields": [...]}``), so
integration code that relies on one can be tested without an administrator.

Choices where Coupa's behaviour is unconfirmed (documented in the README):

- an unknown filter name is refused with 400 and Coupa's errors envelope, rather than ignored:
  a misspelt name then shows in the test, not as a payload unexpectedly whole;
- a filter saved for another resource is refused the same way;
- an explicit ``fields`` on the call wins over the filter's projection.
"""

from __future__ import annotations

import dataclasses
import threading
from dataclasses import dataclass
from typing import Any

import orjson

from pycoupa.emulator.writes import CoupaError
from pycoupa.wire.query import FieldSpec, ParsedQuery, QueryError, format_fields, parse_fields

__all__ = ["ApiFilter", "ApiFilters"]


@dataclass(frozen=True)
class ApiFilter:
    name: str
    resource: str  # the catalog resource it shapes, e.g. "invoices"
    fields: FieldSpec

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "resource": self.resource, "fields": orjson.loads(format_fields(self.fields))}


class ApiFilters:
    """The instance's saved filters, by name (thread-safe: the control plane and the API share it)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._filters: dict[str, ApiFilter] = {}

    def define(self, name: str, resource: str, fields: object) -> ApiFilter:
        """Save (or replace) a filter; ``fields`` is a projection as a JSON array or its text."""
        if not name or len(name) > 200 or not all(c.isalnum() or c in "_-." for c in name):
            raise ValueError(f"an API filter name is letters, digits, '_', '-' and '.', got {name!r}")
        raw = fields if isinstance(fields, str) else orjson.dumps(fields).decode()
        try:
            spec = parse_fields(raw)
        except QueryError as exc:
            raise ValueError(f"fields: {exc}") from None
        if not spec:
            raise ValueError("fields must name at least one attribute")
        saved = ApiFilter(name, resource, spec)
        with self._lock:
            self._filters[name] = saved
        return saved

    def remove(self, name: str) -> bool:
        with self._lock:
            return self._filters.pop(name, None) is not None

    def all(self) -> list[ApiFilter]:
        with self._lock:
            return sorted(self._filters.values(), key=lambda f: f.name)

    def clear(self) -> None:
        with self._lock:
            self._filters.clear()

    def apply(self, query: ParsedQuery, resource: str) -> ParsedQuery:
        """``query`` with its ``filter=`` turned into the projection the filter saves."""
        name = query.filter_name
        if name is None:
            return query
        with self._lock:
            saved = self._filters.get(name)
        if saved is None:
            raise CoupaError(400, [f"API filter '{name}' does not exist"])
        if saved.resource != resource:
            raise CoupaError(400, [f"API filter '{name}' is for {saved.resource}, not {resource}"])
        if query.fields is not None:
            return query  # the call's own projection wins
        return dataclasses.replace(query, fields=saved.fields)
