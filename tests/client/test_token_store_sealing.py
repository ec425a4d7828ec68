"""RedisTokenStore with seal/unseal hooks: Redis never holds the token in the clear."""

from __future__ import annotations

import time
import uuid

import pytest
import redis

from pycoupa.client.errors import Secret
from pycoupa.client.token_store import RedisTokenStore, Token

BEARER = "at-" + uuid.uuid4().hex


def _seal(text: str, key: str) -> str:
    return "sealed:" + key + ":" + text[::-1]


def _unseal(text: str, key: str) -> str:
    prefix = "sealed:" + key + ":"
    if not text.startswith(prefix):
        raise ValueError("does not open")
    return text[len(prefix) :][::-1]


@pytest.fixture
def client() -> redis.Redis:
    return redis.Redis.from_url("redis://127.0.0.1:6379/0")


def _token() -> Token:
    return Token(Secret(BEARER), time.time() + 600, ("core.invoice.read",))


async def test_stored_sealed_read_back_unsealed(client: redis.Redis) -> None:
    prefix = f"pycoupa:test:{uuid.uuid4().hex}:"
    store = RedisTokenStore(client, prefix=prefix, seal=_seal, unseal=_unseal)
    store.set("acct", _token())
    raw = client.get(prefix + "acct")
    assert raw is not None and raw.startswith(b"sealed:acct:") and BEARER.encode() not in raw
    got = store.get("acct")
    assert got is not None and got.same_access_token(_token())
    await store.aset("other", _token())
    assert (await store.aget("other")) is not None


def test_a_value_that_does_not_open_is_ignored(client: redis.Redis) -> None:
    prefix = f"pycoupa:test:{uuid.uuid4().hex}:"
    RedisTokenStore(client, prefix=prefix).set("acct", _token())  # written in the clear
    sealed = RedisTokenStore(client, prefix=prefix, seal=_seal, unseal=_unseal)
    assert sealed.get("acct") is None  # mint anew rather than fail
    # ...and the key bound into the seal: another key's value does not open here.
    sealed.set("a", _token())
    client.set(prefix + "b", client.get(prefix + "a") or b"", px=60_000)
    assert sealed.get("b") is None


def test_seal_and_unseal_come_together(client: redis.Redis) -> None:
    with pytest.raises(ValueError, match="both"):
        RedisTokenStore(client, seal=_seal)
