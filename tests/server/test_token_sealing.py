"""Coupa access tokens shared between workers through Redis are sealed with the vault key."""

from __future__ import annotations

import orjson
import redis
from tests.server.conftest import start_server

from pycoupa.emulator.app import Emulator
from pycoupa.server.vault import VaultError

REDIS = "redis://127.0.0.1:6379/0"
TOKEN_ROUTE = "POST /oauth2/token"


async def test_tokens_in_redis_are_sealed_and_shared(tmp_path: object, coupa: Emulator) -> None:
    db = f"sqlite:///{tmp_path}/sealed.db"
    keys = None
    plain = redis.Redis.from_url(REDIS)
    async for first in start_server(db, coupa, redis_url=REDIS):
        keys = first.platform.settings.encryption_keys
        account = await first.connect()
        before = coupa.stats.by_route[TOKEN_ROUTE]
        params = {"integrated_account_id": account, "limit": "1"}
        r = await first.http.get("/unified/accounting/invoices", params=params, headers=first.auth())
        assert r.status_code == 200, r.text
        assert coupa.stats.by_route[TOKEN_ROUTE] == before + 1  # the account's client minted one
        names = [n for n in plain.scan_iter("pycoupa:server:token:*") if not n.endswith(b":lock")]
        stored = {n: plain.get(n) for n in names}
        mine = {n: v for n, v in stored.items() if v is not None}
        assert mine
        opened = []
        for name, value in mine.items():
            key = name.decode().removeprefix("pycoupa:server:token:")
            try:
                opened.append(
                    (value, orjson.loads(first.platform.keyring.decrypt(value.decode(), f"coupa-token:{key}")))
                )
            except VaultError:
                continue  # another test's token, sealed with another key
        assert opened, "no token in Redis opens with this server's key"
        for value, token in opened:
            assert value.startswith(b"v1.") and token["access_token"].encode() not in value

    # A second worker (same database, keys and Redis) uses that token without minting one.
    async for second in start_server(db, coupa, redis_url=REDIS, encryption_keys=keys):
        minted = coupa.stats.by_route[TOKEN_ROUTE]
        r = await second.http.get("/unified/accounting/invoices", params={"integrated_account_id": account,
                                  "limit": "1"}, headers=first.auth())  # fmt: skip
        assert r.status_code == 200, r.text
        assert coupa.stats.by_route[TOKEN_ROUTE] == minted
