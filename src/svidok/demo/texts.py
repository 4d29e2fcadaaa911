"""Short testimony texts in be, ru, uk, en and pl, composed from the templates in `data/`."""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from datetime import datetime

from svidok.demo.data import texts
from svidok.domain.vocabulary import vocabulary

_GENDER = re.compile(r"\{(v:)?([^{}|]*)\|([^{}|]*)\}")
_SLOT = re.compile(r"\{(\w+)\}")


@dataclass
class Story:
    """What one testimony tells, already rendered in its language."""

    lang: str
    role: str
    author_sex: str
    when: datetime
    place: str
    self_name: str | None = None
    age: int = 30
    facility: str | None = None
    violations: list[str] = field(default_factory=list)
    first_person: bool = True
    victim: str | None = None
    victim_sex: str = "male"
    officers: list[str] = field(default_factory=list)
    badge: str | None = None
    unit: str | None = None
    anonymous_perpetrators: bool = False
    detainee: str | None = None
    detainee_sex: str = "male"
    injuries: list[str] = field(default_factory=list)


def _fill(template: str, slots: dict[str, str], author_sex: str, other_sex: str) -> str:
    def gender(match: re.Match[str]) -> str:
        sex = other_sex if match.group(1) else author_sex
        return match.group(2) if sex == "male" else match.group(3)

    text = _SLOT.sub(lambda m: slots.get(m.group(1), m.group(0)), _GENDER.sub(gender, template))
    return text[:1].upper() + text[1:]


def _date(lang: str, when: datetime) -> str:
    t = texts(lang)
    return str(t["date"]).format(d=when.day, month=t["months"][when.month - 1])


def _labels(vocab: str, codes: list[str], lang: str) -> str:
    v = vocabulary(vocab)
    return ", ".join(v.label(c, lang).lower() for c in codes)


def compose(rng: random.Random, story: Story) -> tuple[str, str]:
    """A title and a text for `story`."""
    t = texts(story.lang)
    slots = {
        "self": story.self_name or "",
        "victim": story.victim or "",
        "place": story.place,
        "facility": story.facility or "",
        "date": _date(story.lang, story.when),
        "time": f"{story.when:%H:%M}",
        "age": str(story.age),
        "badge": story.badge or "",
        "unit": story.unit or "",
        "detainee": story.detainee or "",
    }
    out: list[str] = []

    def say(key: str, other_sex: str = "male", **extra: str) -> None:
        out.append(_fill(rng.choice(t[key]), {**slots, **extra}, story.author_sex, other_sex))

    intro = t["intro"][story.role]
    named = [s for s in intro if "{self}" in s]
    choices = named if story.self_name and named else [s for s in intro if "{self}" not in s]
    out.append(_fill(rng.choice(choices or intro), slots, story.author_sex, story.victim_sex))
    say("scene")
    if story.victim and not story.first_person:
        say("victim", story.victim_sex)
    if story.facility:
        say("facility")
    person = "v1" if story.first_person or not story.victim else "v3"
    for code in story.violations[:3]:
        entry = t["violation"].get(code)
        if entry:
            say_text = rng.choice(entry[person])
            out.append(_fill(say_text, slots, story.author_sex, story.victim_sex))
        else:
            say("generic", violation=_labels("violation_type", [code], story.lang))
    for officer in story.officers:
        say("officer", officer=officer)
    if story.badge:
        say("badge")
    if story.unit:
        say("unit")
    if story.anonymous_perpetrators:
        say("anon")
    if story.detainee:
        say("detainee", story.detainee_sex)
    if story.injuries:
        say("injuries", injuries=_labels("injury_type", story.injuries, story.lang))
    if rng.random() < 0.7:
        say("closing")
    title = _fill(rng.choice(t["title"]), slots, story.author_sex, story.victim_sex)
    return title, " ".join(out).replace("..", ".")
