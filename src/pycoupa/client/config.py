"""Client options: validated once, before any request, with errors that name the argument."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from pycoupa.client._base import Settings, check_instance_url
from pycoupa.client.errors import ConfigurationError
from pycoupa.client.ratelimit import DEFAULT_BURST, DEFAULT_RPS, LocalRateLimiter, RateLimiter
from pycoupa.client.retry import RetryPolicy

__all__ = ["DEFAULT_BURST", "DEFAULT_RPS", "KNOWN_OPTIONS", "ClientOptions", "build_settings"]

KNOWN_OPTIONS = frozenset(
    {
        "refresh_token",
        "timeout",
        "retry",
        "rate_limiter",
        "rps",
        "burst",
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
        scopes: Sequence[str],
        options: Mapping[str, Any],
    ) -> ClientOptions:
        unknown = sorted(set(options) - KNOWN_OPTIONS)
        if unknown:
            raise ConfigurationError(
                f"unknown option(s): {', '.join(unknown)}; known: {', '.join(sorted(KNOWN_OPTIONS))}"
            )
        url = check_instance_url(instance_url)
        if isinstance(scopes, str):
            raise ConfigurationError("scopes must be a list of scope names, not one string")
        auth = options.get("auth")
        if auth is None:
            if not client_id or not client_secret:
                raise ConfigurationError("client_id and client_secret are required (or pass auth=...)")
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
                scopes=list(scopes),
                refresh_token=options.get("refresh_token"),
                **auth_kwargs,
            )
        timeout = options.get("timeout", 60.0)
        if not isinstance(timeout, int | float | httpx.Timeout) or isinstance(timeout, bool):
            raise ConfigurationError(f"timeout must be seconds or an httpx.Timeout, got {timeout!r}")
        retry = options.get("retry", RetryPolicy())
        if not isinstance(retry, RetryPolicy):
            raise ConfigurationError("retry must be a pycoupa.client.retry.RetryPolicy")
        if "rate_limiter" in options:
            limiter = options["rate_limiter"]
        else:
            try:
                limiter = LocalRateLimiter(
                    rps=options.get("rps", DEFAULT_RPS), burst=options.get("burst", DEFAULT_BURST)
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
        return cls(
            instance_url=url,
            client_id=client_id,
            scopes=tuple(scopes),
            auth=auth,
            timeout=timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout),
            retry=retry,
            limiter=limiter,
            fmt=fmt,
            models=bool(options.get("models", True)),
            max_rate_wait=None if max_rate_wait is None else float(max_rate_wait),
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
