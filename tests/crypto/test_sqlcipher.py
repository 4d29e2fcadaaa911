"""The embedded register is unreadable on disk: SQLCipher, WAL included."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import insert, select, text
from sqlalchemy.exc import DatabaseError

from svidok.store.db import make_engine
from svidok.store.models import Base
from tests.crypto.conftest import CANARY_NAME, CANARY_PHONE


def _scan(folder: Path, needles: list[bytes]) -> list[str]:
    hits = []
    for path in folder.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            hits += [f"{path.name}: {n!r}" for n in needles if n in data]
    return hits


def test_canary_appears_in_no_file_of_the_data_dir(protection, settings) -> None:
    person = Base.metadata.tables["person"]
    with protection.store.begin() as conn:
        conn.execute(
            insert(person).values(
                id="pe_canary",
                primary_name=CANARY_NAME,
                pseudonym="W-1",
                sex="male",
                description=f"call {CANARY_PHONE}",
            )
        )
        protection.audit.append(
            conn, "op", "record.create", "person", "pe_canary", {"fields": ["primary_name", "description"]}
        )
    # Keep the WAL alive (connection open, no checkpoint) while scanning.
    with protection.store.read() as conn:
        assert conn.execute(select(person.c.primary_name)).scalar_one() == CANARY_NAME
        # Inside the SQLCipher file the name is sealed once more, under the person's own key.
        raw = conn.execute(text("select primary_name from person")).scalar_one()
        assert raw.startswith("v1:subject:pe_canary:") and CANARY_NAME not in raw
        files = {p.name for p in settings.data_dir.iterdir()}
        assert "register.db-wal" in files
        hits = _scan(
            settings.data_dir, [CANARY_NAME.encode(), CANARY_PHONE.encode(), CANARY_NAME.encode("utf-16-le")]
        )
    assert hits == []
    assert (settings.data_dir / "register.db").read_bytes()[:16] != b"SQLite format 3\x00"


def test_wal_and_foreign_keys_are_kept_under_sqlcipher(protection) -> None:
    with protection.store.read() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA cipher_version").scalar()


def test_wrong_key_or_no_key_cannot_read_the_register(protection, settings) -> None:
    protection.close()
    url = settings.effective_database_url
    for engine in (make_engine(url, key=bytes(32)), make_engine(url)):
        with pytest.raises(DatabaseError), engine.connect() as conn:
            conn.execute(text("select count(*) from person"))
        engine.dispose()
