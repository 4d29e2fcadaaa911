"""The fast verify (signed roots for the signed prefix, chain for the tail) and the append head cache."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, text

from svidok.audit import AuditLog
from svidok.audit.verify import check_entries
from tests.audit.test_log import fill, verify


def _full(engine: Engine, log: AuditLog):  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        notes = log.notes(conn)
        from svidok.audit.verify import check_notes

        roots, problem = check_notes(notes, log.key.name, log.key.public)
        assert problem is None
        return check_entries(log._batches(conn), roots)


@pytest.mark.parametrize(("size", "every"), [(1, 1), (37, 10), (100, 50), (130, 64)])
def test_fast_verify_agrees_with_the_full_pass(engine, log, size: int, every: int) -> None:
    fill(engine, log, size, checkpoint_every=every)
    fast, full = verify(engine, log), _full(engine, log)
    assert fast.ok and full.ok
    assert (fast.entries, fast.checkpoints, fast.root) == (full.entries, full.checkpoints, full.root)


@pytest.mark.parametrize("seq", [1, 33, 50, 64, 99, 100])
def test_an_edited_signed_entry_is_still_named_exactly(engine, log, seq: int) -> None:
    fill(engine, log, 120, checkpoint_every=50)
    with engine.begin() as conn:
        data = conn.execute(text("SELECT entry FROM audit_entry WHERE seq=:s"), {"s": seq}).scalar_one()
        conn.execute(
            text("UPDATE audit_entry SET entry=:e WHERE seq=:s"),
            {"e": bytes(data).replace(b"op1", b"opX"), "s": seq},
        )
    report = verify(engine, log)
    assert not report.ok and report.first_bad == seq


def test_a_renumbered_signed_entry_is_named(engine, log) -> None:
    fill(engine, log, 60, checkpoint_every=30)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_entry WHERE seq=1"))
        conn.execute(text("UPDATE audit_entry SET seq=0 WHERE seq=2"))
    report = verify(engine, log)
    assert not report.ok and report.first_bad == 1


def test_a_chain_value_edited_under_a_signed_root_is_found_by_deep_verify(engine, log) -> None:
    fill(engine, log, 40, checkpoint_every=40)
    with engine.begin() as conn:
        conn.execute(text("UPDATE audit_entry SET chain=:c WHERE seq=17"), {"c": bytes(32)})
    assert verify(engine, log).ok  # every entry is proved by the signed root; the chain is derived
    deep = verify(engine, log, deep=True)
    assert not deep.ok and deep.first_bad == 17


def test_the_head_cache_survives_a_rolled_back_savepoint_and_a_rolled_back_transaction(engine, log) -> None:
    with engine.begin() as conn:
        assert log.append(conn, "op", "a", None, None) == 1
        savepoint = conn.begin_nested()
        assert log.append(conn, "op", "b", None, None) == 2
        savepoint.rollback()
        assert log.append(conn, "op", "c", None, None) == 2
    with pytest.raises(RuntimeError), engine.begin() as conn:
        assert log.append(conn, "op", "d", None, None) == 3
        raise RuntimeError("the write failed")
    with engine.begin() as conn:
        assert log.append(conn, "op", "e", None, None) == 3
    report = verify(engine, log, deep=True)
    assert report.ok and report.entries == 3


@pytest.mark.postgres
def test_fast_verify_and_tamper_naming_on_postgresql(pg_schema_url: str, log) -> None:  # type: ignore[no-untyped-def]
    from svidok.store.db import make_engine

    engine = make_engine(pg_schema_url)
    try:
        with engine.begin() as conn:
            conn.execute(text("TRUNCATE audit_entry, audit_checkpoint"))
        fill(engine, log, 70, checkpoint_every=25)
        assert verify(engine, log).ok and verify(engine, log).entries == 70
        with engine.begin() as conn:
            data = conn.execute(text("SELECT entry FROM audit_entry WHERE seq=40")).scalar_one()
            conn.execute(
                text("UPDATE audit_entry SET entry=:e WHERE seq=40"),
                {"e": bytes(data).replace(b"op1", b"opX")},
            )
        report = verify(engine, log)
        assert not report.ok and report.first_bad == 40
    finally:
        with engine.begin() as conn:
            conn.execute(text("TRUNCATE audit_entry, audit_checkpoint"))
        engine.dispose()


def test_rows_written_on_the_sqlite_fast_path_read_back_like_the_orm_wrote_them(engine, log) -> None:
    from datetime import datetime

    from sqlalchemy import insert, select

    from svidok.store.models import Base

    table = Base.metadata.tables["audit_entry"]
    moment = datetime(2026, 3, 4, 5, 6, 7, 890123)
    details = {"fields": ["primary_name"], "n": 3, "ok": True, "ü": "ids only"}
    with engine.begin() as conn:
        log.append(conn, "op", "record.update", "person", "pe_1", details, at=moment)
        conn.execute(
            insert(table).values(
                seq=99, at=moment, actor="x", action="y", details=details, entry=b"", chain=b""
            )
        )
        raw = conn.exec_driver_sql("SELECT at, details FROM audit_entry ORDER BY seq").all()
        typed = conn.execute(select(table.c.at, table.c.details).where(table.c.seq == 1)).one()
    assert raw[0] == raw[1]  # the same stored text as SQLAlchemy's own insert
    assert tuple(typed) == (moment, details)
