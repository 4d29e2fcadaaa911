"""The keyring's public key-bundle API (KEY-02): export wrapped for recipients, open, restore, destroy."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pyrage
import pytest
from pyrage import x25519

from svidok.crypto.errors import KeyDestroyed, KeyringMissing, WrongPassphrase
from svidok.crypto.keyring import TEST_ARGON2, KeyBundle, KeyBundleError, Keyring, MasterSecret
from svidok.errors import ConfigError, InputError

SECRET = MasterSecret(passphrase="keys test passphrase")


def _ring(tmp_path: Path) -> Keyring:
    ring = Keyring.create(tmp_path / "src", SECRET, TEST_ARGON2)
    ring.subject_key("person-7")
    ring.subject_key("person-8")
    ring.destroy("subject:person-8")
    return ring


def test_bundle_round_trip_under_a_new_master(tmp_path: Path) -> None:
    ring = _ring(tmp_path)
    custodian = x25519.Identity.generate()
    sealed = ring.export_bundle([custodian.to_public()])

    bundle = KeyBundle.open(sealed, [custodian])
    assert bundle.register_id == ring.register_id
    assert "subject:person-7" in bundle.key_ids and "register-db" in bundle.key_ids
    assert bundle.destroyed == ["subject:person-8"]  # a tombstone, no key

    new_secret = MasterSecret(passphrase="the custodian's own passphrase")
    Keyring.restore(tmp_path / "dst", bundle, new_secret, TEST_ARGON2)
    with pytest.raises(WrongPassphrase):
        Keyring.unlock(tmp_path / "dst", SECRET)  # the old passphrase does not open the restored keys
    restored = Keyring.unlock(tmp_path / "dst", new_secret)
    assert restored.register_id == ring.register_id
    assert restored.meta["audit_verifier_key"] == ring.meta["audit_verifier_key"]
    for key_id in ("register-db", "blob", "field", "blind-index", "audit-signing", "subject:person-7"):
        assert restored.data_key(key_id) == ring.data_key(key_id)
    with pytest.raises(KeyDestroyed):
        restored.data_key("subject:person-8")
    with pytest.raises(ConfigError, match="already holds a keyring"):
        Keyring.restore(tmp_path / "dst", bundle, new_secret, TEST_ARGON2)


def test_the_bundle_is_ciphertext_only_its_recipients_open(tmp_path: Path) -> None:
    ring = _ring(tmp_path)
    custodian, stranger = x25519.Identity.generate(), x25519.Identity.generate()
    sealed = ring.export_bundle([custodian.to_public()])
    key = ring.data_key("subject:person-7")
    for form in (key, key.hex().encode(), base64.b64encode(key)):
        assert form not in sealed
    with pytest.raises(KeyBundleError, match="does not decrypt"):
        KeyBundle.open(sealed, [stranger])
    with pytest.raises(InputError, match="at least one age recipient"):
        ring.export_bundle([])
    bundle = KeyBundle.open(sealed, [custodian])
    assert base64.b64encode(key).decode() not in repr(bundle) and key.hex() not in repr(bundle)


def _reseal(sealed: bytes, custodian: x25519.Identity, change) -> bytes:  # type: ignore[no-untyped-def]
    body = json.loads(pyrage.decrypt(sealed, [custodian]))
    change(body)
    return pyrage.encrypt(json.dumps(body).encode(), [custodian.to_public()])


def test_a_malformed_bundle_is_named_by_key_id_and_field_never_by_value(tmp_path: Path) -> None:
    ring = _ring(tmp_path)
    custodian = x25519.Identity.generate()
    sealed = ring.export_bundle([custodian.to_public()])

    def short_key(body: dict) -> None:  # type: ignore[type-arg]
        for item in body["keys"]:
            if item["key_id"] == "subject:person-7":
                item["key"] = base64.b64encode(b"0123456789").decode()

    def drop_register_key(body: dict) -> None:  # type: ignore[type-arg]
        body["keys"] = [k for k in body["keys"] if k["key_id"] != "register-db"]

    def other_format(body: dict) -> None:  # type: ignore[type-arg]
        body["format"] = "something-else"

    with pytest.raises(KeyBundleError, match=r"key subject:person-7: field key is not 32 bytes") as exc:
        KeyBundle.open(_reseal(sealed, custodian, short_key), [custodian])
    assert "MDEyMzQ1Njc4OQ" not in str(exc.value)
    with pytest.raises(KeyBundleError, match="register key.*register-db.*missing"):
        KeyBundle.open(_reseal(sealed, custodian, drop_register_key), [custodian])
    with pytest.raises(KeyBundleError, match="not a svidok-backup-keys version 1"):
        KeyBundle.open(_reseal(sealed, custodian, other_format), [custodian])


def test_destroy_local_leaves_no_key_file_and_forgets_the_master(tmp_path: Path) -> None:
    ring = _ring(tmp_path)
    data_dir = ring.data_dir
    (data_dir / "register.db").write_bytes(b"stand-in for SQLCipher pages")
    wiped = ring.destroy_local()
    assert sorted(p.name for p in wiped) == ["keyring.json", "keys.db"]
    assert sorted(p.name for p in data_dir.iterdir()) == ["register.db"]  # data stays, as ciphertext
    with pytest.raises(KeyringMissing):
        Keyring.unlock(data_dir, SECRET)
    with pytest.raises(KeyringMissing, match="destroyed"):  # and the unlocked object is spent
        ring.derive("blob", "anything")
    assert sorted(p.name for p in data_dir.iterdir()) == ["register.db"]  # no empty keys.db re-created
