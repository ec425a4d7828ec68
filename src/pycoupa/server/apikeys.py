"""Platform API keys: ``pck_`` + 32 random bytes, shown once, stored only as a SHA-256 hash.

A fast hash is right here (unlike passwords): the keys carry 256 bits of randomness, so there
is nothing to brute-force, and every request must verify one.
"""

from __future__ import annotations

import hashlib
import secrets

PREFIX = "pck_"


def new_key() -> str:
    return PREFIX + secrets.token_urlsafe(32)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def display_prefix(key: str) -> str:
    """Enough of the key to tell keys apart in a list, far too little to use."""
    return key[: len(PREFIX) + 6]


def looks_like_key(value: str) -> bool:
    return value.startswith(PREFIX) and 20 <= len(value) <= 100 and value.isascii()
