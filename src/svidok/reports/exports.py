"""Exports of the records in reach: FollowTheMoney entities, CSV per record type, JSON Lines.

Every row passes `ctx.visible` (only records inside the actor's compartments)
and `ctx.mask` (protected fields the role may not read are replaced by the
access layer's marker). FtM mapping: person → Person (named by pseudonym when
the name is masked), unit → Organization, membership → Membership, incident →
Event, source → Document, citation of an incident by a source → Documentation,
involvement → UnknownLink (perpetrator → incident, role and violation).
Suspects (involvement persons) are exported only for roles that may view them.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from followthemoney import model
from sqlalchemy import Connection, select

from svidok.errors import InputError
from svidok.services.context import ServiceContext
from svidok.services.transfer import dumps, export_form
from svidok.store.models import RECORD_TABLES
from svidok.store.register import table_of

__all__ = ["ftm_entities", "write_csv", "write_ftm", "write_jsonl"]

BATCH = 2_000
NS = "svidok"


def rows(ctx: ServiceContext, conn: Connection, kind: str) -> Iterator[dict[str, Any]]:
    """Visible records of `kind`, masked for the actor, in id order, in batches."""
    table = table_of(kind)
    query = select(table).where(ctx.visible(kind, table.c.id)).order_by(table.c.id)
    batch: list[dict[str, Any]] = []
    result = conn.execute(query, execution_options={"stream_results": True, "yield_per": BATCH})
    for row in result.mappings():
        batch.append(dict(row))
        if len(batch) >= BATCH:
            yield from ctx.mask(conn, kind, batch)
            batch = []
    if batch:
        yield from ctx.mask(conn, kind, batch)


def _eid(record_id: str) -> str:
    """An FtM entity id (letters, digits, dots and dashes only): `svidok-in-3f9c…` for `in_3f9c…`."""
    return f"{NS}-{record_id.replace('_', '-')}"


def _date(value: Any) -> str | None:
    if value is None:
        return None
    return str(value.isoformat()[:19]) if hasattr(value, "isoformat") else str(value)


def _entity(schema: str, record_id: str, **props: Any) -> dict[str, Any]:
    proxy = model.make_entity(schema)
    proxy.id = _eid(record_id)
    for prop, value in props.items():
        for item in value if isinstance(value, list) else [value]:
            if item not in (None, ""):
                proxy.add(prop, str(item))
    return dict(proxy.to_dict())


def ftm_entities(ctx: ServiceContext, conn: Connection) -> Iterator[dict[str, Any]]:
    """FtM entities (as dicts) of the records in reach."""
    suspects = ctx.can("suspect.view")
    places = {str(p["id"]): str(p["name"]) for p in rows(ctx, conn, "place")}
    exported: set[str] = set()  # ids of exported records: references only point at these
    for unit in rows(ctx, conn, "unit"):
        exported.add(str(unit["id"]))
        yield _entity(
            "Organization",
            unit["id"],
            name=unit["name"],
            abbreviation=unit["abbreviation"],
            alias=list((unit["names"] or {}).values()),
            classification=unit["kind"],
            parent=_eid(unit["parent_id"]) if unit["parent_id"] else None,
        )
    inv = table_of("involvement")  # persons named as perpetrators: exported only to who may see suspects
    query = select(inv.c.person_id).where(inv.c.person_id.is_not(None)).distinct()
    perpetrators = {str(r[0]) for r in conn.execute(query)}
    for person in rows(ctx, conn, "person"):
        if person["id"] in perpetrators and not suspects:
            continue
        exported.add(str(person["id"]))
        yield _entity(
            "Person",
            person["id"],
            name=person["primary_name"] or person["pseudonym"],
            alias=person["pseudonym"],
            gender=person["sex"] if person["sex"] in ("male", "female") else None,
            birthDate=person["birth_date"],
        )
    for m in rows(ctx, conn, "membership"):
        if not suspects:
            break
        if not {m["person_id"], m["unit_id"]} <= exported:
            continue
        yield _entity(
            "Membership",
            m["id"],
            member=_eid(m["person_id"]),
            organization=_eid(m["unit_id"]),
            role=m["rank"] or m["position"],
            startDate=m["start_date"],
            endDate=m["end_date"],
        )
    for inc in rows(ctx, conn, "incident"):
        exported.add(str(inc["id"]))
        yield _entity(
            "Event",
            inc["id"],
            name=inc["title"],
            summary=inc["summary"],
            startDate=_date(inc["start_at"]),
            endDate=_date(inc["end_at"]),
            location=places.get(str(inc["place_id"])) or inc["place_text"],
            keywords=inc["status"],
        )
    for src in rows(ctx, conn, "source"):
        exported.add(str(src["id"]))
        yield _entity(
            "Document",
            src["id"],
            title=src["title"] or src["kind"],
            bodyText=src["text"],
            language=src["language"],
            sourceUrl=src["url"],
            date=_date(src["received_at"]),
            keywords=[src["kind"], f"reliability {src['reliability']}", f"credibility {src['credibility']}"],
        )
    for cite in rows(ctx, conn, "citation"):
        if cite["subject_kind"] == "incident" and {cite["subject_id"], cite["source_id"]} <= exported:
            yield _entity(
                "Documentation",
                cite["id"],
                document=_eid(cite["source_id"]),
                entity=_eid(cite["subject_id"]),
                role="testimony" if cite["field"] == "" else cite["field"],
            )
    if suspects:
        yield from _involvements(ctx, conn, exported)


def _involvements(ctx: ServiceContext, conn: Connection, exported: set[str]) -> Iterator[dict[str, Any]]:
    """Perpetrator → incident links, only where both ends are exported."""
    acts = {str(a["id"]): (str(a["incident_id"]), str(a["violation"])) for a in rows(ctx, conn, "act")}
    for inv in rows(ctx, conn, "involvement"):
        found = acts.get(str(inv["act_id"]))
        subject = inv["person_id"] or inv["unit_id"]
        if found is None or found[0] not in exported or subject not in exported:
            continue
        yield _entity(
            "UnknownLink",
            inv["id"],
            subject=_eid(subject),
            object=_eid(found[0]),
            role=f"{inv['role']}: {found[1]}",
            summary=f"confidence {inv['confidence']:.2f}",
        )


def write_ftm(ctx: ServiceContext, conn: Connection, out: Path) -> int:
    count = 0
    with out.open("w", encoding="utf-8", newline="\n") as fh:
        for entity in ftm_entities(ctx, conn):
            fh.write(json.dumps(entity, ensure_ascii=False, sort_keys=True) + "\n")
            count += 1
    return count


def _kinds(ctx: ServiceContext) -> list[str]:
    hidden = set() if ctx.can("suspect.view") else {"involvement", "membership"}
    return [k for k in RECORD_TABLES if k not in hidden]


def csv_kinds(ctx: ServiceContext) -> list[str]:
    """The record types the actor's CSV export holds (no suspects' records without `suspect.view`)."""
    return _kinds(ctx)


def write_csv(
    ctx: ServiceContext, conn: Connection, out_dir: Path, kinds: list[str] | None = None
) -> dict[str, int]:
    """One CSV file per record type (`<kind>.csv`, all types in reach or `kinds`), columns in table order."""
    out_dir.mkdir(parents=True, exist_ok=True)
    counts: dict[str, int] = {}
    allowed = _kinds(ctx)
    if kinds is not None:
        unknown = sorted(set(kinds) - set(allowed))
        if unknown:
            raise InputError(f"no CSV export of {', '.join(unknown)}; record types: {', '.join(allowed)}")
    for kind in allowed if kinds is None else [k for k in allowed if k in kinds]:
        columns = [c.name for c in table_of(kind).columns]
        with (out_dir / f"{kind}.csv").open("w", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(columns)
            n = 0
            for row in rows(ctx, conn, kind):
                form = export_form(kind, row)
                writer.writerow(
                    json.dumps(form[c], ensure_ascii=False) if isinstance(form[c], dict | list) else form[c]
                    for c in columns
                )
                n += 1
        counts[kind] = n
    return counts


def write_jsonl(ctx: ServiceContext, conn: Connection, out: Path) -> dict[str, int]:
    """The records in reach as JSON Lines (the import format), masked for the role."""
    counts: dict[str, int] = {}
    with out.open("w", encoding="utf-8", newline="\n") as fh:
        for kind in _kinds(ctx):
            counts[kind] = 0
            for row in rows(ctx, conn, kind):
                fh.write(dumps(export_form(kind, row)) + "\n")
                counts[kind] += 1
    return counts
