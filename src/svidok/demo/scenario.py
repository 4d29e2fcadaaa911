"""Incidents, their acts and perpetrators: what truly happened, planned one incident at a time."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from svidok.demo.ids import Batch, Ids
from svidok.demo.people import Identity
from svidok.demo.world import UTC_SHIFT, Officer, PlaceInfo, UnitInfo, World

KINDS = (
    ("dispersal", 50),
    ("transport", 6),
    ("facility", 24),
    ("station", 10),
    ("court", 7),
    ("disappearance", 2),
    ("killing", 1),
)
VIOLATIONS: dict[str, tuple[tuple[str, float], ...]] = {
    "dispersal": (
        ("arbitrary_detention", 0.65),
        ("unlawful_force", 0.6),
        ("property_destruction", 0.1),
        ("threats", 0.1),
        ("persecution_for_expression", 0.15),
    ),
    "transport": (("cruel_treatment", 0.7), ("torture", 0.3), ("unlawful_force", 0.3)),
    "facility": (
        ("torture", 0.35),
        ("cruel_treatment", 0.5),
        ("inhumane_conditions", 0.5),
        ("incommunicado_detention", 0.2),
        ("threats", 0.25),
        ("sexual_violence", 0.05),
        ("denial_of_medical_care", 0.15),
    ),
    "station": (
        ("torture", 0.3),
        ("cruel_treatment", 0.5),
        ("threats", 0.4),
        ("incommunicado_detention", 0.2),
    ),
    "court": (("unfair_trial", 1.0), ("persecution_for_expression", 0.3)),
    "disappearance": (("enforced_disappearance", 1.0), ("incommunicado_detention", 0.5)),
    "killing": (("extrajudicial_killing", 1.0), ("unlawful_force", 0.5)),
}
INJURIES: dict[str, tuple[str, ...]] = {
    "unlawful_force": (
        "bruising",
        "rubber_bullet_wound",
        "stun_grenade_injury",
        "chemical_irritant",
        "head_injury",
        "fracture",
        "laceration",
    ),
    "torture": (
        "bruising",
        "electric_shock_marks",
        "fracture",
        "head_injury",
        "internal_injury",
        "dental_injury",
        "psychological_trauma",
        "burns",
    ),
    "cruel_treatment": ("bruising", "stress_position", "restraint_injury", "psychological_trauma"),
    "sexual_violence": ("sexual_injury", "psychological_trauma"),
    "arbitrary_detention": ("restraint_injury",),
    "extrajudicial_killing": ("death",),
}
VICTIMS = {
    "dispersal": (1, 4),
    "transport": (1, 3),
    "facility": (1, 5),
    "station": (1, 2),
    "court": (1, 1),
    "disappearance": (1, 1),
    "killing": (1, 1),
}
FACILITIES = (("f_pine", 55), ("f_ivs", 20), ("f_hunters", 15), ("f_sizo", 10))
UNIT_ROLE = {
    "dispersal": "detained",
    "transport": "transported",
    "facility": "guarded",
    "station": "direct_perpetrator",
    "court": "sentenced",
    "disappearance": "detained",
    "killing": "direct_perpetrator",
}
TITLES = {
    "dispersal": "Dispersal and detentions",
    "transport": "Beatings in a prison van",
    "facility": "Ill-treatment in detention",
    "station": "Ill-treatment at a police station",
    "court": "Mass trial",
    "disappearance": "Disappearance after detention",
    "killing": "Death after the use of force",
}


@dataclass(slots=True)
class ActPlan:
    id: str
    violation: str
    victim: Identity
    at: datetime
    injuries: list[str]


@dataclass(slots=True)
class IncidentPlan:
    id: str
    kind: str
    day: int
    place: PlaceInfo
    start: datetime
    end: datetime
    units: list[UnitInfo]
    officers: list[Officer]
    victims: list[Identity] = field(default_factory=list)
    acts: list[ActPlan] = field(default_factory=list)
    n_sources: int = 1


def _pick(rng: random.Random, options: tuple[tuple[str, float], ...]) -> str:
    return rng.choices([o for o, _ in options], [w for _, w in options])[0]


def _local(day: datetime, hour: int, minute: int = 0) -> datetime:
    return day + timedelta(hours=hour, minutes=minute) - UTC_SHIFT


def _crew(rng: random.Random, units: list[UnitInfo], most: int) -> list[Officer]:
    pool = [o for u in units for o in u.officers]
    if not pool:
        return []
    return rng.sample(pool, min(len(pool), rng.randint(1, most)))


def plan_incident(rng: random.Random, ids: Ids, world: World) -> IncidentPlan:
    """Where, when and by whom: a kind, a protest day, a place and the units present."""
    kind = _pick(rng, KINDS)
    day = rng.choices(range(len(world.days)), world.day_weights)[0]
    date = world.days[day]
    street = world.street_deployments[day]
    dep = rng.choice(street)
    if kind in ("dispersal", "killing", "disappearance"):
        place = dep.place
        span = max(1, int((dep.end - dep.start).total_seconds() // 60) - 30)
        start = dep.start + timedelta(minutes=rng.randrange(span))
        end = start + timedelta(minutes=rng.randint(20, 180))
        units = [dep.unit] + [
            d.unit
            for d in street
            if d.place is place and d.unit is not dep.unit and d.start <= start <= d.end
        ][:2]
    elif kind in ("transport", "facility"):
        place = world.places[_pick(rng, FACILITIES)]
        start = _local(date, 21, rng.randrange(0, 60)) + timedelta(hours=rng.randint(0, 60))
        end = start + timedelta(hours=rng.randint(1, 30))
        home = world.home.get(place.key, [])
        units = [dep.unit] if kind == "transport" else home + ([dep.unit] if rng.random() < 0.3 else [])
    elif kind == "station":
        place = rng.choice(world.of_kind("police_station"))
        start = _local(date, 20) + timedelta(minutes=rng.randrange(0, 24 * 60))
        end = start + timedelta(hours=rng.randint(1, 6))
        units = list(world.home.get(place.key, []))
    else:
        place = rng.choice(world.of_kind("court"))
        start = _local(date + timedelta(days=rng.randint(1, 4)), rng.randint(9, 16), rng.randrange(0, 60))
        end = start + timedelta(minutes=rng.randint(10, 40))
        units = list(world.home.get(place.key, []))
    officers = _crew(rng, units, 1 if kind == "court" else 3)
    return IncidentPlan(ids.new("incident"), kind, day, place, start, end, units, officers)


def plan_acts(rng: random.Random, ids: Ids, plan: IncidentPlan) -> None:
    """One or more violations against each victim, with injuries from the matching lists."""
    for victim in plan.victims:
        chosen = [v for v, p in VIOLATIONS[plan.kind] if rng.random() < p]
        for violation in chosen or [VIOLATIONS[plan.kind][0][0]]:
            span = max(1, int((plan.end - plan.start).total_seconds() // 60))
            at = plan.start + timedelta(minutes=rng.randrange(span))
            pool = INJURIES.get(violation, ())
            injuries = sorted(set(rng.sample(pool, rng.randint(0, min(2, len(pool)))))) if pool else []
            if violation == "extrajudicial_killing":
                injuries = ["death"]
            plan.acts.append(ActPlan(ids.new("act"), violation, victim, at, injuries))


def victim_count(rng: random.Random, plan: IncidentPlan) -> int:
    low, high = VICTIMS[plan.kind]
    return rng.randint(low, high)


def status_of(rng: random.Random, n_sources: int) -> str:
    if rng.random() < 0.04:
        return "disputed"
    if n_sources >= 8 and rng.random() < 0.4:
        return "verified"
    return "corroborated" if n_sources >= 3 else "alleged"


def _precise(rng: random.Random, moment: datetime) -> tuple[datetime, str]:
    roll = rng.random()
    local = moment + UTC_SHIFT
    if roll < 0.5:
        return moment.replace(second=0, microsecond=0), "minute"
    if roll < 0.85:
        return local.replace(minute=0, second=0, microsecond=0) - UTC_SHIFT, "hour"
    return local.replace(hour=0, minute=0, second=0, microsecond=0) - UTC_SHIFT, "day"


def incident_rows(rng: random.Random, ids: Ids, batch: Batch, plan: IncidentPlan) -> None:
    """The incident, its acts and involvements (units always; listed officers by person)."""
    start, precision = _precise(rng, plan.start)
    local = plan.start + UTC_SHIFT
    lat = round(plan.place.lat + rng.uniform(-0.001, 0.001), 6) if plan.place.lat else None
    lon = round(plan.place.lon + rng.uniform(-0.0015, 0.0015), 6) if plan.place.lon else None
    batch.add(
        "incident",
        {
            "id": plan.id,
            "title": f"{TITLES[plan.kind]}: {plan.place.names['en']}, {local:%d %b %Y}",
            "summary": f"{TITLES[plan.kind]} at {plan.place.names['en']} on {local:%d %B %Y}; "
            f"{len(plan.victims)} victim(s) known.",
            "start_at": start,
            "start_offset_min": 180,
            "start_precision": precision,
            "end_at": plan.end.replace(second=0, microsecond=0),
            "end_precision": "hour",
            "place_id": plan.place.id,
            "place_text": plan.place.names["be"],
            "lat": lat,
            "lon": lon,
            "status": status_of(rng, plan.n_sources),
        },
    )
    for act in plan.acts:
        batch.add(
            "act",
            {
                "id": act.id,
                "incident_id": plan.id,
                "violation": act.violation,
                "victim_id": act.victim.person_id,
                "occurred_at": act.at.replace(second=0, microsecond=0),
                "precision": "minute" if rng.random() < 0.4 else "hour",
                "description": f"{act.violation.replace('_', ' ')} at {plan.place.names['en']}",
                "injuries": act.injuries,
                "consequences": None,
            },
        )
        _involvements(rng, ids, batch, plan, act)


def _involvements(rng: random.Random, ids: Ids, batch: Batch, plan: IncidentPlan, act: ActPlan) -> None:
    for unit in plan.units[:2]:
        batch.add(
            "involvement",
            {
                "id": ids.new("involvement"),
                "act_id": act.id,
                "person_id": None,
                "unit_id": unit.id,
                "role": UNIT_ROLE[plan.kind],
                "confidence": round(rng.uniform(0.5, 0.9), 2),
            },
        )
    for officer in plan.officers:
        if officer.ident.person_id is None or rng.random() < 0.4:
            continue
        if plan.kind == "court":
            role = "sentenced"
        elif officer.commander:
            role = rng.choice(("gave_orders", "commanded_unit"))
        else:
            role = rng.choice(
                (
                    "direct_perpetrator",
                    "direct_perpetrator",
                    "present",
                    "guarded" if plan.kind == "facility" else "detained",
                )
            )
        batch.add(
            "involvement",
            {
                "id": ids.new("involvement"),
                "act_id": act.id,
                "person_id": officer.ident.person_id,
                "unit_id": officer.unit.id,
                "role": role,
                "confidence": round(rng.uniform(0.3, 0.8), 2),
            },
        )
