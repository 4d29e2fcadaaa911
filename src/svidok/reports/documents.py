"""What a search document of each record kind contains: terms, label and filter columns.

`documents(conn, kind, ids)` yields (document row, facet rows) for records of a
kind, all of them (`ids=None`, for a rebuild, streamed) or some (incremental
updates). Testimonies take the time, place, status, violation types and units
of the incident they are cited for; persons are labelled by pseudonym, never by
name, so the index's display column holds no identity.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Select, select

from svidok.reports.text import doc_terms
from svidok.store.register import table_of

__all__ = ["KINDS", "Doc", "IncidentFacts", "documents", "incident_facts"]

KINDS = ("source", "incident", "person", "unit", "place")
STREAM = 5_000


@dataclass
class Doc:
    row: dict[str, Any]
    violations: set[str] = field(default_factory=set)
    units: set[str] = field(default_factory=set)


@dataclass
class IncidentFacts:
    """Per incident: (start, place, status), violation types and units (from acts and involvements)."""

    head: dict[str, tuple[datetime | None, str | None, str | None]] = field(default_factory=dict)
    violations: dict[str, set[str]] = field(default_factory=dict)
    units: dict[str, set[str]] = field(default_factory=dict)


def _where_in(query: Select[Any], column: Any, ids: list[str] | None) -> Select[Any]:
    return query if ids is None else query.where(column.in_(ids))


def incident_facts(conn: Connection, incident_ids: list[str] | None) -> IncidentFacts:
    incident, act, inv = table_of("incident"), table_of("act"), table_of("involvement")
    facts = IncidentFacts()
    for row in conn.execute(
        _where_in(
            select(incident.c.id, incident.c.start_at, incident.c.place_id, incident.c.status),
            incident.c.id,
            incident_ids,
        )
    ):
        facts.head[row[0]] = (row[1], row[2], row[3])
    query = select(act.c.incident_id, act.c.violation).distinct()
    for inc_id, violation in conn.execute(_where_in(query, act.c.incident_id, incident_ids)):
        facts.violations.setdefault(inc_id, set()).add(violation)
    query = (
        select(act.c.incident_id, inv.c.unit_id)
        .select_from(inv.join(act, inv.c.act_id == act.c.id))
        .where(inv.c.unit_id.is_not(None))
        .distinct()
    )
    for inc_id, unit_id in conn.execute(_where_in(query, act.c.incident_id, incident_ids)):
        facts.units.setdefault(inc_id, set()).add(unit_id)
    return facts


def _doc(record_id: str, kind: str, label: str | None, texts: Iterable[str | None], lang: str | None) -> Doc:
    terms, names = doc_terms(texts, lang)
    return Doc(
        {
            "id": record_id,
            "kind": kind,
            "label": (label or "")[:300] or None,
            "terms": terms,
            "names": names,
            "lang": lang,
            "day": None,
            "place_id": None,
            "incident_id": None,
            "status": None,
        }
    )


def _stream(conn: Connection, query: Select[Any]) -> Iterator[Any]:
    yield from conn.execute(query, execution_options={"stream_results": True, "yield_per": STREAM})


def _sources(conn: Connection, ids: list[str] | None) -> Iterator[Doc]:
    source, citation = table_of("source"), table_of("citation")
    cited = select(citation.c.source_id, citation.c.subject_id).where(citation.c.subject_kind == "incident")
    cites: dict[str, str] = {}
    for source_id, incident_id in conn.execute(_where_in(cited, citation.c.source_id, ids)):
        if source_id not in cites or incident_id < cites[source_id]:
            cites[source_id] = incident_id
    facts = incident_facts(conn, sorted(set(cites.values())) if ids is not None else None)
    query = select(
        source.c.id,
        source.c.title,
        source.c.text,
        source.c.language,
        source.c.reported_start,
        source.c.reported_place_id,
        source.c.received_at,
        source.c.kind,
    ).order_by(source.c.id)
    for sid, title, text, lang, start, place_id, received, kind in _stream(
        conn, _where_in(query, source.c.id, ids)
    ):
        doc = _doc(sid, "source", title or kind, (title, text), lang)
        inc = cites.get(sid)
        day, inc_place, status = facts.head.get(inc, (None, None, None)) if inc else (None, None, None)
        doc.row.update(
            day=start or day or received,
            place_id=place_id or inc_place,
            incident_id=inc,
            status=status,
        )
        if inc:
            doc.violations = facts.violations.get(inc, set())
            doc.units = facts.units.get(inc, set())
        yield doc


def _incidents(conn: Connection, ids: list[str] | None) -> Iterator[Doc]:
    incident = table_of("incident")
    facts = incident_facts(conn, ids)
    query = select(incident.c.id, incident.c.title, incident.c.summary, incident.c.place_text).order_by(
        incident.c.id
    )
    for iid, title, summary, place_text in _stream(conn, _where_in(query, incident.c.id, ids)):
        doc = _doc(iid, "incident", title, (title, place_text, summary), None)
        day, place_id, status = facts.head.get(iid, (None, None, None))
        doc.row.update(day=day, place_id=place_id, incident_id=iid, status=status)
        doc.violations = facts.violations.get(iid, set())
        doc.units = facts.units.get(iid, set())
        yield doc


def _persons(conn: Connection, ids: list[str] | None) -> Iterator[Doc]:
    person, pname = table_of("person"), table_of("person_name")
    names: dict[str, list[str]] = {}
    for pid, name in conn.execute(_where_in(select(pname.c.person_id, pname.c.name), pname.c.person_id, ids)):
        names.setdefault(pid, []).append(name)
    query = select(person.c.id, person.c.primary_name, person.c.pseudonym).order_by(person.c.id)
    for pid, primary, pseudonym in _stream(conn, _where_in(query, person.c.id, ids)):
        yield _doc(pid, "person", pseudonym, (primary, *names.get(pid, [])), None)


def _named(conn: Connection, kind: str, ids: list[str] | None) -> Iterator[Doc]:
    table = table_of(kind)
    extra = table.c.abbreviation if kind == "unit" else table.c.kind
    query = select(table.c.id, table.c.name, table.c.names, extra).order_by(table.c.id)
    for rid, name, variants, other in conn.execute(_where_in(query, table.c.id, ids)):
        texts = [name, *(str(v) for v in (variants or {}).values())]
        if kind == "unit" and other:
            texts.append(other)
        doc = _doc(rid, kind, name, texts, None)
        if kind == "place":
            doc.row["place_id"] = rid
        else:
            doc.units = {rid}
        yield doc


def documents(conn: Connection, kind: str, ids: list[str] | None = None) -> Iterator[Doc]:
    """Search documents of records of `kind` (all, or those in `ids`)."""
    if kind == "source":
        return _sources(conn, ids)
    if kind == "incident":
        return _incidents(conn, ids)
    if kind == "person":
        return _persons(conn, ids)
    if kind in ("unit", "place"):
        return _named(conn, kind, ids)
    raise ValueError(f"no search documents for {kind!r}; kinds: {', '.join(KINDS)}")
