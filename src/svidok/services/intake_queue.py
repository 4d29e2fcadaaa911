"""An operator structures a submission into an incident, acts, mentions, evidence and a missing case.

`suggestions(ctx, submission_id)` links each person the submission describes
against the register now (`services.linking.link_new_mention`, the interactive
path) and returns the candidates, as the operator may see them, to show beside
the form. `structure(ctx, submission_id, plan)` writes what the operator decided
in one transaction with its audit entry: the incident (or an existing one), its
acts with victims (a victim mention without a person becomes a new person),
new mentions, the testimony's grading, human-confirmed links from the testimony
and its files to the incident, and a missing-person case whose custody and
testimony matches are suggested at once. New records go into the operator's
compartment (`accounts.filing_compartments`), and so do the submission's
testimonies, so the people working the case can read them.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from svidok.domain.values import new_id
from svidok.domain.vocabulary import vocabulary
from svidok.errors import InputError, NotFound
from svidok.linking.missing import MissingLinkSettings, suggest_missing_links
from svidok.services import accounts
from svidok.services.browse.common import fetch, persons
from svidok.services.context import ServiceContext, utc_now
from svidok.services.linking import link_new_mention
from svidok.store.links import Suggestion, link_id, write_suggestions
from svidok.store.models import Base
from svidok.store.register import table_of

__all__ = ["ActPlan", "MentionPlan", "MissingPlan", "Structure", "structure", "suggestions"]

_SUBMISSION, _ADDITION = Base.metadata.tables["submission"], Base.metadata.tables["submission_addition"]
_FILED = Base.metadata.tables["record_compartment"]
GRADES = ("A", "B", "C", "D", "E", "F")


@dataclass
class ActPlan:
    violation: str
    victim_mention: str | None = None
    injuries: list[str] = field(default_factory=list)
    description: str = ""
    occurred_at: datetime | None = None


@dataclass
class MentionPlan:
    raw_name: str
    role: str = "perpetrator"
    rank: str = ""
    badge_number: str = ""
    unit_text: str = ""


@dataclass
class MissingPlan:
    missing_name: str
    sex: str = "unknown"
    birth_date: str | None = None
    last_seen_at: datetime | None = None
    last_seen_text: str = ""


@dataclass
class Structure:
    """What the operator decided a submission says."""

    title: str = ""
    start_at: datetime | None = None
    start_precision: str = "day"
    place_id: str | None = None
    place_text: str = ""
    status: str = "alleged"
    incident_id: str | None = None
    """Attach to this existing incident instead of making a new one."""
    acts: list[ActPlan] = field(default_factory=list)
    mentions: list[MentionPlan] = field(default_factory=list)
    missing: MissingPlan | None = None
    reliability: str = "F"
    credibility: int = 6
    compartment: str | None = None


def _sources(conn: Connection, submission_id: str) -> list[str]:
    row = conn.execute(select(_SUBMISSION.c.source_id).where(_SUBMISSION.c.id == submission_id)).first()
    if row is None:
        raise NotFound("submission", submission_id)
    added = conn.execute(select(_ADDITION.c.source_id).where(_ADDITION.c.submission_id == submission_id))
    return [str(row[0]), *(str(r[0]) for r in added)]


def suggestions(ctx: ServiceContext, submission_id: str) -> dict[str, list[dict[str, Any]]]:
    """Per mention of the submission, the persons the linking engine proposes (best first)."""
    ctx.require_record("record.create", "submission", submission_id)
    mention = table_of("mention")
    with ctx.store.read() as conn:
        ids = [
            str(i)
            for i in conn.execute(
                select(mention.c.id)
                .where(
                    mention.c.source_id.in_(_sources(conn, submission_id)), mention.c.raw_name.is_not(None)
                )
                .order_by(mention.c.id)
            ).scalars()
        ]
    found: dict[str, list[dict[str, Any]]] = {}
    for mention_id in ids:
        candidates = link_new_mention(ctx, mention_id)
        found[mention_id] = [
            {
                "person_id": c.person_id,
                "probability": c.probability,
                "via": c.via,
                "explanation": list(c.explanation),
            }
            for c in candidates
            if c.person_id.startswith("pe_")
        ][:5]
    with ctx.store.read() as conn:
        shown = persons(ctx, conn, (c["person_id"] for cs in found.values() for c in cs))
    return {
        m: [{**c, "person": shown[c["person_id"]]} for c in cs if c["person_id"] in shown]
        for m, cs in found.items()
    }


def _check(plan: Structure) -> None:
    if plan.incident_id is None:
        if not plan.title.strip() or plan.start_at is None:
            raise InputError("incident: a title and a start time (or an existing incident id)")
        vocabulary("incident_status").check(plan.status)
    for act in plan.acts:
        vocabulary("violation_type").check(act.violation)
        for code in act.injuries:
            vocabulary("injury_type").check(code)
    for m in plan.mentions:
        vocabulary("mention_role").check(m.role)
        if not m.raw_name.strip():
            raise InputError("mentions: a name, a nickname or a description as a name")
    if plan.reliability not in GRADES or not 1 <= plan.credibility <= 6:
        raise InputError("grading: reliability A-F and credibility 1-6")
    if plan.missing is not None and not plan.missing.missing_name.strip():
        raise InputError("missing person: a name")


def structure(ctx: ServiceContext, submission_id: str, plan: Structure) -> dict[str, Any]:
    """Write the operator's structuring of a submission; returns the ids made."""
    ctx.require_record("record.create", "submission", submission_id)
    _check(plan)
    filing = accounts.filing_compartments(ctx, "incident", [plan.compartment] if plan.compartment else None)
    if plan.incident_id is not None:
        ctx.require_record("record.update", "incident", plan.incident_id)
    now = utc_now()
    made: dict[str, Any] = {"acts": [], "mentions": [], "persons": [], "evidence": []}
    mention, act = table_of("mention"), table_of("act")
    with ctx.store.begin() as conn:
        sources = _sources(conn, submission_id)
        own = {str(r["id"]): r for r in fetch(conn, select(mention).where(mention.c.source_id.in_(sources)))}
        incident_id = plan.incident_id or new_id("incident")
        if plan.incident_id is None:
            conn.execute(
                insert(table_of("incident")).values(
                    id=incident_id,
                    title=plan.title.strip()[:300],
                    summary=None,
                    start_at=plan.start_at,
                    start_precision=plan.start_precision,
                    place_id=plan.place_id or None,
                    place_text=plan.place_text.strip()[:300] or None,
                    status=plan.status,
                )
            )
            _file(conn, "incident", [incident_id], filing)
        made["incident"] = incident_id
        _file(conn, "source", sources, filing)
        for m in plan.mentions:
            mention_id = new_id("mention")
            conn.execute(
                insert(mention).values(
                    id=mention_id,
                    source_id=sources[0],
                    role=m.role,
                    raw_name=m.raw_name.strip()[:300],
                    rank=m.rank.strip()[:100] or None,
                    badge_number=m.badge_number.strip()[:40] or None,
                    unit_text=m.unit_text.strip()[:300] or None,
                )
            )
            made["mentions"].append(mention_id)
        for a in plan.acts:
            victim = None
            if a.victim_mention:
                if a.victim_mention not in own:
                    raise InputError(f"acts: mention {a.victim_mention} is not one of this submission's")
                victim = _person_of(ctx, conn, own[a.victim_mention], filing, made, now)
            act_id = new_id("act")
            conn.execute(
                insert(act).values(
                    id=act_id,
                    incident_id=incident_id,
                    violation=a.violation,
                    victim_id=victim,
                    occurred_at=a.occurred_at,
                    precision=plan.start_precision if a.occurred_at else None,
                    description=a.description.strip() or None,
                    injuries=sorted(set(a.injuries)),
                )
            )
            made["acts"].append(act_id)
        source = table_of("source")
        conn.execute(
            update(source)
            .where(source.c.id.in_(sources))
            .values(reliability=plan.reliability, credibility=plan.credibility)
        )
        citation = table_of("citation")
        for source_id in sources:
            _human_link(ctx, conn, "source_incident", source_id, incident_id, "operator: this testimony", now)
            exists = conn.execute(
                select(citation.c.id).where(
                    citation.c.subject_kind == "incident",
                    citation.c.subject_id == incident_id,
                    citation.c.field == "",
                    citation.c.source_id == source_id,
                )
            ).first()
            if exists is None:
                conn.execute(
                    insert(citation).values(
                        id=new_id("citation"),
                        source_id=source_id,
                        subject_kind="incident",
                        subject_id=incident_id,
                        field="",
                        confidence=0.5,
                    )
                )
        evidence = table_of("evidence")
        for evidence_id in conn.execute(
            select(evidence.c.id).where(evidence.c.source_id.in_(sources))
        ).scalars():
            _human_link(
                ctx, conn, "evidence_incident", str(evidence_id), incident_id, "operator: sent with it", now
            )
            made["evidence"].append(str(evidence_id))
        if plan.missing is not None:
            made["missing_case"] = _missing(conn, plan.missing, filing, now)
        conn.execute(
            update(_SUBMISSION)
            .where(_SUBMISSION.c.id == submission_id)
            .values(status="structured", assigned_to=ctx.actor.name, updated_at=now)
        )
        ctx.record(
            conn, "submission.structure", "submission", submission_id, {**made, "compartments": filing}
        )
    for mention_id in made["mentions"]:
        link_new_mention(ctx, mention_id)
    _reindex(ctx, incident_id)
    return made


def _file(conn: Connection, kind: str, ids: list[str], compartments: list[str]) -> None:
    """File records into compartments they are not in yet."""
    if not ids or not compartments:
        return
    present = {
        (str(r.record_id), str(r.compartment))
        for r in conn.execute(
            select(_FILED.c.record_id, _FILED.c.compartment).where(
                _FILED.c.kind == kind, _FILED.c.record_id.in_(ids)
            )
        )
    }
    rows = [
        {"kind": kind, "record_id": i, "compartment": c}
        for i in ids
        for c in compartments
        if (i, c) not in present
    ]
    if rows:
        conn.execute(insert(_FILED), rows)


def _person_of(
    ctx: ServiceContext,
    conn: Connection,
    row: dict[str, Any],
    filing: list[str],
    made: dict[str, Any],
    now: datetime,
) -> str:
    """The victim's person: the mention's own, or a new person made from it."""
    if row["person_id"]:
        return str(row["person_id"])
    person_id = new_id("person")
    conn.execute(
        insert(table_of("person")).values(
            id=person_id,
            primary_name=row["raw_name"] or "(unnamed)",
            pseudonym=f"V-{secrets.token_hex(3)}",
            sex=row["sex"] or "unknown",
            origin="register",
        )
    )
    mention = table_of("mention")
    conn.execute(update(mention).where(mention.c.id == row["id"]).values(person_id=person_id))
    _human_link(ctx, conn, "mention_person", str(row["id"]), person_id, "operator: new person", now)
    _file(conn, "person", [person_id], filing)
    made["persons"].append(person_id)
    row["person_id"] = person_id
    return person_id


def _human_link(
    ctx: ServiceContext, conn: Connection, kind: str, from_id: str, to_id: str, why: str, now: datetime
) -> None:
    link = table_of("link")
    values = {"status": "confirmed", "decided_by": ctx.actor.name, "decided_at": now}
    identifier = link_id(kind, from_id, to_id)
    if conn.execute(select(link.c.id).where(link.c.id == identifier)).first() is not None:
        conn.execute(update(link).where(link.c.id == identifier).values(values))
        return
    conn.execute(
        insert(link).values(
            id=identifier,
            kind=kind,
            from_id=from_id,
            to_id=to_id,
            score=1.0,
            explanation=[why],
            method="human",
            created_at=now,
            **values,
        )
    )


def _missing(conn: Connection, plan: MissingPlan, filing: list[str], now: datetime) -> str:
    """A missing-person case, with its custody and testimony matches suggested at once."""
    case_id = new_id("missing_case")
    conn.execute(
        insert(table_of("missing_case")).values(
            id=case_id,
            missing_name=plan.missing_name.strip()[:300],
            sex=plan.sex,
            birth_date=plan.birth_date or None,
            reported_at=now,
            last_seen_at=plan.last_seen_at,
            last_seen_text=plan.last_seen_text.strip()[:300] or None,
            status="open",
        )
    )
    _file(conn, "missing_case", [case_id], filing)
    found: list[Suggestion] = suggest_missing_links(conn, MissingLinkSettings(), only=[case_id])
    write_suggestions(conn, found, now=now)
    return case_id


def _reindex(ctx: ServiceContext, incident_id: str) -> None:
    """Make the new incident findable (the search index is refreshed after the commit)."""
    from svidok.reports import index

    index.refresh(ctx.store, "incident", [incident_id])
