"""What ``Coupa`` and ``AsyncCoupa`` share: configuration, URLs, request building, decoding, and
every operation written once as a flow (see ``_pipeline``). The two public classes only drive flows.
"""

from __future__ import annotations

import abc
import ipaddress
import zlib
from collections.abc import AsyncIterator, Callable, Generator, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, Generic, TypeVar, cast
from urllib.parse import urlsplit

import httpx
from lxml import etree

from pycoupa.catalog.corrections import documented_operations
from pycoupa.catalog.identity import has_identity, identity_conditions, identity_of
from pycoupa.catalog.model import Catalog, Operation, Resource, load_catalog
from pycoupa.client import query as q
from pycoupa.client._pipeline import Flow, Sleep, send_flow
from pycoupa.client.errors import (
    ConfigurationError,
    CoupaError,
    CoupaTransportError,
    NoSuchAttributeError,
    NotFoundError,
    PermissionDeniedError,
    QueryError,
    ResponseDecodeError,
    ServerError,
    WriteOutcomeUnknownError,
    is_secret_key,
    redact_url,
)
from pycoupa.client.paging import Page
from pycoupa.client.ratelimit import LocalRateLimiter, RateLimiter
from pycoupa.client.retry import RetryPolicy
from pycoupa.client.token_store import TOKEN_SCOPES_EXTENSION
from pycoupa.wire import codec_json, codec_xml
from pycoupa.wire.errors import WireDecodeError
from pycoupa.wire.query import format_fields
from pycoupa.wire.values import WireValueError, hyphenate, parse_date, parse_datetime

JSON = "application/json"
XML = "application/xml"
MAX_PAGE = 50

# Convenience attributes for the resources integrations use most (any catalog resource is
# reachable through ``coupa.resource(name)``).
COMMON_RESOURCES = (
    "invoices", "suppliers", "purchase_orders", "purchase_order_lines", "requisitions", "accounts",
    "account_types", "users", "user_groups", "currencies", "items", "lookups", "lookup_values",
    "departments", "addresses", "approvals", "payment_terms", "integrations", "integration_runs",
    "integration_history_records", "exchange_rates", "commodities", "contracts", "expense_reports",
)  # fmt: skip


def _is_loopback(host: str) -> bool:
    if host in ("localhost", "localhost.localdomain") or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_instance_url(url: str) -> str:
    """HTTPS only, except for loopback hosts (a local emulator). The errors never echo the URL
    whole: a pasted URL can carry a password or a token."""
    if not isinstance(url, str):
        raise ConfigurationError(
            f"instance URL must be a str such as 'https://acme.coupahost.com', got {type(url).__name__}"
        )
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise ConfigurationError(f"instance URL is malformed ({exc}); expected https://<host>") from None
    if "@" in parts.netloc:
        # It would be stored and shown with the account; Coupa takes credentials only via OAuth.
        raise ConfigurationError(
            "instance URL must not carry a user name or password; give client_id and client_secret instead"
        )
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ConfigurationError(f"instance URL must be https://<host>, got scheme {parts.scheme!r}")
    # One instance, one spelling: budgets and tokens are keyed by the URL this returns, so the
    # fully-qualified form's trailing dot and the scheme's default port are dropped.
    hostname = parts.hostname[:-1] if parts.hostname.endswith(".") else parts.hostname
    if not hostname or hostname.endswith("."):
        raise ConfigurationError("instance URL is malformed (empty host name label); expected https://<host>")
    if port == {"https": 443, "http": 80}[parts.scheme]:
        port = None
    if parts.scheme == "http" and not _is_loopback(hostname):
        raise ConfigurationError(
            f"refusing plain http:// for {hostname}: Coupa requires HTTPS (http is allowed only for loopback)"
        )
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ConfigurationError(
            f"instance URL must be only https://<host>: drop the path, query or fragment after {hostname}"
        )
    host = f"[{hostname}]" if ":" in hostname else hostname
    return f"{parts.scheme}://{host}" + (f":{port}" if port is not None else "")


def to_wire(data: Any) -> Any:
    """Python values -> a JSON body: snake_case keys hyphenated, models dumped by alias."""
    dump = getattr(data, "model_dump", None)
    if callable(dump):
        return dump(by_alias=True, exclude_unset=True, mode="json")
    if isinstance(data, Mapping):
        return {hyphenate(str(k)): to_wire(v) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [to_wire(v) for v in data]
    return data


@dataclass
class Settings:
    instance_url: str
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    limiter: RateLimiter | None = field(default_factory=LocalRateLimiter)
    fmt: str = "json"
    models: bool = True
    max_rate_wait: float | None = None  # None: wait for the rate budget as long as it takes


class CoreClient(abc.ABC):
    """Everything but the I/O. Subclasses provide ``_run`` (sync or async driver)."""

    def __init__(self, settings: Settings) -> None:
        if settings.fmt not in ("json", "xml"):
            raise ConfigurationError(f"format must be 'json' or 'xml', got {settings.fmt!r}")
        self.settings = settings
        self.catalog = load_catalog()

    # -- requests ----------------------------------------------------------------------------
    def build_request(
        self,
        method: str,
        path: str,
        params: Sequence[tuple[str, str]] = (),
        body: Any = None,
        files: Mapping[str, Any] | None = None,
        *,
        wire_body: bool = False,
    ) -> httpx.Request:
        """``wire_body``: the body already has Coupa's keys and is sent as given (raw requests)."""
        url = f"{self.settings.instance_url}/api{path}"
        accept = JSON if self.settings.fmt == "json" else XML
        headers = {"Accept": accept, "User-Agent": "pycoupa/0.1"}
        if files:
            return httpx.Request(method, url, params=list(params), files=files, headers=headers)
        if body is not None:
            headers["Content-Type"] = JSON
            try:  # Coupa's spelling of decimals and datetimes; what JSON cannot carry is refused here
                content = codec_json.dumps(body if wire_body else to_wire(body))
            except TypeError as exc:
                raise ConfigurationError(f"the body cannot be sent as JSON: {exc}") from None
            return httpx.Request(method, url, params=list(params), content=content, headers=headers)
        return httpx.Request(method, url, params=list(params), headers=headers)

    def decode(self, response: httpx.Response) -> Any:
        try:
            return self._decode(response)
        except ResponseDecodeError:
            raise
        except WireDecodeError as exc:
            raise ResponseDecodeError(
                f"{response.status_code} answer to {response.request.method} {redact_url(str(response.request.url))} "
                f"could not be read: {exc}"
            ) from exc

    def _decode(self, response: httpx.Response) -> Any:
        streamed = response.extensions.get(STREAMED_XML)
        if isinstance(streamed, XmlCollectionDecoder):
            # A collection parsed while its body arrived (see ``stream_xml_collections``).
            return streamed.result()
        if not response.content:
            return None
        ctype = response.headers.get("content-type", "")
        if "json" in ctype:
            return codec_json.loads(response.content)
        if "xml" in ctype:
            head = response.content[:300]
            if b'type="array"' in head.split(b">", 2)[1 if head.startswith(b"<?xml") else 0]:
                # A collection: parsed record by record, each element freed once converted.
                return list(codec_xml.iterparse_records(response.content))
            return codec_xml.loads(response.content)[1]
        return response.content

    def request_flow(
        self,
        method: str,
        path: str,
        params: Sequence[tuple[str, str]] = (),
        body: Any = None,
        files: Mapping[str, Any] | None = None,
        *,
        wire_body: bool = False,
    ) -> Flow[Any]:
        request = self.build_request(method, path, params, body, files, wire_body=wire_body)
        try:
            response = yield from send_flow(
                request, self.settings.retry, self.settings.limiter, max_wait=self.settings.max_rate_wait
            )
        except PermissionDeniedError as exc:
            self.explain_denial(exc, request)
            raise
        return self.decode(response)

    def explain_denial(self, error: PermissionDeniedError, request: httpx.Request) -> None:
        """Tell a 403 which catalog operation was refused and the scopes that grant it, and, when
        Coupa's message names no scope (its 403 body is undocumented and usually does not), which of
        them the token that was sent lacks (``CoupaOAuth`` records its scopes on the request)."""
        prefix = urlsplit(self.settings.instance_url).path.rstrip("/") + "/api"
        path = request.url.path
        if not path.startswith(prefix + "/"):
            return
        op = operation_of(self.catalog, request.method, path[len(prefix) :])
        if op is None:
            return
        granted = request.extensions.get(TOKEN_SCOPES_EXTENSION)
        error.add_operation(op.key, op.scopes, None if granted is None else tuple(granted))

    def raw_request_flow(self, method: object, path: object, params: object = None, json: Any = None) -> Flow[Any]:
        """``request()``: any call under ``/api``, with the client's auth, retries, rate limit and
        errors, but no catalog check and no key translation: the escape hatch for what the catalog
        does not know (a newer release's fields, an instance's own endpoints)."""
        verb = raw_method(method)
        url_path = raw_path(path)
        pairs = raw_params(params)
        if json is not None and verb in ("GET", "HEAD", "DELETE"):
            raise ConfigurationError(f"request(): a {verb} takes no json body")
        return (yield from self.request_flow(verb, url_path, pairs, json, wire_body=True))

    # -- resources ---------------------------------------------------------------------------
    @abc.abstractmethod
    def resource(self, name: str, parent_id: ParentId | None = None) -> Any:
        """Any catalog resource; each client returns its own (sync or async) resource type."""

    def __getattr__(self, name: str) -> Any:
        if name in COMMON_RESOURCES:
            return self.resource(name)
        if name == "coupa_pay":
            return Namespace[Any](self, "coupa_pay")
        raise NoSuchAttributeError(f"{type(self).__name__} has no attribute {name!r}; use .resource({name!r})")

    @staticmethod
    def scopes_for(actions: Iterable[str]) -> list[str]:
        """The scopes for declared calls: ``scopes_for(["invoices.list", "invoices.void"])``."""
        from pycoupa.client.auth import scopes_for

        return scopes_for(actions)

    def catalog_resource(self, name: str) -> Resource:
        try:
            return self.catalog.resource(name)
        except KeyError:
            names = [r.name for r in self.catalog.resources.values() if "{" not in r.path]
            raise ConfigurationError(f"no Coupa resource {name!r}" + q._suggest(name, names)) from None


_RAW_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD")


def raw_method(method: object) -> str:
    verb = method.upper() if isinstance(method, str) else None
    if verb not in _RAW_METHODS:
        raise ConfigurationError(f"request(): method must be one of {', '.join(_RAW_METHODS)}, got {method!r}")
    return verb


def raw_path(path: object) -> str:
    """A path under the instance's ``/api`` (``/invoices/12``): never a URL, a query or a way out."""
    if not isinstance(path, str) or not path.startswith("/") or path == "/":
        raise ConfigurationError(
            f"request(): path must start with '/' and name a resource, e.g. '/invoices', got {path!r}"
        )
    if path == "/api" or path.startswith("/api/"):
        raise ConfigurationError(f"request(): path is relative to /api; give {path[4:] or '/'!r}, not {path!r}")
    segments = path.split("/")
    if any(seg in (".", "..") for seg in segments) or any(c in path for c in "?#\\%") or "//" in path:
        raise ConfigurationError(
            f"request(): path {path!r} must be plain segments (no '..', '//', '%', '?' or '#'); "
            "put the query in params="
        )
    if any(c.isspace() or ord(c) < 32 for c in path):
        raise ConfigurationError(f"request(): path {path!r} contains whitespace or control characters")
    return path


def raw_params(params: object) -> list[tuple[str, str]]:
    """``{"status": "approved", "id[gt]": 5}`` or pairs -> query pairs, values as text (bools as Coupa's)."""
    if params is None:
        return []
    items = list(params.items()) if isinstance(params, Mapping) else params
    if isinstance(items, str | bytes) or not isinstance(items, Iterable):
        raise ConfigurationError(f"request(): params must be a mapping or (name, value) pairs, got {params!r}")
    pairs = []
    for item in items:
        if not (isinstance(item, tuple | list) and len(item) == 2 and isinstance(item[0], str) and item[0]):
            raise ConfigurationError(f"request(): params item {item!r} is not a (name, value) pair")
        name, value = item
        if isinstance(value, bool):
            value = "true" if value else "false"
        elif not isinstance(value, str | int | float | Decimal):
            raise ConfigurationError(f"request(): params {name!r} must be text or a number, got {type(value).__name__}")
        pairs.append((name, str(value)))
    return pairs


# -- XML collections, parsed while they arrive --------------------------------------------------
# A page of 50 fully expanded invoices is about 1 MB of XML. Rather than reading the whole body and
# then parsing it, a response hook (``stream_xml_collections``, installed by ``Coupa`` and
# ``AsyncCoupa``) wraps the body stream of every successful XML answer: each chunk read from the
# network is fed to an incremental lxml parser (``XMLPullParser``, with ``codec_xml``'s safe
# options: no entities, no network, no DTD, and the same DTD refusal) and dropped; each item
# element is converted to a record as soon as it ends and then freed. Neither the body nor the
# element tree is ever held whole. ``decode`` then returns the records, or raises the error the
# body caused, exactly where it would have raised it had the body been parsed after reading.
#
# Only collections (a root with ``type="array"``) are handled this way; a single record (small)
# is passed through and decoded as before, as are error answers (4xx/5xx) and bodies compressed
# with an encoding other than gzip or deflate.

STREAMED_XML = "pycoupa.streamed_xml"


class XmlCollectionDecoder:
    """Decodes a Coupa XML collection fed chunk by chunk, records freed from the tree as they end.

    Same rules and errors as :func:`pycoupa.wire.codec_xml.iterparse_records` (whose helpers it
    uses): that function pulls from a file, this one is pushed to by a network stream.
    """

    def __init__(self) -> None:
        self._parser = etree.XMLPullParser(events=("start", "end"), **codec_xml._PARSER_OPTIONS)
        self._root: etree._Element | None = None
        self._depth = 0
        self._tail = b""
        self._saw_data = False
        self.collection: bool | None = None  # None until the root element has been seen
        self.records: list[dict[str, Any]] = []
        self.error: Exception | None = None

    def feed(self, chunk: bytes) -> None:
        """Parse one more chunk. Raises ``WireDecodeError`` for a malformed or refused document."""
        if not chunk:
            return
        self._saw_data = self._saw_data or bool(chunk.strip())
        seen = self._tail + chunk
        codec_xml._refuse_dtd_bytes(seen)  # a marker split across chunks, however small, is still seen
        self._tail = seen[-codec_xml._DTD_MARKER_OVERLAP :]
        try:
            self._parser.feed(chunk)
        except etree.XMLSyntaxError as exc:
            raise codec_xml._syntax_error(exc) from exc
        self._events()

    def close(self) -> None:
        if not self._saw_data:
            raise WireDecodeError("empty XML document")
        try:
            self._parser.close()
        except etree.XMLSyntaxError as exc:
            raise codec_xml._syntax_error(exc) from exc
        self._events()

    def result(self) -> list[dict[str, Any]]:
        if self.error is not None:
            raise self.error
        return self.records

    def _events(self) -> None:
        for event, node in self._parser.read_events():
            el = cast(etree._Element, node)
            if event == "start":
                self._depth += 1
                if self._depth == 1:
                    self._root = el
                    codec_xml._refuse_dtd_tree(el)
                    self.collection = el.get("type") == "array"
                continue
            self._depth -= 1
            if self._depth != 1 or self._root is None or not self.collection:
                continue
            record = codec_xml._record(el)
            el.clear()  # the finished item: its subtree, its tail and its place in the root
            self._root.remove(el)
            self.records.append(record)


def _decompressor(encoding: str) -> Callable[[bytes], bytes] | None:
    """What turns the raw body into XML bytes, for the encodings handled here (else None)."""
    encoding = encoding.strip().lower()
    if encoding in ("", "identity"):
        return bytes
    if encoding in ("gzip", "x-gzip"):
        return zlib.decompressobj(zlib.MAX_WBITS | 16).decompress
    if encoding == "deflate":
        state: dict[str, Any] = {}

        def inflate(data: bytes) -> bytes:  # zlib-wrapped, or raw deflate as some servers send (as httpx)
            if "d" not in state:
                try:
                    state["d"] = zlib.decompressobj()
                    return state["d"].decompress(data)  # type: ignore[no-any-return]
                except zlib.error:
                    state["d"] = zlib.decompressobj(-zlib.MAX_WBITS)
            return state["d"].decompress(data)  # type: ignore[no-any-return]

        return inflate
    return None


RAW_BODY = "pycoupa.raw_body"  # request extension: keep the body as bytes (the server's proxy passes it on)


def _streams_xml(response: httpx.Response) -> Callable[[bytes], bytes] | None:
    if not 200 <= response.status_code < 300 or response.request.method == "HEAD":
        return None
    if response.request.extensions.get(RAW_BODY):
        return None
    if "xml" not in response.headers.get("content-type", ""):
        return None
    return _decompressor(response.headers.get("content-encoding", ""))


class _XmlFeed:
    """The per-response state of the stream wrappers: feeds raw chunks, says what to pass on."""

    def __init__(self, response: httpx.Response, decompress: Callable[[bytes], bytes]) -> None:
        self.response = response
        self.decompress = decompress
        self.decoder = XmlCollectionDecoder()
        self.held: list[bytes] = []  # raw chunks read before the root element said what this is
        self.passing = False  # not a collection (or unreadable before the root): bytes go on as they are

    def push(self, raw: bytes) -> list[bytes]:
        """What to hand to httpx for this raw chunk (nothing, once the body is a known collection)."""
        if self.passing:
            return [raw]
        decoder = self.decoder
        if decoder.collection is None:
            self.held.append(raw)
        if decoder.error is None:
            try:
                decoder.feed(self.decompress(raw))
            except (WireDecodeError, zlib.error) as exc:
                if decoder.collection is None:
                    return self._pass()  # decode() will parse the whole body and say what is wrong
                decoder.error = exc if isinstance(exc, WireDecodeError) else WireDecodeError(f"XML body: {exc}")
        if decoder.collection is None:
            return []
        if not decoder.collection:
            return self._pass()
        self.held.clear()
        return []

    def finish(self) -> list[bytes]:
        """At the end of the body: attach the records to the response, or give back what was held."""
        decoder = self.decoder
        if self.passing or not decoder.collection:
            return self._pass()
        if decoder.error is None:
            try:
                decoder.close()
            except WireDecodeError as exc:
                decoder.error = exc
        self.response.extensions[STREAMED_XML] = decoder
        return []

    def _pass(self) -> list[bytes]:
        self.passing = True
        held, self.held = self.held, []
        return held


class _SyncXmlStream(httpx.SyncByteStream):
    def __init__(self, inner: httpx.SyncByteStream, feed: _XmlFeed) -> None:
        self._inner = inner
        self._feed = feed

    def __iter__(self) -> Iterator[bytes]:
        for raw in self._inner:
            yield from self._feed.push(raw)
        yield from self._feed.finish()

    def close(self) -> None:
        self._inner.close()


class _AsyncXmlStream(httpx.AsyncByteStream):
    def __init__(self, inner: httpx.AsyncByteStream, feed: _XmlFeed) -> None:
        self._inner = inner
        self._feed = feed

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for raw in self._inner:
            for chunk in self._feed.push(raw):
                yield chunk
        for chunk in self._feed.finish():
            yield chunk

    async def aclose(self) -> None:
        await self._inner.aclose()


def stream_xml_collections(response: httpx.Response) -> None:
    """``httpx.Client`` response hook: parse XML collections while their body is read."""
    decompress = _streams_xml(response)
    if decompress is not None and isinstance(response.stream, httpx.SyncByteStream):
        response.stream = _SyncXmlStream(response.stream, _XmlFeed(response, decompress))


async def astream_xml_collections(response: httpx.Response) -> None:
    """``httpx.AsyncClient`` response hook: parse XML collections while their body is read."""
    decompress = _streams_xml(response)
    if decompress is not None and isinstance(response.stream, httpx.AsyncByteStream):
        response.stream = _AsyncXmlStream(response.stream, _XmlFeed(response, decompress))


R = TypeVar("R")


class Namespace(Generic[R]):
    """``coupa.coupa_pay.payments`` -> the ``coupa_pay/payments`` resource (``R``: the client's
    resource type, for type checkers)."""

    def __init__(self, client: CoreClient, prefix: str) -> None:
        self._client = client
        self._prefix = prefix

    def __repr__(self) -> str:
        return f"Namespace({self._prefix!r})"

    def __getattr__(self, name: str) -> R:
        if name.startswith("_"):
            raise AttributeError(name)  # copy, pickle and the like probe dunders: not resources
        path = f"{self._prefix}/{name}"
        try:
            self._client.catalog_resource(path)
        except ConfigurationError as exc:  # an attribute lookup: hasattr/getattr(..., default) must work
            raise NoSuchAttributeError(str(exc)) from None
        return cast(R, self._client.resource(path))


@dataclass
class ListArgs:
    """A list call's arguments, validated and turned into query pairs."""

    pairs: list[tuple[str, str]]
    page_size: int


def list_params(
    resource: Resource,
    filters: Mapping[str, Any],
    *,
    limit: int | None = None,
    offset: int | None = None,
    order_by: str | None = None,
    dir: str | None = None,
    fields: Any = None,
    return_object: str | None = None,
) -> ListArgs:
    definition = resource.definition or ""
    saved = q.saved_filter(filters["filter"]) if "filter" in filters else None
    filters = {k: v for k, v in filters.items() if k != "filter"}
    conditions = q.conditions_from_kwargs(definition, filters) if definition else []
    spec = q.fields_spec(fields)
    if definition:
        q.check_fields(definition, spec)
    if limit is not None:
        check_page_size(limit, "limit")
    if offset is not None and (isinstance(offset, bool) or not isinstance(offset, int) or offset < 0):
        raise QueryError(f"offset must be an int >= 0, got {describe(offset)}")
    if dir is not None and dir not in ("asc", "desc"):
        raise ConfigurationError(f"dir must be 'asc' or 'desc', got {dir!r}")
    if return_object is not None and return_object not in ("none", "limited", "shallow"):
        raise ConfigurationError(f"return_object must be none, limited or shallow, got {return_object!r}")
    if order_by is not None:
        check_order_by(resource, order_by)
    pairs = q.build_query_checked(
        conditions=conditions,
        limit=limit,
        offset=offset,
        order_by=order_by.replace("_", "-") if order_by else None,
        dir=dir,
        fields=spec,
        return_object=return_object,
        filter_name=saved,
    )
    return ListArgs(pairs, limit or MAX_PAGE)


def describe(value: object) -> str:
    """A bad argument for an error message: its type and (shortened) value. SDK arguments such as
    ids, limits and names are not secret; credentials are never passed through here."""
    try:
        text = repr(value)
    except ValueError:  # an int too long for Python to print
        text = f"<{value.bit_length()} bits>" if isinstance(value, int) else "<unprintable>"
    return f"{type(value).__name__} {text if len(text) <= 60 else text[:57] + '...'}"


def check_page_size(value: object, name: str) -> int:
    """``limit`` and ``page_size``: an int (not a bool) from 1 to Coupa's ceiling of 50."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_PAGE:
        raise QueryError(f"{name} must be an int from 1 to {MAX_PAGE} (Coupa's page ceiling), got {describe(value)}")
    return value


def check_order_by(resource: Resource, order_by: object) -> None:
    """``order_by`` names one of the resource's own attributes: Coupa sorts by a column of the
    collection (``order_by=<attribute>``), never by an association's attribute."""
    if not isinstance(order_by, str) or not order_by:
        raise QueryError(f"order_by must be the name of one attribute, e.g. 'created_at', got {describe(order_by)}")
    own = f"Coupa orders {resource.name} only by their own attributes (e.g. 'id', 'created_at')"
    if "__" in order_by:
        raise QueryError(
            f"order_by={order_by!r}: {own}, not by an association's attribute, and order_by takes no operator"
        )
    definition = resource.definition
    if not definition:
        return
    try:
        q.check_filter_name(definition, order_by)  # same name check as a filter
    except ConfigurationError as exc:
        raise QueryError(f"order_by: {exc}".replace(f"filter {order_by}: ", "")) from None
    defn = q.definitions().get(definition)
    field = defn.fields.get(order_by.replace("_", "-")) if defn is not None else None
    if field is not None and field.ref is not None:
        hint = f"; for its id, order_by='{order_by}_id'" if field.is_association else ""
        raise QueryError(f"order_by={order_by!r} is an association, not an attribute: {own}{hint}")


def fields_pairs(resource: Resource, fields: Any, return_object: str | None) -> list[tuple[str, str]]:
    spec = q.fields_spec(fields)
    if spec and resource.definition:
        q.check_fields(resource.definition, spec)
    out = []
    if spec:
        out.append(("fields", format_fields(spec)))
    if return_object:
        out.append(("return_object", return_object))
    return out


def find_operation(resource: Resource, kind: str, action: str | None = None) -> Operation:
    for op in (*resource.operations, *_documented(resource.path)):
        if op.kind == kind and (action is None or op.action == action):
            return op
    verbs = sorted({o.action or o.kind for o in resource.operations})
    wanted = action or kind
    raise ConfigurationError(
        f"{resource.name} has no '{wanted}' in Coupa's API; it has: {', '.join(verbs)}" + q._suggest(wanted, verbs)
    )


def _documented(resource_path: str) -> list[Operation]:
    """Routes Compass documents that R39 lacks (``POST /invoices``)."""
    return [op for op in documented_operations() if op.resource == resource_path]


def operation_of(catalog: Catalog, method: str, path: str) -> Operation | None:
    """The operation serving ``method path`` (``path`` under ``/api``, ids filled in): R39's, or
    one Compass documents that R39 lacks. None for a path the catalog does not know."""
    found = catalog.match(method, path)
    if found is not None:
        return found[0]
    segments = path.strip("/").split("/")
    for op in documented_operations():
        template = op.path.replace("(/{style})", "").strip("/").split("/")
        if op.method != method.upper() or len(template) != len(segments):
            continue
        if all(t == s or (t.startswith("{") and s.isdigit()) for t, s in zip(template, segments, strict=True)):
            return op
    return None


# A record's id as callers give it: an int, or a string of digits (as ids often arrive from files,
# queues and URLs).
RecordId = int | str
ParentId = RecordId | tuple[RecordId, ...]
# Operations on one record: the last path parameter is that record's id; the others (and all of a
# list's, a create's or a collection action's) belong to the parents of a nested collection.
_ON_A_RECORD = frozenset({"show", "update", "delete", "member_action"})
_OPTIONAL_STYLE = "(/{style})"  # an image route's optional style segment: left out, never filled


def record_id_text(value: object, name: str = "record_id") -> str:
    """A record id as it goes in a URL path. Only a positive int (not a bool) or a string of ASCII
    digits is taken: 44.5, True or "abc" would otherwise address another record, or none."""
    if isinstance(value, str):
        # Length first: int() of thousands of digits raises Python's own ValueError.
        if len(value) <= 30 and value.isascii() and value.isdigit() and int(value) >= 1:
            return str(int(value))
    elif isinstance(value, int) and not isinstance(value, bool) and 1 <= value < 10**30:
        return str(value)
    raise ConfigurationError(f"{name} must be a positive int or a string of digits, got {describe(value)}")


def parent_ids(parent_id: object) -> tuple[str, ...]:
    """``parent_id`` (one id, or a tuple of ids outermost first) as path segments, each checked."""
    if parent_id is None:
        return ()
    if isinstance(parent_id, tuple | list):
        return tuple(record_id_text(p, f"parent_id[{n}]") for n, p in enumerate(parent_id))
    return (record_id_text(parent_id, "parent_id"),)


def member_path(op: Operation, record_id: RecordId | None, parent_id: ParentId | None = None) -> str:
    """``op.path`` with its parameters filled: ``parent_id`` is the parent's id (a tuple, outermost
    first, for a collection nested two deep), ``record_id`` the record's for a one-record operation.
    Every id is checked (``record_id_text``) before anything is sent."""
    path = op.path.replace(_OPTIONAL_STYLE, "")
    names = [n for n in op.path_params if "{" + n + "}" in path]
    values: dict[str, str] = {}
    if op.kind in _ON_A_RECORD and names:
        name = names.pop()
        if record_id is None:
            raise ConfigurationError(f"record_id is required: {op.key} acts on one record (its {{{name}}})")
        values[name] = record_id_text(record_id)
    parents = parent_ids(parent_id)
    if len(parents) != len(names):
        if not names:
            raise ConfigurationError(f"{op.key} is not nested: drop parent_id={parent_id!r}")
        raise ConfigurationError(f"{op.key} needs {', '.join(names)} (parent_id={parent_id!r})")
    values.update(zip(names, parents, strict=True))
    for name, value in values.items():
        path = path.replace("{" + name + "}", value)
    return path


def create_flow(
    core: CoreClient,
    resource: Resource,
    data: Any,
    extra: Sequence[tuple[str, str]],
    parent_id: ParentId | None = None,
) -> Flow[Any]:
    """POST, and if the answer is lost (timeout, dropped connection, 5xx), wait the back-off, then
    look the record up by the fields Coupa keeps unique for its kind (``catalog.identity``) before
    sending it again, so an ambiguous create never makes a duplicate nor reports another record as
    the one created. A kind without such fields, or a body that lacks them, gets the error instead
    of a blind resend.

    The wait comes *before* the lookup: a create that timed out is usually still being committed,
    and a lookup sent at once would miss it and the resend would duplicate it. When the lookup
    itself fails, nobody knows whether the record exists: ``WriteOutcomeUnknownError`` carries the
    POST's own failure. A 429 or a request that never left is resent by ``send_flow`` like any
    other: Coupa processed nothing, so no lookup is needed.

    A record the lookup finds is returned only if it plausibly is the one this POST made (see
    ``_not_ours``): every top-level value the body sent matches it, and it was not created before
    the POST was first sent. A record with the same natural key that fails that test existed
    already (the POST most likely failed on the uniqueness rule), so it is never reported as
    created: ``WriteOutcomeUnknownError`` says so, with the POST's own failure.
    """
    op = find_operation(resource, "create")
    sent = to_wire(data)
    identity = identity_of(resource.definition, sent)
    retry = core.settings.retry
    path = member_path(op, None, parent_id)
    first_sent = datetime.now(UTC)  # the client's clock at the first POST (see _not_ours)
    for attempt in range(1, retry.max_attempts + 1):
        try:
            return (yield from core.request_flow("POST", path, extra, body=data))
        except (CoupaTransportError, ServerError) as exc:
            if identity is None or (isinstance(exc, CoupaTransportError) and not exc.request_sent):
                raise  # no natural key to look for, or the request never left: nothing to check
            failure: CoupaTransportError | ServerError = exc
        yield Sleep(retry.settle_delay(attempt, getattr(failure, "retry_after", None)))
        listing = find_operation(resource, "list")
        pairs = q.build_query_checked(conditions=identity_conditions(identity), limit=MAX_PAGE)
        try:
            found = yield from page_flow(core, member_path(listing, None, parent_id), pairs)
        except CoupaError as lookup_error:
            raise WriteOutcomeUnknownError(failure, lookup_error) from failure
        matches = [r for r in found.records if isinstance(r, Mapping) and has_identity(r, identity)]
        if matches:
            verdicts = [(record, _not_ours(resource.definition, sent, record, first_sent)) for record in matches]
            ours = next((record for record, differences in verdicts if not differences), None)
            if ours is not None:
                return ours
            other, differences = verdicts[0]
            raise WriteOutcomeUnknownError(failure, found_id=other.get("id"), mismatches=differences) from failure
        if attempt == retry.max_attempts:
            raise failure  # not found after the last attempt: the POST's own error, as for any write
    raise AssertionError("unreachable")


# A record this POST created was stamped by Coupa after the POST left, so one stamped before it
# existed already. But ``created-at`` comes from Coupa's clock and ``first_sent`` from the client's,
# and the two are not synchronised: the tolerance absorbs their skew (hosts kept by NTP agree within
# a second; five minutes is the usual bound for hosts that are not, Kerberos's default). A record
# made within that window before the POST passes this test; the comparison of values still applies.
CREATED_AT_TOLERANCE = timedelta(minutes=5)

_SCALARS = (str, int, float, Decimal, date)  # bool is an int, datetime a date


def _not_ours(definition: str | None, sent: Any, record: Mapping[str, Any], first_sent: datetime) -> list[str]:
    """Why a record found by natural key is not the one an ambiguous create made (empty: it
    plausibly is). Each top-level scalar the body sent must equal the record's value: numbers as
    decimals, strings exactly, dates and datetimes by value (a date sent for a datetime field is
    that datetime's date in its own offset). Skipped: nulls, nested objects and lists (associations
    and lines, which Coupa expands or fills in), keys the record does not return, and fields the
    catalog marks read-only (Coupa ignores them on a write, so the record's value says nothing)."""
    defn = q.definitions().get(definition or "")
    fields = defn.fields if defn is not None else {}
    out: list[str] = []
    for key, value in sent.items() if isinstance(sent, Mapping) else ():
        if value is None or not isinstance(value, _SCALARS) or key not in record:
            continue
        spec = fields.get(key)
        if spec is not None and spec.read_only:
            continue
        got = record[key]
        if not _same_value(value, got, spec.scalar_type if spec is not None else "any"):
            out.append(f"{key}: sent {_shown(key, value)}, found {_shown(key, got)}")
    created = _moment(record.get("created-at"))
    if created is not None and created < first_sent - CREATED_AT_TOLERANCE:
        skew = CREATED_AT_TOLERANCE.seconds // 60
        out.append(
            f"created-at {created.isoformat()} is before this create was first sent "
            f"({first_sent.isoformat(timespec='seconds')}, less {skew} min for clock skew)"
        )
    return out


def _same_value(sent: Any, got: Any, kind: str) -> bool:
    if type(sent) is type(got) and sent == got:
        return True
    if got is None:
        return bool(sent == "")  # a blank sent is stored as null
    if isinstance(sent, bool) or kind == "boolean":
        want = _boolean(sent)
        return want is not None and want == _boolean(got)
    if kind in ("integer", "decimal", "float") or _is_number(sent) or _is_number(got):
        a, b = _decimal(sent), _decimal(got)
        return a is not None and b is not None and a == b
    if kind in ("date", "datetime") or isinstance(sent, date) or isinstance(got, date):
        return _same_moment(_temporal(sent), _temporal(got))
    return False  # strings compare exactly (done above)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


def _boolean(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return None


def _decimal(value: Any) -> Decimal | None:
    if isinstance(value, bool):
        return None
    try:
        if isinstance(value, int | Decimal):
            number = Decimal(value)
        elif isinstance(value, float):
            number = Decimal(repr(value))  # 10.1, not 10.0999999999999996447286321199499070644378662109375
        elif isinstance(value, str):
            number = Decimal(value.strip())
        else:
            return None
    except InvalidOperation:
        return None
    return None if not number.is_finite() else number


def _temporal(value: Any) -> date | None:
    """A date, or an aware datetime (naive ones read as UTC), from a value or its wire text."""
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return value
    if not isinstance(value, str):
        return None
    try:
        return parse_date(value)
    except WireValueError:
        pass
    try:
        return parse_datetime(value, UTC)
    except WireValueError:
        return None


def _same_moment(a: date | None, b: date | None) -> bool:
    if a is None or b is None:
        return False
    if isinstance(a, datetime) and isinstance(b, datetime):
        return a == b
    if isinstance(a, datetime):
        return a.date() == b
    if isinstance(b, datetime):
        return b.date() == a
    return a == b


def _moment(value: Any) -> datetime | None:
    when = _temporal(value)
    return when if isinstance(when, datetime) else None


def _shown(key: str, value: Any) -> str:
    if is_secret_key(key):
        return "**********"
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= 60 else text[:57] + "..."


def page_flow(core: CoreClient, path: str, pairs: Sequence[tuple[str, str]]) -> Generator[Any, Any, Page]:
    try:
        data = yield from core.request_flow("GET", path, pairs)
    except NotFoundError as exc:
        # Coupa answers an empty XML query with 404 "No results match your search criteria."
        if any("No results match" in m for m in exc.messages):
            return Page([])
        raise
    records = data if isinstance(data, list) else ([] if data is None else [data])
    return Page(records)
