"""Search across testimonies, incidents, persons, units and places (the CLI and the web call this).

`search(ctx, "Tsikhanouskaya \"били дубинками\"", SearchFilters(...))` gives ranked hits
with highlighted snippets and facet counts, only ever over records inside the
actor's compartments (`ctx.visible` is part of every query). SQLite uses FTS5
with BM25; PostgreSQL a GIN-indexed tsvector with ts_rank and, when nothing
matches, trigram similarity on labels. See `svidok.reports.query` for the syntax.
"""

from __future__ import annotations

import hashlib
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as dtime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Select,
    and_,
    column,
    exists,
    false,
    func,
    literal_column,
    or_,
    select,
    table,
    text,
)
from sqlalchemy.sql.elements import True_

from svidok.errors import ConfigError, InputError
from svidok.reports import index
from svidok.reports.documents import KINDS
from svidok.reports.query import Parsed, parse, to_fts5, to_tsquery
from svidok.reports.snippets import display_texts, snippet
from svidok.services.context import ServiceContext
from svidok.services.register import as_context
from svidok.store.models import Base
from svidok.store.register import Store, table_of

__all__ = ["Hit", "SearchFilters", "SearchResult", "search"]

DOC, FACET = index.DOC, index.FACET
FTS = table("search_fts", column("rowid"))
FACET_SAMPLE = 2_000
MAX_LIMIT = 200
_SHOWN = (DOC.c.n, DOC.c.id, DOC.c.kind, DOC.c.label, DOC.c.day, DOC.c.place_id, DOC.c.status, DOC.c.lang)


@dataclass
class SearchFilters:
    kinds: list[str] = field(default_factory=list)
    date_from: date | None = None
    date_to: date | None = None
    place: str | None = None  # a place id; its sub-places are included
    violations: list[str] = field(default_factory=list)
    units: list[str] = field(default_factory=list)  # unit ids; sub-units are included
    statuses: list[str] = field(default_factory=list)
    lang: str | None = None
    compartment: str | None = None


@dataclass
class Hit:
    id: str
    kind: str
    label: str | None
    score: float
    day: str | None
    place_id: str | None
    status: str | None
    snippet: str = ""
    marks: list[tuple[int, int]] = field(default_factory=list)


@dataclass
class SearchResult:
    query: str
    total: int
    total_is_exact: bool
    hits: list[Hit]
    facets: dict[str, dict[str, int]]
    method: str
    ms: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _descendants(conn: Connection, kind: str, root: str) -> list[str]:
    tab = table_of(kind)
    children: dict[str, list[str]] = {}
    for rid, parent in conn.execute(select(tab.c.id, tab.c.parent_id)):
        children.setdefault(parent, []).append(rid)
    found, frontier = [root], [root]
    while frontier:
        frontier = [c for p in frontier for c in children.get(p, [])]
        found += frontier
    return found


def _visibility(ctx: ServiceContext, kinds: list[str]) -> ColumnElement[bool] | None:
    clauses = [(k, ctx.visible(k, DOC.c.id)) for k in kinds]
    if all(isinstance(c, True_) for _, c in clauses):
        return None if set(kinds) == set(KINDS) else DOC.c.kind.in_(kinds)
    return or_(*(and_(DOC.c.kind == k, c) for k, c in clauses))


def _filters(conn: Connection, ctx: ServiceContext, f: SearchFilters) -> list[ColumnElement[bool]]:
    kinds = f.kinds or list(KINDS)
    unknown = set(kinds) - set(KINDS)
    if unknown:
        raise InputError(f"unknown kind(s) {', '.join(sorted(unknown))}; kinds: {', '.join(KINDS)}")
    out: list[ColumnElement[bool]] = []
    visible = _visibility(ctx, kinds)
    if visible is not None:
        out.append(visible)
    if f.date_from:
        out.append(DOC.c.day >= datetime.combine(f.date_from, dtime()))
    if f.date_to:
        out.append(DOC.c.day < datetime.combine(f.date_to + timedelta(days=1), dtime()))
    if f.place:
        out.append(DOC.c.place_id.in_(_descendants(conn, "place", f.place)))
    if f.statuses:
        out.append(DOC.c.status.in_(f.statuses))
    if f.lang:
        out.append(DOC.c.lang == f.lang)
    for facet, values in (("violation", f.violations), ("unit", f.units)):
        if values:
            if facet == "unit":
                values = sorted({u for v in values for u in _descendants(conn, "unit", v)})
            out.append(
                exists().where(FACET.c.doc_n == DOC.c.n, FACET.c.facet == facet, FACET.c.value.in_(values))
            )
    if f.compartment:
        out.append(_in_compartment(f.compartment))
    return out


def _in_compartment(name: str) -> ColumnElement[bool]:
    rc = Base.metadata.tables.get("record_compartment")
    if rc is None:
        return false()
    return exists().where(rc.c.kind == DOC.c.kind, rc.c.record_id == DOC.c.id, rc.c.compartment == name)


def _matching(conn: Connection, p: Parsed, prefix: bool = False) -> tuple[Select[Any], Any, str]:
    """(select over matching documents, rank expression ascending, method)."""
    if conn.dialect.name == "sqlite":
        # The FTS5 matches are materialised first, then joined to the documents and filtered:
        # otherwise the planner may walk a filter's index and re-run MATCH for every row.
        matches = (
            select(FTS.c.rowid.label("n"), literal_column("bm25(search_fts, 1.0, 0.5)").label("rank"))
            .where(text("search_fts MATCH :fts").bindparams(fts=to_fts5(p, prefix=prefix)))
            .cte("matches")
            .prefix_with("MATERIALIZED")
        )
        query = select(*_SHOWN).select_from(DOC.join(matches, matches.c.n == DOC.c.n))
        return query, matches.c.rank, "sqlite-fts5-bm25"
    vector: ColumnElement[Any] = literal_column(index.PG_VECTOR)
    tsq = func.to_tsquery(literal_column("'simple'::regconfig"), to_tsquery(p))
    query = select(*_SHOWN).where(vector.op("@@")(tsq))
    return query, -func.ts_rank(vector, tsq), "postgresql-tsvector-ts_rank"


def _trigram(conn: Connection, raw: str) -> tuple[Select[Any], Any, str] | None:
    schema = index.trigram_schema(conn) if conn.dialect.name == "postgresql" else None
    if schema is None or not raw.strip():
        return None
    cond = text(f'search_doc.label OPERATOR("{schema}".%) :raw').bindparams(raw=raw)
    score = -getattr(func, schema).similarity(DOC.c.label, raw)
    return select(*_SHOWN).where(cond), score, "postgresql-trigram"


def _facets(conn: Connection, base: Select[Any]) -> tuple[int, bool, dict[str, dict[str, int]]]:
    sample = conn.execute(
        base.with_only_columns(
            DOC.c.n, DOC.c.kind, DOC.c.status, DOC.c.place_id, DOC.c.day, DOC.c.lang
        ).limit(FACET_SAMPLE + 1)
    ).all()
    exact = len(sample) <= FACET_SAMPLE
    sample = sample[:FACET_SAMPLE]
    counts: dict[str, Counter[str]] = {k: Counter() for k in ("kind", "status", "place", "month", "lang")}
    for _n, kind, status, place_id, day, lang in sample:
        counts["kind"][kind] += 1
        for name, value in (("status", status), ("place", place_id), ("lang", lang)):
            if value:
                counts[name][value] += 1
        if day:
            counts["month"][day.strftime("%Y-%m")] += 1
    ns = [row[0] for row in sample]
    for start in range(0, len(ns), 500):
        query = (
            select(FACET.c.facet, FACET.c.value, func.count())
            .where(FACET.c.doc_n.in_(ns[start : start + 500]))
            .group_by(FACET.c.facet, FACET.c.value)
        )
        for facet, value, n in conn.execute(query):
            counts.setdefault(facet, Counter())[value] += int(n)
    rc = Base.metadata.tables.get("record_compartment")
    if rc is not None:
        for start in range(0, len(ns), 500):
            query = (
                select(rc.c.compartment, func.count())
                .where(rc.c.kind == DOC.c.kind, rc.c.record_id == DOC.c.id)
                .where(DOC.c.n.in_(ns[start : start + 500]))
                .group_by(rc.c.compartment)
            )
            for name, n in conn.execute(query):
                counts.setdefault("compartment", Counter())[str(name)] += int(n)
    facets = {name: dict(c.most_common(25)) for name, c in counts.items() if c}
    return len(sample), exact, facets


def _hits(conn: Connection, ctx: ServiceContext, rows: list[Any], p: Parsed) -> list[Hit]:
    hits = [
        Hit(
            id=r.id,
            kind=r.kind,
            label=r.label,
            score=round(-float(r.rank), 4),
            day=r.day.date().isoformat() if r.day else None,
            place_id=r.place_id,
            status=r.status,
        )
        for r in rows
    ]
    for kind in {h.kind for h in hits}:
        texts = display_texts(conn, ctx, kind, [h.id for h in hits if h.kind == kind])
        for h in hits:
            if h.kind == kind and h.id in texts:
                h.snippet, h.marks = snippet(texts[h.id], p.stems, p.keys)
    return hits


def _check_indexed(conn: Connection) -> None:
    """An empty index over a register with records means nobody built it: say how."""
    if conn.execute(select(DOC.c.n).limit(1)).first() is None:
        source = table_of("source")
        if conn.execute(select(source.c.id).limit(1)).first() is not None:
            raise ConfigError("the search index is empty: run `svidok report reindex`")


def search(
    target: ServiceContext | Store,
    query: str,
    filters: SearchFilters | None = None,
    *,
    limit: int = 20,
    offset: int = 0,
    facets: bool = True,
) -> SearchResult:
    """Ranked, highlighted hits for `query` within the actor's compartments, with facet counts."""
    ctx = as_context(target)
    ctx.require("record.search")
    started = time.perf_counter()
    parsed = parse(query)
    if parsed.empty:
        raise InputError("give at least one word to search for")
    limit = max(1, min(limit, MAX_LIMIT))
    index.ensure_once(ctx.store)
    with ctx.store.begin() as conn:
        where = _filters(conn, ctx, filters or SearchFilters())
        plans = [_matching(conn, parsed)]
        fallback = (
            _matching(conn, parsed, prefix=True) if conn.dialect.name == "sqlite" else _trigram(conn, query)
        )
        rows: list[Any] = []
        facet_counts: dict[str, dict[str, int]] = {}
        total, exact, method = 0, True, plans[0][2]
        for plan in [*plans, *([fallback] if fallback else [])]:
            base, rank, method = plan
            base = base.where(*where)
            ranked = base.add_columns(rank.label("rank")).order_by(rank, DOC.c.n).limit(limit).offset(offset)
            rows = list(conn.execute(ranked))
            if rows or offset:
                if facets:
                    total, exact, facet_counts = _facets(conn, base)
                else:
                    total, exact = len(rows) + offset, False
                break
        if not rows and not offset:
            _check_indexed(conn)
        hits = _hits(conn, ctx, rows, parsed)
        ctx.record(
            conn,
            "record.search",
            None,
            None,
            {
                "query_sha256": hashlib.sha256(query.encode()).hexdigest(),
                "shown": [h.id for h in hits],
            },
        )
    ms = round((time.perf_counter() - started) * 1000, 2)
    return SearchResult(query, total, exact, hits, facet_counts, method, ms)
