"""Live Coupa clients for integrated accounts, and the rate budget of each Coupa instance.

One ``AsyncCoupa`` per account (rebuilt when its credentials change), all sharing one token store
and one limiter per instance URL. With Redis the limiter is ``RedisRateLimiter`` on the
instance's key, so every worker process of every server draws from the same 25 requests/s;
without Redis it is in-process. Tokens are shared the same way (``RedisTokenStore``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import httpx
import redis

from pycoupa.client.async_ import AsyncCoupa
from pycoupa.client.ratelimit import LocalRateLimiter, RateLimiter, RedisRateLimiter, instance_key
from pycoupa.client.token_store import MemoryTokenStore, RedisTokenStore, TokenStore

TransportFactory = Callable[[str], httpx.AsyncBaseTransport | None]


@dataclass(frozen=True)
class Credentials:
    instance_url: str
    client_id: str
    client_secret: str
    scopes: tuple[str, ...]
    refresh_token: str | None = None

    def __repr__(self) -> str:
        return f"Credentials(instance_url={self.instance_url!r}, client_id={self.client_id!r}, client_secret='***')"


class ConnectionPool:
    def __init__(
        self,
        *,
        rps: float,
        burst: int,
        redis_client: redis.Redis | None = None,
        headroom: int | None = None,
        transport_factory: TransportFactory | None = None,
        timeout: float = 60.0,
        max_wait: float | None = None,
        seal: Callable[[str, str], str] | None = None,
        unseal: Callable[[str, str], str] | None = None,
    ) -> None:
        self.rps, self.burst, self.headroom = rps, burst, headroom
        # A call the instance's budget would hold longer than this is refused at once (429 with
        # Retry-After) instead of queueing behind everyone else's: callers learn when to come back.
        self.max_wait = max_wait
        self._redis = redis_client
        self._transport_factory = transport_factory
        self._timeout = timeout
        self._limiters: dict[str, RateLimiter] = {}
        self._clients: dict[str, tuple[int, AsyncCoupa]] = {}
        self.token_store: TokenStore = (
            RedisTokenStore(redis_client, prefix="pycoupa:server:token:", seal=seal, unseal=unseal)
            if redis_client is not None
            else MemoryTokenStore()
        )

    def __repr__(self) -> str:
        return f"ConnectionPool(clients={len(self._clients)}, shared={'redis' if self._redis else 'process'})"

    def limiter(self, instance_url: str) -> RateLimiter:
        key = instance_url.rstrip("/").lower()
        found = self._limiters.get(key)
        if found is None:
            if self._redis is not None:
                found = RedisRateLimiter(self._redis, instance_key(key), self.rps, self.burst, headroom=self.headroom)
            else:
                found = LocalRateLimiter(rps=self.rps, burst=self.burst, headroom=self.headroom)
            self._limiters[key] = found
        return found

    def build(self, creds: Credentials, *, private_tokens: bool = False) -> AsyncCoupa:
        """A new client for ``creds``. ``private_tokens`` gives it a token store of its own: validating
        credentials must mint a token with them, not reuse one another client cached."""
        transport = self._transport_factory(creds.instance_url) if self._transport_factory else None
        return AsyncCoupa(
            creds.instance_url,
            client_id=creds.client_id,
            client_secret=creds.client_secret,
            scopes=list(creds.scopes),
            refresh_token=creds.refresh_token,
            transport=transport,
            token_store=MemoryTokenStore() if private_tokens else self.token_store,
            rate_limiter=self.limiter(creds.instance_url),
            models=False,
            timeout=self._timeout,
            max_rate_wait=self.max_wait,
        )

    def get(self, account_id: str, version: int, load: Callable[[], Credentials]) -> AsyncCoupa:
        cached = self._clients.get(account_id)
        if cached is not None and cached[0] == version:
            return cached[1]
        client = self.build(load())
        self._clients[account_id] = (version, client)
        return client

    async def forget(self, account_id: str) -> None:
        cached = self._clients.pop(account_id, None)
        if cached is not None:
            await cached[1].aclose()

    async def aclose(self) -> None:
        for _, client in self._clients.values():
            await client.aclose()
        self._clients.clear()
