"""What an operator notices about keys: wrong passphrase, rotation, key files, shredding."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path

import pytest

from svidok.crypto.errors import KeyDestroyed, WrongPassphrase
from svidok.crypto.keyring import OWASP_ARGON2, TEST_ARGON2, Keyring, MasterSecret, generate_key_file
from svidok.services.keys import (
    Protection,
    open_subject_field,
    rotate_master,
    seal_subject_field,
    shred_subject,
)
from tests.crypto.conftest import CANARY_NAME, PASSPHRASE


def _digests(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir() if p.is_file()}


def test_keyring_uses_argon2id_with_a_random_salt_and_owasp_parameters(tmp_path) -> None:
    Keyring.create(tmp_path / "a", MasterSecret(passphrase=PASSPHRASE), TEST_ARGON2)
    Keyring.create(tmp_path / "b", MasterSecret(passphrase=PASSPHRASE), TEST_ARGON2)
    a = json.loads((tmp_path / "a" / "keyring.json").read_text())
    b = json.loads((tmp_path / "b" / "keyring.json").read_text())
    assert a["master"]["kind"] == "argon2id"
    assert a["master"]["salt"] != b["master"]["salt"]
    assert OWASP_ARGON2.memory_kib >= 19 * 1024 and OWASP_ARGON2.time_cost >= 2
    assert PASSPHRASE not in (tmp_path / "a" / "keyring.json").read_text()


def test_wrong_passphrase_is_a_clear_error_and_changes_nothing(protection, settings) -> None:
    protection.close()
    before = _digests(settings.data_dir)
    with pytest.raises(WrongPassphrase, match="wrong passphrase") as info:
        Protection.open(settings, MasterSecret(passphrase="not the passphrase"))
    assert "not the passphrase" not in str(info.value)
    assert _digests(settings.data_dir) == before


def test_rotation_rewraps_keys_and_the_register_still_opens(protection, settings, secret) -> None:
    with protection.store.begin() as conn:
        protection.audit.append(conn, "op", "record.create", "person", "pe_1")
    db_key = protection.keyring.db_key()
    protection.close()
    new = MasterSecret(passphrase="a brand new passphrase")
    assert rotate_master(settings, secret, new, TEST_ARGON2) >= 5
    with pytest.raises(WrongPassphrase):
        Keyring.unlock(settings.data_dir, secret)
    p = Protection.open(settings, new)
    assert p.keyring.db_key() == db_key
    with p.store.read() as conn:
        assert p.audit.verify(conn).entries == 1
    p.close()


def test_interrupted_rotation_is_finished_by_the_new_passphrase(protection, settings, secret) -> None:
    protection.close()
    ring = Keyring.unlock(settings.data_dir, secret)
    new = MasterSecret(passphrase="second passphrase!")
    ring.rotate(new, TEST_ARGON2)
    # Simulate a crash after the key store committed but before keyring.json was replaced.
    path = settings.data_dir / "keyring.json"
    (settings.data_dir / "keyring.json.new").write_text(path.read_text())
    old_meta = json.loads(path.read_text())
    assert Keyring.unlock(settings.data_dir, new).meta["master_id"] == old_meta["master_id"]


def test_key_file_instead_of_passphrase(tmp_path) -> None:
    key_file = tmp_path / "svidok.key"
    generate_key_file(key_file)
    ring = Keyring.create(tmp_path / "data", MasterSecret(key_file=key_file))
    again = Keyring.unlock(tmp_path / "data", MasterSecret(key_file=key_file))
    assert again.db_key() == ring.db_key()
    other = tmp_path / "other.key"
    generate_key_file(other)
    with pytest.raises(WrongPassphrase):
        Keyring.unlock(tmp_path / "data", MasterSecret(key_file=other))


def test_crypto_shredding_makes_the_subject_unreadable_and_the_log_still_verifies(protection) -> None:
    token = seal_subject_field(protection.keyring, "pe_7", "person", "primary_name", "pe_7", CANARY_NAME)
    other = seal_subject_field(protection.keyring, "pe_8", "person", "primary_name", "pe_8", "Other")
    assert open_subject_field(protection.keyring, "person", "primary_name", "pe_7", token) == CANARY_NAME
    with protection.store.begin() as conn:
        protection.audit.append(conn, "op", "record.create", "person", "pe_7", {"fields": ["primary_name"]})
        protection.audit.checkpoint(conn)
    assert shred_subject(protection, "admin", "pe_7", "erasure request 2026-11")
    with pytest.raises(KeyDestroyed, match="subject:pe_7"):
        open_subject_field(protection.keyring, "person", "primary_name", "pe_7", token)
    with pytest.raises(KeyDestroyed):
        protection.keyring.subject_key("pe_7")  # never silently re-created
    assert open_subject_field(protection.keyring, "person", "primary_name", "pe_8", other) == "Other"
    with protection.store.begin() as conn:
        protection.audit.checkpoint(conn)
        report = protection.audit.verify(conn, deep=True)
    assert report.ok and report.entries == 2
    keys_db = (protection.keyring.data_dir / "keys.db").read_bytes()
    assert CANARY_NAME.encode() not in keys_db


def test_a_key_destroyed_by_another_process_is_not_served_from_the_cache(
    protection, settings, secret, monkeypatch
) -> None:
    """The server caches subject keys; an erasure from the CLI (another keyring object on the
    same keys.db) must still take effect on the server's next read."""
    import svidok.crypto.keyring as keyring_module

    monkeypatch.setattr(keyring_module, "SUBJECT_RECHECK_S", 0.0)  # check keys.db on every read
    server = protection.keyring
    made = server.subject_keys(["pe_1", "pe_2", "pe_3"])  # one transaction for the batch
    assert len(made) == 3 and server.subject_key("pe_1", create=False)[1] == made["subject:pe_1"]
    cli = Keyring.unlock(settings.data_dir, secret)
    assert cli.destroy_many(["subject:pe_1", "subject:pe_9"]) == {"subject:pe_1": True, "subject:pe_9": True}
    with pytest.raises(KeyDestroyed):
        server.subject_key("pe_1")
    with pytest.raises(KeyDestroyed):
        server.subject_key("pe_9")  # a tombstone: never made later either
    assert server.subject_key("pe_2", create=False)[1] == made["subject:pe_2"]
    assert cli.destroy_many(["subject:pe_1"]) == {"subject:pe_1": False}
    assert server.subject_status(["pe_1", "pe_2", "pe_404"]) == {
        "subject:pe_1": "destroyed",
        "subject:pe_2": "live",
    }
    cli.close()


def test_subject_keys_made_after_a_rotation_by_another_process_still_open(protection, settings, secret) -> None:
    """`keys rotate` runs while the server keeps writing: the server still holds the old master,
    yet the subject keys it makes afterwards must open under the new passphrase."""
    server = protection.keyring
    before = server.subject_key("pe_before")[1]
    new = MasterSecret(passphrase="rotated while serving")
    assert rotate_master(settings, secret, new, TEST_ARGON2) >= 5
    after = server.subject_key("pe_after")[1]  # made by the server after the rotation
    reopened = Keyring.unlock(settings.data_dir, new)
    assert reopened.subject_key("pe_before", create=False)[1] == before
    assert reopened.subject_key("pe_after", create=False)[1] == after
    reopened.close()


def _wrapped(data_dir: Path, key_id: str) -> bytes:
    with sqlite3.connect(data_dir / "keys.db") as db:
        row = db.execute("SELECT wrapped FROM data_key WHERE key_id = ?", (key_id,)).fetchone()
    db.close()
    return bytes(row[0])


def _key_store_bytes(data_dir: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in data_dir.glob("keys.db*") if p.is_file()}


def test_a_destroyed_key_leaves_no_copy_in_keys_db_its_wal_or_free_pages(
    protection, settings, secret, monkeypatch
) -> None:
    """keys.db keeps a WAL journal (one fsync per batch of new keys). A destroyed key's wrapped
    bytes must not survive in an older page image there: the destroy checkpoints the WAL into
    the zeroed pages (secure_delete, VACUUM) and truncates it, while the server, another
    keyring on the same file, keeps its connection open and goes on working."""
    import svidok.crypto.keyring as keyring_module

    monkeypatch.setattr(keyring_module, "SUBJECT_RECHECK_S", 0.0)
    data_dir = settings.data_dir
    server = protection.keyring
    server.subject_keys([f"pe_{n}" for n in range(300)])  # through the server's long-lived connection
    wrapped = _wrapped(data_dir, "subject:pe_7")
    key = server.subject_key("pe_7")[1]
    assert (data_dir / "keys.db-wal").stat().st_size > 0  # the batch is in the WAL now
    assert any(wrapped in content for content in _key_store_bytes(data_dir).values())
    cli = Keyring.unlock(data_dir, secret)
    assert cli.destroy_many(["subject:pe_7"]) == {"subject:pe_7": True}
    wal = data_dir / "keys.db-wal"
    assert not wal.exists() or wal.stat().st_size == 0
    for name, content in _key_store_bytes(data_dir).items():
        assert wrapped not in content, name
        assert key not in content, name
    with pytest.raises(KeyDestroyed):
        server.subject_key("pe_7")
    assert server.subject_key("pe_8", create=False)[1]  # the server's connection still serves
    server.subject_keys(["pe_new"])  # and still writes
    assert cli.destroy_many(["subject:pe_7"]) == {"subject:pe_7": False}  # a repeat scrubs again
    assert not wal.exists() or wal.stat().st_size == 0
    cli.close()


def test_rotation_leaves_no_key_wrapped_under_the_old_master(protection, settings, secret) -> None:
    data_dir = settings.data_dir
    protection.keyring.subject_keys(["pe_1"])
    old = _wrapped(data_dir, "register-db")
    rotate_master(settings, secret, MasterSecret(passphrase="after the rotation"), TEST_ARGON2)
    assert _wrapped(data_dir, "register-db") != old
    for name, content in _key_store_bytes(data_dir).items():
        assert old not in content, name
