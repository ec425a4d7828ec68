"""Every error the Coupa client raises, in one tree, plus the redaction helpers that keep secrets out of them.

::

    CoupaError                         base of everything below
    ├── CoupaAPIError                  Coupa (or something in front of it) answered with an HTTP error
    │   ├── AuthenticationError        401: token missing, expired or garbled
    │   ├── PermissionDeniedError      403: valid token without the scope (``missing_scopes``: those
    │   │                              Coupa's message names, else those the operation needs)
    │   ├── NotFoundError              404
    │   ├── ValidationError            400 and 422: Coupa refused the data (``messages``)
    │   ├── ConflictError              409
    │   ├── RateLimitedError           429: the throttle refused the request (``retry_after``)
    │   └── ServerError                5xx (``html`` when the body is a proxy/edge HTML page)
    ├── RateBudgetExceededError        not sent: the client's own rate budget would hold it past
    │                                  ``max_rate_wait`` (``retry_after``)
    ├── CoupaTransportError            no usable HTTP answer: none at all (wraps ``httpx.TransportError``),
    │   │                              or a body that does not match its Content-Encoding
    │   │                              (``httpx.DecodingError``, never retried: the status is unknown)
    │   ├── CoupaTimeoutError
    │   └── CoupaConnectionError       refused, reset, or dropped mid-body
    ├── TokenStoreError                the token store failed (Redis unreachable or refusing, a token file
    │   │                              that cannot be read or written): the request was not sent
    │   └── TokenLockTimeout           the store's mint lock was not free within ``lock_timeout`` (also a
    │                                  ``TimeoutError``; importable from ``token_store`` as before)
    ├── RateLimiterError               the shared rate limiter failed (``RedisRateLimiter`` without a
    │                                  ``fallback``, Redis unreachable): the request was not sent
    ├── OAuthError                     the token endpoint said no (RFC 6749 ``error`` code)
    │   ├── InvalidClientError         invalid_client
    │   ├── InvalidGrantError          invalid_grant
    │   ├── InvalidScopeError          invalid_scope
    │   ├── UnauthorizedClientError    unauthorized_client
    │   └── UnsupportedGrantTypeError  unsupported_grant_type
    ├── WriteOutcomeUnknownError       a create's answer was lost and the natural-key lookup could not tell
    │                                  whether it was saved: the lookup failed too, or found only a record
    │                                  that does not match what was sent (``write_error``,
    │                                  ``lookup_error``, ``found_id``, ``mismatches``)
    ├── ResponseDecodeError            a success whose body cannot be read: malformed JSON or XML, or a
    │                                  record its typed model refuses (``record_id``, ``problems``)
    └── ConfigurationError             bad SDK arguments, raised before any request (also a ValueError)
        ├── NoSuchAttributeError       a resource has no such action, the client no such resource
        │                              attribute (also an AttributeError, so ``hasattr`` works)
        └── QueryError                 a filter, projection or list option Coupa's grammar cannot express

``error_from_response`` maps any non-2xx API response to its class (an unknown 4xx gives the plain
``CoupaAPIError``), ``oauth_error_from_response`` does the same for the token endpoint and
``transport_error_from_httpx`` wraps httpx's transport exceptions. What the client's own machinery
raises reaches the caller inside this tree too: httpx's decoding errors, Redis errors from the token
store and the rate limiter, file errors from the token file. The wrapped exception is kept as the
``__cause__``; the message names the store, limiter or request, never a token or a password.

Every ``CoupaAPIError`` carries ``status``, ``headers``, ``body`` (at most 64 KiB), ``messages``
(Coupa's own, parsed from its XML or JSON ``errors`` envelope), ``retry_after``, ``request_id``,
``request``, ``method`` and ``url``; ``str()`` is one line::

    404 Not Found on GET https://acme.coupahost.com/api/invoices/9: Couldn't find invoice-header with id 9

Secrets never reach ``str()``, ``repr()`` or any attribute. Each error is built from redacted
copies: ``Authorization``/``X-COUPA-API-KEY``/cookie header values, secret-named parameters
(``client_secret``, ``access_token``, ``refresh_token``, ``id_token``, ``code_verifier``,
``password``…) in URLs, form, JSON and XML bodies, bearer tokens and JWTs anywhere, URL passwords,
and the literal secret values found in the request wherever they are echoed back (a token endpoint
that repeats the client secret in its message). ``request`` is therefore a redacted *copy* of the
request that was sent, not the object itself. ``redact`` and ``redact_url`` are the same redactor,
for logging; ``Secret`` holds a credential so that printing it shows only ``**********``.
"""

from __future__ import annotations

import base64
import binascii
import email.utils
import hmac
import math
import re
import threading
import time
import weakref
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC
from typing import Any
from urllib.parse import parse_qsl, quote, quote_plus, unquote_plus, urlsplit, urlunsplit

import httpx
import orjson

from pycoupa.wire import codec_json, codec_xml
from pycoupa.wire.errors import WireDecodeError, parse_errors

__all__ = [
    "MASK",
    "MAX_BODY_BYTES",
    "AuthenticationError",
    "ConfigurationError",
    "ConflictError",
    "CoupaAPIError",
    "CoupaConnectionError",
    "CoupaError",
    "CoupaTimeoutError",
    "CoupaTransportError",
    "InvalidClientError",
    "InvalidGrantError",
    "InvalidScopeError",
    "NoSuchAttributeError",
    "NotFoundError",
    "OAuthError",
    "PermissionDeniedError",
    "QueryError",
    "RateBudgetExceededError",
    "RateLimitedError",
    "RateLimiterError",
    "ResponseDecodeError",
    "Secret",
    "ServerError",
    "TokenLockTimeout",
    "TokenStoreError",
    "UnauthorizedClientError",
    "UnsupportedGrantTypeError",
    "ValidationError",
    "WriteOutcomeUnknownError",
    "error_class_for_status",
    "error_from_response",
    "is_secret_key",
    "oauth_error_from_response",
    "parse_retry_after",
    "redact",
    "redact_url",
    "retry_after_from_headers",
    "transport_error_from_httpx",
]

MASK = "**********"
MAX_BODY_BYTES = 64 * 1024
# Literal secret values shorter than this are not searched for: replacing "abc" everywhere would
# mangle messages. Short secrets are still masked wherever they sit next to their parameter name.
_MIN_LITERAL = 4
_MAX_DETAIL = 500

# --------------------------------------------------------------------------------------------
# Secrets and redaction
# --------------------------------------------------------------------------------------------

_LIVE_SECRETS: weakref.WeakSet[Secret] = weakref.WeakSet()
_LIVE_LOCK = threading.Lock()


class Secret:
    """A credential that does not print: ``repr`` is ``Secret('**********')``, ``str`` is the mask.

    The value comes out only through ``.get()``. While a ``Secret`` is alive, ``redact`` also masks
    its value wherever it appears in a text, so a secret echoed by a server cannot reach a log.
    """

    __slots__ = ("__weakref__", "_value")

    def __init__(self, value: str | Secret) -> None:
        if isinstance(value, Secret):
            value = value.get()
        if not isinstance(value, str):
            raise TypeError(f"Secret holds a str, not {type(value).__name__}")
        self._value = value
        with _LIVE_LOCK:
            _LIVE_SECRETS.add(self)

    def get(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return f"Secret('{MASK}')"

    def __str__(self) -> str:
        return MASK

    def __bool__(self) -> bool:
        return bool(self._value)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        # Constant-time, so comparing a presented secret does not leak it through timing.
        return hmac.compare_digest(self._value.encode(), other._value.encode())

    def __hash__(self) -> int:
        return hash((Secret, self._value))

    def __reduce__(self) -> tuple[type[Secret], tuple[str]]:
        # Through __init__, so an unpickled Secret is registered with the redactor too.
        return (Secret, (self._value,))


def _live_secret_values() -> list[str]:
    with _LIVE_LOCK:
        return [s.get() for s in list(_LIVE_SECRETS)]


# Names whose value is a secret: anything ending in secret/password/token/api key, plus the PKCE
# verifier, client assertions and Authorization headers. "token_type" or "tokens" do not end there.
_KEY_CORE = (
    r"[\w-]*?(?:secret|password|passwd|token|api[-_]?key|code[-_]verifier|client[-_]assertion|authorization|cookie)"
)
_SECRET_KEY_RE = re.compile(_KEY_CORE, re.IGNORECASE)
# Bare keys that are also ordinary words ("token: send ...", "Invalid password: too short") are
# only trusted with "=", or with ":" when they cannot be prose (compound names, header names).
_PROSE_KEY_RE = re.compile(r"(?:secret|password|passwd|token)", re.IGNORECASE)

_KV_RE = re.compile(
    r"""
    (?:
        (?P<kq>["'])(?P<qkey>KEY)(?P=kq)                        # "client_secret"  or 'password'
      | (?<![\w-])(?P<bkey>KEY)(?![\w-])                        # client_secret    or Authorization
    )
    (?P<sep>\s*[:=]\s*)
    (?P<vq>["'])?
    (?P<scheme>(?:bearer|basic|token|digest)\s+)?
    (?!(?:bearer|basic|token|digest)\s)                        # a scheme alone is no credential
    (?P<value>(?(vq)(?:\\.|(?!(?P=vq))[^\\\r\n])*|[^\s&,;"'<>{}\[\]()]+))
    """.replace("KEY", _KEY_CORE),
    re.IGNORECASE | re.VERBOSE,
)
_XML_SECRET_RE = re.compile(r"(<(" + _KEY_CORE + r")(?:\s[^>]*)?>)([^<]+)(</\2\s*>)", re.IGNORECASE)
_BEARER_RE = re.compile(r"\b(bearer\s+)([A-Za-z0-9._~+/=-]{8,})", re.IGNORECASE)
_JWT_RE = re.compile(r"\beyJ[A-Za-z0-9_-]{6,}\.[A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]*)?")
_URL_PASSWORD_RE = re.compile(r"\b([a-z][a-z0-9+.-]*://[^\s/@:]*:)([^\s/@]+)(@)", re.IGNORECASE)


def is_secret_key(name: str) -> bool:
    """Whether a parameter, field or header called ``name`` holds a secret (``client_secret``, ``x-coupa-api-key``…)."""
    return _SECRET_KEY_RE.fullmatch(name.strip()) is not None


def _kv_sub(match: re.Match[str]) -> str:
    value = match.group("value")
    if not value or value == MASK:
        return match.group(0)
    key = match.group("bkey")
    if key is not None and ":" in match.group("sep") and _PROSE_KEY_RE.fullmatch(key):
        return match.group(0)
    start = match.start("value") - match.start(0)
    return match.group(0)[:start] + MASK + match.group(0)[start + len(value) :]


def _literal_variants(secrets: Iterable[str]) -> list[str]:
    out: set[str] = set()
    for secret in secrets:
        if len(secret) < _MIN_LITERAL:
            continue
        # As sent, and as it looks once percent-encoded in a URL or form body.
        out.update({secret, quote(secret, safe=""), quote_plus(secret, safe="")})
    return sorted(out, key=len, reverse=True)


def redact(text: str, *, secrets: Iterable[str] = ()) -> str:
    """``text`` with every secret replaced by ``**********``.

    Masks secret-named parameters in query strings, form bodies, JSON, Python reprs, XML elements
    and header lines; bearer tokens and JWTs anywhere; passwords in URLs; the values of live
    ``Secret`` objects and of ``secrets`` (literal values, e.g. taken from the request) wherever
    they appear. Idempotent, and safe to run over any log line.
    """
    if not text:
        return text
    for literal in _literal_variants([*secrets, *_live_secret_values()]):
        if literal in text:
            text = text.replace(literal, MASK)
    text = _KV_RE.sub(_kv_sub, text)
    text = _XML_SECRET_RE.sub(lambda m: m.group(1) + MASK + m.group(4), text)
    text = _BEARER_RE.sub(lambda m: m.group(1) + MASK, text)
    text = _JWT_RE.sub(MASK, text)
    return _URL_PASSWORD_RE.sub(lambda m: m.group(1) + MASK + m.group(3), text)


def _redact_params(part: str) -> str:
    """Masks the values of secret-named ``k=v`` pairs in a query string or fragment."""
    pieces = []
    for piece in part.split("&"):
        key, eq, value = piece.partition("=")
        if eq and value and is_secret_key(unquote_plus(key)):
            piece = f"{key}={MASK}"
        pieces.append(piece)
    return "&".join(pieces)


def redact_url(url: str | httpx.URL, *, secrets: Iterable[str] = ()) -> str:
    """The URL as text with secret query/fragment parameters, the userinfo password and tokens masked."""
    text = str(url)
    try:
        parts = urlsplit(text)
    except ValueError:
        return redact(text, secrets=secrets)
    netloc = parts.netloc
    userinfo, at, host = netloc.rpartition("@")
    if at and ":" in userinfo:
        netloc = f"{userinfo.split(':', 1)[0]}:{MASK}@{host}"
    rebuilt = urlunsplit(
        (parts.scheme, netloc, parts.path, _redact_params(parts.query), _redact_params(parts.fragment))
    )
    return redact(rebuilt, secrets=secrets)


def _redact_bytes(data: bytes, secrets: Iterable[str]) -> bytes:
    """Redacts a body without re-encoding what it does not touch (Latin-1 maps bytes 1:1)."""
    if not data:
        return data
    secrets = list(secrets)
    for literal in _literal_variants([*secrets, *_live_secret_values()]):
        raw = literal.encode("utf-8")
        if raw in data:
            data = data.replace(raw, MASK.encode())
    return redact(data.decode("latin-1")).encode("latin-1")


def _truncated_redacted(data: bytes, secrets: Iterable[str]) -> bytes:
    secrets = list(secrets)
    # Redact with a margin before cutting, so a secret straddling the cut is masked whole; then
    # again after, for a JWT or "k=v" whose tail fell beyond the margin.
    head = _redact_bytes(bytes(data[: MAX_BODY_BYTES + 16 * 1024]), secrets)
    if len(head) <= MAX_BODY_BYTES:
        return head
    # A mask can be longer than the partial secret it replaced: cut once more (cutting hides only).
    return _redact_bytes(head[:MAX_BODY_BYTES], secrets)[:MAX_BODY_BYTES]


_SENSITIVE_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "cookie", "set-cookie", "x-coupa-api-key", "x-api-key"}
)


def _mask_header(name: str, value: str) -> str:
    if name.lower() in ("authorization", "proxy-authorization"):
        scheme, space, _ = value.strip().partition(" ")
        # Keep the scheme: "was a Bearer or a Basic credential sent?" is a useful debugging fact.
        return f"{scheme} {MASK}" if space else MASK
    return MASK


def _safe_headers(headers: httpx.Headers | Mapping[str, str] | None, secrets: Iterable[str] = ()) -> httpx.Headers:
    if headers is None:
        return httpx.Headers()
    secrets = list(secrets)
    items = headers.multi_items() if isinstance(headers, httpx.Headers) else list(headers.items())
    safe = []
    for name, value in items:
        if name.lower() in _SENSITIVE_HEADERS or is_secret_key(name):
            value = _mask_header(name, value)
        else:
            value = redact(value, secrets=secrets)
        safe.append((name, value))
    return httpx.Headers(safe)


def _walk_json_secrets(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(key, str) and is_secret_key(key) and isinstance(item, str | int | float):
                yield str(item)
            else:
                yield from _walk_json_secrets(item)
    elif isinstance(value, list):
        for item in value:
            yield from _walk_json_secrets(item)


def _request_body(request: httpx.Request) -> bytes:
    try:
        return request.content
    except httpx.RequestNotRead:
        return b""


def _request_secrets(request: httpx.Request | None) -> list[str]:
    """The literal secret values a request carries, to be masked wherever they are echoed."""
    if request is None:
        return []
    found: list[str] = []
    for name, value in request.headers.multi_items():
        lower = name.lower()
        if lower not in _SENSITIVE_HEADERS and not is_secret_key(name):
            continue
        scheme, space, credential = value.strip().partition(" ")
        credential = credential.strip() if space else value.strip()
        found.append(credential)
        if space and scheme.lower() == "basic":
            try:
                decoded = base64.b64decode(credential, validate=True).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError):
                continue
            found.append(decoded)
            found.append(decoded.partition(":")[2])  # the client secret; the client id is not one
    for key, value in request.url.params.multi_items():
        if is_secret_key(key):
            found.append(value)
    body = _request_body(request)
    if body:
        ctype = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
        text = body[: MAX_BODY_BYTES * 4].decode("utf-8", "replace")
        if ctype == "application/x-www-form-urlencoded" or (not ctype and "=" in text):
            found.extend(v for k, v in parse_qsl(text, keep_blank_values=True) if is_secret_key(k))
        elif text.lstrip()[:1] in ("{", "["):
            try:
                found.extend(_walk_json_secrets(orjson.loads(text)))
            except orjson.JSONDecodeError:
                pass
    return [s for s in dict.fromkeys(found) if len(s) >= _MIN_LITERAL]


def _safe_request(request: httpx.Request | None, secrets: list[str]) -> httpx.Request | None:
    """A redacted copy of the request: method, URL, headers and the first 64 KiB of the body."""
    if request is None:
        return None
    headers = _safe_headers(request.headers, secrets)
    # Content-Length would describe the original body, not the redacted copy.
    headers.pop("content-length", None)
    body = _truncated_redacted(_request_body(request), secrets)
    return httpx.Request(request.method, redact_url(request.url, secrets=secrets), headers=headers, content=body)


# --------------------------------------------------------------------------------------------
# Small parsers
# --------------------------------------------------------------------------------------------


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` value: delay-seconds (``"2"``, ``"1.5"``) or an HTTP-date.

    ``now`` (epoch seconds) is what an HTTP-date is measured from; pass the server's ``Date`` so the
    two clocks agree, else the local clock is used. A date in the past gives 0; garbage gives None.
    """
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        pass
    else:
        return seconds if math.isfinite(seconds) and seconds >= 0 else None
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # RFC 9110 dates are GMT; parsedate gives naive for "-0000"
        when = when.replace(tzinfo=UTC)
    reference = time.time() if now is None else now
    return max(0.0, when.timestamp() - reference)


def _server_now(headers: httpx.Headers) -> float | None:
    date = headers.get("date")
    if not date:
        return None
    try:
        return email.utils.parsedate_to_datetime(date).timestamp()
    except (TypeError, ValueError, IndexError):
        return None


def retry_after_from_headers(headers: httpx.Headers) -> float | None:
    """``Retry-After`` in seconds, an HTTP-date being measured from the response's own ``Date``."""
    return parse_retry_after(headers.get("retry-after"), now=_server_now(headers))


def _looks_like_html(body: bytes, content_type: str | None) -> bool:
    mime = (content_type or "").split(";", 1)[0].strip().lower()
    if mime in ("text/html", "application/xhtml+xml"):
        return True
    head = body[:1024].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html")) or b"<html" in head


_TITLE_RE = re.compile(rb"<title[^>]*>(.*?)</title\s*>", re.IGNORECASE | re.DOTALL)
_WS_RE = re.compile(r"\s+")


def _one_line(text: str, limit: int = _MAX_DETAIL) -> str:
    text = _WS_RE.sub(" ", text).strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _detail(messages: list[str], body: bytes, html: bool) -> str:
    if messages:
        return _one_line("; ".join(messages))
    if html:
        title = _TITLE_RE.search(body[:MAX_BODY_BYTES])
        name = _one_line(title.group(1).decode("utf-8", "replace"), 120) if title else ""
        return f"HTML error page ({name})" if name else "HTML error page"
    text = _one_line(body.decode("utf-8", "replace"), 200)
    return text or "no error message in the response"


def _status_line(status: int) -> str:
    return f"{status} {httpx.codes.get_reason_phrase(status)}".strip()


def _where(method: str | None, url: str | None) -> str:
    if method and url:
        return f" on {method} {url}"
    if url:
        return f" on {url}"
    return ""


def _request_of(obj: httpx.Response | httpx.RequestError) -> httpx.Request | None:
    try:
        return obj.request
    except RuntimeError:  # httpx raises when no request was attached (hand-built responses)
        return None


def _content_of(response: httpx.Response) -> bytes:
    try:
        return response.content
    except httpx.ResponseNotRead:  # a streamed response nobody read: the status still says enough
        return b""


# --------------------------------------------------------------------------------------------
# The tree
# --------------------------------------------------------------------------------------------


def _rebuild(cls: type[CoupaError], state: dict[str, Any]) -> CoupaError:
    error = cls.__new__(cls)
    Exception.__init__(error, state.get("message", ""))
    error.__dict__.update(state)
    return error


class CoupaError(Exception):
    """Base class of every error raised by pycoupa's client. ``str()`` is one redacted line."""

    def __init__(self, message: str = "") -> None:
        self.message = redact(message)
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message

    def __reduce__(self) -> tuple[Any, ...]:
        # Keyword-only constructors defeat Exception's default pickling (needed across processes).
        return (_rebuild, (type(self), dict(self.__dict__)))


class ConfigurationError(CoupaError, ValueError):
    """An SDK argument is wrong (bad URL, rate, credentials shape…); raised before any request."""


class NoSuchAttributeError(ConfigurationError, AttributeError):
    """``coupa.invoices.frobnicate`` or ``coupa.nope``: no such action or resource attribute.

    Also an ``AttributeError``: ``hasattr``, ``getattr(obj, name, default)``, ``mock.create_autospec``
    and debuggers treat a missing attribute as missing, not as a crash.
    """


class QueryError(ConfigurationError):
    """A filter, ``fields`` projection or list option that Coupa's query grammar cannot express
    (an unknown operator, a list item with a comma...); raised before any request."""


class WriteOutcomeUnknownError(CoupaError):
    """A create whose answer was lost (timeout, dropped connection, 5xx), and the natural-key lookup
    meant to tell whether it was saved could not tell: the record may or may not exist.

    Either the lookup failed as well (``lookup_error``), or it found a record with the same natural
    key that does not match what was sent (``found_id``; ``mismatches`` says how it differs: a value
    the body sent, or a ``created-at`` from before the create was sent). Such a record most likely
    existed before, and is not passed off as the one created. ``write_error`` is the create's own
    failure (also the ``__cause__``). Look the record up later before creating it again.
    """

    def __init__(
        self,
        write_error: CoupaError,
        lookup_error: CoupaError | None = None,
        *,
        found_id: Any = None,
        mismatches: Iterable[str] = (),
    ) -> None:
        self.write_error = write_error
        self.lookup_error = lookup_error
        self.found_id = found_id
        self.mismatches = [redact(m) for m in mismatches]
        if lookup_error is not None or not self.mismatches:
            why = f"the lookup meant to find whether it was saved failed with ({lookup_error})"
        else:
            which = f" (id {found_id})" if found_id is not None else ""
            why = (
                f"a record with that natural key exists{which} but does not match what was sent "
                f"({'; '.join(self.mismatches)}), so it is not reported as the one created"
            )
        advice = "check before creating it again"
        super().__init__(f"the create's outcome is unknown: it failed with ({write_error}) and {why}; {advice}")


class TokenStoreError(CoupaError):
    """The token store failed: Redis unreachable or refusing (``RedisTokenStore``), a token file that
    cannot be read or written (``FileTokenStore``). The request was not sent, so any method may be
    retried. The store's own exception is the ``__cause__``; the message names the store and what it
    was doing, never a token or a password.
    """


class TokenLockTimeout(TokenStoreError, TimeoutError):
    """A store's mint lock could not be taken in time (another minter is stuck or very slow).

    Also a ``TimeoutError``, as it always was, and importable from ``pycoupa.client.token_store``.
    """


class RateLimiterError(CoupaError):
    """The shared rate limiter failed: ``RedisRateLimiter`` without a ``fallback`` could not reach
    Redis (give it a ``fallback`` to degrade to a local budget instead). The request was not sent.
    Redis's own exception is the ``__cause__``.
    """


class ResponseDecodeError(CoupaError, WireDecodeError):
    """Coupa answered with success, but the body cannot be read: malformed JSON or XML, or a record
    its typed model refuses (a decimal that is not a number...). ``record_id`` names the record and
    ``problems`` the fields (``"invoice-lines.0.price: Input should be a valid decimal"``) when a
    model refused it; ``models=False`` returns such records raw instead.
    """

    def __init__(self, message: str, *, record_id: Any = None, problems: Iterable[str] = ()) -> None:
        CoupaError.__init__(self, message)  # also a WireDecodeError, for code that caught the codecs' error
        self.line = self.column = None
        self.record_id = record_id
        self.problems = [redact(p) for p in problems]


class CoupaAPIError(CoupaError):
    """An HTTP answer that is not a success. Subclasses narrow it by status; see the module docstring.

    Attributes: ``status``, ``headers`` (response headers, sensitive ones masked), ``body`` (at most
    64 KiB, redacted), ``messages`` (Coupa's parsed error messages, redacted), ``retry_after``
    (seconds from ``Retry-After``, or None), ``request_id`` (``X-Request-Id`` when sent),
    ``request`` (a redacted copy of the request), ``method`` and ``url`` (redacted); ``parsed_body``
    is ``body`` decoded (JSON or XML into dicts and lists; None when it is neither, an HTML page say).
    """

    def __init__(
        self,
        message: str | None = None,
        *,
        status: int,
        headers: httpx.Headers | Mapping[str, str] | None = None,
        body: bytes = b"",
        messages: Iterable[str] | None = None,
        request: httpx.Request | None = None,
        method: str | None = None,
        url: str | httpx.URL | None = None,
    ) -> None:
        secrets = _request_secrets(request)
        self.status = int(status)
        self.headers = _safe_headers(headers, secrets)
        raw = bytes(body)
        parsed = parse_errors(raw, self.headers.get("content-type")) if messages is None else list(messages)
        self.messages = [redact(m, secrets=secrets) for m in parsed]
        self.body = _truncated_redacted(raw, secrets)
        self.request = _safe_request(request, secrets)
        self.method = method or (request.method if request is not None else None)
        target = url if url is not None else (request.url if request is not None else None)
        self.url = redact_url(target, secrets=secrets) if target is not None else None
        self.retry_after = retry_after_from_headers(self.headers)
        self.request_id = self.headers.get("x-request-id")
        if message is None:
            html = not self.messages and _looks_like_html(self.body, self.headers.get("content-type"))
            detail = _detail(self.messages, self.body, html)
            message = f"{_status_line(self.status)}{_where(self.method, self.url)}: {detail}"
        super().__init__(redact(message, secrets=secrets))

    @property
    def parsed_body(self) -> Any:
        """The (redacted) body as data: Coupa's JSON or XML decoded, None for anything else."""
        ctype = (self.headers.get("content-type") or "").lower()
        try:
            if "json" in ctype or self.body[:1] in (b"{", b"["):
                return codec_json.loads(self.body)
            if "xml" in ctype or (self.body.lstrip()[:1] == b"<" and not _looks_like_html(self.body, ctype)):
                return codec_xml.loads(self.body)[1]
        except (WireDecodeError, ValueError):
            return None
        return None

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, status={self.status})"


class AuthenticationError(CoupaAPIError):
    """401: the access token (or API key) is missing, expired, revoked or malformed."""


# Coupa scopes are service.object[.sub].right, e.g. core.invoice.read or core.pay.virtual_cards.write.
_SCOPE_RE = re.compile(r"(?<![\w.])([a-z][a-z0-9_]*(?:\.[a-z0-9_]+)+\.(?:read|write|create|delete|bypass))(?![\w.])")


def _scopes_named(texts: Iterable[str]) -> list[str]:
    found: dict[str, None] = {}
    for text in texts:
        for scope in _SCOPE_RE.findall(text):
            found.setdefault(scope, None)
    return list(found)


class PermissionDeniedError(CoupaAPIError):
    """403: the token is valid but lacks a scope.

    ``missing_scopes`` lists the scopes the message names (``core.invoice.read``…), in order. When
    the message offers alternatives ("needs core.invoice.create or core.invoice.write"), any one of
    them is enough.

    Coupa's own 403 body is undocumented and usually names no scope ("You are not authorized to
    access this resource"). Then the client fills the list from the catalog (:meth:`add_operation`):
    ``operation`` is the operation that was sent (``PUT /invoices/{id}/void``), ``required_scopes``
    the scopes that grant it (any one suffices), ``granted_scopes`` those of the token that was
    sent when the client minted it (None when it cannot know: a custom ``auth``), and
    ``missing_scopes`` the required ones the token was not granted. When the token holds one of
    them already, ``missing_scopes`` stays empty: the refusal is about something else than scopes.
    """

    def __init__(self, message: str | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.missing_scopes = _scopes_named(self.messages or [self.body.decode("utf-8", "replace")])
        self.operation: str | None = None
        self.required_scopes: list[str] = []
        self.granted_scopes: list[str] | None = None

    def add_operation(self, operation: str, required: Iterable[str], granted: Iterable[str] | None = None) -> None:
        """Say which operation was refused and the scopes it needs; when the message named no scope,
        ``missing_scopes`` becomes the required scopes the token was not granted (all of them when
        ``granted`` is None: unknown), and the message says so."""
        self.operation = operation
        self.required_scopes = list(dict.fromkeys(required))
        self.granted_scopes = None if granted is None else list(dict.fromkeys(granted))
        if self.missing_scopes or not self.required_scopes:
            return  # Coupa's message named the scopes: it knows best
        needed = ", ".join(self.required_scopes)
        alternatives = "one of the scopes" if len(self.required_scopes) > 1 else "the scope"
        if self.granted_scopes is None:
            self.missing_scopes = list(self.required_scopes)
            note = f"{operation} needs {alternatives} {needed}"
        else:
            held = [s for s in self.required_scopes if s in self.granted_scopes]
            if held:
                note = (
                    f"{operation} needs {alternatives} {needed}, and the token holds {', '.join(held)}: "
                    "the refusal is not about OAuth scopes (the integration user's permissions, say)"
                )
            else:
                self.missing_scopes = list(self.required_scopes)
                note = f"{operation} needs {alternatives} {needed}, which the token was not granted"
        self.message = redact(f"{self.message} ({note})")
        self.args = (self.message,)


class NotFoundError(CoupaAPIError):
    """404: no such record or route (XML queries with no match also answer 404)."""


class ValidationError(CoupaAPIError):
    """400 or 422: Coupa refused the request's data; ``messages`` holds its Rails-style reasons."""


class ConflictError(CoupaAPIError):
    """409: the write conflicts with the record's current state."""


class RateLimitedError(CoupaAPIError):
    """429: Coupa's throttle (25 req/s, burst 20) refused the request before processing it.

    ``retry_after`` is the server's ``Retry-After`` in seconds (delay-seconds or HTTP-date), or
    None: Coupa is not documented to send it.
    """


class RateBudgetExceededError(CoupaError):
    """The request was not sent: the client-side budget for this Coupa instance (shared by every
    process on it when the limiter lives in Redis) is booked so far ahead that waiting for a slot
    would take longer than ``max_rate_wait``. ``retry_after`` is the seconds after which a slot
    within that wait should be free again. Nothing reached Coupa, so any method may be retried.
    """

    def __init__(self, wait: float, max_wait: float) -> None:
        self.wait = wait
        self.max_wait = max_wait
        self.retry_after = max(wait - max_wait, 0.001)
        super().__init__(
            f"rate budget exhausted: the next slot is {wait:.2f} s away, more than max_rate_wait={max_wait:g} s"
        )


class ServerError(CoupaAPIError):
    """5xx. ``html`` is True when the body is an HTML page (a load balancer or edge 503, say)."""

    def __init__(self, message: str | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.html = _looks_like_html(self.body, self.headers.get("content-type"))


_STATUS_CLASSES: Mapping[int, type[CoupaAPIError]] = {
    400: ValidationError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: ValidationError,
    429: RateLimitedError,
}


def error_class_for_status(status: int) -> type[CoupaAPIError]:
    """The ``CoupaAPIError`` subclass for an HTTP status (the base class for unmapped ones)."""
    if status >= 500:
        return ServerError
    return _STATUS_CLASSES.get(status, CoupaAPIError)


def error_from_response(response: httpx.Response) -> CoupaAPIError:
    """The error for a non-2xx response (read it first if it was streamed; an unread body counts as empty).

    Never raises on an odd body: an unparsable or HTML body simply yields no ``messages``.
    """
    cls = error_class_for_status(response.status_code)
    return cls(
        status=response.status_code,
        headers=response.headers,
        body=_content_of(response),
        request=_request_of(response),
    )


class CoupaTransportError(CoupaError):
    """No HTTP answer came back.

    Build it from the httpx exception (``CoupaTimeoutError(exc, request)``, or let
    ``transport_error_from_httpx`` pick the class) or from a message. ``request_sent`` is False only
    when the failure provably happened before any byte of the request left (connection refused,
    connect or pool timeout): that is what makes retrying a write safe. ``cause`` names the httpx
    exception type. The httpx exception itself is not kept (its ``request`` holds the credentials);
    raise ``from exc`` to chain it.
    """

    def __init__(
        self,
        message: str | BaseException,
        request: httpx.Request | None = None,
        *,
        request_sent: bool | None = None,
        cause: str | None = None,
    ) -> None:
        if isinstance(message, BaseException):
            exc = message
            if request is None and isinstance(exc, httpx.RequestError):
                request = _request_of(exc)
            cause = cause or type(exc).__name__
            if request_sent is None:
                request_sent = not isinstance(exc, _NOT_SENT)
            message = _one_line(str(exc)) or "no detail"
        secrets = _request_secrets(request)
        self.request = _safe_request(request, secrets)
        self.method = request.method if request is not None else None
        self.url = redact_url(request.url, secrets=secrets) if request is not None else None
        self.request_sent = True if request_sent is None else request_sent
        self.cause = cause
        prefix = f"{cause or type(self).__name__}{_where(self.method, self.url)}: "
        super().__init__(redact(prefix + message, secrets=secrets))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, request_sent={self.request_sent})"


class CoupaTimeoutError(CoupaTransportError):
    """Connect, read, write or pool timeout."""


class CoupaConnectionError(CoupaTransportError):
    """The connection failed or was lost, including mid-body (``RemoteProtocolError``/``ReadError``)."""


# Failures before any request byte is written: refused or unreachable, no pooled connection free.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.UnsupportedProtocol)


def transport_error_from_httpx(exc: httpx.TransportError, request: httpx.Request | None = None) -> CoupaTransportError:
    """Wraps an httpx transport exception in its class; raise it ``from exc`` to keep the chain."""
    cls: type[CoupaTransportError]
    if isinstance(exc, httpx.TimeoutException):
        cls = CoupaTimeoutError
    elif isinstance(exc, httpx.NetworkError | httpx.RemoteProtocolError):
        cls = CoupaConnectionError
    else:
        cls = CoupaTransportError
    return cls(exc, request)


class OAuthError(CoupaError):
    """The token endpoint refused: ``error`` (RFC 6749 code), ``description``, ``status``.

    Also carries ``headers``, ``body``, ``retry_after``, ``request``, ``method`` and ``url``, all
    redacted like ``CoupaAPIError``'s. When the body has no RFC 6749 ``error`` (an HTML 503 page,
    say), ``error`` is derived from the status: ``invalid_client`` for 401,
    ``temporarily_unavailable`` for 429 and 503, ``server_error`` for other 5xx, else
    ``invalid_request``.
    """

    def __init__(
        self,
        error: str,
        description: str | None = None,
        *,
        status: int | None = None,
        headers: httpx.Headers | Mapping[str, str] | None = None,
        body: bytes = b"",
        request: httpx.Request | None = None,
    ) -> None:
        secrets = _request_secrets(request)
        self.error = redact(error, secrets=secrets)
        self.description = redact(description, secrets=secrets) if description else None
        self.status = status
        self.headers = _safe_headers(headers, secrets)
        self.body = _truncated_redacted(bytes(body), secrets)
        self.retry_after = retry_after_from_headers(self.headers)
        self.request = _safe_request(request, secrets)
        self.method = request.method if request is not None else None
        self.url = redact_url(request.url, secrets=secrets) if request is not None else None
        head = _status_line(status) if status is not None else "OAuth error"
        detail = f"{self.error}: {self.description}" if self.description else self.error
        super().__init__(f"{head}{_where(self.method, self.url)}: {_one_line(detail)}")

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, error={self.error!r}, status={self.status})"


class InvalidClientError(OAuthError):
    """invalid_client: unknown client id, wrong secret, or an unsupported client authentication."""


class InvalidGrantError(OAuthError):
    """invalid_grant: the code, refresh token or PKCE verifier is invalid, expired or revoked."""


class InvalidScopeError(OAuthError):
    """invalid_scope: a scope is unknown or not granted to the client (retrying without ``scope`` may help)."""


class UnauthorizedClientError(OAuthError):
    """unauthorized_client: the client may not use this grant type."""


class UnsupportedGrantTypeError(OAuthError):
    """unsupported_grant_type."""


_OAUTH_CLASSES: Mapping[str, type[OAuthError]] = {
    "invalid_client": InvalidClientError,
    "invalid_grant": InvalidGrantError,
    "invalid_scope": InvalidScopeError,
    "unauthorized_client": UnauthorizedClientError,
    "unsupported_grant_type": UnsupportedGrantTypeError,
}


def _oauth_code_for_status(status: int) -> str:
    if status == 401:
        return "invalid_client"
    if status in (429, 503):
        return "temporarily_unavailable"
    if status >= 500:
        return "server_error"
    return "invalid_request"


def oauth_error_from_response(response: httpx.Response) -> OAuthError:
    """The ``OAuthError`` subclass for a failed token-endpoint response (RFC 6749 section 5.2 body)."""
    body = _content_of(response)
    error: str | None = None
    description: str | None = None
    try:
        data = orjson.loads(body) if body.lstrip()[:1] == b"{" else None
    except orjson.JSONDecodeError:
        data = None
    if isinstance(data, dict):
        if isinstance(data.get("error"), str) and data["error"].strip():
            error = data["error"].strip()
        if isinstance(data.get("error_description"), str):
            description = data["error_description"]
    if error is None:
        error = _oauth_code_for_status(response.status_code)
        if description is None:
            messages = parse_errors(body, response.headers.get("content-type"))
            description = "; ".join(messages) or None
    cls = _OAUTH_CLASSES.get(error, OAuthError)
    return cls(
        error,
        description,
        status=response.status_code,
        headers=response.headers,
        body=body,
        request=_request_of(response),
    )
