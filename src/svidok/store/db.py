"""Opening the register's database. Every SQLite/PostgreSQL difference lives here.

SQLite is the embedded default: one file in the data directory, WAL journal so
readers never block the writer, foreign keys enforced, a busy timeout so a
second process waits instead of failing. With a key the file is SQLCipher-encrypted
(see `make_engine`). PostgreSQL is the server option; an
unreachable server becomes `DatabaseUnavailable`, which is retryable.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Dialect, Engine, Insert, Table, Update, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import QueuePool

from svidok.crypto.fields import ERASED, FieldCipher, SubjectValue
from svidok.errors import ConfigError, DatabaseUnavailable

PG_CONNECT_TIMEOUT = 5
"""Seconds to wait for a PostgreSQL connection unless the URL says `connect_timeout`."""
SQLCIPHER_POOL_SIZE = 8
SQLCIPHER_POOL_OVERFLOW = 32
"""Connections an encrypted register keeps open, and how many more it opens under load (the web
server runs up to 40 worker threads)."""

SQLITE_PRAGMAS = (
    # First, so the pragmas below wait too: after a crash the first connection replays the
    # WAL under an exclusive lock, and a second one would otherwise fail at once (a 503).
    "PRAGMA busy_timeout=10000",
    "PRAGMA journal_mode=WAL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA synchronous=NORMAL",
)


def dialect_of(url: str) -> str:
    """'sqlite' or 'postgresql'; anything else is refused."""
    name = make_url(url).get_backend_name()
    if name not in ("sqlite", "postgresql"):
        raise ConfigError(f"unsupported database {name!r}: use sqlite or postgresql")
    return name


def _on_sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    for pragma in SQLITE_PRAGMAS:
        cursor.execute(pragma)
    cursor.close()


def make_engine(url: str, key: bytes | None = None, **kwargs: Any) -> Engine:
    """An engine for `url` with the per-dialect settings applied on every connection.

    With `key` (32 raw bytes, from `Keyring.db_key()`), an SQLite register is opened
    through SQLCipher (`sqlite+pysqlcipher`, `PRAGMA key="x'…'"`): every page of the
    file and of its WAL is AES-256 encrypted and authenticated; a wrong key fails
    with a DatabaseError on first use. Without a key, plain SQLite (tests, tools).
    """
    dialect = dialect_of(url)
    if dialect == "sqlite":
        parsed = make_url(url)
        database = parsed.database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        target: Any = url
        if key is not None:
            if len(key) != 32:
                raise ConfigError("the register key must be 32 bytes")
            # The password is rendered by the dialect as PRAGMA key="x'<hex>'" (raw key,
            # no KDF); SQLAlchemy hides URL passwords in logs and reprs.
            target = parsed.set(drivername="sqlite+pysqlcipher", password=f"x'{key.hex()}'")
            # SQLAlchemy's pysqlcipher dialect defaults to SingletonThreadPool, which closes
            # *in-use* connections of other threads once more than pool_size threads have
            # connected (the web server's worker threads do): requests then failed with "Cannot
            # operate on a closed database". A queue pool hands each checkout its own
            # connection; opening one costs only the raw-key PRAGMA (no KDF).
            kwargs.setdefault("poolclass", QueuePool)
            kwargs.setdefault("pool_size", SQLCIPHER_POOL_SIZE)
            kwargs.setdefault("max_overflow", SQLCIPHER_POOL_OVERFLOW)
        engine = create_engine(target, **kwargs)
        # An INSERT with many parameter sets goes to SQLite as multi-row `INSERT ... VALUES
        # (...), (...)` statements (SQLAlchemy's "insertmanyvalues", up to 1,000 rows or its
        # parameter limit each) instead of the driver's executemany, one row per step: the same
        # rows, bind processors and before_execute hook (`_seal_personal`), a fifth less CPU on
        # the import (sqlcipher3's executemany is the older pysqlite one). No code reads the
        # rowcount of such an insert. Foreign keys are checked per statement, so a batch may now
        # hold a child before its parent within one table.
        engine.dialect.use_insertmanyvalues_wo_returning = True
        event.listen(engine, "connect", _on_sqlite_connect)
        return engine
    if make_url(url).drivername == "postgresql":
        url = str(make_url(url).set(drivername="postgresql+psycopg"))
    if "connect_timeout" not in make_url(url).query:
        # A host that drops packets would otherwise hold each request for the OS's TCP timeout
        # (minutes); this way a lost server is a 503 within seconds.
        kwargs["connect_args"] = {"connect_timeout": PG_CONNECT_TIMEOUT, **kwargs.get("connect_args", {})}
    return create_engine(url, pool_pre_ping=True, **kwargs)


@contextmanager
def connect(engine: Engine) -> Iterator[Connection]:
    """A connection, with an unreachable server reported as `DatabaseUnavailable`."""
    try:
        conn = engine.connect()
    except OperationalError as exc:
        raise DatabaseUnavailable(
            f"cannot reach the {engine.dialect.name} database at "
            f"{engine.url.render_as_string(hide_password=True)}; retry when it is back"
        ) from exc
    with conn:
        yield conn


FIELDS_ATTR = "svidok_fields"
"""Where an engine's dialect carries its `FieldCipher` (each engine has its own dialect object)."""


def attach_fields(engine: Engine, cipher: FieldCipher) -> None:
    """Give an engine the keys of its protected columns (see `store.models.Protected`).

    PostgreSQL seals every protected value; an SQLCipher register (`cipher.embedded`) only the
    personal ones, under their record's subject key. On both, inserts into tables with personal
    columns (`info["personal"]`) get those values wrapped in `SubjectValue(value, row id)`
    (`_seal_personal`), so every write path (import, intake, linking, review) seals them under
    the record's own key without knowing about it.

    Without keys (tests, tools that open a bare `Store`) protected values pass through as
    they are: every command and the web app open the register through
    `svidok.services.keys.Protection.open`, which attaches them.
    """
    if (engine.dialect.name == "postgresql") == cipher.embedded:
        raise ConfigError("field keys: PostgreSQL needs a full cipher, SQLite an embedded one")
    setattr(engine.dialect, FIELDS_ATTR, cipher)
    if not event.contains(engine, "before_execute", _seal_personal):
        event.listen(engine, "before_execute", _seal_personal, retval=True)


def personal_columns(table: Table) -> tuple[str, ...]:
    """The columns of `table` sealed under each row's own subject key (`info["personal"]`)."""
    found = _PERSONAL.get(table.name)
    if found is None:
        found = _PERSONAL[table.name] = tuple(c.key for c in table.columns if c.info.get("personal"))
    return found


_PERSONAL: dict[str, tuple[str, ...]] = {}


def _subject_row(row: dict[str, Any], columns: tuple[str, ...]) -> dict[str, Any]:
    rid = row.get("id")
    if not isinstance(rid, str):
        return row
    out = dict(row)
    for name in columns:
        value = out.get(name)
        if isinstance(value, str) and not isinstance(value, SubjectValue):
            out[name] = SubjectValue(value, subject=rid)
    return out


def _check_update(
    table: Table, clause: Update, columns: tuple[str, ...], multiparams: Any, params: Any
) -> None:
    """An UPDATE cannot know a row's id from its WHERE clause, so it must bring `SubjectValue`s
    (or `ERASED`) itself: a plain value would be stored outside its record's key, and no
    erasure would reach it. Fail closed."""
    inline = getattr(clause, "_values", None) or {}
    given = {getattr(k, "key", k): getattr(v, "value", v) for k, v in inline.items()}
    for row in [params or {}, *(r for r in (multiparams or ()) if isinstance(r, dict))]:
        given.update(row)
    for name in columns:
        value = given.get(name)
        if isinstance(value, str) and not isinstance(value, SubjectValue) and value != ERASED:
            raise ConfigError(f"{table.name}.{name} is personal: write SubjectValue(value, subject=<row id>)")


def _seal_personal(
    conn: Connection, clause: Any, multiparams: Any, params: Any, _options: Any
) -> tuple[Any, Any, Any]:
    """`before_execute`: wrap the personal values of an INSERT in `SubjectValue(value, row id)`;
    refuse an UPDATE that would write one without its record's key."""
    if not isinstance(clause, Insert | Update) or not isinstance(clause.table, Table):
        return clause, multiparams, params
    columns = personal_columns(clause.table)
    cipher = fields_of(conn.dialect)
    if not columns or cipher is None:
        return clause, multiparams, params
    if isinstance(clause, Update):
        _check_update(clause.table, clause, columns, multiparams, params)
        return clause, multiparams, params
    if multiparams and isinstance(multiparams, list | tuple) and isinstance(multiparams[0], dict):
        rows = [_subject_row(r, columns) for r in multiparams]
        cipher.prepare(r["id"] for r in rows if isinstance(r.get("id"), str))
        return clause, rows, params
    if params:
        return clause, multiparams, _subject_row(dict(params), columns)
    inline = getattr(clause, "_values", None)  # insert(t).values(...): values bound in the clause
    if inline:
        values = {getattr(k, "key", k): getattr(v, "value", v) for k, v in inline.items()}
        wrapped = _subject_row(values, columns)
        changed = {k: v for k, v in wrapped.items() if isinstance(v, SubjectValue)}
        if changed:
            clause = clause.values(changed)
    return clause, multiparams, params


def fields_of(dialect: Dialect) -> FieldCipher | None:
    found = getattr(dialect, FIELDS_ATTR, None)
    return found if isinstance(found, FieldCipher) else None


def upsert_ignore_sql(engine: Engine) -> str:
    """The clause that makes an INSERT skip rows whose primary key already exists."""
    return "OR IGNORE" if engine.dialect.name == "sqlite" else "ON CONFLICT DO NOTHING"
