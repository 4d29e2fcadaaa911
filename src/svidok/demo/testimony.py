"""Testimonies about one incident: sources, the mentions in them and citations.

Each testimony has an author (victim, witness, relative, insider, medic, ...),
a language, a short text, and one to three mentions that name people the way
that author would write them. Mentions stay unlinked (`person_id` NULL); their
true identities go to the ground truth.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from svidok.demo import data
from svidok.demo.forms import render_name
from svidok.demo.ids import Batch, Ids
from svidok.demo.people import Identity
from svidok.demo.population import Population
from svidok.demo.scenario import ActPlan, IncidentPlan
from svidok.demo.texts import Story, compose
from svidok.demo.translit import transliterate
from svidok.demo.truth import Truth
from svidok.demo.world import UTC_SHIFT, Officer, World

ROLES = (
    ("victim", 45),
    ("witness", 22),
    ("relative", 10),
    ("medic", 4),
    ("lawyer", 4),
    ("journalist", 5),
    ("insider", 3),
    ("unknown", 7),
)
LANGUAGES = (("ru", 42), ("be", 28), ("en", 10), ("uk", 10), ("pl", 10))
RELIABILITY = (("A", 1), ("B", 18), ("C", 40), ("D", 16), ("E", 5), ("F", 20))
CREDIBILITY = ((1, 5), (2, 20), (3, 35), (4, 15), (5, 5), (6, 20))
OFFICER_ODDS = {"insider": 0.9, "victim": 0.45, "witness": 0.3}


def _pick(rng: random.Random, options: tuple[tuple[str, float], ...]) -> str:
    return rng.choices([o for o, _ in options], [w for _, w in options])[0]


def _grade(rng: random.Random) -> int:
    return rng.choices([c for c, _ in CREDIBILITY], [w for _, w in CREDIBILITY])[0]


@dataclass(slots=True)
class Author:
    role: str
    sex: str
    ident: Identity | None
    victim: Identity | None


class Testimonies:
    """Writes the sources, mentions and citations of one incident into a batch."""

    def __init__(self, rng: random.Random, ids: Ids, pop: Population, world: World, truth: Truth) -> None:
        self.rng, self.ids, self.pop, self.world, self.truth = rng, ids, pop, world, truth
        self.descriptions = data.misc()["officer_descriptions"]

    def _author(self, plan: IncidentPlan, batch: Batch) -> Author:
        rng, pop = self.rng, self.pop
        role = _pick(rng, ROLES)
        victim = rng.choice(plan.victims) if plan.victims else None
        if role == "victim" and victim:
            return Author(role, victim.sex, victim, victim)
        if role in ("victim", "witness"):
            ident = pop.new("witness", batch, register=rng.random() < 0.3)
            return Author("witness", ident.sex, ident, victim)
        if role == "relative" and victim:
            relation = rng.choice(("spouse", "parent", "child"))
            ident = pop.relative(victim, relation, batch, register=rng.random() < 0.2)
            return Author(role, ident.sex, ident, victim)
        if role == "insider" and plan.officers:
            officer = rng.choice(plan.officers[0].unit.officers)
            return Author(role, officer.ident.sex, officer.ident, victim)
        role = "unknown" if role in ("relative", "insider") else role
        return Author(role, "male" if rng.random() < 0.55 else "female", None, victim)

    def write(self, plan: IncidentPlan, batch: Batch) -> list[str]:
        """Write the incident's testimonies; return their source ids."""
        return [self._one(plan, batch) for _ in range(plan.n_sources)]

    def _mention(
        self,
        batch: Batch,
        source_id: str,
        ident: Identity,
        role: str,
        name: str | None,
        form: str,
        **fields: object,
    ) -> None:
        mention_id = self.ids.new("mention")
        row: dict[str, object] = {
            "id": mention_id,
            "source_id": source_id,
            "person_id": None,
            "role": role,
            "raw_name": name,
            "sex": None,
            "birth_year": None,
            "rank": None,
            "badge_number": None,
            "unit_text": None,
            "unit_id": None,
            "description": None,
            "name_keys": None,
        }
        row.update(fields)
        batch.add("mention", row)
        self.truth.mention(mention_id, ident, form)

    def _one(self, plan: IncidentPlan, batch: Batch) -> str:
        rng = self.rng
        author = self._author(plan, batch)
        lang = _pick(rng, LANGUAGES)
        source_id = self.ids.new("source")
        local = plan.start + UTC_SHIFT
        place = plan.place.names[lang]
        story = Story(lang=lang, role=author.role, author_sex=author.sex, when=local, place=place)
        pending: list[tuple[Identity, str, str | None, str, dict[str, object]]] = []
        if author.ident and author.role in ("victim", "witness", "relative") and rng.random() < 0.7:
            r = render_name(author.ident, lang, rng)
            story.self_name = r.text
            story.age = 2020 - int(author.ident.birth_date[:4])
            role = {"victim": "victim", "witness": "witness"}.get(author.role, "other")
            extra: dict[str, object] = {"sex": author.sex}
            if rng.random() < 0.3:
                extra["birth_year"] = int(author.ident.birth_date[:4])
            pending.append((author.ident, role, r.text, r.form, extra))
        story.first_person = author.role == "victim"
        victim = author.victim
        if victim and author.ident is not victim and rng.random() < 0.85:
            r = render_name(victim, lang, rng)
            story.victim, story.victim_sex = r.text, victim.sex
            pending.append((victim, "victim", r.text, r.form, {"sex": victim.sex}))
        acts = [a for a in plan.acts if a.victim is victim] if victim else plan.acts[:2]
        story.violations = [a.violation for a in acts]
        story.injuries = sorted({i for a in acts for i in a.injuries})[:3]
        self._officers(plan, author, lang, story, pending)
        self._detainee(plan, author, lang, story, pending, batch)
        title, text = compose(rng, story)
        received = plan.start + timedelta(days=int(rng.expovariate(1 / 20)), minutes=rng.randrange(24 * 60))
        batch.add(
            "source",
            {
                "id": source_id,
                "kind": "testimony",
                "author_role": author.role,
                "language": lang,
                "title": title,
                "text": text,
                "received_at": received.replace(microsecond=0),
                "reliability": _pick(rng, RELIABILITY),
                "credibility": _grade(rng),
                "origin": "demo",
                "external_ref": None,
                "url": None,
                "captured_at": None,
                "capture_tool": None,
                **self._reported(plan, place),
            },
        )
        self.truth.source(source_id, plan.id)
        for ident, role, name, form, fields in pending:
            self._mention(batch, source_id, ident, role, name, form, **fields)
        if rng.random() < 0.6:
            self._cite(batch, source_id, plan, acts)
        return source_id

    def _reported(self, plan: IncidentPlan, place_text: str) -> dict[str, object]:
        """When and where the source says it happened: exact, to the hour or to the day; a point,
        a known place or only words. Times are UTC; the day is the local (UTC+3) day."""
        rng = self.rng
        precision = _pick(rng, (("minute", 0.35), ("hour", 0.45), ("day", 0.20)))
        if precision == "minute":
            start = plan.start + timedelta(minutes=rng.randint(-10, 20))
            end: datetime | None = start + timedelta(minutes=rng.choice((15, 30, 60)))
        elif precision == "hour":
            start = plan.start.replace(minute=0, second=0, microsecond=0) + timedelta(
                hours=rng.choice((-1, 0, 0, 1))
            )
            end = start + timedelta(hours=rng.choice((1, 2, 3)))
        else:
            local_day = (plan.start + UTC_SHIFT).replace(hour=0, minute=0, second=0, microsecond=0)
            start, end = local_day - UTC_SHIFT, local_day - UTC_SHIFT + timedelta(days=1)
        where: dict[str, object] = {"reported_place_id": None, "reported_lat": None, "reported_lon": None}
        roll = rng.random()
        if roll < 0.4 and plan.place.lat is not None and plan.place.lon is not None:
            # a phone's location or a pin on a map: within a few hundred metres
            where["reported_lat"] = round(plan.place.lat + rng.gauss(0, 0.0015), 6)
            where["reported_lon"] = round(plan.place.lon + rng.gauss(0, 0.0025), 6)
        elif roll < 0.7:
            where["reported_place_id"] = plan.place.id
        return {
            "reported_start": start.replace(microsecond=0),
            "reported_end": end.replace(microsecond=0) if end else None,
            "reported_precision": precision,
            "reported_place_text": place_text,
            **where,
        }

    def _officers(
        self,
        plan: IncidentPlan,
        author: Author,
        lang: str,
        story: Story,
        pending: list[tuple[Identity, str, str | None, str, dict[str, object]]],
    ) -> None:
        rng = self.rng
        odds = OFFICER_ODDS.get(author.role, 0.15)
        named = 0
        for officer in plan.officers:
            if named >= 2 or rng.random() > odds:
                continue
            named += 1
            role = "official" if plan.kind == "court" else "commander" if officer.commander else "perpetrator"
            fields: dict[str, object] = {"sex": officer.ident.sex}
            if officer.unit.kind != "court" and rng.random() < 0.4:
                fields["unit_text"] = story.unit = self._unit_text(officer, lang)
            mode = rng.random()
            if mode < 0.65 or officer.badge is None:
                r = render_name(officer.ident, lang, rng, officer=True)
                rank = self._rank(officer, lang) if rng.random() < 0.6 else None
                fields["rank"] = rank
                story.officers.append(f"{rank} {r.text}" if rank else r.text)
                if officer.badge and rng.random() < 0.25:
                    fields["badge_number"] = story.badge = self._badge(officer.badge, lang)
                pending.append((officer.ident, role, r.text, r.form, fields))
            elif mode < 0.85:
                fields["badge_number"] = story.badge = self._badge(officer.badge, lang)
                pending.append((officer.ident, role, None, f"{lang}:-:badge", fields))
            else:
                fields["description"] = rng.choice(self.descriptions[lang])
                story.anonymous_perpetrators = True
                pending.append((officer.ident, role, None, f"{lang}:-:description", fields))
        if not named and plan.kind not in ("court",) and rng.random() < 0.4:
            story.anonymous_perpetrators = True

    def _detainee(
        self,
        plan: IncidentPlan,
        author: Author,
        lang: str,
        story: Story,
        pending: list[tuple[Identity, str, str | None, str, dict[str, object]]],
        batch: Batch,
    ) -> None:
        rng = self.rng
        if (
            author.role != "victim"
            or plan.kind not in ("facility", "station", "transport")
            or rng.random() > 0.35
        ):
            return
        others = [v for v in plan.victims if v is not author.ident]
        ident = rng.choice(others) if others else self.pop.new("detainee", batch, register=False)
        r = render_name(ident, lang, rng)
        story.detainee, story.detainee_sex = r.text, ident.sex
        pending.append((ident, "detainee", r.text, r.form, {}))

    def _rank(self, officer: Officer, lang: str) -> str | None:
        if officer.rank < 0:
            return None
        rank = data.ranks()[officer.rank]
        return rank.short if lang == "en" and self.rng.random() < 0.5 else rank.labels[lang]

    def _badge(self, badge: str, lang: str) -> str:
        rng = self.rng
        digits = badge.split("-")[1]
        roll = rng.random()
        if roll < 0.35:
            return badge if lang not in ("en", "pl") else transliterate(badge, "icao")
        if roll < 0.7:
            return digits
        if roll < 0.85:
            return f"№ {digits}"
        return badge.replace("-", " ")

    def _unit_text(self, officer: Officer, lang: str) -> str:
        unit = officer.unit
        roll = self.rng.random()
        if roll < 0.5:
            return unit.abbr[lang]
        return unit.names[lang]

    def _cite(self, batch: Batch, source_id: str, plan: IncidentPlan, acts: list[ActPlan]) -> None:
        rng = self.rng
        batch.add(
            "citation",
            {
                "id": self.ids.new("citation"),
                "source_id": source_id,
                "subject_kind": "incident",
                "subject_id": plan.id,
                "field": "",
                "confidence": round(rng.uniform(0.4, 0.9), 2),
                "note": None,
            },
        )
        for act in acts[:2]:
            batch.add(
                "citation",
                {
                    "id": self.ids.new("citation"),
                    "source_id": source_id,
                    "subject_kind": "act",
                    "subject_id": act.id,
                    "field": "violation",
                    "confidence": round(rng.uniform(0.3, 0.9), 2),
                    "note": None,
                },
            )
