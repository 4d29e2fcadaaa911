"""Setting the stage: the world, its deployments and the leaked custody logs, made once."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from svidok.demo.ids import Batch, Ids
from svidok.demo.population import Population
from svidok.demo.world import (
    PERIOD_END,
    PERIOD_START,
    PROTEST_DAYS,
    PROTEST_SITES,
    UTC_SHIFT,
    Deployment,
    UnitInfo,
    World,
    build_places,
    build_rosters,
    build_units,
    officer_count,
)

LOG_FACILITIES = ("f_pine", "f_ivs", "f_hunters", "f_sizo")


def build_world(rng: random.Random, ids: Ids, batch: Batch, pop: Population, scale: int) -> World:
    n_officers = officer_count(scale)
    places = build_places(ids, batch)
    units = build_units(ids, batch, n_officers)
    officers = build_rosters(rng, ids, batch, pop, units, n_officers)
    days = [datetime.fromisoformat(d) for d, _ in PROTEST_DAYS]
    world = World(
        days=days,
        day_weights=[w for _, w in PROTEST_DAYS],
        places=places,
        units=units,
        officers=officers,
        street_deployments=[[] for _ in days],
        home={},
    )
    _deploy(rng, ids, batch, world)
    _custody_logs(ids, batch, world)
    return world


def _row(ids: Ids, d: Deployment, note: str) -> dict[str, object]:
    return {
        "id": ids.new("deployment"),
        "unit_id": d.unit.id,
        "place_id": d.place.id,
        "start_at": d.start,
        "end_at": d.end,
        "note": note,
    }


def _deploy(rng: random.Random, ids: Ids, batch: Batch, world: World) -> None:
    for unit in world.units.values():
        if unit.home:
            place = world.places[unit.home]
            world.home.setdefault(unit.home, []).append(unit)
            batch.add(
                "deployment", _row(ids, Deployment(unit, place, PERIOD_START, PERIOD_END, -1), "stationed")
            )
    sites = [p for p in world.places.values() if p.kind in PROTEST_SITES]
    mobile: list[UnitInfo] = [
        u for u in world.units.values() if u.kind in ("platoon", "special_forces", "internal_troops")
    ]
    for day_index, (day, weight) in enumerate(zip(world.days, world.day_weights, strict=True)):
        share = 1.0 if weight >= 7 else 0.6
        for n, unit in enumerate(mobile):
            if rng.random() > share and (n or world.street_deployments[day_index]):
                continue
            for _ in range(1 if rng.random() < 0.6 else 2):
                local = day + timedelta(hours=rng.randint(15, 21), minutes=rng.choice((0, 30)))
                start = local - UTC_SHIFT
                dep = Deployment(
                    unit, rng.choice(sites), start, start + timedelta(hours=rng.randint(4, 9)), day_index
                )
                world.street_deployments[day_index].append(dep)
                batch.add("deployment", _row(ids, dep, "protest duty"))


def _custody_logs(ids: Ids, batch: Batch, world: World) -> None:
    """One leaked custody log (a custody_document source) per facility and protest day."""
    for key in LOG_FACILITIES:
        place = world.places[key]
        for day_index, day in enumerate(world.days):
            source_id = ids.new("source")
            world.log_sources[(key, day_index)] = source_id
            batch.add(
                "source",
                {
                    "id": source_id,
                    "kind": "custody_document",
                    "author_role": "unknown",
                    "language": "ru",
                    "title": f"Журнал учёта: {place.names['ru']}, {day:%d.%m.%Y}",
                    "text": None,
                    "received_at": datetime(2020, 12, 15, 10, 0) + timedelta(hours=day_index),
                    "reliability": "B",
                    "credibility": 2,
                    "origin": "demo",
                    "external_ref": None,
                    "url": None,
                    "captured_at": None,
                    "capture_tool": None,
                },
            )
