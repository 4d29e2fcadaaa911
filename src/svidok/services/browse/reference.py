"""Places and units (shared reference data) for the filters of the pages."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from svidok.services.browse.common import fetch
from svidok.services.context import ServiceContext
from svidok.store.register import table_of

__all__ = ["places", "units"]


def places(ctx: ServiceContext) -> list[dict[str, Any]]:
    """Every place of the gazetteer: id, kind, name, names by language, parent."""
    ctx.require("record.search", "place")
    place = table_of("place")
    with ctx.store.read() as conn:
        return fetch(
            conn,
            select(place.c.id, place.c.kind, place.c.name, place.c.names, place.c.parent_id).order_by(
                place.c.name
            ),
        )


def units(ctx: ServiceContext) -> list[dict[str, Any]]:
    """Every unit: id, kind, name, abbreviation, parent."""
    ctx.require("record.search", "unit")
    unit = table_of("unit")
    with ctx.store.read() as conn:
        return fetch(
            conn,
            select(unit.c.id, unit.c.kind, unit.c.name, unit.c.abbreviation, unit.c.parent_id).order_by(
                unit.c.name
            ),
        )
