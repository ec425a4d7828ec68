"""Parse Coupa's OAuth scope table and map each permission line onto R39 API routes.

Coupa publishes its OAuth scopes as a loosely formatted markdown page: one numbered heading per
scope, numbered sub-headings per controller ("resource") and bullet lines per controller action.
The emulator needs to know which concrete routes a token's scopes unlock, so this module turns
that page into structured ``ScopeLine`` records and resolves every line against the route
templates found in the R39 Swagger files.  Lines that cannot be resolved keep an empty route
list plus a human-readable reason, so gaps stay visible instead of being guessed over.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["ScopeLine", "map_scope_table", "parse_scope_table", "scope_names"]


@dataclass(frozen=True)
class ScopeLine:
    """One permission line: ``action`` on ``resource``, granted by ``scope``."""

    scope: str
    resource: str
    action: str


# --------------------------------------------------------------------------------------------
# Parsing
# --------------------------------------------------------------------------------------------

_HEADING_RE = re.compile(r"^\s{0,3}(#{1,6})\s+(?P<body>.*?)\s*#*\s*$")
# "N. scope.name" -- the trailing dot after N distinguishes scopes from "N.M" resources.
_SCOPE_RE = re.compile(r"^(?P<num>\d+)\.\s+(?P<name>[a-z][a-z0-9_]*(?:\.[a-z0-9_]+)*)$")
_RESOURCE_RE = re.compile(r"^(?P<num>\d+\.\d+)\.?\s+(?P<name>\S.*)$")
_BULLET_RE = re.compile(r"^\s*[-*+]\s+(?P<text>.*\S)\s*$")
# Name/description separator: an en or em dash (any spacing), or a hyphen followed by
# whitespace. A hyphen glued to both neighbours ("Check-in", "Self-Attendee") is part of a name.
_SEPARATOR_RE = re.compile(r"\s*[\u2013\u2014]\s*|\s*-\s+")
_PLACEHOLDER_RE = re.compile(r"^nothing\b", re.IGNORECASE)


@dataclass(frozen=True)
class _Entry:
    scope: str
    section: str
    resource: str
    action: str


def _clean(text: str) -> str:
    text = text.replace("\u00a0", " ").replace("*", "").replace("`", "")
    return re.sub(r"\s+", " ", text).strip()


def _action_name(text: str) -> str:
    text = _clean(text)
    match = _SEPARATOR_RE.search(text)
    name = text[: match.start()] if match else text
    return name.strip().rstrip(".:").strip()


def _parse(text: str) -> tuple[list[str], list[_Entry]]:
    scopes: list[str] = []
    entries: list[_Entry] = []
    scope: str | None = None
    section = ""
    resource: str | None = None

    for raw in text.splitlines():
        heading = _HEADING_RE.match(raw)
        if heading:
            body = _clean(heading.group("body"))
            scope_match = _SCOPE_RE.match(body)
            if scope_match:
                scope = scope_match.group("name")
                if scope not in scopes:
                    scopes.append(scope)
                resource = None
                continue
            resource_match = _RESOURCE_RE.match(body)
            if scope is not None and resource_match:
                section = resource_match.group("num")
                resource = resource_match.group("name")
            else:
                # Any other heading ends the current resource block.
                resource = None
            continue

        stripped = raw.strip()
        if scope is None or resource is None or not stripped or stripped[0] in ">|":
            continue
        bullet = _BULLET_RE.match(raw)
        if bullet:
            body = bullet.group("text")
        elif "\u2013" in stripped:
            # Some action lines lost their bullet in the scrape; accept them only when they
            # carry the en-dash separator, so stray prose is not mistaken for an action.
            body = stripped
        else:
            continue
        action = _action_name(body)
        if action and not _PLACEHOLDER_RE.match(action):
            entries.append(_Entry(scope, section, resource, action))
    return scopes, entries


def parse_scope_table(text: str) -> list[ScopeLine]:
    """Return every (scope, resource, action) line in document order.

    Scopes without any lines contribute nothing here; use :func:`scope_names` for the full list.
    """
    return [ScopeLine(e.scope, e.resource, e.action) for e in _parse(text)[1]]


def scope_names(text: str) -> list[str]:
    """Return all scope names in document order (including scopes that list no actions)."""
    return _parse(text)[0]


# --------------------------------------------------------------------------------------------
# Alias tables (keys are normalised: lowercase, single spaces, "API/" prefix unified)
# --------------------------------------------------------------------------------------------

# Resource name -> collection path template(s) in R39, for names whose default derivation
# (strip "API/", lowercase, spaces -> "_", "/" kept as a path separator) does not match.
# Nested bases are listed next to the top-level one when R39 serves the same resource both ways.
_RESOURCE_BASES: dict[str, tuple[str, ...]] = {
    # Budget line adjustments are also reachable under their budget line.
    "api/budget line adjustments": (
        "/budget_line_adjustments",
        "/budget_lines/{budget_line_id}/budget_line_adjustments",
    ),
    "api/supplier items": ("/supplier_items", "/items/{item_id}/supplier_items"),
    # The comments controller also serves comments nested under business documents; the
    # quote approvable ones are granted by the sourcing scopes instead (see _EXPLICIT_ROUTES).
    "api/comments": (
        "/comments",
        "/contracts/{contract_id}/comments",
        "/easy_form_responses/{easy_form_response_id}/comments",
        "/expense_reports/{expense_report_id}/comments",
        "/invoices/{invoice_id}/comments",
        "/purchase_orders/{purchase_order_id}/comments",
        "/requisitions/{requisition_id}/comments",
    ),
    "custom object instances": ("/custom_objects/{object_definition_id}/object_instances",),
    # Contract sub-resources only exist nested under a contract (templates under /contracts).
    "api/contract business groups": ("/contracts/{contract_id}/business_groups",),
    "api/contract terms": ("/contracts/{contract_id}/contract_terms",),
    "api/contract templates": ("/contracts/templates",),
    "api/legal documents": ("/contracts/{contract_id}/legal_documents",),
    "api/easy form responses": (
        "/easy_form_responses",
        "/users/{user_id}/easy_form_responses",
        "/supplier_information/{supplier_information_id}/easy_form_responses",
        "/requisition_lines/{requisition_line_id}/easy_form_responses",
    ),
    # /expense_lines/expense_artifacts is tagged ExpenseArtifact in R39 despite its odd shape.
    "api/expense artifacts": (
        "/expense_artifacts",
        "/expense_lines/expense_artifacts",
        "/expense_lines/{expense_line_id}/expense_artifacts",
        "/expense_reports/{expense_report_id}/expense_lines/{expense_line_id}/expense_artifacts",
    ),
    "api/expense lines": ("/expense_lines", "/expense_reports/{expense_report_id}/expense_lines"),
    "api/expense polices": ("/expense_policies",),  # misspelt in the seed
    "api/expense category translation": ("/expense_category_translations",),
    # Inventory resources named in the singular or by their UI name.
    "api/inventory adjustment": ("/inventory_adjustments",),
    "api/inventory transfer": ("/inventory_transfers",),
    "api/default receiving location": ("/default_receiving_locations",),
    "api/warehouse locations": ("/warehouses/{warehouse_id}/locations",),
    "cycle count lines": ("/cycle_counts/{cycle_count_id}/cycle_count_lines",),
    "api/advance ship notice lines": ("/asn/lines",),
    "api/receiving purchase order lines": ("/receivable_purchase_order_lines",),
    # Receipts: both routes are tagged InventoryTransaction and expose the same actions.
    "api/inventory receiving": ("/receiving_transactions", "/inventory_transactions"),
    # Invoicing.
    "api/invoice emails": ("/invoice_emails", "/suppliers/{supplier_id}/invoice_emails"),
    "api/payment receipts": ("/invoices/{invoice_id}/payment_receipts",),
    # R39 has no top-level remit-to route; /suppliers/{id}/addresses is tagged RemitToAddress.
    "api/remit to addresses": (
        "/suppliers/{supplier_id}/addresses",
        "/invoices/{invoice_id}/remit_to_addresses",
    ),
    # R39 only exposes object translations nested under UOMs (tag ObjectTranslation).
    "object translations": ("/uoms/{uom_id}/translations",),
    "api/order pad lines": ("/order_pads/{order_pad_id}/order_pad_lines",),
    # Coupa Pay and payables live under namespaced paths.
    "api/coupa pay payments": ("/coupa_pay/payments",),
    "api/coupa payment details": ("/coupa_pay/payment_details",),
    "api/coupa pay statements": ("/coupa_pay/statements",),
    "api/payable allocations": ("/payables/allocations",),
    "api/payables allocations": ("/payables/allocations",),
    "api/invoice payables": ("/payables/invoices",),
    "api/payables expenses": ("/payables/expenses",),
    "api/external payables": ("/payables/external/payables",),
    "api/payables order reconciliation lines": ("/payables/order/reconciliation_lines",),
    "api/payables orders": ("/payables/orders",),
    "api/project": ("/projects",),
    "api/pending quote supplier": ("/quote_requests/{quote_request_id}/pending_quote_suppliers",),
    "api/quote responses": ("/quote_responses", "/quote_requests/{quote_request_id}/quote_responses"),
    "api/supplier information sites": (
        "/supplier_information_sites",
        "/supplier_information/{supplier_information_id}/supplier_information_sites",
    ),
    "api/supplier information tax registration": ("/supplier_information_tax_registrations",),
    "api/supplier sites": ("/supplier_sites", "/suppliers/{supplier_id}/supplier_sites"),
    "api/supplier business groups": ("/suppliers/{supplier_id}/business_groups",),
    "api/supplier": ("/suppliers",),
    "proxy supplier": ("/proxy_suppliers",),
    "risk aware feed": ("/supplier_risk_aware_feed",),
    "supplier users integration contacts": ("/suppliers/{supplier_id}/supplier_user_integration_contacts",),
    "api/user addresses": ("/users/{user_id}/addresses",),
    "api/user business groups": ("/users/{user_id}/business_groups",),
}

# Same resource name, different meaning depending on the scope that lists it.
_SCOPED_BASES: dict[tuple[str, str], tuple[str, ...]] = {
    # Under the catalog scope "API/Supplier" is the supplier-items controller.
    ("core.catalog.write", "api/supplier"): ("/supplier_items", "/items/{item_id}/supplier_items"),
    # Attachments granted by document-specific scopes apply to that document's attachments.
    ("core.inventory.adjustment.write", "api/attachments"): (
        "/inventory_adjustments/{inventory_adjustment_id}/attachments",
    ),
    ("core.inventory.consumption.write", "api/attachments"): (
        "/inventory_consumptions/{inventory_consumption_id}/attachments",
    ),
    ("core.inventory.receiving.write", "api/attachments"): (
        "/receiving_transactions/{receiving_transaction_id}/attachments",
        "/inventory_transactions/{inventory_transaction_id}/attachments",
    ),
    ("core.inventory.transfer.write", "api/attachments"): ("/inventory_transfers/{inventory_transfer_id}/attachments",),
    ("core.invoice.create", "api/attachments"): ("/invoices/{invoice_id}/attachments",),
    # The invoice scope only reads remit-to addresses through the invoice.
    ("core.invoice.read", "api/remit to addresses"): ("/invoices/{invoice_id}/remit_to_addresses",),
    # Tasks hang off projects or user groups depending on the scope family.
    ("core.project.read", "api/tasks"): ("/tasks", "/projects/{project_id}/tasks"),
    ("core.project.write", "api/tasks"): ("/tasks", "/projects/{project_id}/tasks"),
    ("core.user_group.read", "api/tasks"): ("/tasks", "/user_groups/{user_group_id}/tasks"),
    ("core.user_group.write", "api/tasks"): ("/tasks", "/user_groups/{user_group_id}/tasks"),
}

# The seed repeats a resource heading where another resource was meant: section 61.2 of
# core.order_pad.write is titled "Order Pad Lines" but its actions concern order pads.
_SECTION_RESOURCE_FIXES: dict[tuple[str, str], str] = {
    ("core.order_pad.write", "61.2"): "api/order pads",
}

# Resources whose name matches an R39 route that is nevertheless a different controller.
_UNROUTED_RESOURCES: dict[str, str] = {
    # Listed without the "API/" prefix: the receiving-side "POs pending receipt" controller,
    # not /purchase_orders.
    "purchase orders": "pending-receipt purchase orders (non-API controller) have no route in R39",
}

# Action name -> (path segment, allowed methods or None for any) when the route segment is not
# the snake_case form of the action name.
_ACTION_ALIASES: dict[str, tuple[str, frozenset[str] | None]] = {
    "catalogue item info": ("catalog_item_info", None),
    "catalogue items": ("catalog_items", None),
    "create publisher": ("create_published", None),
    "notify that a signature has been added in ccc": ("ccc_signature_created", None),
    "update legal agreement": ("update_legal_agreement_published", None),
    "update completed or published": ("update_published", None),
    "moves contract to corresponding status after ccc withdraws signatures": ("withdraw_signatures", None),
    "calculate mileage amount": ("calculate_mileage", None),
    # R39 summarises calculate_per_diem as the trip-data line total calculation.
    "calculate expense line total based on trip data": ("calculate_per_diem", None),
    "unassign attendees": ("unassign_attendee", None),
    "sending expense line back to submitter": ("send_back_line", None),
    "create alert and mark export": ("create_alert_and_mark_exported", None),
    "mark export": ("mark_exported", None),
    "receive asn lines": ("receive", None),
    "void asn lines": ("void", None),
    "retrieve/download legal invoice pdf": ("retrieve_legal_invoice_pdf", None),
    "reverse the payable allocation and associated reconciliation lines": ("reverse", None),
    "list payables that are available to be allocated to this one": ("available_allocations", None),
    "exported": ("export", None),
    "mark this document as paid and stop tracking it in coupa": ("pay_externally", None),
    "stop tracking this document in coupa": ("track_externally", None),
    "resume tracking this document in coupa": ("track_in_coupa", None),
    "allow api users to mark coupa pay orders as ready to pay": ("ready_to_pay", None),
    "to display current cart details via api": ("current_cart", None),
    "save for later for api requisitions": ("save_for_later", None),
    "update requisition and submit for approval": ("update_and_submit_for_approval", None),
    "update requisition without validation": ("update_without_validation", None),
    "create a sourcing event from the requisition": ("create_from_source", None),
    "submit sourcing event to production": ("go_to_production", None),
    "move a sourcing event to a test state": ("go_to_test", None),
    # One path, several verbs: pick the verb that matches the action.
    "award": ("award", frozenset({"POST"})),
    "remove award": ("award", frozenset({"DELETE"})),
    "avatar show": ("avatar", frozenset({"GET"})),
    "avatar update": ("avatar", frozenset({"POST", "PUT"})),
    "delete avatar": ("avatar", frozenset({"DELETE"})),
}

# (resource, action) -> exact routes, for lines whose route is not derivable from the name.
_EXPLICIT_ROUTES: dict[tuple[str, str], tuple[tuple[str, str], ...]] = {
    # The approvable "Index"/"Create" actions operate on the approvable's comment thread.
    ("api/quote award approvables", "index"): (
        ("GET", "/quote_award_approvables/{quote_award_approvable_id}/comments"),
    ),
    ("api/quote award approvables", "create"): (
        ("POST", "/quote_award_approvables/{quote_award_approvable_id}/comments"),
    ),
    ("api/quote request approvables", "index"): (
        ("GET", "/quote_request_approvables/{quote_request_approvable_id}/comments"),
    ),
    ("api/quote request approvables", "create"): (
        ("POST", "/quote_request_approvables/{quote_request_approvable_id}/comments"),
    ),
}

# Standard controller actions: (methods, applies to member?)
_STANDARD_ACTIONS: dict[str, tuple[tuple[str, ...], bool]] = {
    "index": (("GET",), False),
    "list": (("GET",), False),
    "query": (("GET",), False),
    "show": (("GET",), True),
    "create": (("POST",), False),
    "update": (("PUT", "PATCH"), True),
    "updated": (("PUT", "PATCH"), True),  # seed typo for "Update"
    "destroy": (("DELETE",), True),
    "delete": (("DELETE",), True),
}

_METHOD_ORDER = ("GET", "POST", "PUT", "PATCH", "DELETE")


# --------------------------------------------------------------------------------------------
# Mapping
# --------------------------------------------------------------------------------------------


def _snake(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def _resource_key(resource: str) -> str:
    key = re.sub(r"\s+", " ", resource.strip().lower())
    return re.sub(r"^api\s*/?\s*", "api/", key)


def _default_base(key: str) -> str:
    name = key.removeprefix("api/")
    return "/" + "/".join(part for part in (_snake(p) for p in name.split("/")) if part)


def _norm(path: str) -> str:
    # Compare templates with optional Rails groups dropped and parameter names erased.
    path = re.sub(r"\([^)]*\)", "", path)
    return re.sub(r"\{[^}]*\}", "{}", path).rstrip("/") or "/"


class _RouteIndex:
    def __init__(self, routes: Iterable[tuple[str, str]]) -> None:
        self._by_norm: dict[str, dict[str, set[str]]] = {}
        for method, path in routes:
            self._by_norm.setdefault(_norm(path), {}).setdefault(path, set()).add(method.upper())

    def find(
        self, template: str, methods: Iterable[str] | None = None, *, trailing_param: bool = False
    ) -> list[tuple[str, str]]:
        wanted = None if methods is None else set(methods)
        target = _norm(template)
        keys = [target]
        if trailing_param:
            keys.append(target + "/{}")
        found: list[tuple[str, str]] = []
        for key in keys:
            for path, have in sorted(self._by_norm.get(key, {}).items()):
                usable = have if wanted is None else have & wanted
                found.extend((m, path) for m in _METHOD_ORDER if m in usable)
        return found

    def has_resource(self, base: str) -> bool:
        target = _norm(base)
        return any(key == target or key.startswith(target + "/") for key in self._by_norm)


def _dedupe(routes: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    seen: set[tuple[str, str]] = set()
    out: list[tuple[str, str]] = []
    for route in routes:
        if route not in seen:
            seen.add(route)
            out.append(route)
    return out


def _map_entry(entry: _Entry, index: _RouteIndex) -> tuple[list[tuple[str, str]], str | None]:
    rkey = _SECTION_RESOURCE_FIXES.get((entry.scope, entry.section)) or _resource_key(entry.resource)
    if rkey in _UNROUTED_RESOURCES:
        return [], _UNROUTED_RESOURCES[rkey]
    bases: Sequence[str] = _SCOPED_BASES.get((entry.scope, rkey)) or _RESOURCE_BASES.get(rkey) or (_default_base(rkey),)
    action = re.sub(r"\s+", " ", entry.action.lower()).strip()

    explicit = _EXPLICIT_ROUTES.get((rkey, action))
    if explicit is not None:
        routes = _dedupe(r for m, p in explicit for r in index.find(p, (m,)))
        if routes:
            return routes, None
        wanted = ", ".join(f"{m} {p}" for m, p in explicit)
        return [], f"action {entry.action!r} on {entry.resource}: R39 has no {wanted}"

    # "Sub Resource/Action" names a standard action on a child collection.
    if action not in _ACTION_ALIASES and "/" in action:
        prefix, _, rest = action.rpartition("/")
        if rest.strip() in _STANDARD_ACTIONS:
            bases = tuple(f"{b}/{_snake(prefix)}" for b in bases)
            action = rest.strip()

    if not any(index.has_resource(b) for b in bases):
        return [], "no route for " + " or ".join(f"/api{b}" for b in bases) + " in R39"

    if action in _STANDARD_ACTIONS:
        methods, member = _STANDARD_ACTIONS[action]
        targets = [f"{b}/{{id}}" if member else b for b in bases]
        routes = _dedupe(r for t in targets for r in index.find(t, methods))
        expected = [f"{'/'.join(methods)} {t}" for t in targets]
    else:
        segment, allowed = _ACTION_ALIASES.get(action, (_snake(action), None))
        verbs = "/".join(m for m in _METHOD_ORDER if m in allowed) + " " if allowed else ""
        found: list[tuple[str, str]] = []
        expected = []
        for base in bases:
            # A member action may carry one extra id (``/assign_attendee/{expense_attendee_id}``).
            found += index.find(f"{base}/{{id}}/{segment}", allowed, trailing_param=True)
            found += index.find(f"{base}/{segment}", allowed)
            expected += [f"{verbs}{base}/{{id}}/{segment}", f"{verbs}{base}/{segment}"]
        routes = _dedupe(found)
    if routes:
        return routes, None
    under = bases[0] if len(bases) == 1 else f"{bases[0]} (or its nested forms)"
    missing = " or ".join(expected)
    return [], f"action {entry.action!r} has no matching route under {under}: R39 has no {missing}"


def map_scope_table(text: str, routes: Iterable[tuple[str, str]]) -> dict[str, list[dict[str, Any]]]:
    """Map every scope line to the R39 routes it allows.

    ``routes`` holds ``(METHOD, path template)`` pairs as written in the Swagger files (no
    ``/api`` prefix).  The result has one key per scope, in document order; each line becomes
    ``{"resource", "action", "routes": [[METHOD, path], ...], "reason"}`` where ``reason`` is
    ``None`` for mapped lines and explains the gap otherwise.
    """
    names, entries = _parse(text)
    index = _RouteIndex(routes)
    result: dict[str, list[dict[str, Any]]] = {name: [] for name in names}
    for entry in entries:
        found, reason = _map_entry(entry, index)
        result.setdefault(entry.scope, []).append(
            {
                "resource": entry.resource,
                "action": entry.action,
                "routes": [[method, path] for method, path in found],
                "reason": reason,
            }
        )
    return result
