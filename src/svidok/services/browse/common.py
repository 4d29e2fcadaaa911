"""Helpers shared by the browse queries: rows as dicts, labels of related records, paging."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import Connection, Select, func, select

from svidok.access.compartments import REDACTED
from svidok.errors import InputError
from svidok.services.context import ServiceContext
from svidok.store.register import table_of

MAX_LIMIT = 200


@dataclass
class Page:
    """One page of a list: the items, how many there are in all, where the page starts."""

    items: list[dict[str, Any]]
    total: int
    limit: int
    offset: int
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "items": self.items,
            "total": self.total,
            "limit": self.limit,
            "offset": self.offset,
            **self.extra,
        }


def bounded(limit: int, offset: int) -> tuple[int, int]:
    if limit < 1 or offset < 0:
        raise InputError("limit is at least 1 and offset at least 0")
    return min(limit, MAX_LIMIT), offset


def fetch(conn: Connection, query: Select[Any]) -> list[dict[str, Any]]:
    return [dict(r) for r in conn.execute(query).mappings()]


def count(conn: Connection, query: Select[Any]) -> int:
    return int(conn.execute(select(func.count()).select_from(query.order_by(None).subquery())).scalar_one())


def start_of(day: date | None) -> datetime | None:
    return datetime.combine(day, time.min) if day else None


def end_of(day: date | None) -> datetime | None:
    return datetime.combine(day, time.max) if day else None


def shown_name(person: dict[str, Any]) -> str:
    """A person's name when the reader may see it, else the pseudonym (never a redaction marker)."""
    name = person.get("primary_name")
    if name and name != REDACTED:
        return str(name)
    return str(person.get("pseudonym") or person.get("id"))


def persons(ctx: ServiceContext, conn: Connection, ids: Iterable[str | None]) -> dict[str, dict[str, Any]]:
    """Visible persons by id, masked, each with `label` (name or pseudonym as the role allows)."""
    wanted = sorted({i for i in ids if i})
    if not wanted:
        return {}
    person = table_of("person")
    found: dict[str, dict[str, Any]] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        rows = fetch(
            conn,
            select(person.c.id, person.c.primary_name, person.c.pseudonym, person.c.sex).where(
                person.c.id.in_(chunk), ctx.visible("person", person.c.id)
            ),
        )
        for row in ctx.mask(conn, "person", rows):
            row["label"] = shown_name(row)
            found[str(row["id"])] = row
    return found


def named(conn: Connection, kind: str, ids: Iterable[str | None]) -> dict[str, dict[str, Any]]:
    """Places or units (shared reference data) by id: id, name, names, kind."""
    wanted = sorted({i for i in ids if i})
    if not wanted:
        return {}
    table = table_of(kind)
    rows = fetch(
        conn, select(table.c.id, table.c.name, table.c.names, table.c.kind).where(table.c.id.in_(wanted))
    )
    return {str(r["id"]): r for r in rows}


def descendants(conn: Connection, kind: str, root: str, depth: int = 6) -> list[str]:
    """`root` and the places or units under it (parent_id), a few levels deep."""
    table = table_of(kind)
    found, frontier = [root], [root]
    for _ in range(depth):
        frontier = [
            str(i) for i in conn.execute(select(table.c.id).where(table.c.parent_id.in_(frontier))).scalars()
        ]
        if not frontier:
            break
        found.extend(frontier)
    return found
