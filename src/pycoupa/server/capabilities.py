"""What an integrated account's scopes allow: unified resources and methods, and proxy routes.

A unified method is allowed when, for every Coupa source it reads, one of the scopes the catalog
lists for that source's list/show operation is granted.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pycoupa.catalog.model import Operation, load_catalog

# Tried in order to find one cheap call that proves a set of credentials works.
_PROBES = ("users", "suppliers", "invoices", "accounts", "currencies", "purchase_orders", "requisitions", "items")

_METHODS = {"list": "list", "get": "show"}


def _granted(op: Operation | None, scopes: set[str]) -> bool:
    # An operation the catalog names no scope for is not counted as granted: unknown is not yes.
    return op is not None and bool(scopes.intersection(op.scopes))


def _op(resource_name: str, kind: str) -> Operation | None:
    resource = load_catalog().resources.get("/" + resource_name)
    return resource.op(kind) if resource is not None else None  # type: ignore[arg-type]


def probe_call(scopes: Iterable[str]) -> str | None:
    granted = set(scopes)
    for name in _PROBES:
        if _granted(_op(name, "list"), granted):
            return name
    for resource in load_catalog().resources.values():
        if resource.parent is None and _granted(resource.op("list"), granted):
            return resource.name
    return None


def capabilities(scopes: Iterable[str]) -> dict[str, Any]:
    from pycoupa.server.unified.registry import RESOURCES

    granted = set(scopes)
    unified: list[dict[str, Any]] = []
    for (model, name), spec in sorted(RESOURCES.items()):
        methods = []
        missing: set[str] = set()
        for method, kind in _METHODS.items():
            ok = True
            for source in spec.sources:
                op = _op(source.coupa_resource, kind)
                if not _granted(op, granted):
                    ok = False
                    if op is not None and op.scopes:
                        missing.add(op.scopes[0])
            if ok:
                methods.append(method)
        unified.append(
            {
                "model": model,
                "resource": name,
                "methods": methods,
                "missing_scopes": sorted(missing) if not methods else [],
            }
        )
    proxy = sorted(
        {
            f"{o.method} {o.path}"
            for r in load_catalog().resources.values()
            for o in r.operations
            if _granted(o, granted)
        }
    )
    return {"unified": unified, "proxy": {"operations": len(proxy), "routes": proxy}}
