"""Keeping the search index: dialect structures, full rebuild, incremental refresh.

SQLite: an external-content FTS5 table `search_fts(terms, names, facets)` over
the view `search_fts_content` of `search_doc` (rowid = `search_doc.n`; `facets`
holds one token per filter value, see `facet_token`), kept in step by triggers.
PostgreSQL: a GIN index on `to_tsvector('simple', terms || ' ' || names)` over
keyed blind tokens (`blind_terms`: stems and name keys are made and blinded in
Python, so the 'simple' configuration only splits them; positions are kept, so
phrases still work), the label sealed by its column type, and no trigram index
(it would need the labels in plaintext). `ensure` makes whatever is missing; it
is idempotent and cheap.

`rebuild(store)` re-indexes everything; `refresh(store, kind, ids)` re-indexes
the documents a change to records of `kind` affects (a changed act changes its
incident's facets and those of the testimonies cited for it). Import and intake
call `refresh` after their commit.
"""

from __future__ import annotations

import time
import weakref
from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import Connection, Engine, delete, func, select

from svidok.crypto.fields import FieldCipher
from svidok.reports.documents import KINDS, Doc, documents
from svidok.reports.text import BlindTerms
from svidok.store.db import fields_of
from svidok.store.models import Base
from svidok.store.register import Store, table_of

__all__ = [
    "DOC",
    "FACET",
    "blind_terms",
    "drop_structures",
    "ensure",
    "facet_token",
    "pair_token",
    "rebuild",
    "refresh",
]

DOC = Base.metadata.tables["search_doc"]
FACET = Base.metadata.tables["search_facet"]
CHUNK = 2_000

# The FTS5 table reads its rows from a view that adds a third column, `facets`: one token per
# filterable value of the document (kind, status, language, place, year/month/day, violation
# types, units), so that filters are doclist intersections inside FTS5 rather than a lookup of
# every match in `search_doc`. The tokens are derived from `search_doc` and `search_facet` in SQL,
# so an index built before the column existed is upgraded by `ensure` without re-reading records.
# `facet_token` below makes the same tokens in Python for queries. Weeks (Monday to Sunday, named
# by their Monday) let a date range of a few weeks be a handful of tokens instead of a token a day.
WEEK_MARK = "w"
# A token per (kind, violation type) of a document, so that the commonest filter, testimonies of
# a violation type, is one doclist to intersect instead of two (the kind's holds most documents).
PAIR_MARK = "x"
VIEW_VERSION = "svidok search view 3"
"""Written into the view's SQL: a view without it is from before week and pair tokens."""
_FACETS_SQL = (  # nosec B608 # only module constants are formatted in, never input
    "trim('k' || lower(hex(d.kind)) "  # nosec B608 # only module constants are formatted in
    "|| coalesce(' s' || lower(hex(d.status)), '') "
    "|| coalesce(' l' || lower(hex(d.lang)), '') "
    "|| coalesce(' p' || lower(hex(d.place_id)), '') "
    "|| coalesce(' y' || strftime('%Y', d.day) || ' m' || strftime('%Y%m', d.day) "
    f"|| ' {WEEK_MARK}' || strftime('%Y%m%d', d.day, 'weekday 0', '-6 days') "
    "|| ' d' || strftime('%Y%m%d', d.day), '') "
    "|| coalesce(' ' || (SELECT group_concat(substr(f.facet, 1, 1) || lower(hex(f.value)) "
    f"|| CASE WHEN f.facet = 'violation' THEN ' {PAIR_MARK}' || lower(hex(d.kind)) || 'z' "
    "|| lower(hex(f.value)) ELSE '' END, ' ') "
    f"FROM search_facet AS f WHERE f.doc_n = d.n), '')) /* {VIEW_VERSION} */"
)
_FTS_ROW = "SELECT n, terms, names, facets FROM search_fts_content WHERE n = {}.n"
_FTS_DELETE = (
    "INSERT INTO search_fts(search_fts, rowid, terms, names, facets) "
    "SELECT 'delete', n, terms, names, facets FROM search_fts_content WHERE n = old.n;"
)
_FTS_INSERT = f"INSERT INTO search_fts(rowid, terms, names, facets) {_FTS_ROW.format('new')};"
SHOWN_INDEX = "ix_search_doc_facets"
FACET_INDEX = "ix_search_facet_counts"
"""SQLite: covering indexes of what facets count, per document (queries name them)."""
# A document's facet rows must exist when its row is inserted and still exist when it is deleted
# (the triggers read them through the view): `_write` inserts facets first, `refresh` deletes
# documents first.
_SQLITE = (
    f"CREATE VIEW IF NOT EXISTS search_fts_content AS SELECT d.n AS n, d.terms AS terms, "
    f"d.names AS names, {_FACETS_SQL} AS facets FROM search_doc AS d",  # nosec B608 # _FACETS_SQL is a constant
    "CREATE VIRTUAL TABLE IF NOT EXISTS search_fts USING fts5(terms, names, facets, "
    "content='search_fts_content', content_rowid='n', tokenize='unicode61 remove_diacritics 0', "
    "detail='full')",
    f"CREATE TRIGGER IF NOT EXISTS search_doc_ai AFTER INSERT ON search_doc BEGIN {_FTS_INSERT} END",
    f"CREATE TRIGGER IF NOT EXISTS search_doc_bd BEFORE DELETE ON search_doc BEGIN {_FTS_DELETE} END",
    f"CREATE TRIGGER IF NOT EXISTS search_doc_bu BEFORE UPDATE ON search_doc BEGIN {_FTS_DELETE} END",
    f"CREATE TRIGGER IF NOT EXISTS search_doc_au AFTER UPDATE ON search_doc BEGIN {_FTS_INSERT} END",
    # The facet counts read these columns of up to 1,000 documents: from the table, each read
    # would step over the row's terms (often overflow pages, cold at a million documents).
    f"CREATE INDEX IF NOT EXISTS {SHOWN_INDEX} ON search_doc (n, kind, status, place_id, day, lang, id)",
    f"CREATE INDEX IF NOT EXISTS {FACET_INDEX} ON search_facet (doc_n, facet, value)",
)
_SQLITE_DROP = (
    f"DROP INDEX IF EXISTS {SHOWN_INDEX}",
    f"DROP INDEX IF EXISTS {FACET_INDEX}",
    "DROP TRIGGER IF EXISTS search_doc_ai",
    "DROP TRIGGER IF EXISTS search_doc_ad",
    "DROP TRIGGER IF EXISTS search_doc_bd",
    "DROP TRIGGER IF EXISTS search_doc_bu",
    "DROP TRIGGER IF EXISTS search_doc_au",
    "DROP TABLE IF EXISTS search_fts",
    "DROP VIEW IF EXISTS search_fts_content",
)
FACET_PREFIX = {
    "kind": "k",
    "status": "s",
    "lang": "l",
    "place": "p",
    "year": "y",
    "month": "m",
    "week": WEEK_MARK,
    "day": "d",
    "violation": "v",
    "unit": "u",
}


def pair_token(kind: str, violation: str) -> str:
    """The `facets` column token of a document of `kind` with an act of type `violation`."""
    return f"{PAIR_MARK}{kind.encode().hex()}z{violation.encode().hex()}"


def facet_token(facet: str, value: str) -> str:
    """The `facets` column token of a filter value (dates: 2020, 202008, 20200809 as text; a
    week by its Monday's date)."""
    if facet in ("year", "month", "week", "day"):
        return FACET_PREFIX[facet] + value
    return FACET_PREFIX[facet] + value.encode().hex()


PG_VECTOR = "to_tsvector('simple'::regconfig, search_doc.terms || ' ' || search_doc.names)"
_PG_TSV = f"CREATE INDEX IF NOT EXISTS ix_search_doc_tsv ON search_doc USING gin ({PG_VECTOR})"
RUNTIME_STRUCTURES = frozenset(
    {"search_fts", "search_fts_content", "ix_search_doc_tsv", SHOWN_INDEX, FACET_INDEX}
)
"""Made by `ensure` on first use, outside the migrations (dialect-specific); schema checks skip them."""

# The trigram index of registers indexed before migration 0010 (which drops it) is dropped too.
_PG_DROP = ("DROP INDEX IF EXISTS ix_search_doc_tsv", "DROP INDEX IF EXISTS ix_search_doc_label_trgm")
_ensured: weakref.WeakSet[Engine] = weakref.WeakSet()
_blinders: weakref.WeakKeyDictionary[FieldCipher, BlindTerms] = weakref.WeakKeyDictionary()

Progress = Callable[[str, int], None]


def blind_terms(conn: Connection) -> BlindTerms | None:
    """The keyed tokens of index words on a PostgreSQL register opened with its keyring.

    None on SQLite (SQLCipher encrypts the file, the index keeps stems) and on a bare
    PostgreSQL `Store` without keys (tests, tools), which, like the protected columns,
    passes words through: index and search must then both be run without keys.
    """
    cipher = fields_of(conn.dialect) if conn.dialect.name == "postgresql" else None
    if cipher is None:
        return None
    found = _blinders.get(cipher)
    if found is None:
        found = _blinders[cipher] = BlindTerms(cipher)
    return found


def _sqlite_outdated(conn: Connection) -> bool:
    """True when an FTS5 table from before the `facets` column, or a view from before week and
    pair tokens (`VIEW_VERSION`), is there: its rows are then re-read from `search_doc` (an
    FTS5 'rebuild')."""
    found: dict[str, str] = {
        str(name): str(sql)
        for name, sql in conn.exec_driver_sql(
            "SELECT name, sql FROM sqlite_master WHERE name IN ('search_fts', 'search_fts_content')"
        )
    }
    if "search_fts" not in found:
        return False
    return "facets" not in str(found["search_fts"]) or VIEW_VERSION not in str(
        found.get("search_fts_content")
    )


def ensure(conn: Connection) -> None:
    """Make the dialect's full-text structures if they are missing (in the caller's transaction).

    On SQLite an index made before the `facets` column or its week tokens is rebuilt from
    `search_doc` (a few minutes per million documents, once).
    """
    if conn.dialect.name == "sqlite":
        outdated = _sqlite_outdated(conn)
        if outdated:
            drop_structures(conn)
        for statement in _SQLITE:
            conn.exec_driver_sql(statement)
        if outdated:
            conn.exec_driver_sql("INSERT INTO search_fts(search_fts) VALUES ('rebuild')")
    else:
        conn.exec_driver_sql(_PG_TSV)


def ensure_once(store: Store) -> None:
    """`ensure` once per engine and process."""
    if store.engine in _ensured:
        return
    with store.begin() as conn:
        ensure(conn)
    _ensured.add(store.engine)


def drop_structures(conn: Connection) -> None:
    """Remove the dialect structures (before a bulk rebuild; tests that compare schemas)."""
    for statement in _SQLITE_DROP if conn.dialect.name == "sqlite" else _PG_DROP:
        conn.exec_driver_sql(statement)
    _ensured.discard(conn.engine)


def _write(conn: Connection, docs: Iterable[Doc], next_n: int) -> tuple[int, int]:
    """Insert documents and their facets in chunks; return (documents written, next n)."""
    written = 0
    rows: list[dict[str, Any]] = []
    facets: list[dict[str, Any]] = []
    blind = blind_terms(conn)

    def flush() -> None:
        # Facets first: the insert trigger reads them into the FTS5 row.
        if facets:
            conn.execute(FACET.insert(), facets)
        if rows:
            conn.execute(DOC.insert(), rows)
        rows.clear()
        facets.clear()

    for doc in docs:
        doc.row["n"] = next_n
        if blind is not None:
            doc.row["terms"] = blind.terms(doc.row["terms"])
            doc.row["names"] = blind.names(doc.row["names"])
        rows.append(doc.row)
        facets.extend({"facet": "violation", "value": v, "doc_n": next_n} for v in sorted(doc.violations))
        facets.extend({"facet": "unit", "value": u, "doc_n": next_n} for u in sorted(doc.units))
        next_n += 1
        written += 1
        if len(rows) >= CHUNK:
            flush()
    flush()
    return written, next_n


def _next_n(conn: Connection) -> int:
    return int(conn.execute(select(func.coalesce(func.max(DOC.c.n), 0))).scalar_one()) + 1


def rebuild(store: Store, progress: Progress | None = None) -> dict[str, Any]:
    """Re-index the whole register; return documents per kind and seconds taken."""
    started = time.perf_counter()
    counts: dict[str, int] = {}
    with store.begin() as conn:
        drop_structures(conn)
        conn.execute(delete(FACET))
        conn.execute(delete(DOC))
        next_n = 1
        for kind in KINDS:
            counts[kind], next_n = _write(conn, documents(conn, kind), next_n)
            if progress:
                progress(kind, counts[kind])
        if conn.dialect.name == "sqlite":
            ensure(conn)
            conn.exec_driver_sql("INSERT INTO search_fts(search_fts) VALUES ('rebuild')")
        else:
            ensure(conn)
    _ensured.add(store.engine)
    if store.dialect == "postgresql":
        with store.read() as conn:
            conn.exec_driver_sql("ANALYZE search_doc")
            conn.exec_driver_sql("ANALYZE search_facet")
    return {"documents": counts, "seconds": round(time.perf_counter() - started, 2)}


def affected(conn: Connection, kind: str, ids: list[str]) -> dict[str, set[str]]:
    """The search documents (kind → ids) that a change to records `ids` of `kind` affects."""
    out: dict[str, set[str]] = {k: set() for k in KINDS}
    if kind in KINDS:
        out[kind] |= set(ids)
    incidents: set[str] = set()
    if kind == "incident":
        incidents |= set(ids)
    elif kind == "act":
        act = table_of("act")
        incidents |= {r[0] for r in conn.execute(select(act.c.incident_id).where(act.c.id.in_(ids)))}
    elif kind == "involvement":
        act, inv = table_of("act"), table_of("involvement")
        query = select(act.c.incident_id).join(inv, inv.c.act_id == act.c.id).where(inv.c.id.in_(ids))
        incidents |= {r[0] for r in conn.execute(query)}
    elif kind in ("citation", "mention"):
        table = table_of(kind)
        out["source"] |= {r[0] for r in conn.execute(select(table.c.source_id).where(table.c.id.in_(ids)))}
    elif kind == "person_name":
        pname = table_of("person_name")
        out["person"] |= {r[0] for r in conn.execute(select(pname.c.person_id).where(pname.c.id.in_(ids)))}
    if incidents:
        out["incident"] |= incidents
        citation = table_of("citation")
        query = select(citation.c.source_id).where(
            citation.c.subject_kind == "incident", citation.c.subject_id.in_(sorted(incidents))
        )
        out["source"] |= {r[0] for r in conn.execute(query)}
    return {k: v for k, v in out.items() if v}


def refresh(store: Store, kind: str, ids: Iterable[str]) -> int:
    """Re-index what a change to records `ids` of `kind` affects; return documents written.

    Call after the change commits (import, intake, edits, linking merges). Deleted
    records simply lose their document.
    """
    wanted = sorted(set(ids))
    if not wanted:
        return 0
    ensure_once(store)
    written = 0
    with store.begin() as conn:
        for doc_kind, doc_ids in affected(conn, kind, wanted).items():
            for start in range(0, len(doc_ids), CHUNK):
                chunk = sorted(doc_ids)[start : start + CHUNK]
                old = [r[0] for r in conn.execute(select(DOC.c.n).where(DOC.c.id.in_(chunk)))]
                # Documents first: the delete trigger reads their facets to remove the FTS5 row.
                conn.execute(delete(DOC).where(DOC.c.n.in_(old)))
                conn.execute(delete(FACET).where(FACET.c.doc_n.in_(old)))
                done, _ = _write(conn, documents(conn, doc_kind, chunk), _next_n(conn))
                written += done
    return written
