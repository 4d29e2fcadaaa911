"""A person with every mention, name variant and link; a unit with its members and deployments."""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select

from svidok.access.compartments import REDACTED
from svidok.services.browse.common import fetch, named, persons, shown_name
from svidok.services.browse.incidents import _link_view
from svidok.services.context import ServiceContext
from svidok.store.register import table_of

__all__ = ["person_detail", "unit_detail"]


def person_detail(ctx: ServiceContext, person_id: str) -> dict[str, Any]:
    """One person: names, mentions (with their sources), links, memberships, acts suffered, custody
    records; acts as a perpetrator and suspect candidacies only for `suspect.view`. Audited."""
    ctx.require_record("record.view", "person", person_id)
    person, names, mention = table_of("person"), table_of("person_name"), table_of("mention")
    link, membership, act = table_of("link"), table_of("membership"), table_of("act")
    custody, source, incident = table_of("custody_record"), table_of("source"), table_of("incident")
    suspects = ctx.can("suspect.view")
    with ctx.store.begin() as conn:
        record = ctx.mask(conn, "person", fetch(conn, select(person).where(person.c.id == person_id)))[0]
        record["label"] = shown_name(record)
        variants = ctx.mask(
            conn,
            "person_name",
            fetch(
                conn,
                select(names.c.id, names.c.name, names.c.lang, names.c.script, names.c.kind)
                .where(names.c.person_id == person_id, ctx.visible("person_name", names.c.id))
                .order_by(names.c.kind, names.c.id),
            ),
        )
        variants = [v for v in variants if v["name"] != REDACTED] if variants else []
        mentions = ctx.mask(
            conn,
            "mention",
            fetch(
                conn,
                select(mention, source.c.kind.label("source_kind"), source.c.language, source.c.received_at)
                .join(source, source.c.id == mention.c.source_id)
                .where(mention.c.person_id == person_id, ctx.visible("mention", mention.c.id))
                .order_by(source.c.received_at, mention.c.id)
                .limit(500),
            ),
        )
        links_query = (
            select(link)
            .where(
                or_(link.c.to_id == person_id, link.c.from_id == person_id),
                link.c.kind.in_(["mention_person", "person_person"]),
                ctx.visible("link", link.c.id),
            )
            .order_by(link.c.kind, link.c.score.desc(), link.c.id)
            .limit(500)
        )
        links = [_link_view(li) for li in fetch(conn, links_query)]
        memberships = fetch(
            conn,
            select(membership)
            .where(membership.c.person_id == person_id, ctx.visible("membership", membership.c.id))
            .order_by(membership.c.start_date),
        )
        units = named(conn, "unit", (m["unit_id"] for m in memberships))
        for m in memberships:
            m["unit"] = units.get(str(m["unit_id"]))
        suffered = fetch(
            conn,
            select(
                act.c.id,
                act.c.violation,
                act.c.occurred_at,
                act.c.incident_id,
                incident.c.title,
                incident.c.start_at,
            )
            .join(incident, incident.c.id == act.c.incident_id)
            .where(act.c.victim_id == person_id, ctx.visible("act", act.c.id))
            .order_by(incident.c.start_at),
        )
        held = ctx.mask(
            conn,
            "custody_record",
            fetch(
                conn,
                select(custody)
                .where(custody.c.person_id == person_id, ctx.visible("custody_record", custody.c.id))
                .order_by(custody.c.held_from),
            ),
        )
        facilities = named(conn, "place", (h["facility_id"] for h in held))
        for h in held:
            h["facility"] = facilities.get(str(h["facility_id"]))
        perpetrated: list[dict[str, Any]] = []
        candidacies: list[dict[str, Any]] = []
        if suspects:
            inv = table_of("involvement")
            perpetrated = fetch(
                conn,
                select(
                    inv.c.id,
                    inv.c.role,
                    inv.c.confidence,
                    act.c.id.label("act_id"),
                    act.c.violation,
                    act.c.incident_id,
                    incident.c.title,
                    incident.c.start_at,
                )
                .join(act, act.c.id == inv.c.act_id)
                .join(incident, incident.c.id == act.c.incident_id)
                .where(inv.c.person_id == person_id, ctx.visible("involvement", inv.c.id))
                .order_by(incident.c.start_at),
            )
            candidacies = [
                _link_view(li)
                for li in fetch(
                    conn,
                    select(link)
                    .where(
                        link.c.kind == "suspect_act",
                        link.c.from_id == person_id,
                        ctx.visible("link", link.c.id),
                    )
                    .order_by(link.c.score.desc())
                    .limit(200),
                )
            ]
        ctx.record(conn, "record.view", "person", person_id, {"page": "person"})
    return {
        "person": record,
        "names": variants,
        "mentions": mentions,
        "links": links,
        "memberships": memberships,
        "acts_suffered": suffered,
        "custody": held,
        "acts_perpetrated": perpetrated,
        "suspect_of": candidacies,
        "suspects_shown": suspects,
    }


def unit_detail(ctx: ServiceContext, unit_id: str) -> dict[str, Any]:
    """One unit: its parent and sub-units, members (name or pseudonym as the role allows), deployments."""
    ctx.require_record("record.view", "unit", unit_id)
    unit, membership, deployment = table_of("unit"), table_of("membership"), table_of("deployment")
    with ctx.store.read() as conn:
        record = fetch(conn, select(unit).where(unit.c.id == unit_id))[0]
        parent = named(conn, "unit", [record["parent_id"]]).get(str(record["parent_id"]))
        children = fetch(conn, select(unit.c.id, unit.c.name, unit.c.kind).where(unit.c.parent_id == unit_id))
        members = fetch(
            conn,
            select(membership)
            .where(membership.c.unit_id == unit_id, ctx.visible("membership", membership.c.id))
            .order_by(membership.c.start_date, membership.c.id)
            .limit(1000),
        )
        people = persons(ctx, conn, (m["person_id"] for m in members))
        members = [
            {**m, "person": people[str(m["person_id"])]} for m in members if str(m["person_id"]) in people
        ]
        deployments = fetch(
            conn,
            select(deployment)
            .where(deployment.c.unit_id == unit_id)
            .order_by(deployment.c.start_at, deployment.c.id)
            .limit(1000),
        )
        places = named(conn, "place", (d["place_id"] for d in deployments))
        for d in deployments:
            d["place"] = places.get(str(d["place_id"]))
    return {
        "unit": {**record, "parent": parent},
        "children": children,
        "members": members,
        "deployments": deployments,
    }
