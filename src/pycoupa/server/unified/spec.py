"""What a unified resource is: where its records come from in Coupa, and how they map.

A :class:`UnifiedResource` is data, read by the generic list/get engine (``engine.py``): it never
issues requests itself. Each of its :class:`Source` s names one Coupa catalog resource, the
``fields`` projection the mapper needs, and a mapper from one raw Coupa record to one unified
record. Most resources have one source; tracking categories have several (lookups, lookup
values, departments, account segments), told apart by an id prefix.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

# One raw Coupa record, exactly as Coupa's JSON decodes (hyphenated keys, decimals and datetimes as
# strings, nested objects as dicts) -> one unified record (snake_case keys, without remote_data).
Mapper = Callable[[Mapping[str, Any]], dict[str, Any]]

# Operators a unified filter can take, written ``name[op]=value`` (plain ``name=value`` is ``eq``).
OPERATORS = frozenset({"eq", "ne", "gt", "gte", "lt", "lte", "in", "contains", "starts_with"})
# Unified operator -> Coupa's (``eq`` is the bare ``attr=value``).
COUPA_OPERATOR = {
    "eq": None,
    "ne": "not_eq",
    "gt": "gt",
    "gte": "gt_or_eq",
    "lt": "lt",
    "lte": "lt_or_eq",
    "in": "in",
    "contains": "contains",
    "starts_with": "starts_with",
}


@dataclass(frozen=True)
class UnifiedFilter:
    """One filter a unified list accepts, and the Coupa attribute it becomes.

    ``coupa`` is the Coupa query attribute with nested associations in brackets, as Coupa writes
    it (``updated-at``, ``supplier[name]``). ``kind`` decides how the value is checked before any
    request: ``string``, ``int``, ``bool``, ``datetime`` (ISO 8601) or ``enum``. ``translate``
    turns a unified value into the Coupa values it stands for (``authorised`` -> ``approved``);
    several values become one ``[in]`` condition.
    """

    name: str
    coupa: str
    ops: frozenset[str] = frozenset({"eq"})
    kind: str = "string"
    translate: Callable[[str], list[str]] | None = None
    choices: tuple[str, ...] = ()  # for kind == "enum": the unified values accepted
    # Unified values that need a second Coupa condition, ANDed with ``coupa``: value -> (Coupa
    # attribute, Coupa value). An invoice is ``paid`` when ``status=approved`` and ``paid=true``, and
    # ``authorised`` when ``status=approved`` and ``paid=false``. Coupa has no OR across attributes,
    # so such a value takes ``eq``, or ``in`` together with values that all refine the same
    # attribute; ``registry.coupa_conditions`` builds the Coupa conditions and refuses the rest.
    # (Left out of the hash, so that a filter stays hashable as it was before this field.)
    refine: Mapping[str, tuple[str, str]] = field(default_factory=dict, hash=False)
    # Composite ids (tracking categories): a value ``<prefix><id>`` becomes a condition on the Coupa
    # attribute its prefix names (``lookup:3`` -> ``lookup[id]=3``); a source whose map lacks the
    # prefix cannot hold a match and is skipped. ``prefix_also`` adds a fixed Coupa condition
    # ``(attribute, operator, value)`` for a prefix (``lookup:`` -> ``parent[blank]=true``).
    by_prefix: Mapping[str, str] = field(default_factory=dict, hash=False)
    prefix_also: Mapping[str, tuple[str, str, str]] = field(default_factory=dict, hash=False)


@dataclass(frozen=True)
class Source:
    """One Coupa resource feeding a unified resource."""

    coupa_resource: str  # a catalog resource name: "invoices", "lookup_values", "coupa_pay/payments"
    fields: tuple[Any, ...]  # the Coupa ``fields`` projection the mapper needs, in the SDK's form
    map: Mapper
    filters: Mapping[str, UnifiedFilter] = field(default_factory=dict)
    id_prefix: str = ""  # composite resources: unified id = id_prefix + str(Coupa id)
    base_query: tuple[tuple[str, str], ...] = ()  # fixed Coupa query pairs (e.g. ("active", "true"))
    selector: str = ""  # the value of the resource's ``selector_filter`` that picks this source


@dataclass(frozen=True)
class UnifiedResource:
    model: str  # "accounting" or "user-directory"
    name: str  # "invoices", "purchase_order_requisitions", "users" ...
    sources: tuple[Source, ...]
    # A filter that picks sources instead of becoming a Coupa condition (``category_type``).
    selector_filter: str = ""
    description: str = ""

    @functools.cached_property
    def filter_names(self) -> tuple[str, ...]:
        """Sorted; computed once, as every list request reads it."""
        names = {n for s in self.sources for n in s.filters}
        if self.selector_filter:
            names.add(self.selector_filter)
        return tuple(sorted(names))

    def source_for_id(self, unified_id: str) -> tuple[Source, int]:
        """The source and Coupa id a unified id stands for; ``ValueError`` names what is wrong."""
        for src in sorted(self.sources, key=lambda s: -len(s.id_prefix)):
            if unified_id.startswith(src.id_prefix):
                rest = unified_id[len(src.id_prefix) :]
                if rest.isdigit() and not rest.startswith("0"):
                    return src, int(rest)
        expected = " or ".join(f"'{s.id_prefix}<number>'" if s.id_prefix else "a number" for s in self.sources)
        raise ValueError(f"id {unified_id!r} is not a {self.name} id (expected {expected})")
