"""OAuth 2.0 for Coupa as an ``httpx.Auth``: client credentials (or a refresh token), one shared token.

:class:`CoupaOAuth` attaches ``Authorization: Bearer <token>`` to every request. The token comes
from a :class:`~pycoupa.client.token_store.TokenStore`; when it is missing or has fewer than
``refresh_margin`` seconds left, a new one is minted under the store's lock, re-reading the store
once the lock is held, so that any number of threads, tasks or processes sharing the store make
one token request. A 401 answer re-mints once (unless someone already replaced the rejected
token) and replays the request once; a second 401 goes back to the caller.

The decisions are written once, in :meth:`CoupaOAuth._plan`: a generator that yields *effects*
(send this request, read/write the store, take/drop the lock) and receives their results.
``sync_auth_flow`` and ``async_auth_flow`` only carry those effects out, with blocking or awaiting
I/O. The token request is yielded to httpx like any other, so it goes through the client's own
transport (an ASGI emulator, a mock, a proxy...).

:func:`scopes_for` derives the scopes a set of declared calls needs, from the catalog.
"""

from __future__ import annotations

import difflib
import hashlib
import hmac
import logging
import math
import secrets
import time
from collections.abc import AsyncGenerator, Callable, Generator, Iterable, Sequence
from contextlib import AsyncExitStack, ExitStack
from dataclasses import dataclass
from typing import Any, TypeGuard

import httpx

from pycoupa.catalog.corrections import documented_operations
from pycoupa.catalog.model import Operation, OpKind, load_catalog
from pycoupa.client._base import check_instance_url
from pycoupa.client.errors import ConfigurationError, OAuthError, Secret, oauth_error_from_response, redact_url
from pycoupa.client.token_store import (
    DEFAULT_LOCK_TIMEOUT,
    TOKEN_SCOPES_EXTENSION,
    MemoryTokenStore,
    Token,
    TokenStore,
    token_key,
)

__all__ = ["DEFAULT_EXPIRES_IN", "CoupaOAuth", "parse_token_response", "scopes_for"]

log = logging.getLogger(__name__)

# The token store of every CoupaOAuth given none (see the class docstring), and the key that makes
# its entries' secret digests meaningless outside this process.
PROCESS_TOKENS = MemoryTokenStore()
_PROCESS_KEY = secrets.token_bytes(32)

DEFAULT_EXPIRES_IN = 86399  # Coupa's token lifetime (coupa-api.md section 1), used when expires_in is absent


# -- effects: what the plan asks the flows to do ---------------------------------------------------


@dataclass(frozen=True)
class _Send:
    """Send a request; the result is the response (its body read first when ``read_body``)."""

    request: httpx.Request
    read_body: bool = False


@dataclass(frozen=True)
class _Load:
    """Read the store; the result is the stored ``Token`` or None."""


@dataclass(frozen=True)
class _Save:
    token: Token


@dataclass(frozen=True)
class _Lock:
    """Take the store's mint lock (released by ``_Unlock``, or by the flow when it ends)."""


@dataclass(frozen=True)
class _Unlock:
    pass


_Effect = _Send | _Load | _Save | _Lock | _Unlock
_Plan = Generator[_Effect, Any, None]


def parse_token_response(
    response: httpx.Response, *, requested_scopes: Sequence[str], sent_at: float, refresh_token: Secret | None
) -> Token:
    """The token in a token-endpoint answer whose body has been read.

    Non-200 answers raise the mapped :class:`OAuthError` subclass. ``sent_at`` (when the request
    left) starts the lifetime, so latency shortens it rather than lengthening it. The refresh token
    is the answer's when the server rotated it, else the one that was used.
    """
    if response.status_code != 200:
        raise oauth_error_from_response(response)
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise _invalid_response(response, "token endpoint answered 200 without a JSON object")
    access = body.get("access_token")
    if not isinstance(access, str) or not access:
        raise _invalid_response(response, "token endpoint answered 200 without an access_token")
    expires_in = _seconds(body.get("expires_in"))
    scope = body.get("scope")
    scopes = tuple(scope.split()) if isinstance(scope, str) and scope.strip() else tuple(requested_scopes)
    rotated = body.get("refresh_token")
    return Token(
        access_token=Secret(access),
        expires_at=sent_at + expires_in,
        scopes=scopes,
        refresh_token=Secret(rotated) if isinstance(rotated, str) and rotated else refresh_token,
        issued_at=sent_at,
    )


def _invalid_response(response: httpx.Response, description: str) -> OAuthError:
    # No body: a half-valid answer may still hold a token. OAuthError keeps a redacted request copy.
    try:
        request: httpx.Request | None = response.request
    except RuntimeError:  # a Response built by hand has no request
        request = None
    return OAuthError("invalid_response", description, status=response.status_code, request=request)


def _seconds(value: Any) -> float:
    """``expires_in`` as seconds (a number or a numeric string); absent or unusable means Coupa's 86399."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return DEFAULT_EXPIRES_IN
    try:
        seconds = float(value)
    except ValueError:
        return DEFAULT_EXPIRES_IN
    return seconds if math.isfinite(seconds) and seconds > 0 else DEFAULT_EXPIRES_IN


class CoupaOAuth(httpx.Auth):
    """Bearer tokens for one OAuth client of one Coupa instance.

    ``CoupaOAuth("https://acme.coupahost.com", client_id, client_secret, scopes=[...])`` uses the
    client-credentials grant; with ``refresh_token=...`` (from an authorization-code grant with
    ``offline_access``) it uses ``grant_type=refresh_token`` and keeps a rotated refresh token.
    ``store`` shares tokens between instances and processes (default: one :class:`MemoryTokenStore`
    for the whole process, so short-lived clients with the same credentials reuse a token rather
    than minting one each); ``store_key`` overrides the key, which otherwise names (instance,
    client_id, scopes) and, for refresh tokens, the initial refresh token. A public client (PKCE)
    has no secret: give ``client_secret=None`` with a ``refresh_token``.
    ``clock`` returns epoch seconds (inject one in tests).
    """

    requires_request_body = False
    requires_response_body = False

    def __init__(
        self,
        instance_url: str,
        client_id: str,
        client_secret: str | Secret | None,
        scopes: Sequence[str] = (),
        *,
        refresh_token: str | Secret | None = None,
        store: TokenStore | None = None,
        refresh_margin: float = 300.0,
        token_path: str = "/oauth2/token",
        clock: Callable[[], float] = time.time,
        lock_timeout: float = DEFAULT_LOCK_TIMEOUT,
        store_key: str | None = None,
    ) -> None:
        self.instance_url = check_instance_url(instance_url)
        if not isinstance(client_id, str) or not client_id.strip():
            raise ConfigurationError("client_id must be a non-empty string")
        self.client_id = client_id
        secret = _secret(client_secret, "client_secret")
        self._refresh_token = _secret(refresh_token, "refresh_token")
        if not secret and self._refresh_token is None:
            raise ConfigurationError(
                "client_secret must be a non-empty string (only a public client with a refresh_token has none)"
            )
        # None: a public client (authorization code with PKCE), which refreshes without a secret.
        self._client_secret: Secret | None = secret or None
        self.scopes: tuple[str, ...] = _check_scopes(scopes)
        if store is not None and not isinstance(store, TokenStore):
            raise ConfigurationError(f"store must implement TokenStore, got {type(store).__name__}")
        self.store: TokenStore = store if store is not None else PROCESS_TOKENS
        if isinstance(refresh_margin, bool) or not isinstance(refresh_margin, int | float) or refresh_margin < 0:
            raise ConfigurationError(f"refresh_margin must be a number of seconds >= 0, got {refresh_margin!r}")
        self.refresh_margin = float(refresh_margin)
        if not token_path.startswith("/"):
            raise ConfigurationError(f"token_path must start with '/', got {token_path!r}")
        self.token_url = self.instance_url + token_path
        self.clock = clock
        if lock_timeout <= 0:
            raise ConfigurationError(f"lock_timeout must be > 0 seconds, got {lock_timeout!r}")
        self.lock_timeout = float(lock_timeout)
        # Tokens from a refresh token belong to whoever granted it: do not share them with other
        # grants of the same client and scopes.
        subject = f"refresh:{self._refresh_token.get()}" if self._refresh_token is not None else None
        if store is None:
            # In the process-wide store a client with a wrong secret must not borrow the token that a
            # client with the right one minted: the key carries a digest of the secret, keyed with a
            # random per-process key, so it means nothing outside this process. A store_key given
            # without a store only names a grant there, beside the instance and the secret.
            material = secret.get() if secret else ""
            digest = hmac.new(_PROCESS_KEY, material.encode(), hashlib.sha256).hexdigest()[:32]
            subject = f"{subject or ''}|secret:{digest}|key:{store_key or ''}"
            self.store_key = token_key(self.instance_url, client_id, self.scopes, subject)
        else:
            self.store_key = store_key or token_key(self.instance_url, client_id, self.scopes, subject)

    def __repr__(self) -> str:
        grant = "refresh_token" if self._refresh_token is not None else "client_credentials"
        return (
            f"CoupaOAuth(instance_url={self.instance_url!r}, client_id={self.client_id!r}, "
            f"client_secret={self._client_secret!r}, scopes={list(self.scopes)!r}, grant={grant!r}, "
            f"store={self.store!r})"
        )

    # -- decisions (no I/O) ----------------------------------------------------------------------
    def _plan(self, request: httpx.Request) -> _Plan:
        token = yield from self._obtain(request, rejected=None)
        _authorize(request, token)
        response = yield _Send(request)
        if response.status_code != 401:
            return
        log.info(
            "Coupa answered 401 to %s %s; getting a new token and replaying once",
            request.method,
            redact_url(request.url),
        )
        token = yield from self._obtain(request, rejected=token)
        _authorize(request, token)
        yield _Send(request)  # whatever this answers, 401 included, goes to the caller

    def _obtain(self, request: httpx.Request, rejected: Token | None) -> Generator[_Effect, Any, Token]:
        """A usable token: the stored one, or one minted under the lock (double-checked)."""
        stored: Token | None = yield _Load()
        if self._usable(stored, rejected):
            return stored
        yield _Lock()
        stored = yield _Load()  # another thread or process may have minted while we waited
        if self._usable(stored, rejected):
            token = stored
        else:
            token = yield from self._mint(request, stored)
            yield _Save(token)
        yield _Unlock()
        return token

    def _usable(self, token: Token | None, rejected: Token | None) -> TypeGuard[Token]:
        if token is None or token.same_access_token(rejected):
            return False
        margin = self.refresh_margin
        if token.issued_at is not None:
            # A token living less than twice the margin would otherwise be re-minted on every call.
            margin = min(margin, (token.expires_at - token.issued_at) / 2)
        return token.expires_at - self.clock() > margin

    def _mint(self, request: httpx.Request, stored: Token | None) -> Generator[_Effect, Any, Token]:
        # The stored refresh token is the newest: another process may have rotated ours.
        refresh = stored.refresh_token if stored is not None and stored.refresh_token else self._refresh_token
        sent_at = self.clock()
        log.debug("minting a token for client %s on %s", self.client_id, self.instance_url)
        response: httpx.Response = yield _Send(self._token_request(request, refresh), read_body=True)
        token = parse_token_response(response, requested_scopes=self.scopes, sent_at=sent_at, refresh_token=refresh)
        if token.refresh_token is not None:
            self._refresh_token = token.refresh_token
        log.info(
            "minted a token for client %s on %s, valid %.0f s",
            self.client_id,
            self.instance_url,
            token.expires_at - sent_at,
        )
        return token

    def _token_request(self, request: httpx.Request, refresh: Secret | None) -> httpx.Request:
        form = {"client_id": self.client_id}
        if self._client_secret is not None:
            form["client_secret"] = self._client_secret.get()
        if refresh is not None:
            form = {"grant_type": "refresh_token", "refresh_token": refresh.get(), **form}
        else:
            form = {"grant_type": "client_credentials", **form}
        if self.scopes:
            form["scope"] = " ".join(self.scopes)
        # Without the caller's timeout extension the transport would wait forever on the token endpoint.
        extensions = {k: v for k, v in request.extensions.items() if k == "timeout"}
        return httpx.Request(
            "POST", self.token_url, data=form, headers={"Accept": "application/json"}, extensions=extensions
        )

    # -- I/O: the two flows only carry out effects ----------------------------------------------
    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        plan = self._plan(request)
        locks = ExitStack()
        try:
            result: Any = None
            while True:
                try:
                    effect = plan.send(result)
                except StopIteration:
                    return
                result = None
                if isinstance(effect, _Send):
                    response = yield effect.request
                    if effect.read_body:
                        response.read()
                    result = response
                elif isinstance(effect, _Load):
                    result = self.store.get(self.store_key)
                elif isinstance(effect, _Save):
                    self.store.set(self.store_key, effect.token)
                elif isinstance(effect, _Lock):
                    locks.enter_context(self.store.lock(self.store_key, self.lock_timeout))
                else:
                    locks.close()
        finally:
            locks.close()
            plan.close()

    async def async_auth_flow(self, request: httpx.Request) -> AsyncGenerator[httpx.Request, httpx.Response]:
        plan = self._plan(request)
        locks = AsyncExitStack()
        try:
            result: Any = None
            while True:
                try:
                    effect = plan.send(result)
                except StopIteration:
                    return
                result = None
                if isinstance(effect, _Send):
                    response = yield effect.request
                    if effect.read_body:
                        await response.aread()
                    result = response
                elif isinstance(effect, _Load):
                    result = await self.store.aget(self.store_key)
                elif isinstance(effect, _Save):
                    await self.store.aset(self.store_key, effect.token)
                elif isinstance(effect, _Lock):
                    await locks.enter_async_context(self.store.alock(self.store_key, self.lock_timeout))
                else:
                    await locks.aclose()
        finally:
            await locks.aclose()
            plan.close()


def _authorize(request: httpx.Request, token: Token) -> None:
    request.headers["Authorization"] = f"Bearer {token.access_token.get()}"
    # What a 403 is checked against; None when unknown (no scope asked for, none in the answer).
    request.extensions[TOKEN_SCOPES_EXTENSION] = token.scopes or None


def _secret(value: str | Secret | None, name: str) -> Secret | None:
    if value is None or isinstance(value, Secret):
        return value
    if not isinstance(value, str):
        raise ConfigurationError(f"{name} must be a string")
    return Secret(value) if value else None


def _check_scopes(scopes: Sequence[str]) -> tuple[str, ...]:
    if isinstance(scopes, str):
        raise ConfigurationError("scopes must be a list of scope names, not one string")
    out: list[str] = []
    for scope in scopes:
        if not isinstance(scope, str) or not scope or any(c.isspace() or c == "," for c in scope):
            raise ConfigurationError(f"invalid scope {scope!r}: one name per item, e.g. 'core.invoice.read'")
        if scope not in out:
            out.append(scope)
    return tuple(out)


# -- scopes for declared calls ---------------------------------------------------------------------

# SDK verbs -> catalog operation kinds; any other verb names a Coupa action.
_VERB_KINDS: dict[str, OpKind] = {
    "list": "list",
    "iter": "list",
    "get": "show",
    "create": "create",
    "update": "update",
    "delete": "delete",
}


def scopes_for(actions: Iterable[str]) -> list[str]:
    """The scopes needed for ``"<resource>.<verb>"`` calls, e.g. ``["invoices.list", "invoices.void"]``.

    Verbs are list/iter/get/create/update/delete, ``mark_exported`` (the resource's own
    ``mark_exported`` action, else its ``export`` action, else update: what the SDK sends) or the
    name of a Coupa action. Each call contributes the first scope the catalog lists for it (any
    one grants it); the result keeps first-seen order without duplicates. Unknown resources or
    verbs raise :class:`ConfigurationError` with close matches.
    """
    if isinstance(actions, str):
        raise ConfigurationError(
            f"scopes_for takes a list of calls, not one string: pass a list, scopes_for([{actions!r}])"
        )
    if not isinstance(actions, Iterable):
        raise ConfigurationError(
            f"scopes_for takes a list of '<resource>.<verb>' calls such as ['invoices.list'], "
            f"got {type(actions).__name__}"
        )
    catalog = load_catalog()
    out: list[str] = []
    for action in actions:
        if not isinstance(action, str):
            raise ConfigurationError(f"calls are '<resource>.<verb>' strings, got {action!r}")
        name, dot, verb = action.rpartition(".")
        if not dot or not name or not verb:
            raise ConfigurationError(f"{action!r} is not '<resource>.<verb>', e.g. 'invoices.list'")
        resource = catalog.resources.get("/" + name.strip("/"))
        if resource is None:
            names = sorted(r.name for r in catalog.resources.values())
            raise ConfigurationError(f"unknown resource {name!r} in {action!r}{_suggest(name, names)}")
        verbs: dict[str, Operation] = {}
        # Routes Compass documents that R39 lacks (POST /invoices) count as the resource's own.
        documented = [op for op in documented_operations() if op.resource == resource.path]
        for v, kind in _VERB_KINDS.items():
            found = resource.op(kind) or next((op for op in documented if op.kind == kind), None)
            if found is not None:
                verbs[v] = found
        for act, ops in resource.actions.items():
            verbs.setdefault(act, ops[0])
        marker = verbs.get("export") or verbs.get("update")
        if marker is not None:
            verbs.setdefault("mark_exported", marker)
        op = verbs.get(verb)
        if op is None:
            hint = _suggest(verb, verbs) or f"; its verbs: {', '.join(sorted(verbs)) or 'none'}"
            raise ConfigurationError(f"unknown verb {verb!r} for resource {name!r} in {action!r}{hint}")
        if op.scopes and op.scopes[0] not in out:
            out.append(op.scopes[0])
    return out


def _suggest(word: str, candidates: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(candidates), n=5, cutoff=0.5)
    return f"; did you mean: {', '.join(close)}?" if close else ""
