"""Decorators that plug behaviours into the request path and the write path."""

from __future__ import annotations

from collections.abc import Callable

from pycoupa.emulator.handlers import BEHAVIOURS, Handler
from pycoupa.emulator.writes import DERIVERS, Deriver


def action(resource: str, *keys: str) -> Callable[[Handler], Handler]:
    """Serve ``resource``'s action (or generic kind: list, show, create, update, delete)."""

    def register(fn: Handler) -> Handler:
        for key in keys:
            BEHAVIOURS[(resource, key)] = fn
        return fn

    return register


def derive(*definitions: str) -> Callable[[Deriver], Deriver]:
    """Run on every write of these definitions, before validation."""

    def register(fn: Deriver) -> Deriver:
        for definition in definitions:
            DERIVERS.setdefault(definition, []).append(fn)
        return fn

    return register
