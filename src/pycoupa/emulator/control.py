"""The control plane under ``/__emulator__/``: what a test needs to set an instance up.

It has no authentication, like moto's: never expose an emulator beyond the machine it tests on.
Every route answers JSON; bad input answers 400 ``{"error": "..."}`` naming the problem.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from pycoupa.emulator.ratelimit import RateLimitSettings

if TYPE_CHECKING:
    from pycoupa.emulator.app import Emulator


class ControlError(ValueError):
    pass


async def _json_body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise ControlError(f"body is not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise ControlError("body must be a JSON object")
    return data


def _number(data: dict[str, Any], key: str, default: float, *, minimum: float = 0.0) -> float:
    value = data.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ControlError(f"{key} must be a number")
    if value < minimum:
        raise ControlError(f"{key} must be at least {minimum:g}")
    return float(value)


def routes(emu: Emulator) -> list[Route]:
    def guarded(fn: Any) -> Any:
        async def endpoint(request: Request) -> Response:
            try:
                return await fn(request)  # type: ignore[no-any-return]
            except ControlError as exc:
                return JSONResponse({"error": str(exc)}, 400)

        return endpoint

    async def reset(request: Request) -> Response:
        emu.reset()
        return JSONResponse({"reset": True})

    async def oauth_clients(request: Request) -> Response:
        if request.method == "GET":
            clients = emu.store.all_meta("_oauth_clients")
            return JSONResponse(
                [
                    {
                        "client_id": c["client_id"],
                        "name": c["name"],
                        "scopes": c["scopes"],
                        "user_id": c["user_id"],
                    }
                    for c in clients
                ]
            )
        data = await _json_body(request)
        scopes = data.get("scopes")
        if not isinstance(scopes, list) or not all(isinstance(s, str) for s in scopes):
            raise ControlError("scopes must be a list of scope names")
        redirect_uris = data.get("redirect_uris", [])
        if not isinstance(redirect_uris, list) or not all(isinstance(u, str) for u in redirect_uris):
            raise ControlError("redirect_uris must be a list of URLs")
        name = data.get("name")
        if name is not None and not isinstance(name, str):
            raise ControlError("name must be a string")
        try:
            client_id, secret = emu.create_oauth_client(scopes, name=name, redirect_uris=redirect_uris)
        except ValueError as exc:
            raise ControlError(str(exc)) from exc
        client = emu.oauth.client(client_id) or {}
        return JSONResponse(
            {
                "client_id": client_id,
                "client_secret": secret,
                "scopes": client.get("scopes"),
                "user_id": client.get("user_id"),
            },
            201,
        )

    async def rate_limit(request: Request) -> Response:
        if request.method == "PUT":
            data = await _json_body(request)
            current = emu.buckets.settings
            retry_after = data.get("retry_after", current.retry_after)
            if not isinstance(retry_after, bool):
                raise ControlError("retry_after must be true or false")
            enabled = data.get("enabled", current.enabled)
            if not isinstance(enabled, bool):
                raise ControlError("enabled must be true or false")
            rps = _number(data, "rps", current.rps, minimum=0.001)
            burst = _number(data, "burst", current.burst, minimum=1)
            if burst != int(burst):
                raise ControlError("burst must be a whole number")
            emu.buckets.configure(
                RateLimitSettings(rps=rps, burst=int(burst), retry_after=retry_after, enabled=enabled)
            )
        s = emu.buckets.settings
        return JSONResponse({"rps": s.rps, "burst": s.burst, "retry_after": s.retry_after, "enabled": s.enabled})

    async def stats(request: Request) -> Response:
        if request.method == "DELETE":
            emu.stats.reset()
        return JSONResponse(emu.stats.snapshot())

    async def revoke_tokens(request: Request) -> Response:
        emu.oauth.revoke_all()
        return JSONResponse({"revoked": True})

    async def clock(request: Request) -> Response:
        if request.method == "POST":
            data = await _json_body(request)
            if "advance_seconds" not in data:
                raise ControlError("advance_seconds is required")
            emu.clock.advance(_number(data, "advance_seconds", 0.0, minimum=0.0))
        return JSONResponse({"now": emu.clock.now().isoformat(), "offset_seconds": emu.clock.offset})

    async def api_keys(request: Request) -> Response:
        if not emu.legacy_api_keys:
            raise ControlError("legacy API keys are disabled; start the emulator with --legacy-api-keys")
        return JSONResponse({"api_key": emu.create_api_key()}, 201)

    async def seed_data(request: Request) -> Response:
        from pycoupa.emulator.seed import parse_seed_request, seed

        try:
            counts, random_seed = parse_seed_request(await _json_body(request))
        except ValueError as exc:
            raise ControlError(str(exc)) from exc
        # Seeding 100k invoices takes about a minute: keep the event loop free meanwhile.
        made = await run_in_threadpool(seed, emu, counts, random_seed)
        return JSONResponse({"made": made, "counts": counts.as_dict(), "random_seed": random_seed}, 201)

    async def api_filters(request: Request) -> Response:
        if request.method == "GET":
            return JSONResponse([f.as_json() for f in emu.api_filters.all()])
        name = request.path_params.get("name", "")
        if request.method == "DELETE":
            if not emu.api_filters.remove(name):
                raise ControlError(f"no API filter named {name!r}")
            return JSONResponse({"deleted": name})
        data = await _json_body(request)
        resource = data.get("resource")
        if not isinstance(resource, str) or f"/{resource}" not in emu.catalog.resources:
            raise ControlError(f"resource must name a catalog resource such as 'invoices', got {resource!r}")
        if "fields" not in data:
            raise ControlError('fields is required: the projection the filter saves, e.g. ["id", "status"]')
        try:
            saved = emu.api_filters.define(name, resource, data["fields"])
        except ValueError as exc:
            raise ControlError(str(exc)) from exc
        return JSONResponse(saved.as_json(), 201)

    async def info(request: Request) -> Response:
        return JSONResponse(
            {
                "release": emu.catalog.release,
                "time_zone": emu.time_zone,
                "base_url": emu.base_url,
                "legacy_api_keys": emu.legacy_api_keys,
                "data": emu.store.path,
            }
        )

    prefix = "/__emulator__"
    return [
        Route(f"{prefix}", guarded(info), methods=["GET"]),
        Route(f"{prefix}/reset", guarded(reset), methods=["POST"]),
        Route(f"{prefix}/oauth-clients", guarded(oauth_clients), methods=["GET", "POST"]),
        Route(f"{prefix}/rate-limit", guarded(rate_limit), methods=["GET", "PUT"]),
        Route(f"{prefix}/stats", guarded(stats), methods=["GET", "DELETE"]),
        Route(f"{prefix}/revoke-tokens", guarded(revoke_tokens), methods=["POST"]),
        Route(f"{prefix}/clock", guarded(clock), methods=["GET", "POST"]),
        Route(f"{prefix}/api-keys", guarded(api_keys), methods=["POST"]),
        Route(f"{prefix}/seed", guarded(seed_data), methods=["POST"]),
        Route(f"{prefix}/api-filters", guarded(api_filters), methods=["GET"]),
        Route(f"{prefix}/api-filters/{{name}}", guarded(api_filters), methods=["PUT", "DELETE"]),
    ]
