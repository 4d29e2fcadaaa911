"""Human review of machine links: confirm, reject, merge persons, split a person.

Decisions are stored on the link rows (status, who, when) and are never undone
by a later linking run (see `svidok.store.links`). A merge or split also leaves
links that make the decision stick: a merge is a confirmed `person_person` link
from the merged person to the kept one; a split rejects the moved mentions'
links to the old person so no run puts them back.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, and_, select, update

from svidok.access.compartments import copy_compartments
from svidok.domain.values import new_id
from svidok.errors import ConflictError, InputError, NotFound
from svidok.services.context import ServiceContext, utc_now
from svidok.services.transfer import export_form
from svidok.store.links import link_id
from svidok.store.register import table_of

DECISIONS = {"confirm": "confirmed", "reject": "rejected"}
PERSON_REFERENCES = (
    ("person_name", "person_id"),
    ("mention", "person_id"),
    ("membership", "person_id"),
    ("act", "victim_id"),
    ("involvement", "person_id"),
    ("custody_record", "person_id"),
    ("missing_case", "person_id"),
)


def list_links(
    ctx: ServiceContext,
    *,
    kind: str | None = None,
    status: str = "suggested",
    limit: int = 50,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """Links to review, best score first, within the actor's compartments.

    Suspect candidates are listed only for roles allowed `suspect.view`.
    """
    ctx.require("link.list")
    if kind == "suspect_act":
        ctx.require("suspect.view")
    link = table_of("link")
    query = select(link).where(link.c.status == status, ctx.visible("link", link.c.id))
    if kind:
        query = query.where(link.c.kind == kind)
    elif not ctx.can("suspect.view"):
        query = query.where(link.c.kind != "suspect_act")
    query = query.order_by(link.c.score.desc(), link.c.id).limit(limit).offset(offset)
    with ctx.store.read() as conn:
        return [export_form("link", dict(row)) for row in conn.execute(query).mappings()]


def decide(ctx: ServiceContext, link_id: str, decision: str) -> dict[str, Any]:
    """Confirm or reject one link; a confirmed mention→person link resolves the mention."""
    if decision not in DECISIONS:
        raise InputError(f"decision must be one of {', '.join(DECISIONS)}, not {decision!r}")
    ctx.require_record("link.decide", "link", link_id)
    link, mention = table_of("link"), table_of("mention")
    with ctx.store.read() as conn:
        kind = conn.execute(select(link.c.kind).where(link.c.id == link_id)).scalar()
    if kind == "suspect_act":
        ctx.require("suspect.view")
    with ctx.store.begin() as conn:
        row = conn.execute(select(link).where(link.c.id == link_id)).mappings().first()
        if row is None:
            raise NotFound("link", link_id)
        status = DECISIONS[decision]
        conn.execute(
            update(link)
            .where(link.c.id == link_id)
            .values(status=status, decided_by=ctx.actor.name, decided_at=utc_now())
        )
        if row["kind"] == "mention_person":
            if status == "confirmed":
                conn.execute(
                    update(mention).where(mention.c.id == row["from_id"]).values(person_id=row["to_id"])
                )
            else:
                conn.execute(
                    update(mention)
                    .where(and_(mention.c.id == row["from_id"], mention.c.person_id == row["to_id"]))
                    .values(person_id=None)
                )
        ctx.record(
            conn, f"link.{decision}", "link", link_id, {"kind": row["kind"], "previous": row["status"]}
        )
        updated = conn.execute(select(link).where(link.c.id == link_id)).mappings().one()
    return export_form("link", dict(updated))


def merge_persons(ctx: ServiceContext, keep_id: str, merge_id: str) -> dict[str, int]:
    """Record that `merge_id` is the same person as `keep_id` and move every reference to `keep_id`."""
    if keep_id == merge_id:
        raise InputError("a person cannot be merged into itself")
    ctx.require_record("person.merge", "person", keep_id)
    ctx.require_record("person.merge", "person", merge_id)
    moved: dict[str, int] = {}
    with ctx.store.begin() as conn:
        _require(conn, "person", keep_id)
        merged = _require(conn, "person", merge_id)
        _refuse_if_merged(conn, keep_id)
        for kind, column in PERSON_REFERENCES:
            table = table_of(kind)
            result = conn.execute(update(table).where(table.c[column] == merge_id).values({column: keep_id}))
            moved[kind] = result.rowcount or 0
        conn.execute(
            table_of("person_name").insert(),
            {
                "id": new_id("person_name"),
                "person_id": keep_id,
                "name": merged["primary_name"],
                "kind": "merged",
            },
        )
        _decided_link(ctx, conn, "person_person", merge_id, keep_id, "confirmed", "human merge")
        conn.execute(
            update(table_of("link"))
            .where(
                and_(
                    table_of("link").c.kind == "mention_person",
                    table_of("link").c.to_id == merge_id,
                    table_of("link").c.status == "suggested",
                )
            )
            .values(status="rejected", decided_by=ctx.actor.name, decided_at=utc_now())
        )
        ctx.record(
            conn,
            "person.merge",
            "person",
            keep_id,
            {"merged": merge_id, **{f"moved_{kind}": count for kind, count in moved.items()}},
        )
    return moved


def split_person(ctx: ServiceContext, person_id: str, mention_ids: list[str]) -> str:
    """Move mentions that are not this person to a new person; runs will not move them back."""
    if not mention_ids:
        raise InputError("name at least one mention to split off")
    ctx.require_record("person.split", "person", person_id)
    for mention_id in mention_ids:
        ctx.require_record("person.split", "mention", mention_id)
    mention, person = table_of("mention"), table_of("person")
    with ctx.store.begin() as conn:
        old = _require(conn, "person", person_id)
        rows = conn.execute(
            select(mention.c.id, mention.c.person_id, mention.c.raw_name).where(mention.c.id.in_(mention_ids))
        ).all()
        found = {r.id: r for r in rows}
        for mention_id in mention_ids:
            if mention_id not in found or found[mention_id].person_id != person_id:
                raise InputError(f"mention {mention_id} is not linked to person {person_id}")
        new_person = new_id("person")
        first = found[mention_ids[0]]
        conn.execute(
            person.insert(),
            {
                "id": new_person,
                "primary_name": first.raw_name or "(unnamed)",
                "pseudonym": f"{old['pseudonym']}-split",
                "sex": old["sex"],
            },
        )
        conn.execute(update(mention).where(mention.c.id.in_(mention_ids)).values(person_id=new_person))
        copy_compartments(conn, [("person", new_person, "person", person_id)])
        for mention_id in mention_ids:
            _decided_link(ctx, conn, "mention_person", mention_id, person_id, "rejected", "human split")
            _decided_link(ctx, conn, "mention_person", mention_id, new_person, "confirmed", "human split")
        ctx.record(
            conn, "person.split", "person", person_id, {"new_person": new_person, "mentions": mention_ids}
        )
    return new_person


def _decided_link(
    ctx: ServiceContext, conn: Connection, kind: str, from_id: str, to_id: str, status: str, why: str
) -> None:
    link = table_of("link")
    now = utc_now()
    existing = conn.execute(
        select(link.c.id).where(and_(link.c.kind == kind, link.c.from_id == from_id, link.c.to_id == to_id))
    ).first()
    values = {"status": status, "decided_by": ctx.actor.name, "decided_at": now, "method": "human"}
    if existing:
        conn.execute(update(link).where(link.c.id == existing.id).values(values))
        return
    conn.execute(
        link.insert(),
        {
            "id": link_id(kind, from_id, to_id),
            "kind": kind,
            "from_id": from_id,
            "to_id": to_id,
            "score": 1.0 if status == "confirmed" else 0.0,
            "explanation": [why],
            "created_at": now,
            **values,
        },
    )


def _require(conn: Connection, kind: str, record_id: str) -> dict[str, Any]:
    table = table_of(kind)
    row = conn.execute(select(table).where(table.c.id == record_id)).mappings().first()
    if row is None:
        raise NotFound(kind, record_id)
    return dict(row)


def _refuse_if_merged(conn: Connection, person_id: str) -> None:
    link = table_of("link")
    merged = conn.execute(
        select(link.c.to_id).where(
            and_(link.c.kind == "person_person", link.c.from_id == person_id, link.c.status == "confirmed")
        )
    ).first()
    if merged is not None:
        raise ConflictError(f"person {person_id} was merged into {merged.to_id}; merge into that one")
