"""Only the protection officer opens a sealed identity, and every opening is logged."""

from __future__ import annotations

import logging

import pytest

from svidok.crypto.errors import DecryptionFailed
from svidok.services.keys import open_identity, register_officer_key, seal_identity
from tests.crypto.conftest import CANARY_NAME, CANARY_PHONE


def test_seal_and_open_with_the_officer_key_is_audited_without_the_value(
    protection, tmp_path, caplog
) -> None:
    caplog.set_level(logging.DEBUG)
    key_path = tmp_path / "officer.key"
    kid = register_officer_key(protection, "admin", "officer-1", key_path)
    assert oct(key_path.stat().st_mode & 0o777) == "0o600"
    seal_identity(protection, "intake-7", "source", "so_1", {"name": CANARY_NAME, "phone": CANARY_PHONE})
    opened = open_identity(protection, "officer-1", "so_1", key_path, "safety check")
    assert opened == [{"name": CANARY_NAME, "phone": CANARY_PHONE}]
    with protection.store.read() as conn:
        entries = protection.audit.entries_for(conn, "source", "so_1")
        raw = b"".join(bytes(r[0]) for r in conn.exec_driver_sql("SELECT entry FROM audit_entry"))
    assert [e.action for e in entries] == ["identity.seal", "identity.open"]
    assert entries[1].details["key_id"] == kid
    for needle in (CANARY_NAME, CANARY_PHONE):
        assert needle.encode() not in raw
        assert needle not in caplog.text


def test_another_key_cannot_open_and_the_error_names_no_value(protection, tmp_path) -> None:
    register_officer_key(protection, "admin", "officer-1", tmp_path / "one.key")
    seal_identity(protection, "intake", "source", "so_2", {"name": CANARY_NAME})
    register_officer_key(protection, "admin", "officer-2", tmp_path / "two.key")
    with pytest.raises(Exception) as info:
        open_identity(protection, "officer-2", "so_2", tmp_path / "two.key", "curious")
    assert CANARY_NAME not in str(info.value)
    assert isinstance(info.value, DecryptionFailed) or "no sealed identity" in str(info.value)
