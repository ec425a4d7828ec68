"""The credential vault: AES-256-GCM with a key ring, so keys can be rotated without downtime.

Keys come from ``PYCOUPA_ENCRYPTION_KEYS`` as ``kid:base64key[,kid:base64key...]``: the first key
encrypts, every key decrypts. A ciphertext is ``v1.<kid>.<base64url(nonce || ciphertext+tag)>``,
and its associated data binds it to the row that owns it (an integrated account's id), so a
ciphertext copied onto another account does not decrypt. ``pycoupa vault re-encrypt`` rewrites
every row with the first key, after which older keys can be dropped.

In demo mode, when no key is given, one is generated into a key file created with 0600
permissions; outside demo mode a missing key is an error (a server must not invent the key that
protects its customers' credentials).
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import secrets
from collections.abc import Mapping
from pathlib import Path

import orjson
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

VERSION = "v1"
_KID = re.compile(r"^[A-Za-z0-9_-]{1,32}$")


class VaultError(Exception):
    """A key is missing or malformed, or a ciphertext cannot be opened. Never carries key material."""


def _b64decode(text: str) -> bytes:
    padded = text + "=" * (-len(text) % 4)
    return base64.urlsafe_b64decode(padded.encode("ascii"))


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def new_key_spec(kid: str | None = None) -> str:
    """A fresh ``kid:base64key`` entry for ``PYCOUPA_ENCRYPTION_KEYS``."""
    kid = kid or "k" + secrets.token_hex(4)
    return f"{kid}:{_b64encode(AESGCM.generate_key(bit_length=256))}"


class KeyRing:
    """Named AES-256 keys; the first one is primary (encrypts)."""

    def __init__(self, keys: Mapping[str, bytes], primary: str) -> None:
        if primary not in keys:
            raise VaultError("the primary key is not in the key ring")
        self._keys = dict(keys)
        self.primary = primary

    def __repr__(self) -> str:
        return f"KeyRing(kids={list(self._keys)!r}, primary={self.primary!r})"

    @property
    def kids(self) -> list[str]:
        return list(self._keys)

    @classmethod
    def parse(cls, spec: str) -> KeyRing:
        entries = [e.strip() for e in spec.split(",") if e.strip()]
        if not entries:
            raise VaultError("no encryption keys given (PYCOUPA_ENCRYPTION_KEYS is empty)")
        keys: dict[str, bytes] = {}
        for index, entry in enumerate(entries, 1):
            kid, sep, material = entry.partition(":")
            if not sep:
                raise VaultError(f"encryption key #{index} must be written kid:base64key")
            if not _KID.match(kid):
                raise VaultError(f"encryption key #{index}: key id must be 1-32 letters, digits, '-' or '_'")
            if kid in keys:
                raise VaultError(f"encryption key id {kid!r} appears twice")
            try:
                key = _b64decode(material)
            except (binascii.Error, ValueError):
                raise VaultError(f"encryption key {kid!r} is not valid base64") from None
            if len(key) != 32:
                raise VaultError(f"encryption key {kid!r} must be 32 bytes (AES-256), got {len(key)}")
            keys[kid] = key
        return cls(keys, entries[0].partition(":")[0])

    @classmethod
    def from_key_file(cls, path: Path, *, create: bool) -> KeyRing:
        """Read keys from ``path``; with ``create``, make the file (mode 0600) with a new key first."""
        if not path.exists():
            if not create:
                raise VaultError(f"key file {path} does not exist")
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(new_key_spec() + "\n")
        mode = path.stat().st_mode & 0o777
        if mode & 0o077:
            raise VaultError(f"key file {path} is readable by others (mode {mode:o}); chmod 600 it")
        return cls.parse(path.read_text().strip())

    # -- encryption -----------------------------------------------------------------------------
    def encrypt(self, plaintext: bytes, context: str) -> str:
        nonce = os.urandom(12)
        sealed = AESGCM(self._keys[self.primary]).encrypt(nonce, plaintext, context.encode())
        return f"{VERSION}.{self.primary}.{_b64encode(nonce + sealed)}"

    def decrypt(self, token: str, context: str) -> bytes:
        parts = token.split(".")
        if len(parts) != 3 or parts[0] != VERSION:
            raise VaultError("ciphertext is not in the v1 format")
        kid = parts[1]
        key = self._keys.get(kid)
        if key is None:
            raise VaultError(f"ciphertext was sealed with key {kid!r}, which is not in PYCOUPA_ENCRYPTION_KEYS")
        try:
            blob = _b64decode(parts[2])
            return AESGCM(key).decrypt(blob[:12], blob[12:], context.encode())
        except (InvalidTag, ValueError, binascii.Error):
            raise VaultError("ciphertext does not open: wrong key, wrong owner or tampered") from None

    def key_id_of(self, token: str) -> str:
        parts = token.split(".")
        return parts[1] if len(parts) == 3 else ""

    def seal_json(self, data: Mapping[str, object], context: str) -> str:
        return self.encrypt(orjson.dumps(dict(data)), context)

    def open_json(self, token: str, context: str) -> dict[str, object]:
        value = orjson.loads(self.decrypt(token, context))
        if not isinstance(value, dict):
            raise VaultError("sealed credentials are not an object")
        return value

    # -- derived keys ---------------------------------------------------------------------------
    def derived(self, purpose: str) -> list[bytes]:
        """Per-purpose subkeys (HKDF-SHA256) of every key, primary first: e.g. cursor signing keys,
        so rotating the encryption keys rotates them too and old cursors stay valid while the old
        key is still listed."""
        out = []
        for kid in [self.primary, *[k for k in self._keys if k != self.primary]]:
            hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=f"pycoupa:{purpose}".encode())
            out.append(hkdf.derive(self._keys[kid]))
        return out
