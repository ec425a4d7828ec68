"""Client options: validated once, before any request, with errors that name the argument."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from pycoupa.client._base import Settings, check_instance_url
from pycoupa.client.errors import ConfigurationError
from pycoupa.client.ratelimit import DEFAULT_BURST, DEFAULT_RPS, RateLimiter, process_limiter
from pycoupa.client.retry import RetryPolicy
from pycoupa.client.token_store import TokenStore

__all__ = ["DEFAULT_BURST", "DEFAULT_RPS", "KNOWN_OPTIONS", "ClientOptions", "build_settings"]

KNOWN_OPTIONS = frozenset(
    {
        "refresh_token",
        "timeout",
        "retry",
        "rate_limiter",
        "rps",
        "burst",
        "headroom",
        "token_store",
        "format",
        "models",
        "refresh_margin",
        "auth",
        "max_rate_wait",
    }
)


@dataclass
class ClientOptions:
    instance_url: str
    client_id: str | None
    scopes: tuple[str, ...]
    auth: httpx.Auth | None
    timeout: httpx.Timeout
    retry: RetryPolicy
    limiter: RateLimiter | None
    fmt: str
    models: bool
    max_rate_wait: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_kwargs(
        cls,
        instance_url: str,
        client_id: str | None,
        client_secret: str | None,
        scopes: Iterable[str],
        options: Mapping[str, Any],
    ) -> ClientOptions:
        unknown = sorted(set(options) - KNOWN_OPTIONS)
        if unknown:
            raise ConfigurationError(
                f"unknown option(s): {', '.join(unknown)}; known: {', '.join(sorted(KNOWN_OPTIONS))}"
            )
        url = check_instance_url(instance_url)
        scope_names = _scope_names(scopes)
        auth = options.get("auth")
        if auth is not None and not isinstance(auth, httpx.Auth):
            raise ConfigurationError(
                f"auth must be an httpx.Auth (e.g. pycoupa.client.auth.CoupaOAuth) or None, got {type(auth).__name__}"
            )
        token_store = options.get("token_store")
        if token_store is not None and not isinstance(token_store, TokenStore):
            raise ConfigurationError(
                "token_store must be a pycoupa.client.token_store.TokenStore (MemoryTokenStore, FileTokenStore, "
                f"RedisTokenStore...) or None, got {type(token_store).__name__}"
            )
        if auth is None:
            if not client_id or (not client_secret and options.get("refresh_token") is None):
                raise ConfigurationError(
                    "client_id and client_secret are required (a public client with a refresh_token needs no "
                    "secret; or pass auth=...)"
                )
            from pycoupa.client.auth import CoupaOAuth

            auth_kwargs: dict[str, Any] = {}
            if options.get("token_store") is not None:
                auth_kwargs["store"] = options["token_store"]
            if options.get("refresh_margin") is not None:
                auth_kwargs["refresh_margin"] = options["refresh_margin"]
            auth = CoupaOAuth(
                url,
                client_id,
                client_secret,
                scopes=scope_names,
                refresh_token=options.get("refresh_token"),
                **auth_kwargs,
            )
        timeout = options.get("timeout", 60.0)
        if not isinstance(timeout, httpx.Timeout) and (
            isinstance(timeout, bool)
            or not isinstance(timeout, int | float)
            or not math.isfinite(timeout)
            or timeout <= 0
        ):
            raise ConfigurationError(
                f"timeout must be a number of seconds > 0 or an httpx.Timeout, got {type(timeout).__name__} {timeout!r}"
            )
        retry = options.get("retry", RetryPolicy())
        if not isinstance(retry, RetryPolicy):
            raise ConfigurationError("retry must be a pycoupa.client.retry.RetryPolicy")
        if "rate_limiter" in options:
            limiter = options["rate_limiter"]
            if limiter is not None and not isinstance(limiter, RateLimiter):
                raise ConfigurationError(
                    "rate_limiter must be a pycoupa.client.ratelimit.RateLimiter (LocalRateLimiter, "
                    f"RedisRateLimiter or a subclass) or None, got {type(limiter).__name__}"
                )
            given = sorted({"rps", "burst", "headroom"} & set(options))
            if given:
                raise ConfigurationError(
                    f"{' and '.join(given)} configure the built-in limiter, which rate_limiter= replaces: "
                    "set the rate on the limiter you pass instead"
                )
        else:
            try:
                limiter = process_limiter(
                    url,
                    client_id,
                    rps=options.get("rps", DEFAULT_RPS),
                    burst=options.get("burst", DEFAULT_BURST),
                    headroom=options.get("headroom"),
                )
            except ValueError as exc:
                raise ConfigurationError(str(exc)) from exc
        max_rate_wait = options.get("max_rate_wait")
        if max_rate_wait is not None and (
            isinstance(max_rate_wait, bool) or not isinstance(max_rate_wait, int | float) or not max_rate_wait >= 0
        ):
            raise ConfigurationError(f"max_rate_wait must be seconds >= 0 or None, got {max_rate_wait!r}")
        fmt = options.get("format", "json")
        if fmt not in ("json", "xml"):
            raise ConfigurationError(f"format must be 'json' or 'xml', got {fmt!r}")
        models = options.get("models", True)
        if not isinstance(models, bool):
            raise ConfigurationError(f"models must be True or False, got {type(models).__name__} {models!r}")
        return cls(
            instance_url=url,
            client_id=client_id,
            scopes=scope_names,
            auth=auth,
            timeout=timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout),
            retry=retry,
            limiter=limiter,
            fmt=fmt,
            models=models,
            max_rate_wait=None if max_rate_wait is None else float(max_rate_wait),
        )


def _scope_names(scopes: object) -> tuple[str, ...]:
    """``scopes``: a list (or other iterable) of scope names, each one name; read once, as a tuple."""
    if isinstance(scopes, str | bytes):
        raise ConfigurationError("scopes must be a list of scope names, not one string")
    if not isinstance(scopes, Iterable):
        raise ConfigurationError(
            "scopes must be a list of scope names such as ['core.invoice.read'] (Coupa.scopes_for([...]) "
            f"derives them; [] for none), got {type(scopes).__name__}"
        )
    names = tuple(scopes)
    for scope in names:
        if not isinstance(scope, str) or not scope or any(c.isspace() or c == "," for c in scope):
            raise ConfigurationError(
                f"scopes: invalid scope {scope!r}: one non-empty name per item, e.g. 'core.invoice.read'"
            )
    return names


def check_transport(transport: object, expected: type, client: str) -> None:
    """A client's ``transport``: an httpx transport of the client's kind (sync or async), or None."""
    if transport is not None and not isinstance(transport, expected):
        kind = "an async" if expected is httpx.AsyncBaseTransport else "a sync"
        raise ConfigurationError(
            f"transport must be {kind} httpx transport (httpx.{expected.__name__}) for {client}, "
            f"got {type(transport).__name__}"
        )


def build_settings(opts: ClientOptions) -> Settings:
    return Settings(
        instance_url=opts.instance_url,
        retry=opts.retry,
        limiter=opts.limiter,
        fmt=opts.fmt,
        models=opts.models,
        max_rate_wait=opts.max_rate_wait,
    )
