"""Custody search (who was held where and when) and missing-person cases with candidate matches.

Searching by name compares names across scripts (`svidok.names.compare`) and only
over records whose name the reader may see: a match on a masked name would
reveal it, so such rows are never returned for a name query.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select

from svidok.access.compartments import REDACTED
from svidok.errors import InputError
from svidok.names.compare import compare
from svidok.services.browse.common import Page, bounded, count, end_of, fetch, named, persons, start_of
from svidok.services.browse.incidents import _link_view
from svidok.services.context import ServiceContext
from svidok.store.register import table_of

__all__ = ["custody_search", "missing_cases", "missing_detail"]

NAME_SCAN = 5_000
"""At most this many custody records (newest first) are compared with a name query."""
NAME_THRESHOLD = 0.7


def custody_search(
    ctx: ServiceContext,
    *,
    name: str = "",
    facility: str | None = None,
    held_on_or_after: date | None = None,
    held_on_or_before: date | None = None,
    limit: int = 50,
    offset: int = 0,
) -> Page:
    """Custody records in reach: by name (cross-script), facility, and the period someone was held."""
    ctx.require("record.search", "custody_record")
    limit, offset = bounded(limit, offset)
    if len(name) > 200:
        raise InputError("name: at most 200 characters")
    custody = table_of("custody_record")
    query = select(custody).where(ctx.visible("custody_record", custody.c.id))
    if facility:
        query = query.where(custody.c.facility_id == facility)
    if held_on_or_before:
        query = query.where(custody.c.held_from <= end_of(held_on_or_before))
    if held_on_or_after:
        start = start_of(held_on_or_after)
        query = query.where((custody.c.held_to.is_(None)) | (custody.c.held_to >= start))
    query = query.order_by(custody.c.held_from.desc(), custody.c.id)
    with ctx.store.begin() as conn:
        if name.strip():
            rows = ctx.mask(conn, "custody_record", fetch(conn, query.limit(NAME_SCAN)))
            scored = []
            for row in rows:
                if row["recorded_name"] == REDACTED:
                    continue
                verdict = compare(name, str(row["recorded_name"]))
                if verdict.score >= NAME_THRESHOLD:
                    scored.append({**row, "match": round(verdict.score, 3), "why": verdict.explanation})
            scored.sort(key=lambda r: (-r["match"], r["id"]))
            total, items = len(scored), scored[offset : offset + limit]
        else:
            total = count(conn, query)
            items = ctx.mask(conn, "custody_record", fetch(conn, query.limit(limit).offset(offset)))
        _describe_custody(ctx, conn, items)
        ctx.record(conn, "record.search", "custody_record", None, {"shown": [i["id"] for i in items]})
    return Page(items, total, limit, offset)


def _describe_custody(ctx: ServiceContext, conn: Any, items: list[dict[str, Any]]) -> None:
    places = named(
        conn, "place", [*(i["facility_id"] for i in items), *(i["transferred_to_id"] for i in items)]
    )
    units = named(conn, "unit", (i["arresting_unit_id"] for i in items))
    people = persons(ctx, conn, (i["person_id"] for i in items))
    for i in items:
        i["facility"] = places.get(str(i["facility_id"]))
        i["transferred_to"] = places.get(str(i["transferred_to_id"])) if i["transferred_to_id"] else None
        i["arresting_unit"] = units.get(str(i["arresting_unit_id"])) if i["arresting_unit_id"] else None
        i["person"] = people.get(str(i["person_id"])) if i["person_id"] else None


def missing_cases(
    ctx: ServiceContext, *, status: str | None = None, limit: int = 50, offset: int = 0
) -> Page:
    """Missing-person cases in reach, newest report first, with how many candidate matches each has."""
    ctx.require("record.search", "missing_case")
    limit, offset = bounded(limit, offset)
    case, link = table_of("missing_case"), table_of("link")
    query = select(case).where(ctx.visible("missing_case", case.c.id))
    if status:
        query = query.where(case.c.status == status)
    query = query.order_by(case.c.reported_at.desc(), case.c.id)
    with ctx.store.read() as conn:
        total = count(conn, query)
        items = ctx.mask(conn, "missing_case", fetch(conn, query.limit(limit).offset(offset)))
        ids = [str(i["id"]) for i in items]
        matches: dict[str, int] = {}
        if ids:
            for from_id in conn.execute(
                select(link.c.from_id).where(
                    link.c.kind.in_(["missing_custody", "missing_mention"]),
                    link.c.from_id.in_(ids),
                    link.c.status != "rejected",
                    ctx.visible("link", link.c.id),
                )
            ).scalars():
                matches[str(from_id)] = matches.get(str(from_id), 0) + 1
        places = named(conn, "place", (i["last_seen_place_id"] for i in items))
    for item in items:
        item.pop("reporter_contact", None)
        item["candidates"] = matches.get(str(item["id"]), 0)
        item["last_seen_place"] = (
            places.get(str(item["last_seen_place_id"])) if item["last_seen_place_id"] else None
        )
    return Page(items, total, limit, offset)


def missing_detail(ctx: ServiceContext, case_id: str) -> dict[str, Any]:
    """One case with its candidate custody records and testimony mentions, best first. Audited."""
    ctx.require_record("record.view", "missing_case", case_id)
    case, link = table_of("missing_case"), table_of("link")
    custody, mention, source = table_of("custody_record"), table_of("mention"), table_of("source")
    with ctx.store.begin() as conn:
        record = ctx.mask(conn, "missing_case", fetch(conn, select(case).where(case.c.id == case_id)))[0]
        record.pop("reporter_contact", None)
        record["last_seen_place"] = named(conn, "place", [record["last_seen_place_id"]]).get(
            str(record["last_seen_place_id"])
        )
        links = fetch(
            conn,
            select(link)
            .where(
                link.c.kind.in_(["missing_custody", "missing_mention"]),
                link.c.from_id == case_id,
                ctx.visible("link", link.c.id),
            )
            .order_by(link.c.score.desc(), link.c.id),
        )
        held_ids = [str(li["to_id"]) for li in links if li["kind"] == "missing_custody"]
        held = ctx.mask(
            conn,
            "custody_record",
            fetch(
                conn,
                select(custody).where(
                    custody.c.id.in_(held_ids), ctx.visible("custody_record", custody.c.id)
                ),
            ),
        )
        _describe_custody(ctx, conn, held)
        mention_ids = [str(li["to_id"]) for li in links if li["kind"] == "missing_mention"]
        mentioned = ctx.mask(
            conn,
            "mention",
            fetch(
                conn,
                select(
                    mention.c.id,
                    mention.c.raw_name,
                    mention.c.role,
                    mention.c.source_id,
                    source.c.received_at,
                )
                .join(source, source.c.id == mention.c.source_id)
                .where(mention.c.id.in_(mention_ids), ctx.visible("mention", mention.c.id)),
            ),
        )
        by_id = {str(r["id"]): r for r in [*held, *mentioned]}
        candidates = [
            {**_link_view(li), "target": by_id[str(li["to_id"])]} for li in links if str(li["to_id"]) in by_id
        ]
        ctx.record(conn, "record.view", "missing_case", case_id, {"page": "missing_case"})
    return {"case": record, "candidates": candidates}
