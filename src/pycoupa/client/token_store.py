"""Where access tokens live, so that threads, tasks and processes can share one token.

A :class:`TokenStore` keeps :class:`Token` objects under a key naming (instance URL, client_id,
scopes) -- see :func:`token_key` -- and offers a lock per key, which :class:`~pycoupa.client.auth.CoupaOAuth`
holds while it mints, so that many callers needing a token at once cause one token request.

Implementations:

- :class:`MemoryTokenStore`: one process (threads and event loops alike); the default.
- :class:`FileTokenStore`: processes on one machine; a JSON file (0600, replaced atomically) and
  ``fcntl.flock`` lock files beside it. POSIX only.
- :class:`RedisTokenStore`: processes anywhere; a key per token expiring with the token, and a lease
  lock (``SET NX PX`` with a random owner, released by a compare-and-delete script).

Every lock is taken by polling with a short backoff, because the same lock must exclude a thread
blocked in ``lock()`` and a coroutine awaiting ``alock()``; waiting longer than ``timeout`` raises
:class:`TokenLockTimeout`.

A store that fails (Redis unreachable, a token file that cannot be written) raises
:class:`~pycoupa.client.errors.TokenStoreError` with the original error as its ``__cause__``, and
:class:`TokenLockTimeout` is one too: both are in the client's error tree.
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
import hashlib
import json
import logging
import os
import secrets
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from contextlib import AbstractAsyncContextManager, AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable
from urllib.parse import urlsplit

from redis.exceptions import RedisError

from pycoupa.client.errors import Secret, TokenLockTimeout, TokenStoreError, redact

if TYPE_CHECKING:
    import redis
    import redis.asyncio

__all__ = [
    "FileTokenStore",
    "MemoryTokenStore",
    "RedisTokenStore",
    "Token",
    "TokenLockTimeout",
    "TokenStore",
    "token_key",
]

log = logging.getLogger(__name__)

DEFAULT_LOCK_TIMEOUT = 30.0
# The request extension where ``CoupaOAuth`` records the scopes of the token it attached (a tuple),
# so that a 403 can say which of the scopes an operation needs the token lacks.
TOKEN_SCOPES_EXTENSION = "pycoupa.token_scopes"


@dataclass(frozen=True, repr=False)
class Token:
    """An access token and what is known about it. Secrets stay inside :class:`Secret`.

    ``issued_at`` (epoch seconds, optional) lets the auth flow shorten its refresh margin for
    tokens that live less than twice that margin, instead of re-minting on every request.
    """

    access_token: Secret
    expires_at: float
    scopes: tuple[str, ...] = ()
    refresh_token: Secret | None = None
    issued_at: float | None = None

    def __repr__(self) -> str:
        refresh = "<set>" if self.refresh_token is not None else None
        return f"Token(expires_at={self.expires_at!r}, scopes={self.scopes!r}, refresh_token={refresh})"

    def same_access_token(self, other: Token | None) -> bool:
        """Whether ``other`` carries the same access token (``Secret`` compares in constant time)."""
        return other is not None and self.access_token == other.access_token

    def to_dict(self) -> dict[str, Any]:
        """The plain form stores persist. It holds the secrets: keep it out of logs."""
        return {
            "access_token": self.access_token.get(),
            "expires_at": self.expires_at,
            "scopes": list(self.scopes),
            "refresh_token": self.refresh_token.get() if self.refresh_token is not None else None,
            "issued_at": self.issued_at,
        }

    @classmethod
    def from_dict(cls, data: Any) -> Token:
        """Inverse of :meth:`to_dict`; ``ValueError`` on a malformed entry (message without secrets)."""
        if not isinstance(data, dict):
            raise ValueError("token entry is not an object")
        access = data.get("access_token")
        expires_at = data.get("expires_at")
        scopes = data.get("scopes", [])
        refresh = data.get("refresh_token")
        issued_at = data.get("issued_at")
        if not isinstance(access, str) or not access:
            raise ValueError("token entry has no access_token")
        if not isinstance(expires_at, int | float) or isinstance(expires_at, bool):
            raise ValueError("token entry has no numeric expires_at")
        if not isinstance(scopes, list) or not all(isinstance(s, str) for s in scopes):
            raise ValueError("token entry has malformed scopes")
        if refresh is not None and not isinstance(refresh, str):
            raise ValueError("token entry has a malformed refresh_token")
        if issued_at is not None and (not isinstance(issued_at, int | float) or isinstance(issued_at, bool)):
            raise ValueError("token entry has a malformed issued_at")
        return cls(
            access_token=Secret(access),
            expires_at=float(expires_at),
            scopes=tuple(scopes),
            refresh_token=Secret(refresh) if refresh else None,
            issued_at=float(issued_at) if issued_at is not None else None,
        )

    def dumps(self) -> str:
        return json.dumps(self.to_dict(), separators=(",", ":"))

    @classmethod
    def loads(cls, text: str | bytes) -> Token:
        try:
            data = json.loads(text)
        except ValueError:
            raise ValueError("token entry is not JSON") from None  # the parser's message may quote the token
        return cls.from_dict(data)


def token_key(instance_url: str, client_id: str, scopes: Iterable[str], subject: str | None = None) -> str:
    """The store key for tokens of one client on one instance with one set of scopes.

    Scope order and duplicates do not matter (they grant the same). ``subject`` separates tokens
    that differ otherwise, e.g. authorization-code tokens of different users. The client_id stays
    readable for operators; the rest is hashed to keep keys short.
    """
    parts = urlsplit(instance_url.strip())
    instance = f"{parts.scheme.lower()}://{parts.netloc.lower()}{parts.path.rstrip('/')}"
    material = "\n".join([instance, client_id, " ".join(sorted(set(scopes))), subject or ""])
    return f"{client_id}:{hashlib.sha256(material.encode()).hexdigest()[:32]}"


@runtime_checkable
class TokenStore(Protocol):
    """Shared token storage with a per-key lock. ``timeout`` bounds the wait for the lock and, for
    stores whose holder may die without unlocking (Redis), how long the lock outlives its holder."""

    def get(self, key: str) -> Token | None: ...
    def set(self, key: str, token: Token) -> None: ...
    def delete(self, key: str) -> None: ...
    async def aget(self, key: str) -> Token | None: ...
    async def aset(self, key: str, token: Token) -> None: ...
    async def adelete(self, key: str) -> None: ...
    def lock(self, key: str, timeout: float = DEFAULT_LOCK_TIMEOUT) -> AbstractContextManager[None]: ...
    def alock(self, key: str, timeout: float = DEFAULT_LOCK_TIMEOUT) -> AbstractAsyncContextManager[None]: ...


# -- locking by polling ----------------------------------------------------------------------------


class _Lease(Protocol):
    """One attempt-able hold on a lock; a fresh lease per ``lock()`` call."""

    def try_acquire(self) -> bool: ...
    def release(self) -> None: ...
    async def atry_acquire(self) -> bool: ...
    async def arelease(self) -> None: ...


_FIRST_DELAY = 0.001
_MAX_DELAY = 0.025


def _timed_out(key: str, timeout: float) -> TokenLockTimeout:
    return TokenLockTimeout(f"could not take the token lock for {key!r} within {timeout:g} s")


@contextlib.contextmanager
def _failures(store: str, action: str, errors: tuple[type[Exception], ...]) -> Iterator[None]:
    """Re-raises a store's own failure (``errors``) as ``TokenStoreError``, chained. The message has
    the failure's type and text (Redis and the OS name a host, a path, a refusal; never a token),
    redacted all the same: a URL password or a live secret would be masked."""
    try:
        yield
    except TokenStoreError:
        raise  # already said (TokenLockTimeout is an OSError too)
    except errors as exc:
        detail = " ".join(str(exc).split())[:300] or "no detail"
        raise TokenStoreError(redact(f"{store}: could not {action}: {type(exc).__name__}: {detail}")) from exc


@contextlib.contextmanager
def _hold(lease: _Lease, key: str, timeout: float) -> Iterator[None]:
    deadline = time.monotonic() + timeout
    delay = _FIRST_DELAY
    while not lease.try_acquire():
        if time.monotonic() >= deadline:
            raise _timed_out(key, timeout)
        time.sleep(delay)
        delay = min(delay * 2, _MAX_DELAY)
    try:
        yield
    finally:
        lease.release()


@contextlib.asynccontextmanager
async def _ahold(lease: _Lease, key: str, timeout: float) -> AsyncIterator[None]:
    deadline = time.monotonic() + timeout
    delay = _FIRST_DELAY
    while not await lease.atry_acquire():
        if time.monotonic() >= deadline:
            raise _timed_out(key, timeout)
        await asyncio.sleep(delay)
        delay = min(delay * 2, _MAX_DELAY)
    try:
        yield
    finally:
        await lease.arelease()


class _LeaseStore(abc.ABC):
    """``lock``/``alock`` for stores that can hand out a :class:`_Lease`."""

    @abc.abstractmethod
    def _lease(self, key: str, timeout: float) -> _Lease:
        """A lease on ``key``'s mint lock; each store takes it its own way (flock, Redis SET NX)."""

    def lock(self, key: str, timeout: float = DEFAULT_LOCK_TIMEOUT) -> AbstractContextManager[None]:
        return _hold(self._lease(key, timeout), key, timeout)

    def alock(self, key: str, timeout: float = DEFAULT_LOCK_TIMEOUT) -> AbstractAsyncContextManager[None]:
        return _ahold(self._lease(key, timeout), key, timeout)


# -- memory ----------------------------------------------------------------------------------------


class _ThreadLease:
    def __init__(self, lock: threading.Lock) -> None:
        self._lock = lock

    def try_acquire(self) -> bool:
        return self._lock.acquire(blocking=False)

    def release(self) -> None:
        self._lock.release()

    # Non-blocking and in-memory: safe to call on the event loop.
    async def atry_acquire(self) -> bool:
        return self._lock.acquire(blocking=False)

    async def arelease(self) -> None:
        self._lock.release()


_PRUNE_ABOVE = 1024  # tokens a MemoryTokenStore holds before it drops the expired ones
_REFRESH_GRACE = 7 * 86400.0  # seconds an expired token's refresh token is kept for a new client


class MemoryTokenStore(_LeaseStore):
    """Tokens in a dict: shared by the threads and event loops of one process."""

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._tokens: dict[str, Token] = {}
        self._locks: dict[str, threading.Lock] = {}

    def __repr__(self) -> str:
        return f"MemoryTokenStore(keys={len(self._tokens)})"

    def get(self, key: str) -> Token | None:
        with self._mutex:
            return self._tokens.get(key)

    def set(self, key: str, token: Token) -> None:
        with self._mutex:
            self._tokens[key] = token
            if len(self._tokens) > _PRUNE_ABOVE:
                self._prune(time.time())

    def _prune(self, now: float) -> None:
        """A long-lived process meeting many clients: drop the tokens nobody can use again (expired;
        with a refresh token, expired for a week, as a client still running keeps its own newest
        refresh token) and the mint locks nobody holds of keys without a token. Under ``_mutex``."""
        for key, token in list(self._tokens.items()):
            grace = _REFRESH_GRACE if token.refresh_token is not None else 0.0
            if token.expires_at + grace < now:
                del self._tokens[key]
        for key, lock in list(self._locks.items()):
            if key not in self._tokens and not lock.locked():
                del self._locks[key]

    def delete(self, key: str) -> None:
        with self._mutex:
            self._tokens.pop(key, None)

    def clear(self) -> None:
        """Forget every token (the next call of each client mints)."""
        with self._mutex:
            self._tokens.clear()
            self._locks = {k: lock for k, lock in self._locks.items() if lock.locked()}

    async def aget(self, key: str) -> Token | None:
        return self.get(key)

    async def aset(self, key: str, token: Token) -> None:
        self.set(key, token)

    async def adelete(self, key: str) -> None:
        self.delete(key)

    def _lease(self, key: str, timeout: float) -> _Lease:
        with self._mutex:
            lock = self._locks.setdefault(key, threading.Lock())
        return _ThreadLease(lock)


# -- file ------------------------------------------------------------------------------------------


class _FlockLease:
    """An exclusive ``flock`` on a lock file. Each lease opens its own descriptor, so the lock also
    excludes other threads of this process (flock locks belong to the open file description)."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._fd: int | None = None

    def try_acquire(self) -> bool:
        import fcntl

        with _failures(f"token lock file {self._path}", "take the token lock", (OSError,)):
            fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                return False
            except BaseException:
                os.close(fd)
                raise
        self._fd = fd
        return True

    def release(self) -> None:
        import fcntl

        if self._fd is not None:
            fd, self._fd = self._fd, None
            with _failures(f"token lock file {self._path}", "release the token lock", (OSError,)):
                try:
                    fcntl.flock(fd, fcntl.LOCK_UN)
                finally:
                    os.close(fd)

    # A non-blocking flock is a quick system call: no thread needed.
    async def atry_acquire(self) -> bool:
        return self.try_acquire()

    async def arelease(self) -> None:
        self.release()


class FileTokenStore(_LeaseStore):
    """Tokens in one JSON file shared by the processes of a machine (POSIX).

    The file is ``{"version": 1, "tokens": {key: token}}``, created with mode 0600 and always
    replaced atomically (write a temporary file, fsync, rename), so readers never see half a file
    and need no lock. Writers serialise their read-modify-write on ``<path>.lock``; mint locks are
    ``<path>.<hash of key>.lock``. Lock files stay on disk on purpose: unlinking a lock file while
    another process waits on it would let two holders in.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._cache_lock = threading.Lock()
        self._cache: tuple[tuple[int, int, int], dict[str, Any]] | None = None

    def __repr__(self) -> str:
        return f"FileTokenStore({str(self.path)!r})"

    def _ensure_dir(self) -> None:
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)

    def _lock_path(self, key: str) -> Path:
        digest = hashlib.sha256(key.encode()).hexdigest()[:16]
        return self.path.with_name(f"{self.path.name}.{digest}.lock")

    def _read(self, *, use_cache: bool = True) -> dict[str, Any]:
        """The ``tokens`` mapping; re-parsed only when the file changed (stat is cheaper than JSON)."""
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return {}
        stamp = (st.st_ino, st.st_mtime_ns, st.st_size)
        with self._cache_lock:
            if use_cache and self._cache is not None and self._cache[0] == stamp:
                return self._cache[1]
        try:
            raw = self.path.read_bytes()
            data = json.loads(raw)
            tokens = data["tokens"] if isinstance(data, dict) and isinstance(data.get("tokens"), dict) else None
        except FileNotFoundError:
            return {}
        except ValueError:
            tokens = None
        if tokens is None:
            # Never quote the content: it may hold tokens.
            log.warning("token file %s is not a pycoupa token file; treating it as empty", self.path)
            tokens = {}
        with self._cache_lock:
            self._cache = (stamp, tokens)
        return tokens

    def _write(self, tokens: dict[str, Any]) -> None:
        text = json.dumps({"version": 1, "tokens": tokens}, separators=(",", ":"), sort_keys=True)
        # mkstemp creates the file with mode 0600, before any secret is written into it.
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(text)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise

    @contextlib.contextmanager
    def _writing(self) -> Iterator[dict[str, Any]]:
        """Read-modify-write under the writers' lock, then replace the file."""
        import fcntl

        self._ensure_dir()
        fd = os.open(self.path.with_name(self.path.name + ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)  # held for milliseconds: a blocking wait is fine
            tokens = dict(self._read(use_cache=False))
            yield tokens
            self._write(tokens)
        finally:
            os.close(fd)  # closing the descriptor drops the flock

    def _failures(self, action: str) -> AbstractContextManager[None]:
        return _failures(f"token file {self.path}", action, (OSError,))

    def get(self, key: str) -> Token | None:
        with self._failures("read a token"):
            entry = self._read().get(key)
        if entry is None:
            return None
        try:
            return Token.from_dict(entry)
        except ValueError as exc:
            log.warning("ignoring a malformed token in %s: %s", self.path, exc)
            return None

    def set(self, key: str, token: Token) -> None:
        with self._failures("save a token"), self._writing() as tokens:
            tokens[key] = token.to_dict()

    def delete(self, key: str) -> None:
        with self._failures("delete a token"), self._writing() as tokens:
            tokens.pop(key, None)

    # Reads are a stat (plus a small read when the file changed): fine on the event loop. Writes
    # fsync, which can take a while on a busy disk: run them in a thread.
    async def aget(self, key: str) -> Token | None:
        return self.get(key)

    async def aset(self, key: str, token: Token) -> None:
        await asyncio.to_thread(self.set, key, token)

    async def adelete(self, key: str) -> None:
        await asyncio.to_thread(self.delete, key)

    def _lease(self, key: str, timeout: float) -> _Lease:
        with self._failures("create its directory"):
            self._ensure_dir()
        return _FlockLease(self._lock_path(key))


# -- redis -----------------------------------------------------------------------------------------

_RELEASE_LUA = """
if redis.call("get", KEYS[1]) == ARGV[1] then
    return redis.call("del", KEYS[1])
end
return 0
"""


def _text(raw: Any) -> str:
    return raw.decode() if isinstance(raw, bytes) else str(raw)


def _redis_failures(action: str) -> AbstractContextManager[None]:
    return _failures("Redis token store", action, (RedisError,))


class _RedisLease:
    """``SET lock owner NX PX`` and a compare-and-delete release: a lock that expires if its holder
    dies, and that a holder whose lease already expired cannot take from the next holder."""

    def __init__(self, store: RedisTokenStore, name: str, lease_ms: int) -> None:
        self._store = store
        self._name = name
        self._lease_ms = lease_ms
        self._owner = secrets.token_hex(16)

    def try_acquire(self) -> bool:
        with _redis_failures("take the token lock"):
            return bool(self._store.redis.set(self._name, self._owner, nx=True, px=self._lease_ms))

    def release(self) -> None:
        with _redis_failures("release the token lock"):
            self._store._release_script(keys=[self._name], args=[self._owner])

    async def atry_acquire(self) -> bool:
        client = self._store.async_redis
        if client is None:
            return await asyncio.to_thread(self.try_acquire)
        with _redis_failures("take the token lock"):
            return bool(await client.set(self._name, self._owner, nx=True, px=self._lease_ms))

    async def arelease(self) -> None:
        script = self._store._arelease_script
        if script is None:
            await asyncio.to_thread(self.release)
        else:
            with _redis_failures("release the token lock"):
                await script(keys=[self._name], args=[self._owner])


class RedisTokenStore(_LeaseStore):
    """Tokens in Redis, shared by every process that can reach it.

    Each token is a JSON string at ``<prefix><key>`` expiring with the token; the mint lock is
    ``<prefix><key>:lock``. Pass ``async_client`` (a ``redis.asyncio.Redis`` on the same server)
    to keep async callers off threads; otherwise the async methods run the sync client in a thread.
    ``clock`` (epoch seconds) turns ``expires_at`` into a TTL.
    """

    def __init__(
        self,
        redis_client: redis.Redis,
        prefix: str = "pycoupa:token:",
        *,
        async_client: redis.asyncio.Redis | None = None,
        clock: Callable[[], float] = time.time,
        seal: Callable[[str, str], str] | None = None,
        unseal: Callable[[str, str], str] | None = None,
    ) -> None:
        # ``seal(text, key)`` / ``unseal(text, key)`` encrypt what is stored, so that Redis (its
        # dumps, its replicas, anyone with read access) never holds a usable bearer token.
        if (seal is None) != (unseal is None):
            raise ValueError("give both seal and unseal, or neither")
        self._seal, self._unseal = seal, unseal
        self.redis = redis_client
        self.async_redis = async_client
        self.prefix = prefix
        self.clock = clock
        self._release_script = redis_client.register_script(_RELEASE_LUA)
        self._arelease_script = async_client.register_script(_RELEASE_LUA) if async_client is not None else None

    def __repr__(self) -> str:
        return f"RedisTokenStore(prefix={self.prefix!r})"

    def _name(self, key: str) -> str:
        return self.prefix + key

    def _ttl_ms(self, token: Token) -> int:
        return int((token.expires_at - self.clock()) * 1000)

    def _parse(self, key: str, raw: Any) -> Token | None:
        if raw is None:
            return None
        try:
            text = _text(raw)
            return Token.loads(self._unseal(text, key) if self._unseal else text)
        except ValueError as exc:  # a malformed entry, or one that does not open: mint anew
            log.warning("ignoring an unreadable token at %s: %s", self._name(key), type(exc).__name__)
            return None

    def _stored(self, key: str, token: Token) -> str:
        text = token.dumps()
        return self._seal(text, key) if self._seal else text

    def get(self, key: str) -> Token | None:
        with _redis_failures("read a token"):
            raw = self.redis.get(self._name(key))
        return self._parse(key, raw)

    def set(self, key: str, token: Token) -> None:
        ttl = self._ttl_ms(token)
        if ttl <= 0:  # already expired: Redis refuses a non-positive PX anyway
            self.delete(key)
        else:
            with _redis_failures("save a token"):
                self.redis.set(self._name(key), self._stored(key, token), px=ttl)

    def delete(self, key: str) -> None:
        with _redis_failures("delete a token"):
            self.redis.delete(self._name(key))

    async def aget(self, key: str) -> Token | None:
        if self.async_redis is None:
            return await asyncio.to_thread(self.get, key)
        with _redis_failures("read a token"):
            raw = await self.async_redis.get(self._name(key))
        return self._parse(key, raw)

    async def aset(self, key: str, token: Token) -> None:
        if self.async_redis is None:
            await asyncio.to_thread(self.set, key, token)
            return
        ttl = self._ttl_ms(token)
        if ttl <= 0:
            await self.adelete(key)
        else:
            with _redis_failures("save a token"):
                await self.async_redis.set(self._name(key), self._stored(key, token), px=ttl)

    async def adelete(self, key: str) -> None:
        if self.async_redis is None:
            await asyncio.to_thread(self.delete, key)
        else:
            with _redis_failures("delete a token"):
                await self.async_redis.delete(self._name(key))

    def _lease(self, key: str, timeout: float) -> _Lease:
        return _RedisLease(self, self._name(key) + ":lock", max(1, int(timeout * 1000)))
