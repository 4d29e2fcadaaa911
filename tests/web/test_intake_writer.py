"""Intake at speed keeps its promises: keyed receipts, durable group commits, failures that stay alone."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlalchemy import Connection, event, insert, select, text, update

from svidok.services.context import Actor, ServiceContext, utc_now
from svidok.services.intake import (
    PASSPHRASE_CHARS,
    GroupCommit,
    IntakeService,
    ReceiptRefused,
    SubmissionDraft,
    Victim,
    _source_row,
    durable,
    receipt_key_of,
)
from svidok.services.keys import Protection
from svidok.settings import Settings
from svidok.store.db import make_engine
from svidok.store.models import Base

SUBMISSION = Base.metadata.tables["submission"]
SOURCE = Base.metadata.tables["source"]


@pytest.fixture
def intake(protection: Protection) -> Iterator[IntakeService]:
    service = IntakeService(None, receipt_key_of(protection.keyring))
    yield service
    service.close()


def _public(p: Protection) -> ServiceContext:
    return ServiceContext(p.store, Actor("public", "source"), audit=p.audit)


def _draft(n: int = 0) -> SubmissionDraft:
    return SubmissionDraft(language="ru", what_happened=f"Задержали у метро {n}", victims=[Victim("Пётр")])


def test_the_receipt_passphrase_is_a_keyed_hash_bound_to_its_submission(
    protection: Protection, intake: IntakeService
) -> None:
    ctx = _public(protection)
    first, second = intake.submit(ctx, _draft(1)), intake.submit(ctx, _draft(2))
    assert len(first.passphrase.replace("-", "")) == PASSPHRASE_CHARS and PASSPHRASE_CHARS * 5 >= 128
    assert first.passphrase != second.passphrase
    with protection.store.read() as conn:
        hashes = dict(conn.execute(select(SUBMISSION.c.id, SUBMISSION.c.passphrase_hash)).all())
    assert all(h.startswith("hmac-sha256$") and len(h) == 12 + 64 for h in hashes.values())
    assert intake.add_information(ctx, second.code, second.passphrase, "ещё") == second.submission_id
    # the first receipt's hash copied onto the second submission does not open it
    with protection.store.begin() as conn:
        conn.execute(
            update(SUBMISSION)
            .where(SUBMISSION.c.id == second.submission_id)
            .values(passphrase_hash=hashes[first.submission_id])
        )
    with pytest.raises(ReceiptRefused):
        intake.add_information(ctx, second.code, first.passphrase, "чужой пароль")
    # and without the register's key the stored hash is worthless
    other = IntakeService(None, b"\x00" * 32)
    try:
        with pytest.raises(ReceiptRefused):
            other.add_information(ctx, first.code, first.passphrase, "не тот ключ")
    finally:
        other.close()
    assert intake.add_information(ctx, first.code, first.passphrase.upper(), "снова") == first.submission_id


def test_receipts_issued_with_argon2id_still_open(protection: Protection, intake: IntakeService) -> None:
    ctx = _public(protection)
    receipt = intake.submit(ctx, _draft())
    legacy = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    old_passphrase = "abcde-fghjk-mnpqr-stvwx"
    with protection.store.begin() as conn:
        conn.execute(
            update(SUBMISSION)
            .where(SUBMISSION.c.id == receipt.submission_id)
            .values(passphrase_hash=legacy.hash(old_passphrase.replace("-", "")))
        )
    with pytest.raises(ReceiptRefused):
        intake.add_information(ctx, receipt.code, receipt.passphrase, "новый пароль к старой квитанции")
    assert intake.add_information(ctx, receipt.code, old_passphrase, "ещё") == receipt.submission_id


def test_the_web_register_fsyncs_every_commit(client: TestClient, protection: Protection) -> None:
    del client  # the app is built: its engine is now durable
    with protection.store.read() as conn:
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar_one() == 2  # FULL
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar_one() == "wal"


def test_concurrent_submissions_share_commits_and_each_answer_follows_its_commit(
    protection: Protection, intake: IntakeService
) -> None:
    ctx = _public(protection)
    commits: list[int] = []
    event.listen(protection.store.engine, "commit", lambda _conn: commits.append(1))
    n = 60

    async def one(i: int) -> str:
        receipt = await intake.submit_async(ctx, _draft(i))
        # answered: the submission is already visible to any other connection
        with protection.store.read() as conn:
            found = conn.execute(
                select(SUBMISSION.c.id).where(SUBMISSION.c.id == receipt.submission_id)
            ).first()
        assert found is not None
        return receipt.submission_id

    async def all_at_once() -> list[str]:
        return await asyncio.gather(*(one(i) for i in range(n)))

    ids = asyncio.run(all_at_once())
    assert len(set(ids)) == n
    assert len(commits) < n  # group commit: fewer transactions than submissions
    with protection.store.read() as conn:
        created = conn.execute(
            text("SELECT record_id FROM audit_entry WHERE action = 'submission.create'")
        ).all()
        assert sorted(r[0] for r in created) == sorted(ids)
        assert int(conn.execute(text("SELECT count(*) FROM mention")).scalar_one()) == n
        assert protection.audit.verify(conn).ok


def test_a_failing_job_fails_alone_and_leaves_nothing(protection: Protection) -> None:
    lock = threading.Lock()
    writer = GroupCommit(protection.store, lock)
    gate = threading.Event()
    try:
        first = writer.submit(lambda _conn: gate.wait(10))  # holds the writer while the batch queues

        def source(source_id: str) -> Any:
            def job(conn: Connection) -> str:
                conn.execute(insert(SOURCE), _source_row(source_id, _draft(), utc_now()))
                return source_id

            return job

        def half_then_fail(conn: Connection) -> None:
            source("so_half")(conn)
            raise ValueError("job failed after writing")

        futures = [
            writer.submit(source("so_a")),
            writer.submit(half_then_fail),
            writer.submit(source("so_b")),
        ]
        gate.set()
        assert first.result(10) is True
        assert futures[0].result(10) == "so_a" and futures[2].result(10) == "so_b"
        with pytest.raises(ValueError, match="after writing"):
            futures[1].result(10)
    finally:
        gate.set()
        writer.close()
    with protection.store.read() as conn:
        ids = {r[0] for r in conn.execute(select(SOURCE.c.id))}
    assert {"so_a", "so_b"} <= ids and "so_half" not in ids


def test_a_request_cancelled_while_queued_is_dropped_and_the_writer_goes_on(protection: Protection) -> None:
    writer = GroupCommit(protection.store, threading.Lock())
    gate = threading.Event()
    try:
        writer.submit(lambda _conn: gate.wait(10))

        def source(source_id: str) -> Any:
            def job(conn: Connection) -> str:
                conn.execute(insert(SOURCE), _source_row(source_id, _draft(), utc_now()))
                return source_id

            return job

        gone = writer.submit(source("so_gone"))
        assert gone.cancel()
        kept = writer.submit(source("so_kept"))
        gate.set()
        assert kept.result(10) == "so_kept"
    finally:
        gate.set()
        writer.close()
    with protection.store.read() as conn:
        ids = {r[0] for r in conn.execute(select(SOURCE.c.id))}
    assert "so_kept" in ids and "so_gone" not in ids


def test_the_intake_engine_insists_on_durable_commits_on_both_backends(settings: Settings) -> None:
    url = settings.effective_database_url
    if settings.database_url:  # a server configured (here: a session) to acknowledge before the WAL flush
        url += "%20-csynchronous_commit%3Doff"
    engine = make_engine(url)
    try:
        show = "PRAGMA synchronous" if engine.dialect.name == "sqlite" else "SHOW synchronous_commit"
        with engine.connect() as conn:
            before = conn.exec_driver_sql(show).scalar_one()
        durable(engine)
        durable(engine)  # idempotent
        with engine.connect() as conn:
            after = conn.exec_driver_sql(show).scalar_one()
    finally:
        engine.dispose()
    assert (before, after) in ((1, 2), ("off", "on"))  # sqlite NORMAL -> FULL; postgresql off -> on
