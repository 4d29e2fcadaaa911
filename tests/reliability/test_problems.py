"""Which failures are the machine's (503, retryable) and which stay a bare 500."""

from __future__ import annotations

import errno
import sqlite3

import psycopg
import pytest
from sqlalchemy.exc import IntegrityError, OperationalError

from svidok.errors import DatabaseUnavailable
from svidok.web.problems import DATABASE_DOWN, DISK_FULL, unavailable_reason


def _wrapped(orig: Exception) -> OperationalError:
    return OperationalError("INSERT INTO source (text) VALUES (?)", {"text": "fictional"}, orig)


@pytest.mark.parametrize(
    ("exc", "reason"),
    [
        (OSError(errno.ENOSPC, "No space left on device"), DISK_FULL),
        (OSError(errno.EDQUOT, "Disk quota exceeded"), DISK_FULL),
        (_wrapped(sqlite3.OperationalError("database or disk is full")), DISK_FULL),
        (_wrapped(psycopg.errors.DiskFull("could not extend file")), DISK_FULL),
        (_wrapped(psycopg.errors.AdminShutdown("terminating connection")), DATABASE_DOWN),
        (_wrapped(psycopg.OperationalError("connection refused")), DATABASE_DOWN),
        (DatabaseUnavailable("cannot reach the postgresql database at somewhere"), DATABASE_DOWN),
        (OSError(errno.EACCES, "Permission denied"), None),
        (_wrapped(sqlite3.OperationalError("no such table: source")), None),
        (IntegrityError("INSERT", {}, sqlite3.IntegrityError("UNIQUE constraint failed")), None),
        (ValueError("bad"), None),
    ],
)
def test_only_a_full_disk_or_a_lost_database_is_retryable(exc: BaseException, reason: str | None) -> None:
    assert unavailable_reason(exc) == reason


def test_a_wrapped_cause_counts() -> None:
    try:
        try:
            raise OSError(errno.ENOSPC, "No space left on device")
        except OSError as inner:
            raise RuntimeError("while storing a blob") from inner
    except RuntimeError as outer:
        assert unavailable_reason(outer) == DISK_FULL
