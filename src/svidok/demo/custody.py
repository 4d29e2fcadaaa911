"""Custody-log rows and missing-person cases for the victims of one incident.

Custody records write names the way a duty officer does (Russian, surname in
capitals, initials, the odd typo or wrong birth day). Missing-person cases come
from relatives; some match a custody record, some never will.
"""

from __future__ import annotations

import random
from datetime import timedelta

from svidok.demo import data
from svidok.demo.forms import typo
from svidok.demo.ids import Batch, Ids
from svidok.demo.people import Identity
from svidok.demo.population import Population
from svidok.demo.scenario import FACILITIES, IncidentPlan
from svidok.demo.truth import Truth
from svidok.demo.world import PlaceInfo, World

RECORD_ODDS = {"dispersal": 0.75, "station": 0.75, "disappearance": 0.3, "facility": 0.6, "transport": 0.6}
MISSING_ODDS = {"disappearance": 1.0, "killing": 0.6}
DETAINING = {
    "arbitrary_detention",
    "enforced_disappearance",
    "incommunicado_detention",
    "inhumane_conditions",
    "torture",
    "cruel_treatment",
}


def log_name(ident: Identity, rng: random.Random) -> str:
    """A name as a custody log writes it."""
    lang = "ru" if rng.random() < 0.9 else "be"
    g, p, s = ident.given_in(lang), ident.patronymic_in(lang), ident.surname_in(lang)
    roll = rng.random()
    if roll < 0.45:
        name = f"{s.upper()} {g} {p}"
    elif roll < 0.85:
        name = f"{s} {g} {p}"
    else:
        name = f"{s} {g[0]}.{p[0]}."
    return typo(name, rng) if rng.random() < 0.05 else name


class Custody:
    def __init__(self, rng: random.Random, ids: Ids, pop: Population, world: World, truth: Truth) -> None:
        self.rng, self.ids, self.pop, self.world, self.truth = rng, ids, pop, world, truth
        self.logged: dict[str, str] = {}
        misc = data.misc()
        self.release_kinds: list[str] = misc["release_kinds"]
        self.domains: list[str] = misc["mail_domains"]
        self.words: list[str] = misc["pseudonyms"]

    def new_chunk(self) -> None:
        self.logged.clear()

    def write(self, plan: IncidentPlan, batch: Batch) -> None:
        rng = self.rng
        for victim in plan.victims:
            violations = {a.violation for a in plan.acts if a.victim is victim}
            record_id = self.logged.get(victim.key)
            if (
                record_id is None
                and violations & DETAINING
                and rng.random() < RECORD_ODDS.get(plan.kind, 0.0)
            ):
                record_id = self._record(plan, victim, batch)
                self.logged[victim.key] = record_id
            if rng.random() < MISSING_ODDS.get(plan.kind, 0.07 if record_id else 0.03):
                self._missing(plan, victim, record_id, batch)
        if rng.random() < 0.015:
            stranger = self.pop.new("missing", batch, register=False)
            self._missing(plan, stranger, None, batch)

    def _facility(self, plan: IncidentPlan) -> PlaceInfo:
        if plan.place.kind in ("detention_facility", "police_station"):
            return plan.place
        keys, weights = [k for k, _ in FACILITIES], [w for _, w in FACILITIES]
        return self.world.places[self.rng.choices(keys, weights)[0]]

    def _record(self, plan: IncidentPlan, victim: Identity, batch: Batch) -> str:
        rng = self.rng
        facility = self._facility(plan)
        held_from = (plan.start + timedelta(minutes=rng.randint(40, 300))).replace(second=0, microsecond=0)
        held_to = (
            None
            if rng.random() < 0.08
            else held_from + timedelta(days=rng.choice((0, 1, 2, 3, 3, 5, 10, 15)), hours=rng.randint(2, 20))
        )
        birth: str | None = victim.birth_date
        if rng.random() < 0.05:
            birth = f"{victim.birth_date[:8]}{rng.randint(1, 28):02d}"
        elif rng.random() < 0.05:
            birth = None
        injuries = sorted(
            {i for a in plan.acts if a.victim is victim for i in a.injuries if rng.random() < 0.5}
        )
        transfer = self.world.places[rng.choice(("f_sizo", "f_colony"))].id if rng.random() < 0.1 else None
        record_id = self.ids.new("custody_record")
        arresting = plan.units[0] if plan.units and plan.kind != "court" else None
        batch.add(
            "custody_record",
            {
                "id": record_id,
                "person_id": None,
                "recorded_name": log_name(victim, rng),
                "birth_date": birth,
                "facility_id": facility.id,
                "held_from": held_from,
                "held_to": held_to,
                "arresting_unit_id": arresting.id if arresting else None,
                "transferred_to_id": transfer,
                "release_kind": None if held_to is None else rng.choice(self.release_kinds),
                "injuries": injuries,
                "notes": f"доставлен: {arresting.abbr['ru']}" if arresting else None,
                "source_id": self.world.log_sources.get((facility.key, plan.day))
                if rng.random() < 0.5
                else None,
            },
        )
        self.truth.custody(record_id, victim)
        return record_id

    def _contact(self) -> str:
        rng = self.rng
        if rng.random() < 0.5:
            return f"+999 29 {rng.randint(100, 999)}-{rng.randint(10, 99)}-{rng.randint(10, 99)}"
        return f"{rng.choice(self.words).lower()}{rng.randint(1, 9999)}@{rng.choice(self.domains)}"

    def _missing(self, plan: IncidentPlan, ident: Identity, record_id: str | None, batch: Batch) -> None:
        rng = self.rng
        lang = "be" if rng.random() < 0.45 else "ru"
        g, p, s = ident.given_in(lang), ident.patronymic_in(lang), ident.surname_in(lang)
        name = f"{s} {g} {p}" if rng.random() < 0.6 else f"{g} {s}"
        name = typo(name, rng) if rng.random() < 0.05 else name
        if record_id:
            status = rng.choices(("located_in_custody", "found_alive", "open", "closed"), (45, 30, 20, 5))[0]
        elif plan.kind == "killing":
            status = "found_dead"
        else:
            status = rng.choices(("open", "found_alive", "closed"), (65, 25, 10))[0]
        case_id = self.ids.new("missing_case")
        batch.add(
            "missing_case",
            {
                "id": case_id,
                "person_id": None,
                "missing_name": name,
                "sex": ident.sex,
                "birth_date": ident.birth_date if rng.random() < 0.8 else None,
                "reported_at": (plan.start + timedelta(hours=rng.randint(12, 72))).replace(
                    second=0, microsecond=0
                ),
                "reporter_contact": self._contact(),
                "last_seen_at": (plan.start - timedelta(minutes=rng.randint(0, 120))).replace(
                    second=0, microsecond=0
                ),
                "last_seen_place_id": plan.place.id if rng.random() < 0.7 else None,
                "last_seen_text": plan.place.names[lang],
                "status": status,
                "notes": None,
            },
        )
        self.truth.missing(case_id, record_id)
