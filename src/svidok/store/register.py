"""The `Store`: one register's engine, schema check and transactions."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, Table, func, inspect, select

from svidok.errors import ConfigError
from svidok.settings import Settings
from svidok.store import migrate
from svidok.store.db import connect, make_engine
from svidok.store.models import RECORD_TABLES, Base

INSERT_CHUNK = 5_000


class Store:
    """A register's database. Services receive one; nothing else opens engines."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @classmethod
    def open(cls, settings: Settings, *, create: bool = False) -> Store:
        """Open the register; with `create`, make or upgrade its schema first."""
        store = cls(make_engine(settings.effective_database_url))
        if create:
            migrate.upgrade(store.engine)
        elif not migrate.is_current(store.engine):
            raise ConfigError(
                "no register here, or its schema is out of date: run `svidok init` "
                f"(data dir {settings.data_dir})"
            )
        return store

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        """A connection inside one transaction: committed on success, rolled back on error."""
        with connect(self.engine) as conn, conn.begin():
            yield conn

    @contextmanager
    def read(self) -> Iterator[Connection]:
        with connect(self.engine) as conn:
            yield conn

    def counts(self) -> dict[str, int]:
        """Number of records of every kind."""
        with self.read() as conn:
            return {kind: count_rows(conn, table_of(kind)) for kind in RECORD_TABLES}

    def has_schema(self) -> bool:
        with self.read() as conn:
            return inspect(conn).has_table("source")

    def close(self) -> None:
        self.engine.dispose()


def table_of(kind: str) -> Table:
    """The table of a record kind (or of a support table such as `name_key`), or an error naming the kinds."""
    if kind not in Base.metadata.tables:
        raise ConfigError(f"unknown record kind {kind!r}; kinds: {', '.join(RECORD_TABLES)}")
    table = Base.metadata.tables[kind]
    return table


def count_rows(conn: Connection, table: Table) -> int:
    return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def insert_rows(conn: Connection, table: Table, rows: Iterable[dict[str, Any]]) -> int:
    """Insert rows set-wise in chunks (executemany), never one statement per row."""
    total = 0
    chunk: list[dict[str, Any]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= INSERT_CHUNK:
            conn.execute(table.insert(), chunk)
            total += len(chunk)
            chunk = []
    if chunk:
        conn.execute(table.insert(), chunk)
        total += len(chunk)
    return total
