"""The server's state and the operations on tenants, API keys and integrated accounts.

Everything a request needs lives on one :class:`Platform` built at startup: the database, the
vault's key ring, the cursor signer, the Coupa connection pool and the request limiters.
Routes stay thin; the CLI uses the same methods.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import redis
import redis.asyncio as aioredis
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from pycoupa.catalog.model import load_catalog
from pycoupa.client.errors import (
    AuthenticationError,
    ConfigurationError,
    CoupaError,
    CoupaTransportError,
    InvalidClientError,
    InvalidScopeError,
    OAuthError,
    PermissionDeniedError,
)
from pycoupa.server import apikeys, db
from pycoupa.server.connections import ConnectionPool, Credentials, TransportFactory
from pycoupa.server.cursor import CursorSigner
from pycoupa.server.egress import check_public_host
from pycoupa.server.errors import APIError, remote_error_of
from pycoupa.server.limits import Limiter, LocalLimiter, RedisLimiter
from pycoupa.server.settings import ServerSettings
from pycoupa.server.tables import ApiKey, IntegratedAccount, Tenant
from pycoupa.server.vault import KeyRing, VaultError

ACTIVE, NEEDS_REAUTH, ERROR = "active", "needs_reauth", "error"
KEY_CACHE_SECONDS = 5.0  # how long a worker trusts a verified key; revocation elsewhere takes this long


def now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Principal:
    key_id: str
    tenant_id: str


def load_keyring(settings: ServerSettings) -> KeyRing:
    if settings.encryption_keys:
        return KeyRing.parse(settings.encryption_keys)
    path = settings.default_key_file
    if path.exists() or settings.demo:
        return KeyRing.from_key_file(path, create=settings.demo)
    raise VaultError(
        "no encryption keys: set PYCOUPA_ENCRYPTION_KEYS (make one with `pycoupa vault new-key`) "
        "or --key-file; only --demo creates a key file by itself"
    )


def check_scopes(scopes: object) -> tuple[str, ...]:
    if not isinstance(scopes, list | tuple) or not all(isinstance(s, str) and s for s in scopes):
        raise APIError(400, "bad_request", "scopes must be a list of Coupa scope names", {"field": "scopes"})
    known = set(load_catalog().scopes)
    unknown = sorted(set(scopes) - known - {"offline_access"})
    if unknown:
        raise APIError(400, "bad_request", f"unknown Coupa scope(s): {', '.join(unknown)}", {"unknown": unknown})
    return tuple(dict.fromkeys(scopes))


class Platform:
    def __init__(self, settings: ServerSettings, *, transport_factory: TransportFactory | None = None) -> None:
        self.settings = settings
        self._keyring: KeyRing | None = None
        self._signer: CursorSigner | None = None
        self.engine = db.create_engine(settings.database_url)
        self.sessions = db.sessionmaker(self.engine)
        self.redis: aioredis.Redis | None = None
        sync_redis: redis.Redis | None = None
        if settings.redis_url:
            self.redis = aioredis.Redis.from_url(settings.redis_url)
            sync_redis = redis.Redis.from_url(settings.redis_url)
        # Without Redis every worker process keeps budgets of its own: each gets its share, so that
        # together they never exceed what was configured (the Coupa budget above all).
        share = 1 if self.redis is not None else settings.workers
        burst = max(1, settings.coupa_burst // share)
        self.pool = ConnectionPool(
            rps=settings.coupa_rps / share, burst=burst, headroom=min(settings.coupa_headroom // share, burst - 1),
            redis_client=sync_redis,
            transport_factory=transport_factory, max_wait=settings.coupa_max_wait,
            seal=self._seal_token, unseal=self._unseal_token,
        )  # fmt: skip
        self.key_limiter: Limiter
        self.account_limiter: Limiter
        if self.redis is not None:
            self.key_limiter = RedisLimiter(self.redis, settings.key_rps, settings.key_burst, "pycoupa:limit:key:")
            self.account_limiter = RedisLimiter(
                self.redis, settings.account_rps, settings.account_burst, "pycoupa:limit:account:"
            )
        else:
            self.key_limiter = LocalLimiter(settings.key_rps / share, max(1, settings.key_burst // share))
            self.account_limiter = LocalLimiter(settings.account_rps / share, max(1, settings.account_burst // share))
        self._key_cache: dict[str, tuple[float, Principal | None]] = {}
        self._accounts: dict[str, tuple[float, IntegratedAccount]] = {}

    def __repr__(self) -> str:
        return f"Platform({self.settings!r})"

    @property
    def keyring(self) -> KeyRing:
        """Loaded on first use: commands that never touch credentials (``keys create``) need no key."""
        if self._keyring is None:
            self._keyring = load_keyring(self.settings)
        return self._keyring

    # Coupa access tokens shared through Redis are sealed like credentials, bound to their key.
    def _seal_token(self, text: str, key: str) -> str:
        return self.keyring.encrypt(text.encode(), f"coupa-token:{key}")

    def _unseal_token(self, text: str, key: str) -> str:
        try:
            return self.keyring.decrypt(text, f"coupa-token:{key}").decode()
        except VaultError as exc:
            raise ValueError(str(exc)) from None

    @property
    def signer(self) -> CursorSigner:
        if self._signer is None:
            self._signer = CursorSigner(self.keyring.derived("cursor"))
        return self._signer

    def load_keys(self) -> None:
        """Load the key ring and the cursor signer now (the server does at startup): a missing or bad
        key stops it with the VaultError's message instead of failing requests after they reached Coupa."""
        _ = self.signer

    async def start(self) -> None:
        await db.upgrade_async(self.engine, self.settings.database_url)

    async def aclose(self) -> None:
        await self.pool.aclose()
        await self.engine.dispose()
        if self.redis is not None:
            await self.redis.aclose()

    # -- tenants and keys -------------------------------------------------------------------------
    async def find_tenant(self, name: str) -> Tenant | None:
        async with self.sessions() as s:
            found: Tenant | None = (
                await s.execute(select(Tenant).where(Tenant.name == name.strip()))
            ).scalar_one_or_none()
            return found

    async def ensure_tenant(self, name: str) -> Tenant:
        name = name.strip()
        if not name or len(name) > 200:
            raise APIError(400, "bad_request", "tenant name must be 1-200 characters", {"field": "tenant"})
        async with self.sessions() as s:
            found = (await s.execute(select(Tenant).where(Tenant.name == name))).scalar_one_or_none()
            if found is not None:
                return found
            tenant = Tenant(id=str(uuid.uuid4()), name=name, created_at=now())
            s.add(tenant)
            try:
                await s.commit()
            except IntegrityError:  # created meanwhile by another worker
                await s.rollback()
                return (await s.execute(select(Tenant).where(Tenant.name == name))).scalar_one()
            return tenant

    async def create_key(self, tenant_id: str, name: str = "") -> tuple[ApiKey, str]:
        key = apikeys.new_key()
        row = ApiKey(
            id=str(uuid.uuid4()), tenant_id=tenant_id, name=name[:200], prefix=apikeys.display_prefix(key),
            key_hash=apikeys.hash_key(key), created_at=now(), revoked_at=None,
        )  # fmt: skip
        async with self.sessions() as s:
            s.add(row)
            await s.commit()
        return row, key

    async def list_keys(self, tenant_id: str) -> Sequence[ApiKey]:
        async with self.sessions() as s:
            rows = await s.execute(select(ApiKey).where(ApiKey.tenant_id == tenant_id).order_by(ApiKey.created_at))
            return rows.scalars().all()

    async def revoke_key(self, tenant_id: str | None, key_id: str) -> bool:
        async with self.sessions() as s:
            stmt = update(ApiKey).where(ApiKey.id == key_id, ApiKey.revoked_at.is_(None))
            if tenant_id is not None:
                stmt = stmt.where(ApiKey.tenant_id == tenant_id)
            result = await s.execute(stmt.values(revoked_at=now()))
            await s.commit()
        self._key_cache.clear()
        return bool(getattr(result, "rowcount", 0))

    async def authenticate(self, presented: str) -> Principal | None:
        if not apikeys.looks_like_key(presented):
            return None
        digest = apikeys.hash_key(presented)
        cached = self._key_cache.get(digest)
        clock = time.monotonic()
        if cached is not None and cached[0] > clock:
            return cached[1]
        async with self.sessions() as s:
            row = (await s.execute(select(ApiKey).where(ApiKey.key_hash == digest))).scalar_one_or_none()
        principal = Principal(row.id, row.tenant_id) if row is not None and row.revoked_at is None else None
        if len(self._key_cache) > 10_000:
            self._key_cache.clear()
        self._key_cache[digest] = (clock + KEY_CACHE_SECONDS, principal)
        return principal

    # -- integrated accounts ------------------------------------------------------------------
    def seal(self, account_id: str, creds: Credentials) -> str:
        secret: dict[str, Any] = {"client_secret": creds.client_secret}
        if creds.refresh_token:
            secret["refresh_token"] = creds.refresh_token
        return self.keyring.seal_json(secret, context=f"integrated-account:{account_id}")

    def credentials(self, row: IntegratedAccount) -> Credentials:
        opened = self.keyring.open_json(row.credentials, context=f"integrated-account:{row.id}")
        refresh = opened.get("refresh_token")
        return Credentials(
            row.instance_url, row.client_id, str(opened["client_secret"]), tuple(row.scopes),
            str(refresh) if refresh else None,
        )  # fmt: skip

    async def validate(self, creds: Credentials) -> None:
        """Mint a token and make one cheap call the scopes allow; raise an APIError that says why not."""
        from pycoupa.server.capabilities import probe_call

        if not self.settings.allow_private_instances:
            await check_public_host(creds.instance_url)
        probe = probe_call(creds.scopes)
        if probe is None:
            raise APIError(
                400, "invalid_scopes", "the scopes grant no readable Coupa resource to test the credentials with",
                {"scopes": list(creds.scopes)},
            )  # fmt: skip
        try:
            client = self.pool.build(creds, private_tokens=True)
        except ConfigurationError as exc:
            raise APIError(400, "bad_request", str(exc), None) from None
        try:
            await client.resource(probe).list(limit=1, fields=["id"])
        except (InvalidClientError, AuthenticationError) as exc:
            raise APIError(400, "invalid_credentials", "Coupa refused the client id or secret", None,
                           remote_error=remote_error_of(exc)) from None  # fmt: skip
        except InvalidScopeError as exc:
            raise APIError(400, "invalid_scopes", "Coupa refused the scopes for this client", None,
                           remote_error=remote_error_of(exc)) from None  # fmt: skip
        except PermissionDeniedError as exc:
            raise APIError(400, "invalid_scopes", f"the token lacks a scope for {probe}", None,
                           remote_error=remote_error_of(exc)) from None  # fmt: skip
        except OAuthError as exc:
            unavailable = exc.error in ("server_error", "temporarily_unavailable")
            if unavailable or (exc.status or 0) >= 500 or exc.status == 429:
                # The token endpoint is down or throttled: says nothing about the credentials.
                raise APIError(502, "validation_failed", f"Coupa's token endpoint is unavailable ({exc.error});"
                               " try again later", None, remote_error=remote_error_of(exc)) from None  # fmt: skip
            raise APIError(400, "invalid_credentials", f"Coupa's token endpoint refused: {exc.error}", None,
                           remote_error=remote_error_of(exc)) from None  # fmt: skip
        except CoupaTransportError as exc:
            raise APIError(502, "instance_unreachable", f"could not reach {creds.instance_url}: {exc.cause}",
                           None) from None  # fmt: skip
        except CoupaError as exc:
            raise APIError(502, "validation_failed", f"the test call failed: {exc}", None,
                           remote_error=remote_error_of(exc)) from None  # fmt: skip
        finally:
            await client.aclose()

    async def create_account(self, tenant_id: str, creds: Credentials, label: str = "") -> IntegratedAccount:
        await self.validate(creds)
        account_id = str(uuid.uuid4())
        sealed = self.seal(account_id, creds)
        stamp = now()
        row = IntegratedAccount(
            id=account_id, tenant_id=tenant_id, instance_url=creds.instance_url, client_id=creds.client_id,
            credentials=sealed, key_id=self.keyring.key_id_of(sealed), scopes=list(creds.scopes), status=ACTIVE,
            status_reason="", label=label[:200], credentials_version=1, created_at=stamp, updated_at=stamp,
            last_validated_at=stamp,
        )  # fmt: skip
        async with self.sessions() as s:
            s.add(row)
            await s.commit()
        return row

    async def list_accounts(self, tenant_id: str) -> Sequence[IntegratedAccount]:
        async with self.sessions() as s:
            rows = await s.execute(
                select(IntegratedAccount)
                .where(IntegratedAccount.tenant_id == tenant_id)
                .order_by(IntegratedAccount.created_at, IntegratedAccount.id)
            )
            return rows.scalars().all()

    async def get_account(self, tenant_id: str, account_id: str, *, fresh: bool = False) -> IntegratedAccount:
        """The account if it belongs to ``tenant_id``; 404 otherwise (another tenant's account is
        indistinguishable from a missing one)."""
        cached = self._accounts.get(account_id)
        clock = time.monotonic()
        row: IntegratedAccount | None
        if not fresh and cached is not None and cached[0] > clock:
            row = cached[1]
        else:
            async with self.sessions() as s:
                row = await s.get(IntegratedAccount, account_id)
            if row is not None:
                self._accounts[account_id] = (clock + KEY_CACHE_SECONDS, row)
        if row is None or row.tenant_id != tenant_id:
            raise APIError(
                404, "not_found", f"no integrated account {account_id!r}", {"integrated_account_id": account_id}
            )
        return row

    async def update_account(self, tenant_id: str, account_id: str, changes: dict[str, Any]) -> IntegratedAccount:
        row = await self.get_account(tenant_id, account_id, fresh=True)
        moved = [
            name for name in ("instance_url", "client_id")
            if changes.get(name) is not None and changes[name] != getattr(row, name)
        ]  # fmt: skip
        if moved and not changes.get("client_secret"):
            # Validating sends the secret to the (new) instance: the stored one must never go to a
            # host, or with a client, other than the ones it was given for.
            raise APIError(
                400, "client_secret_required",
                f"changing {' or '.join(moved)} needs the client_secret in the same request: "
                "the stored secret is never sent to a new instance or client",
                {"fields": moved},
            )  # fmt: skip
        current = self.credentials(row)
        creds = Credentials(
            instance_url=changes.get("instance_url") or current.instance_url,
            client_id=changes.get("client_id") or current.client_id,
            client_secret=changes.get("client_secret") or current.client_secret,
            scopes=tuple(changes["scopes"]) if changes.get("scopes") is not None else current.scopes,
            refresh_token=current.refresh_token,
        )
        touches_credentials = any(
            changes.get(k) is not None for k in ("instance_url", "client_id", "client_secret", "scopes")
        )
        stamp = now()
        values: dict[str, Any] = {"updated_at": stamp}
        if touches_credentials:
            await self.validate(creds)
            sealed = self.seal(account_id, creds)
            values.update(
                instance_url=creds.instance_url, client_id=creds.client_id, credentials=sealed,
                key_id=self.keyring.key_id_of(sealed), scopes=list(creds.scopes), status=ACTIVE, status_reason="",
                credentials_version=row.credentials_version + 1, last_validated_at=stamp,
            )  # fmt: skip
        if changes.get("label") is not None:
            values["label"] = str(changes["label"])[:200]
        async with self.sessions() as s:
            await s.execute(update(IntegratedAccount).where(IntegratedAccount.id == account_id).values(**values))
            await s.commit()
        self._accounts.pop(account_id, None)
        await self.pool.forget(account_id)
        return await self.get_account(tenant_id, account_id, fresh=True)

    async def revalidate(self, tenant_id: str, account_id: str) -> IntegratedAccount:
        row = await self.get_account(tenant_id, account_id, fresh=True)
        try:
            await self.validate(self.credentials(row))
        except APIError as exc:
            status = NEEDS_REAUTH if exc.error in ("invalid_credentials", "invalid_scopes") else ERROR
            await self.set_status(account_id, status, exc.message)
            raise
        await self.set_status(account_id, ACTIVE, "", validated=True)
        return await self.get_account(tenant_id, account_id, fresh=True)

    async def delete_account(self, tenant_id: str, account_id: str) -> None:
        row = await self.get_account(tenant_id, account_id, fresh=True)
        async with self.sessions() as s:
            found = await s.get(IntegratedAccount, row.id)
            if found is not None:
                await s.delete(found)
                await s.commit()
        self._accounts.pop(account_id, None)
        await self.pool.forget(account_id)

    async def set_status(self, account_id: str, status: str, reason: str, *, validated: bool = False) -> None:
        values: dict[str, Any] = {"status": status, "status_reason": reason[:500], "updated_at": now()}
        if validated:
            values["last_validated_at"] = values["updated_at"]
        async with self.sessions() as s:
            await s.execute(update(IntegratedAccount).where(IntegratedAccount.id == account_id).values(**values))
            await s.commit()
        self._accounts.pop(account_id, None)

    async def re_encrypt(self) -> int:
        """Reseal every account's credentials with the primary key; returns how many changed."""
        keyring = self.keyring  # fails here, naming the problem, when no keys are configured
        changed = 0
        async with self.sessions() as s:
            rows = (await s.execute(select(IntegratedAccount))).scalars().all()
            for row in rows:
                if row.key_id == keyring.primary:
                    continue
                sealed = self.seal(row.id, self.credentials(row))
                row.credentials, row.key_id = sealed, self.keyring.key_id_of(sealed)
                changed += 1
            await s.commit()
        self._accounts.clear()
        return changed


def account_view(row: IntegratedAccount) -> dict[str, Any]:
    """What the API shows of an account: never the secret, nor any part of it."""
    return {
        "id": row.id,
        "instance_url": row.instance_url,
        "client_id": row.client_id,
        "scopes": list(row.scopes),
        "status": row.status,
        "status_reason": row.status_reason or None,
        "label": row.label or None,
        "created_at": _iso(row.created_at),
        "updated_at": _iso(row.updated_at),
        "last_validated_at": _iso(row.last_validated_at),
    }


def _iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:  # SQLite hands back naive datetimes; they were stored in UTC
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
