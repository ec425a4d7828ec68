"""Opaque, signed list cursors.

A cursor carries where the next page starts in Coupa (the source and the last Coupa id read,
a keyset position) and a digest of the request it belongs to (account, resource, filters), so
it cannot be forged, nor replayed against another account, resource or filter set. It is
``base64url(payload) + "." + base64url(HMAC-SHA256)``, with HMAC keys derived from the vault's
keys (any key in the ring verifies, so rotating keys does not break live cursors).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass

import orjson


class CursorError(ValueError):
    pass


@dataclass(frozen=True)
class Position:
    source: int  # index of the resource's source (0 unless the resource is composite)
    after_id: int  # the last Coupa id returned (keyset: the next page asks for id[gt])


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def request_digest(*parts: object) -> str:
    return hashlib.sha256(orjson.dumps(parts, option=orjson.OPT_SORT_KEYS)).hexdigest()[:16]


class CursorSigner:
    def __init__(self, keys: Sequence[bytes]) -> None:
        if not keys:
            raise ValueError("at least one cursor key is needed")
        self._keys = list(keys)

    def __repr__(self) -> str:
        return f"CursorSigner(keys={len(self._keys)})"

    def encode(self, position: Position, digest: str) -> str:
        payload = orjson.dumps({"s": position.source, "a": position.after_id, "d": digest})
        mac = hmac.digest(self._keys[0], payload, "sha256")  # one-shot: OpenSSL's fast path
        return f"{_b64(payload)}.{_b64(mac)}"

    def decode(self, cursor: str, digest: str) -> Position:
        try:
            body, _, sig = cursor.partition(".")
            payload, mac = _unb64(body), _unb64(sig)
        except (binascii.Error, ValueError, UnicodeEncodeError):
            raise CursorError("next_cursor is not a cursor this server issued") from None
        if not any(hmac.compare_digest(hmac.digest(k, payload, "sha256"), mac) for k in self._keys):
            raise CursorError("next_cursor is not a cursor this server issued (bad signature)")
        data = orjson.loads(payload)
        if data.get("d") != digest:
            raise CursorError(
                "next_cursor belongs to another request: repeat the same integrated account, resource and filters"
            )
        source, after = data.get("s"), data.get("a")
        if not isinstance(source, int) or not isinstance(after, int):
            raise CursorError("next_cursor is malformed")
        return Position(source, after)
