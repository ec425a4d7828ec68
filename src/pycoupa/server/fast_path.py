"""A fast path for the hottest route: well-formed ``GET /unified/{model}/{name}`` lists.

FastAPI's routing, dependency solving and query validation cost about 1.5 ms per request here
(bench/server_overhead.py: 0.7 ms before the endpoint runs and 0.9 ms after it returns, against a
page of Coupa work that takes 10-20 ms), a third of what the server adds to a 50-record list. This
ASGI middleware answers those requests itself with the *same* functions the FastAPI route calls
(authentication, limits, the engine, the error shapes), and leaves everything else to FastAPI.

It takes only requests FastAPI would accept as they are: an ``Authorization`` header, exactly one
``integrated_account_id``, and ``limit`` / ``include_remote_data`` (or Truto's
``truto_ignore_remote_data``) / ``next_cursor`` at most once
each with values FastAPI's validation passes. Anything else (a missing key, a bad limit, a repeated
parameter) goes through FastAPI, so every refusal keeps its one wording. The decision is taken
before anything is counted or looked up, so a request is never half handled by both.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from urllib.parse import parse_qsl

from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from pycoupa.server.unified.engine import MAX_LIMIT

# (authorization header, query pairs) -> the response; raises nothing (errors are responses).
ListHandler = Callable[[str, list[tuple[str, str]]], Awaitable[Response]]

_SIMPLE_BOOLS = frozenset({"true", "false", "1", "0"})  # accepted alike by pydantic and the engine
_DECLARED = ("integrated_account_id", "limit", "next_cursor", "include_remote_data", "truto_ignore_remote_data")


def takes(query: list[tuple[str, str]]) -> bool:
    """Whether FastAPI's validation of the route's declared parameters would pass these as they are."""
    counts = dict.fromkeys(_DECLARED, 0)
    for key, value in query:
        if key in counts:
            counts[key] += 1
            if key == "limit" and not (value.isdigit() and 1 <= int(value) <= MAX_LIMIT):
                return False
            if key in ("include_remote_data", "truto_ignore_remote_data") and value.lower() not in _SIMPLE_BOOLS:
                return False
    return counts["integrated_account_id"] == 1 and all(n <= 1 for n in counts.values())


class UnifiedListFastPath:
    """Pure ASGI middleware: answers ``GET`` on the paths in ``handlers``, passes the rest on."""

    def __init__(self, app: ASGIApp, handlers: Mapping[str, ListHandler]) -> None:
        self.app = app
        self.handlers = dict(handlers)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET":
            handler = self.handlers.get(scope["path"])
            if handler is not None:
                authorization = _header(scope, b"authorization")
                # Decoded as Starlette decodes ``request.query_params``, so both paths see the same pairs.
                query = parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True)
                if authorization and takes(query):
                    response = await handler(authorization, query)
                    await response(scope, receive, send)
                    return
        await self.app(scope, receive, send)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key.lower() == name:
            text: str = value.decode("latin-1")
            return text
    return None
