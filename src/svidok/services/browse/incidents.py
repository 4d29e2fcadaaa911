"""Incidents: the filtered list, and one incident with its acts, victims, suspects, sources, evidence.

Every query keeps only records in the actor's reach (`ctx.visible`) and every
row with protected fields goes through `ctx.mask`. Suspects (perpetrators on
record and the suspect linker's candidates) are shown only to roles allowed
`suspect.view`: suspects are a compartment of their own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import and_, exists, or_, select

from svidok.services.browse.common import (
    Page,
    bounded,
    count,
    descendants,
    end_of,
    fetch,
    named,
    persons,
    start_of,
)
from svidok.services.context import ServiceContext
from svidok.store.register import table_of

__all__ = ["IncidentFilters", "incident_detail", "list_incidents"]


@dataclass
class IncidentFilters:
    date_from: date | None = None
    date_to: date | None = None
    place: str | None = None
    """A place id; incidents at its sub-places are included."""
    violations: list[str] = field(default_factory=list)
    units: list[str] = field(default_factory=list)
    """Unit ids on record as perpetrators of an act of the incident; sub-units are included."""
    statuses: list[str] = field(default_factory=list)


def list_incidents(
    ctx: ServiceContext, filters: IncidentFilters | None = None, *, limit: int = 50, offset: int = 0
) -> Page:
    """Incidents in reach, newest first, filtered by time, place, violation type, unit and status."""
    ctx.require("record.search", "incident")
    f = filters or IncidentFilters()
    limit, offset = bounded(limit, offset)
    incident, act, inv = table_of("incident"), table_of("act"), table_of("involvement")
    query = select(
        incident.c.id,
        incident.c.title,
        incident.c.start_at,
        incident.c.start_precision,
        incident.c.place_id,
        incident.c.place_text,
        incident.c.status,
    ).where(ctx.visible("incident", incident.c.id))
    if f.date_from:
        query = query.where(incident.c.start_at >= start_of(f.date_from))
    if f.date_to:
        query = query.where(incident.c.start_at <= end_of(f.date_to))
    if f.statuses:
        query = query.where(incident.c.status.in_(f.statuses))
    if f.violations:
        query = query.where(
            exists(
                select(act.c.id).where(
                    act.c.incident_id == incident.c.id,
                    act.c.violation.in_(f.violations),
                    ctx.visible("act", act.c.id),
                )
            )
        )
    with ctx.store.read() as conn:
        if f.place:
            query = query.where(incident.c.place_id.in_(descendants(conn, "place", f.place)))
        if f.units:
            units = sorted({u for root in f.units for u in descendants(conn, "unit", root)})
            query = query.where(
                exists(
                    select(act.c.id)
                    .join(inv, inv.c.act_id == act.c.id)
                    .where(
                        act.c.incident_id == incident.c.id,
                        inv.c.unit_id.in_(units),
                        ctx.visible("act", act.c.id),
                    )
                )
            )
        total = count(conn, query)
        items = fetch(
            conn, query.order_by(incident.c.start_at.desc(), incident.c.id).limit(limit).offset(offset)
        )
        places = named(conn, "place", (i["place_id"] for i in items))
        acts: dict[str, list[str]] = {}
        ids = [str(i["id"]) for i in items]
        if ids:
            for incident_id, violation in conn.execute(
                select(act.c.incident_id, act.c.violation).where(
                    act.c.incident_id.in_(ids), ctx.visible("act", act.c.id)
                )
            ):
                acts.setdefault(str(incident_id), []).append(str(violation))
    for item in items:
        item["place"] = places.get(str(item["place_id"])) if item["place_id"] else None
        found = acts.get(str(item["id"]), [])
        item["acts"] = len(found)
        item["violations"] = sorted(set(found))
    return Page(items, total, limit, offset)


def incident_detail(ctx: ServiceContext, incident_id: str) -> dict[str, Any]:
    """One incident: timeline of acts with victims, suspects and the evidence behind each (for
    `suspect.view`), sources with their grading, evidence with capture time and place. Audited."""
    ctx.require_record("record.view", "incident", incident_id)
    suspects = ctx.can("suspect.view")
    incident, act, link = table_of("incident"), table_of("act"), table_of("link")
    source, evidence, citation = table_of("source"), table_of("evidence"), table_of("citation")
    with ctx.store.begin() as conn:
        record = ctx.mask(
            conn, "incident", fetch(conn, select(incident).where(incident.c.id == incident_id))
        )[0]
        acts = ctx.mask(
            conn,
            "act",
            fetch(
                conn,
                select(act)
                .where(act.c.incident_id == incident_id, ctx.visible("act", act.c.id))
                .order_by(act.c.occurred_at, act.c.id),
            ),
        )
        act_ids = [str(a["id"]) for a in acts]
        victims = persons(ctx, conn, (a["victim_id"] for a in acts))
        perpetrators: dict[str, list[dict[str, Any]]] = {}
        candidates: dict[str, list[dict[str, Any]]] = {}
        if suspects and act_ids:
            perpetrators, candidates = _suspects(ctx, conn, act_ids)
        for a in acts:
            a["victim"] = victims.get(str(a["victim_id"])) if a["victim_id"] else None
            a["perpetrators"] = perpetrators.get(str(a["id"]), [])
            a["suspects"] = candidates.get(str(a["id"]), [])
        source_links = fetch(
            conn,
            select(link).where(
                link.c.kind == "source_incident", link.c.to_id == incident_id, ctx.visible("link", link.c.id)
            ),
        )
        cited = [
            str(s)
            for s in conn.execute(
                select(citation.c.source_id).where(
                    or_(
                        and_(citation.c.subject_kind == "incident", citation.c.subject_id == incident_id),
                        and_(citation.c.subject_kind == "act", citation.c.subject_id.in_(act_ids)),
                    ),
                    ctx.visible("citation", citation.c.id),
                )
            ).scalars()
        ]
        by_source = {str(li["from_id"]): li for li in source_links}
        source_ids = sorted(set(cited) | set(by_source))
        sources = ctx.mask(
            conn,
            "source",
            fetch(
                conn,
                select(
                    source.c.id,
                    source.c.kind,
                    source.c.author_role,
                    source.c.language,
                    source.c.title,
                    source.c.received_at,
                    source.c.reliability,
                    source.c.credibility,
                    source.c.origin,
                )
                .where(source.c.id.in_(source_ids), ctx.visible("source", source.c.id))
                .order_by(source.c.received_at, source.c.id),
            ),
        )
        for s in sources:
            li = by_source.get(str(s["id"]))
            s["cited"] = str(s["id"]) in cited
            s["link"] = _link_view(li) if li else None
        evidence_links = fetch(
            conn,
            select(link).where(
                link.c.kind == "evidence_incident",
                link.c.to_id == incident_id,
                ctx.visible("link", link.c.id),
            ),
        )
        by_evidence = {str(li["from_id"]): li for li in evidence_links}
        files = ctx.mask(
            conn,
            "evidence",
            fetch(
                conn,
                select(evidence)
                .where(
                    or_(evidence.c.id.in_(list(by_evidence)), evidence.c.source_id.in_(source_ids)),
                    ctx.visible("evidence", evidence.c.id),
                )
                .order_by(evidence.c.capture_start, evidence.c.id),
            ),
        )
        capture_places = named(conn, "place", (f["place_id"] for f in files))
        for f in files:
            li = by_evidence.get(str(f["id"]))
            f["link"] = _link_view(li) if li else None
            f["place"] = capture_places.get(str(f["place_id"])) if f["place_id"] else None
            f.pop("collector", None)
        related = fetch(
            conn,
            select(link).where(
                link.c.kind == "incident_incident",
                or_(link.c.from_id == incident_id, link.c.to_id == incident_id),
                ctx.visible("link", link.c.id),
            ),
        )
        ctx.record(conn, "record.view", "incident", incident_id, {"page": "incident"})
        place = named(conn, "place", [record["place_id"]]).get(str(record["place_id"]))
    return {
        "incident": {**record, "place": place},
        "acts": acts,
        "sources": sources,
        "evidence": files,
        "related": [_link_view(li) for li in related],
        "suspects_shown": suspects,
    }


def _link_view(li: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": li["id"],
        "kind": li["kind"],
        "from_id": li["from_id"],
        "to_id": li["to_id"],
        "score": li["score"],
        "status": li["status"],
        "method": li["method"],
        "explanation": list(li["explanation"] or []),
        "decided_by": li["decided_by"],
    }


def _suspects(
    ctx: ServiceContext, conn: Any, act_ids: list[str]
) -> tuple[dict[str, list[dict[str, Any]]], dict[str, list[dict[str, Any]]]]:
    """Perpetrators on record (involvements) and the linker's suspect candidates, per act."""
    inv, link = table_of("involvement"), table_of("link")
    involvements = fetch(
        conn,
        select(inv)
        .where(inv.c.act_id.in_(act_ids), ctx.visible("involvement", inv.c.id))
        .order_by(inv.c.confidence.desc(), inv.c.id),
    )
    links = fetch(
        conn,
        select(link)
        .where(
            and_(link.c.kind == "suspect_act", link.c.to_id.in_(act_ids), link.c.status != "rejected"),
            ctx.visible("link", link.c.id),
        )
        .order_by(link.c.score.desc(), link.c.id),
    )
    people = persons(ctx, conn, [*(i["person_id"] for i in involvements), *(li["from_id"] for li in links)])
    units = named(conn, "unit", [*(i["unit_id"] for i in involvements), *(li["from_id"] for li in links)])
    on_record: dict[str, list[dict[str, Any]]] = {}
    for i in involvements:
        on_record.setdefault(str(i["act_id"]), []).append(
            {
                "id": i["id"],
                "role": i["role"],
                "confidence": i["confidence"],
                "person": people.get(str(i["person_id"])) if i["person_id"] else None,
                "unit": units.get(str(i["unit_id"])) if i["unit_id"] else None,
            }
        )
    candidates: dict[str, list[dict[str, Any]]] = {}
    for li in links:
        who = str(li["from_id"])
        if who not in people and who not in units:
            continue
        candidates.setdefault(str(li["to_id"]), []).append(
            {**_link_view(li), "person": people.get(who), "unit": units.get(who)}
        )
    return on_record, candidates
