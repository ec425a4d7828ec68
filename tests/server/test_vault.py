"""The credential vault: AES-GCM sealing, key rotation, key files, and errors without key material."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from pycoupa.server.vault import KeyRing, VaultError, new_key_spec


def test_seal_and_open_round_trip() -> None:
    ring = KeyRing.parse(new_key_spec("a"))
    sealed = ring.seal_json({"client_secret": "s3cret-value"}, "integrated-account:1")
    assert "s3cret" not in sealed and sealed.startswith("v1.a.")
    assert ring.open_json(sealed, "integrated-account:1") == {"client_secret": "s3cret-value"}


def test_same_plaintext_seals_differently_each_time() -> None:
    ring = KeyRing.parse(new_key_spec("a"))
    assert ring.encrypt(b"x", "c") != ring.encrypt(b"x", "c")


def test_ciphertext_is_bound_to_its_owner() -> None:
    ring = KeyRing.parse(new_key_spec("a"))
    sealed = ring.encrypt(b"secret", "integrated-account:1")
    with pytest.raises(VaultError, match="does not open"):
        ring.decrypt(sealed, "integrated-account:2")


def test_tampered_ciphertext_is_refused() -> None:
    ring = KeyRing.parse(new_key_spec("a"))
    sealed = ring.encrypt(b"secret", "c")
    flipped = sealed[:-2] + ("A" if sealed[-2] != "A" else "B") + sealed[-1]
    with pytest.raises(VaultError):
        ring.decrypt(flipped, "c")


def test_rotation_old_ciphertexts_open_with_new_ring_and_reseal_with_primary() -> None:
    old_spec = new_key_spec("old")
    old = KeyRing.parse(old_spec)
    sealed = old.encrypt(b"secret", "c")
    rotated = KeyRing.parse(f"{new_key_spec('new')},{old_spec}")
    assert rotated.primary == "new"
    assert rotated.decrypt(sealed, "c") == b"secret"
    resealed = rotated.encrypt(rotated.decrypt(sealed, "c"), "c")
    assert rotated.key_id_of(resealed) == "new"
    with pytest.raises(VaultError, match="'new'"):
        old.decrypt(resealed, "c")


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("", "no encryption keys"),
        ("justbase64", "kid:base64key"),
        ("bad id!:AAAA", "key id"),
        ("a:not*base64", "base64"),
        ("a:AAAA", "32 bytes"),
    ],
)
def test_bad_key_specs_are_named(spec: str, message: str) -> None:
    with pytest.raises(VaultError, match=message):
        KeyRing.parse(spec)


def test_duplicate_key_ids_refused() -> None:
    spec = new_key_spec("a")
    with pytest.raises(VaultError, match="twice"):
        KeyRing.parse(f"{spec},{spec}")


def test_errors_and_repr_never_show_key_material() -> None:
    spec = new_key_spec("a")
    material = spec.split(":", 1)[1]
    ring = KeyRing.parse(spec)
    assert material not in repr(ring)
    with pytest.raises(VaultError) as info:
        KeyRing.parse(spec[:-4])  # truncated key: wrong length
    assert material[:-4] not in str(info.value)


def test_key_file_is_created_0600_and_reused(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "vault.keys"
    ring = KeyRing.from_key_file(path, create=True)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    again = KeyRing.from_key_file(path, create=True)
    sealed = ring.encrypt(b"x", "c")
    assert again.decrypt(sealed, "c") == b"x"


def test_world_readable_key_file_refused(tmp_path: Path) -> None:
    path = tmp_path / "vault.keys"
    path.write_text(new_key_spec("a"))
    path.chmod(0o644)
    with pytest.raises(VaultError, match="chmod 600"):
        KeyRing.from_key_file(path, create=False)


def test_missing_key_file_without_create(tmp_path: Path) -> None:
    with pytest.raises(VaultError, match="does not exist"):
        KeyRing.from_key_file(tmp_path / "none", create=False)


def test_derived_keys_differ_by_purpose_and_follow_rotation() -> None:
    a, b = new_key_spec("a"), new_key_spec("b")
    ring = KeyRing.parse(f"{a},{b}")
    assert ring.derived("cursor") != ring.derived("other")
    assert ring.derived("cursor")[1] == KeyRing.parse(b).derived("cursor")[0]
