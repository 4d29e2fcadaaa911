"""The schema is made only by migrations, and the migrations agree with the models."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from svidok.reports.index import RUNTIME_STRUCTURES
from svidok.store import migrate
from svidok.store.models import RECORD_TABLES, Base
from svidok.store.register import Store


def _not_runtime(obj, name, type_, reflected, compare_to) -> bool:  # type: ignore[no-untyped-def]
    """The search index's FTS table and GIN/trigram indexes are made on first use, not by migrations."""
    return name not in RUNTIME_STRUCTURES and not str(name).startswith("search_fts")


def test_upgrade_head_on_empty_database_equals_the_models(store: Store) -> None:
    with store.read() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True, "include_object": _not_runtime})
        differences = compare_metadata(context, Base.metadata)
    assert differences == []


def test_every_record_kind_has_its_table_and_the_revision_is_head(store: Store) -> None:
    assert migrate.is_current(store.engine)
    with store.read() as conn:
        tables = set(inspect(conn).get_table_names())
    assert set(RECORD_TABLES) <= tables


def test_sqlite_register_runs_in_wal_mode_with_foreign_keys(sqlite_settings) -> None:  # type: ignore[no-untyped-def]
    store = Store.open(sqlite_settings)
    with store.read() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    store.close()
