"""Search across testimonies, incidents, persons, units and places (the CLI and the web call this).

`search(ctx, "Tsikhanouskaya \"били дубинками\"", SearchFilters(...))` gives ranked hits
with highlighted snippets and facet counts, only ever over records inside the
actor's compartments (`ctx.visible` is part of every query). SQLite uses FTS5
with BM25; PostgreSQL a GIN-indexed tsvector of keyed blind tokens with ts_rank
(no fuzzy fallback: a misspelt name is found through the name engine's keys).
See `svidok.reports.query` for the syntax.
"""

from __future__ import annotations

import json
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
CANDIDATES = 1_000
"""SQLite ranks and counts facets over at most this many (the newest) matches; beyond, "more than"."""
WEIGHTS = (1.0, 0.5, 0.0)  # BM25 column weights: terms, names, facets (filter tokens do not rank)
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


def _matching(conn: Connection, p: Parsed) -> tuple[Select[Any], Any]:
    """PostgreSQL: (select over matching documents, rank expression ascending)."""
    vector: ColumnElement[Any] = literal_column(index.PG_VECTOR)
    tsq = func.to_tsquery(literal_column("'simple'::regconfig"), to_tsquery(p, index.blind_terms(conn)))
    query = select(*_SHOWN).where(vector.op("@@")(tsq))
    return query, -func.ts_rank(vector, tsq)


# -- SQLite: filters as FTS5 tokens, a capped candidate set ----------------------------------------


def _month_end(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1) - timedelta(days=1)


def _date_tokens(conn: Connection, first: date | None, last: date | None) -> list[str]:
    """Year, month, week and day tokens that together cover exactly [first, last] (open ends:
    the data's), few of them: each token is one more doclist FTS5 walks for every match."""
    # Two statements: SQLite answers a lone min() or max() from the index, both together by a scan.
    low = conn.execute(select(func.min(DOC.c.day))).scalar()
    high = conn.execute(select(func.max(DOC.c.day))).scalar()
    if low is None or high is None:
        return []
    start = max(first, low.date()) if first else low.date()
    end = min(last, high.date()) if last else high.date()
    out: list[str] = []
    day = start
    while day <= end:
        if day.month == 1 and day.day == 1 and date(day.year, 12, 31) <= end:
            out.append(index.facet_token("year", f"{day.year:04d}"))
            day = date(day.year + 1, 1, 1)
        elif day.day == 1 and _month_end(day) <= end:
            out.append(index.facet_token("month", f"{day.year:04d}{day.month:02d}"))
            day = _month_end(day) + timedelta(days=1)
        elif day.weekday() == 0 and day + timedelta(days=6) <= end and not _whole_month_inside(day, end):
            out.append(index.facet_token("week", day.strftime("%Y%m%d")))
            day += timedelta(days=7)
        else:
            out.append(index.facet_token("day", day.strftime("%Y%m%d")))
            day += timedelta(days=1)
    return out


def _whole_month_inside(monday: date, end: date) -> bool:
    """True when the week from `monday` holds the 1st of a month that ends by `end`: that
    month is one token, so the days before it are taken one by one instead of as a week."""
    return any((d := monday + timedelta(days=k)).day == 1 and _month_end(d) <= end for k in range(1, 7))


def _token_filters(conn: Connection, f: SearchFilters) -> list[list[str]]:
    """The filters as FTS5 token groups: a document must hold a token of every group."""
    groups: list[list[str]] = []
    some_kinds = bool(f.kinds) and set(f.kinds) != set(KINDS)
    if some_kinds and f.violations:  # one doclist per pair instead of a kind's and a violation's
        groups.append([index.pair_token(k, v) for k in f.kinds for v in f.violations])
    elif some_kinds:
        groups.append([index.facet_token("kind", k) for k in f.kinds])
    if f.statuses:
        groups.append([index.facet_token("status", v) for v in f.statuses])
    if f.lang:
        groups.append([index.facet_token("lang", f.lang)])
    if f.place:
        groups.append([index.facet_token("place", p) for p in _descendants(conn, "place", f.place)])
    if f.violations and not some_kinds:
        groups.append([index.facet_token("violation", v) for v in f.violations])
    if f.units:
        units = sorted({u for v in f.units for u in _descendants(conn, "unit", v)})
        groups.append([index.facet_token("unit", u) for u in units])
    if f.date_from or f.date_to:
        groups.append(_date_tokens(conn, f.date_from, f.date_to))
    return groups


def _fts_expression(p: Parsed, groups: list[list[str]], prefix: bool) -> str | None:
    """The MATCH expression, or None when a filter can match nothing (an empty date range)."""
    if any(not g for g in groups):
        return None
    parts = [f"({to_fts5(p, prefix=prefix)})"]
    parts += ["(" + " OR ".join(f'facets:"{t}"' for t in g) + ")" for g in groups]
    return " AND ".join(parts)


def _sql_filters(ctx: ServiceContext, f: SearchFilters) -> list[ColumnElement[bool]]:
    """What FTS5 cannot hold: compartments (they change without a re-index)."""
    out: list[ColumnElement[bool]] = []
    kinds = f.kinds or list(KINDS)
    clauses = [(k, ctx.visible(k, DOC.c.id)) for k in kinds]
    if not all(isinstance(c, True_) for _, c in clauses):
        out.append(or_(*(and_(DOC.c.kind == k, c) for k, c in clauses)))
    if f.compartment:
        out.append(_in_compartment(f.compartment))
    return out


@dataclass
class _Found:
    rows: list[Any]
    total: int
    exact: bool
    facets: dict[str, dict[str, int]]


def _sqlite_search(
    conn: Connection,
    ctx: ServiceContext,
    p: Parsed,
    f: SearchFilters,
    *,
    prefix: bool,
    limit: int,
    offset: int,
    facets: bool,
) -> _Found | None:
    """Rank the newest CANDIDATES matches by BM25 (all of them when there are no more).

    FTS5 walks its doclists newest first and stops after CANDIDATES + 1 matches, so
    a word in tens of thousands of documents costs no more than a rare one; the
    result then says `total_is_exact=False` ("more than CANDIDATES").
    """
    groups = _token_filters(conn, f)
    expr = _fts_expression(p, groups, prefix)
    if expr is None:
        return None
    match = text("search_fts MATCH :fts").bindparams(fts=expr)
    sql = _sql_filters(ctx, f)
    if sql:
        newest = select(FTS.c.rowid).select_from(FTS.join(DOC, DOC.c.n == FTS.c.rowid)).where(match, *sql)
    else:
        newest = select(FTS.c.rowid).where(match)
    ns = [r[0] for r in conn.execute(newest.order_by(FTS.c.rowid.desc()).limit(CANDIDATES + 1))]
    if not ns:
        return None
    exact = len(ns) <= CANDIDATES
    ns = ns[:CANDIDATES]
    # Ranked with the words alone: filter tokens weigh nothing in BM25, but each phrase costs a
    # pass over its whole doclist (a kind token holds a million documents), so the candidates'
    # rowid range is ranked by the words. Filters leave matches in that range that are not
    # candidates (ten times as many as the candidates at a million documents): "+rowid IN"
    # (the plus keeps SQLite from handing the IN to FTS5 as one look-up per candidate) drops
    # them before bm25() is computed for them, which is most of what ranking cost.
    rank: ColumnElement[float] = literal_column(f"bm25(search_fts, {', '.join(map(str, WEIGHTS))})")
    words = text("search_fts MATCH :words").bindparams(words=to_fts5(p, prefix=prefix))
    ranked = select(FTS.c.rowid, rank.label("rank")).where(words, FTS.c.rowid.between(min(ns), max(ns)))
    if sql or groups:  # the range may hold matches that are not candidates
        ranked = ranked.where(text("+search_fts.rowid IN (SELECT value FROM json_each(:ns))")).params(
            ns=json.dumps(ns)
        )
    order = [(n, r) for n, r in conn.execute(ranked.order_by(rank, FTS.c.rowid).limit(limit).offset(offset))]
    scores = dict(order)
    shown = {row.n: row for row in conn.execute(select(*_SHOWN).where(DOC.c.n.in_(list(scores))))}
    rows = [_Row(*shown[n], rank=scores[n]) for n, _ in order if n in shown]
    counts: dict[str, dict[str, int]] = {}
    if facets:
        counts = _sqlite_facets(conn, ns)
    return _Found(rows, len(ns), exact, counts)


_FACETS_SQL = f"""
WITH c(n) AS MATERIALIZED (SELECT value FROM json_each(:ns)),
d AS MATERIALIZED (SELECT d.kind, d.id, d.status, d.place_id, d.day, d.lang
  FROM c CROSS JOIN search_doc AS d INDEXED BY {index.SHOWN_INDEX} ON d.n = c.n)
SELECT 'doc', kind, status, place_id, strftime('%Y-%m', day), lang, count(*) FROM d GROUP BY 2, 3, 4, 5, 6
UNION ALL SELECT f.facet, f.value, NULL, NULL, NULL, NULL, count(*)
  FROM c CROSS JOIN search_facet AS f INDEXED BY {index.FACET_INDEX} ON f.doc_n = c.n
  GROUP BY f.facet, f.value
"""  # nosec B608 # the index names are constants
_COMPARTMENTS_SQL = """
UNION ALL SELECT 'compartment', rc.compartment, NULL, NULL, NULL, NULL, count(*)
  FROM d CROSS JOIN record_compartment AS rc ON rc.kind = d.kind AND rc.record_id = d.id
  GROUP BY rc.compartment
"""
_DOC_FACETS = ("kind", "status", "place", "month", "lang")


def _sqlite_facets(conn: Connection, ns: list[int]) -> dict[str, dict[str, int]]:
    """Facet counts over the counted matches `ns`, in one statement and one pass per table.

    The matches go in as one JSON array and drive every join (CROSS JOIN keeps SQLite from
    scanning the documents and probing the matches instead); the document columns come from
    a covering index (`index.SHOWN_INDEX`: SQLite would otherwise read each row by its
    primary key and step over its terms), are grouped together and summed per facet here;
    violation types and units come from another (`index.FACET_INDEX`), without a row look-up
    each."""
    counts: dict[str, Counter[str]] = {}
    # A register where no record is in a compartment has no compartment facet: its look-ups
    # (a third of the statement) are left out.
    rc = Base.metadata.tables["record_compartment"]
    assigned = conn.execute(select(rc.c.record_id).limit(1)).first() is not None
    sql = _FACETS_SQL + (_COMPARTMENTS_SQL if assigned else "")
    for facet, *values, n in conn.execute(text(sql), {"ns": json.dumps(ns)}):
        if facet == "doc":
            for name, value in zip(_DOC_FACETS, values, strict=True):
                if value is not None:
                    counts.setdefault(name, Counter())[str(value)] += int(n)
        else:
            counts.setdefault(str(facet), Counter())[str(values[0])] += int(n)
    return {name: dict(c.most_common(25)) for name, c in counts.items() if c}


@dataclass
class _Row:
    n: int
    id: str
    kind: str
    label: str | None
    day: datetime | None
    place_id: str | None
    status: str | None
    lang: str | None
    rank: float


def _facets(conn: Connection, base: Select[Any]) -> tuple[int, bool, dict[str, dict[str, int]]]:
    """Facet counts over the first FACET_SAMPLE matches of `base` (PostgreSQL)."""
    sample = conn.execute(
        base.with_only_columns(
            DOC.c.n, DOC.c.kind, DOC.c.status, DOC.c.place_id, DOC.c.day, DOC.c.lang
        ).limit(FACET_SAMPLE + 1)
    ).all()
    exact = len(sample) <= FACET_SAMPLE
    sample = sample[:FACET_SAMPLE]
    return len(sample), exact, _facet_counts(conn, list(sample))


def _facet_counts(conn: Connection, sample: list[Any]) -> dict[str, dict[str, int]]:
    """Counts per facet value over rows (n, kind, status, place_id, day, lang)."""
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
    return {name: dict(c.most_common(25)) for name, c in counts.items() if c}


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


def _postgresql_search(
    conn: Connection,
    ctx: ServiceContext,
    parsed: Parsed,
    filters: SearchFilters,
    *,
    limit: int,
    offset: int,
    facets: bool,
) -> tuple[list[Any], int, bool, dict[str, dict[str, int]]]:
    base, rank = _matching(conn, parsed)
    base = base.where(*_filters(conn, ctx, filters))
    ranked = base.add_columns(rank.label("rank")).order_by(rank, DOC.c.n).limit(limit).offset(offset)
    rows = list(conn.execute(ranked))
    if facets and (rows or offset):
        total, exact, facet_counts = _facets(conn, base)
        return rows, total, exact, facet_counts
    return rows, len(rows) + offset, not rows and not offset, {}


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
        rows: list[Any] = []
        facet_counts: dict[str, dict[str, int]] = {}
        total, exact = 0, True
        if conn.dialect.name == "sqlite":
            method = "sqlite-fts5-bm25"
            for prefix in (False, True):
                found = _sqlite_search(
                    conn,
                    ctx,
                    parsed,
                    filters or SearchFilters(),
                    prefix=prefix,
                    limit=limit,
                    offset=offset,
                    facets=facets,
                )
                if found is not None:
                    rows, total, exact, facet_counts = found.rows, found.total, found.exact, found.facets
                    break
        else:
            method = "postgresql-tsvector-ts_rank"
            rows, total, exact, facet_counts = _postgresql_search(
                conn,
                ctx,
                parsed,
                filters or SearchFilters(),
                limit=limit,
                offset=offset,
                facets=facets,
            )
        if not rows and not offset:
            _check_indexed(conn)
        hits = _hits(conn, ctx, rows, parsed)
        ctx.record(
            conn,
            "record.search",
            None,
            None,
            {
                "query_hmac": ctx.digest(query),
                "shown": [h.id for h in hits],
            },
        )
    ms = round((time.perf_counter() - started) * 1000, 2)
    return SearchResult(query, total, exact, hits, facet_counts, method, ms)
