"""The static world of the scenario: protest days, the gazetteer, units and their rosters.

Everything here is made once, before the incidents stream: places, the unit
hierarchy (ministry → directorates → OMON companies → platoons; district police;
detention administrations; courts), officers with memberships, and deployments
(every unit at its home for the whole period; every riot platoon at one or two
protest sites on every protest day).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from svidok.demo import data
from svidok.demo.ids import Batch, Ids
from svidok.demo.people import Identity
from svidok.demo.population import Population

LOCAL_OFFSET_MIN = 180
"""The fictional country keeps UTC+3; local times are stored in UTC with this offset."""
UTC_SHIFT = timedelta(minutes=LOCAL_OFFSET_MIN)
PROTEST_DAYS: tuple[tuple[str, float], ...] = (
    ("2020-08-09", 16),
    ("2020-08-10", 14),
    ("2020-08-11", 12),
    ("2020-08-12", 7),
    ("2020-08-13", 4),
    ("2020-08-14", 2),
    ("2020-08-15", 2),
    ("2020-08-16", 5),
    ("2020-08-23", 4),
    ("2020-08-30", 4),
    ("2020-09-06", 4),
    ("2020-09-13", 4),
    ("2020-09-20", 3),
    ("2020-09-27", 3),
    ("2020-10-04", 2),
    ("2020-10-11", 3),
    ("2020-10-18", 2),
    ("2020-10-25", 2),
    ("2020-11-01", 2),
    ("2020-11-08", 2),
    ("2020-11-15", 2),
)
PERIOD_START = datetime(2020, 8, 8, 21, 0)
PERIOD_END = datetime(2020, 12, 1, 0, 0)
PROTEST_SITES = ("square", "street", "metro_station")
KM_LAT = 1 / 111.2


@dataclass(slots=True)
class PlaceInfo:
    id: str
    key: str
    kind: str
    names: dict[str, str]
    lat: float | None
    lon: float | None


@dataclass(slots=True)
class UnitInfo:
    id: str
    key: str
    kind: str
    names: dict[str, str]
    abbr: dict[str, str]
    staff: str | None
    home: str | None
    officers: list[Officer] = field(default_factory=list)


@dataclass(slots=True)
class Officer:
    ident: Identity
    unit: UnitInfo
    rank: int
    badge: str | None
    commander: bool


@dataclass(slots=True)
class Deployment:
    unit: UnitInfo
    place: PlaceInfo
    start: datetime
    end: datetime
    day: int


@dataclass
class World:
    days: list[datetime]
    day_weights: list[float]
    places: dict[str, PlaceInfo]
    units: dict[str, UnitInfo]
    officers: list[Officer]
    street_deployments: list[list[Deployment]]
    home: dict[str, list[UnitInfo]]
    log_sources: dict[tuple[str, int], str] = field(default_factory=dict)

    def of_kind(self, kind: str) -> list[PlaceInfo]:
        return [p for p in self.places.values() if p.kind == kind]


def officer_count(scale: int) -> int:
    """Roster size for `scale` testimonies: grows a little slower than the testimonies."""
    return 40 + round(math.pow(scale, 0.8) / 2)


def build_places(ids: Ids, batch: Batch) -> dict[str, PlaceInfo]:
    spec = data.places()
    lat0, lon0 = spec["centre"]
    km_lon = KM_LAT / math.cos(math.radians(lat0))
    out: dict[str, PlaceInfo] = {}
    for entry in spec["places"]:
        at = entry.get("at")
        lat = round(lat0 + at[1] * KM_LAT, 6) if at else None
        lon = round(lon0 + at[0] * km_lon, 6) if at else None
        names = {lang: entry[lang] for lang in data.LANGS}
        info = PlaceInfo(ids.new("place"), entry["key"], entry["kind"], names, lat, lon)
        parent = out[entry["in"]].id if entry.get("in") else None
        batch.add(
            "place",
            {
                "id": info.id,
                "kind": info.kind,
                "name": names["be"],
                "names": names,
                "lat": lat,
                "lon": lon,
                "parent_id": parent,
            },
        )
        out[info.key] = info
    return out


def _add_unit(
    batch: Batch,
    ids: Ids,
    key: str,
    kind: str,
    names: dict[str, str],
    abbr: dict[str, str],
    parent: UnitInfo | None,
    staff: str | None,
    home: str | None,
) -> UnitInfo:
    info = UnitInfo(ids.new("unit"), key, kind, names, abbr, staff, home)
    batch.add(
        "unit",
        {
            "id": info.id,
            "kind": kind,
            "name": names["be"],
            "names": names,
            "abbreviation": abbr.get("be"),
            "parent_id": parent.id if parent else None,
        },
    )
    return info


def build_units(ids: Ids, batch: Batch, n_officers: int) -> dict[str, UnitInfo]:
    spec = data.units()
    out: dict[str, UnitInfo] = {}
    for e in spec["units"]:
        names = {lang: e[lang] for lang in data.LANGS}
        parent = out.get(e.get("parent", ""))
        out[e["key"]] = _add_unit(
            batch, ids, e["key"], e["kind"], names, e["abbr"], parent, e.get("staff"), e.get("home")
        )
    omon_share = next(e["share"] for e in spec["units"] if e["key"] == "omon")
    platoons = max(2, math.ceil(omon_share * n_officers / spec["platoon_size"]))
    per_company = spec["platoons_per_company"]
    omon = out["omon"]
    for c in range(1, math.ceil(platoons / per_company) + 1):
        names = {lang: spec["company"][lang].format(n=c) for lang in data.LANGS}
        company = _add_unit(batch, ids, f"omon_c{c}", "company", names, omon.abbr, omon, None, None)
        out[company.key] = company
        for p in range(1, min(per_company, platoons - (c - 1) * per_company) + 1):
            names = {lang: spec["platoon"][lang].format(n=c, p=p) for lang in data.LANGS}
            out[f"omon_c{c}p{p}"] = _add_unit(
                batch, ids, f"omon_c{c}p{p}", "platoon", names, omon.abbr, company, "riot", None
            )
    return out


def staffed_units(units: dict[str, UnitInfo], n_officers: int) -> list[tuple[UnitInfo, int]]:
    """How many officers each staffed unit gets; OMON's share is spread over its platoons."""
    spec = {e["key"]: e for e in data.units()["units"]}
    platoons = [u for u in units.values() if u.kind == "platoon"]
    out: list[tuple[UnitInfo, int]] = []
    for key, entry in spec.items():
        if "share" not in entry:
            continue
        size = max(2, round(entry["share"] * n_officers))
        if key == "omon":
            out += [(p, max(2, size // len(platoons))) for p in platoons]
        else:
            out.append((units[key], size))
    return out


def _rank(rng: random.Random, staff: str, commander: bool) -> int:
    ranks = data.ranks()
    if staff == "judge":
        return -1
    if commander:
        return rng.choice(
            [i for i, r in enumerate(ranks) if r.code in ("lieutenant", "captain", "senior_lieutenant")]
        )
    weights = [r.weights.get(staff, 0.0) for r in ranks]
    return rng.choices(range(len(ranks)), weights)[0]


def build_rosters(
    rng: random.Random, ids: Ids, batch: Batch, pop: Population, units: dict[str, UnitInfo], n_officers: int
) -> list[Officer]:
    """Officers with person rows (most of them) and memberships; some namesakes among them."""
    spec = data.units()
    officers: list[Officer] = []
    serial = 0
    for unit, size in staffed_units(units, n_officers):
        staff = unit.staff or "riot"
        for i in range(size):
            listed = rng.random() < 0.9
            namesake = pop.namesake("officer", batch, register=listed) if rng.random() < 0.03 else None
            ident = namesake or pop.new("officer", batch, register=listed, born=(1970, 1999))
            ident.kind = "officer"
            commander = i == 0 and staff != "judge"
            serial += 1
            badge = (
                None
                if staff in ("judge", "investigator")
                else f"{rng.choice('АБВКМПС')}{rng.choice('АКМНПТ')}-{serial * 7919 % 100000:05d}"
            )
            officer = Officer(ident, unit, _rank(rng, staff, commander), badge, commander)
            unit.officers.append(officer)
            officers.append(officer)
            if ident.person_id:
                _memberships(rng, ids, batch, officer, units, spec, staff)
    return officers


def _memberships(
    rng: random.Random,
    ids: Ids,
    batch: Batch,
    officer: Officer,
    units: dict[str, UnitInfo],
    spec: dict[str, Any],
    staff: str,
) -> None:
    ranks = data.ranks()
    rank = ranks[officer.rank].labels["ru"] if officer.rank >= 0 else None
    position = (
        spec["commander_positions"]["platoon" if officer.unit.kind == "platoon" else "unit"]
        if officer.commander
        else rng.choice(spec["positions"][staff])
    )
    start = f"{rng.randint(2012, 2019)}-{rng.randint(1, 12):02d}-01"
    end = f"2021-{rng.randint(1, 12):02d}-01" if rng.random() < 0.08 else None
    batch.add(
        "membership",
        {
            "id": ids.new("membership"),
            "person_id": officer.ident.person_id,
            "unit_id": officer.unit.id,
            "rank": rank,
            "position": position,
            "badge_number": officer.badge,
            "start_date": start,
            "end_date": end,
        },
    )
    if rng.random() < 0.2 and staff in ("riot", "police"):
        before = rng.choice([u for u in units.values() if u.kind == "police_department"])
        lower = ranks[max(0, officer.rank - 1)].labels["ru"] if officer.rank >= 0 else None
        batch.add(
            "membership",
            {
                "id": ids.new("membership"),
                "person_id": officer.ident.person_id,
                "unit_id": before.id,
                "rank": lower,
                "position": rng.choice(spec["positions"]["police"]),
                "badge_number": None,
                "start_date": f"{int(start[:4]) - rng.randint(2, 5)}-09-01",
                "end_date": start,
            },
        )
