"""Counts of incidents, acts, victims and suspects by day, place, violation type, unit and status.

Every count is one GROUP BY over the register (set-wise, never row by row), and
every query keeps only records the actor may see (`ctx.visible` on incidents,
acts and persons). Suspects (distinct persons in an involvement) are counted
only for roles that may view suspects.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import Any

from sqlalchemy import ColumnElement, Connection, Select, cast, func, select
from sqlalchemy.types import Date

from svidok.services.context import ServiceContext
from svidok.store.register import table_of

__all__ = ["DIMENSIONS", "MEASURES", "count_tables", "to_csv", "totals"]

DIMENSIONS = ("day", "place", "violation", "unit", "status")
MEASURES = ("incidents", "acts", "victims", "suspects")


def _day(col: Any, dialect: str) -> ColumnElement[Any]:
    return func.date(col) if dialect == "sqlite" else cast(col, Date)


def _base(ctx: ServiceContext, dialect: str) -> tuple[Select[Any], dict[str, ColumnElement[Any]]]:
    """act ⋈ incident (left-joined involvements) with every dimension as a column."""
    act, incident, inv = table_of("act"), table_of("incident"), table_of("involvement")
    dims: dict[str, ColumnElement[Any]] = {
        "day": _day(incident.c.start_at, dialect),
        "place": incident.c.place_id,
        "violation": act.c.violation,
        "unit": inv.c.unit_id,
        "status": incident.c.status,
    }
    query = (
        select()
        .select_from(act.join(incident, act.c.incident_id == incident.c.id))
        .where(ctx.visible("incident", incident.c.id), ctx.visible("act", act.c.id))
    )
    return query, dims


def count_tables(
    ctx: ServiceContext, conn: Connection, *, suspects: bool, dimensions: tuple[str, ...] = DIMENSIONS
) -> dict[str, list[dict[str, Any]]]:
    """Per dimension, rows {key, incidents, acts, victims[, suspects]} sorted by key."""
    act, inv = table_of("act"), table_of("involvement")
    out: dict[str, list[dict[str, Any]]] = {}
    for dim in dimensions:
        base, dims = _base(ctx, conn.dialect.name)
        key = dims[dim]
        victim_ok = ctx.visible("person", act.c.victim_id)
        victims = func.count(func.distinct(act.c.victim_id)).filter(victim_ok)
        needs_inv = dim == "unit" or suspects
        # Without involvements joined every row is one act: a plain count, no distinct set to sort.
        acts = func.count(func.distinct(act.c.id)) if needs_inv else func.count(act.c.id)
        measures: list[ColumnElement[Any]] = [
            func.count(func.distinct(act.c.incident_id)).label("incidents"),
            acts.label("acts"),
            victims.label("victims"),
        ]
        if suspects:
            measures.append(
                func.count(func.distinct(inv.c.person_id))
                .filter(ctx.visible("person", inv.c.person_id))
                .label("suspects")
            )
        query = base.add_columns(key.label("key"), *measures)
        if needs_inv:
            query = query.outerjoin(inv, inv.c.act_id == act.c.id)
        if dim == "unit":
            query = query.where(inv.c.unit_id.is_not(None), ctx.visible("unit", inv.c.unit_id))
        rows = conn.execute(query.group_by(key).order_by(key)).mappings()
        out[dim] = [{k: (str(v) if k == "key" and v is not None else v) for k, v in r.items()} for r in rows]
    return out


def totals(ctx: ServiceContext, conn: Connection, *, suspects: bool) -> dict[str, int]:
    act, inv = table_of("act"), table_of("involvement")
    base, _ = _base(ctx, conn.dialect.name)
    measures: list[ColumnElement[Any]] = [
        func.count(func.distinct(act.c.incident_id)),
        func.count(func.distinct(act.c.id)) if suspects else func.count(act.c.id),
        func.count(func.distinct(act.c.victim_id)).filter(ctx.visible("person", act.c.victim_id)),
    ]
    query = base.add_columns(*measures)
    if suspects:
        query = query.outerjoin(inv, inv.c.act_id == act.c.id).add_columns(
            func.count(func.distinct(inv.c.person_id)).filter(ctx.visible("person", inv.c.person_id))
        )
    row = conn.execute(query).one()
    names = MEASURES if suspects else MEASURES[:3]
    return {name: int(v or 0) for name, v in zip(names, row, strict=True)}


def to_csv(rows: list[dict[str, Any]], label: Callable[[str], str | None] | None = None) -> str:
    """The numbers behind a chart as CSV (a `label` column added when a labeller is given)."""
    buffer = io.StringIO()
    if not rows:
        return ""
    fields = list(rows[0])
    if label is not None:
        fields.insert(1, "label")
    writer = csv.DictWriter(buffer, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        shown = dict(row)
        if label is not None:
            shown["label"] = label(str(row.get("key"))) or row.get("key")
        writer.writerow(shown)
    return buffer.getvalue()
