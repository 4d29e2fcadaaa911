"""Shared fixtures: a fresh register on SQLite and on PostgreSQL for every store test.

PostgreSQL is reached at SVIDOK_TEST_PG_URL (default postgres on 127.0.0.1:5432,
database `test`). When it is unreachable, its tests are skipped with a notice,
except under CI=true, where the run fails: CI must test both backends.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from svidok.settings import Settings
from svidok.store import migrate
from svidok.store.db import make_engine
from svidok.store.models import Base
from svidok.store.register import Store

PG_URL = os.environ.get("SVIDOK_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
_pg_problem: list[str] = []


def _pg_reachable() -> str | None:
    try:
        engine = make_engine(PG_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("select 1"))
        engine.dispose()
    except Exception as exc:  # noqa: BLE001 - any failure means "not reachable"
        return f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
    return None


def pytest_sessionstart(session: pytest.Session) -> None:
    problem = _pg_reachable()
    if problem is None:
        return
    if os.environ.get("CI", "").lower() == "true":
        raise pytest.UsageError(f"CI=true but PostgreSQL at {PG_URL} is unreachable: {problem}")
    _pg_problem.append(problem)


def pytest_report_header() -> list[str]:
    if _pg_problem:
        return [f"NOTICE: PostgreSQL unreachable ({_pg_problem[0]}); its tests are SKIPPED"]
    return [f"PostgreSQL: {PG_URL}"]


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _pg_problem:
        terminalreporter.write_line(
            f"NOTICE: PostgreSQL tests were skipped: {_pg_problem[0]}", yellow=True, bold=True
        )


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty, migrated SQLite register, copied for each test."""
    path = tmp_path_factory.mktemp("template") / "register.db"
    engine = make_engine(f"sqlite:///{path}")
    migrate.upgrade(engine)
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def pg_schema_url() -> Iterator[str]:
    """A private schema in the test database, migrated once for the session."""
    if _pg_problem:
        pytest.skip(f"PostgreSQL unreachable: {_pg_problem[0]}")
    schema = f"svidok_t_{uuid.uuid4().hex[:10]}"
    admin = make_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = f"{PG_URL}?options=-csearch_path%3D{schema}"
    engine = make_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    yield url
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


def _truncate_all(url: str) -> None:
    engine = make_engine(url)
    names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} CASCADE"))
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    """Settings of an empty, migrated register on each backend."""
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    if request.param == "sqlite":
        shutil.copy(request.getfixturevalue("sqlite_template"), data_dir / "register.db")
        return Settings(data_dir=data_dir)
    url = request.getfixturevalue("pg_schema_url")
    _truncate_all(url)
    return Settings(data_dir=data_dir, database_url=url)


@pytest.fixture
def store(settings: Settings) -> Iterator[Store]:
    opened = Store.open(settings)
    yield opened
    opened.close()


@pytest.fixture
def sqlite_settings(tmp_path: Path, sqlite_template: Path) -> Settings:
    """An empty SQLite register only, for tests that do not depend on the backend."""
    data_dir = tmp_path / "sqlite-data"
    data_dir.mkdir()
    shutil.copy(sqlite_template, data_dir / "register.db")
    return Settings(data_dir=data_dir)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """A throwaway S3-compatible server (moto's standalone server) on loopback, for every S3 test."""
    port = _free_port()
    exe = Path(sys.executable).with_name("moto_server")
    proc = subprocess.Popen(
        [str(exe), "-H", "127.0.0.1", "-p", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.time() + 20
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.1)
    else:
        proc.kill()
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("moto_server did not start; CI must test the S3 adapters")
        pytest.skip("moto_server did not start")
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    yield f"http://127.0.0.1:{port}"
    proc.terminate()
    proc.wait(timeout=10)
