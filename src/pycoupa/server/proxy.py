"""The 1:1 proxy: ``/proxy/{path}`` -> the account's ``{instance}/api/{path}``, auth injected.

Only the account's own instance is reachable. The path is checked on its raw (still encoded)
form against a strict shape: letters, digits, ``_``, ``-`` and ``.`` in ``/``-separated segments,
no ``.``/``..`` segment, no percent-escapes at all (Coupa's paths never need one, and every
traversal trick — ``%2e%2e``, ``%2f``, ``%5c``, double encoding — needs one), no scheme, no
``//``, no ``@``. The target URL is rebuilt from the stored instance URL and compared with it
before sending, and redirects are never followed: a redirect to another host is refused.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Mapping, Sequence
from urllib.parse import urlsplit

import httpx

from pycoupa.client._base import RAW_BODY
from pycoupa.client._pipeline import send_flow
from pycoupa.client.async_ import AsyncCoupa
from pycoupa.server.errors import APIError

_SEGMENT = re.compile(r"^[A-Za-z0-9_\-.]+$")
MAX_BODY = 25 * 1024 * 1024
# Coupa answers with these as they are; hop-by-hop headers and cookies never pass.
_PASS_HEADERS = ("content-type", "retry-after", "x-request-id", "location", "content-disposition")
_FORWARD_HEADERS = ("content-type", "accept", "if-none-match", "if-modified-since")


def check_path(raw_path: str) -> str:
    """``raw_path`` is what follows ``/proxy/`` in the request line, still percent-encoded."""
    problem = None
    if not raw_path:
        problem = "an empty path"
    elif "%" in raw_path:
        problem = "percent-encoded characters"
    elif raw_path.startswith("/") or "//" in raw_path:
        problem = "an absolute URL or '//'"
    elif "\\" in raw_path or "@" in raw_path or ":" in raw_path:
        problem = "'\\', '@' or ':'"
    else:
        segments = raw_path.rstrip("/").split("/")
        if any(s in (".", "..") for s in segments):
            problem = "a '.' or '..' segment"
        elif not all(_SEGMENT.match(s) for s in segments):
            problem = "characters outside letters, digits, '_', '-' and '.'"
    if problem:
        raise APIError(
            400, "invalid_proxy_path", f"the proxy path has {problem}; give a Coupa API path such as invoices/12",
            {"path": raw_path[:200]},
        )  # fmt: skip
    path = raw_path.rstrip("/")
    if path.startswith("api/"):  # "/proxy/api/invoices" and "/proxy/invoices" mean the same
        path = path[4:]
    return path


def target_url(instance_url: str, path: str, query: bytes) -> httpx.URL:
    base = httpx.URL(instance_url)
    url = base.copy_with(path=base.path.rstrip("/") + "/api/" + path, query=query or None)
    if (url.scheme, url.host, url.port) != (base.scheme, base.host, base.port):
        raise APIError(400, "invalid_proxy_path", "the proxy only reaches the account's own Coupa instance", None)
    return url


def _same_origin(location: str, base: httpx.URL) -> bool:
    parts = urlsplit(location)
    if not parts.scheme and not parts.netloc:
        return True  # relative: same host
    try:
        other = httpx.URL(location)
    except httpx.InvalidURL:
        return False
    return (other.scheme, other.host, other.port) == (base.scheme, base.host, base.port)


def too_large() -> APIError:
    return APIError(413, "payload_too_large", f"proxy bodies are limited to {MAX_BODY // 1_048_576} MB", None)


async def read_body(declared_length: str | None, chunks: AsyncIterator[bytes]) -> bytes:
    """The request body, refused with 413 as soon as it is known to exceed MAX_BODY (from its
    Content-Length, else while it streams in), so an oversized upload is never held whole."""
    if declared_length and declared_length.strip().isdigit() and int(declared_length) > MAX_BODY:
        raise too_large()
    parts: list[bytes] = []
    size = 0
    async for chunk in chunks:
        size += len(chunk)
        if size > MAX_BODY:
            raise too_large()
        parts.append(chunk)
    return b"".join(parts)


async def forward(
    client: AsyncCoupa,
    instance_url: str,
    method: str,
    path: str,
    query: Sequence[tuple[str, str]],
    headers: Mapping[str, str],
    body: bytes,
) -> httpx.Response:
    if len(body) > MAX_BODY:
        raise too_large()
    params: list[tuple[str, str | int | float | bool | None]] = list(query)
    url = target_url(instance_url, path, str(httpx.QueryParams(params)).encode())
    out_headers = {k: headers[k] for k in _FORWARD_HEADERS if k in headers}
    accept = out_headers.get("accept", "")
    out_headers["accept"] = "application/xml" if "xml" in accept and "json" not in accept else "application/json"
    out_headers["user-agent"] = "pycoupa-proxy/0.1"
    # RAW_BODY: the SDK would otherwise parse an XML collection while it arrives and drop the bytes.
    request = httpx.Request(method, url, headers=out_headers, content=body or None, extensions={RAW_BODY: True})
    settings = client.settings
    response: httpx.Response = await client._run(
        send_flow(request, settings.retry, settings.limiter, raise_errors=False, max_wait=settings.max_rate_wait)
    )
    if 300 <= response.status_code < 400:
        location = response.headers.get("location", "")
        if location and not _same_origin(location, httpx.URL(instance_url)):
            raise APIError(
                502, "redirect_refused", "Coupa redirected to another host; the proxy does not follow it",
                {"status": response.status_code},
            )  # fmt: skip
    return response


def response_headers(response: httpx.Response) -> dict[str, str]:
    return {k: response.headers[k] for k in _PASS_HEADERS if k in response.headers}
