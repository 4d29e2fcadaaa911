"""Making the fictional people: frequency-weighted names, relatives, namesakes, person rows.

Surnames follow a long-tailed law (`data.surname_roots`: a hundred common
surnames drawn a fifth of the time, then some two thousand rare ones), as a real
population's do, so strangers seldom share given name and surname by chance.
Hard cases for the linking engine are made on purpose on top of that: namesakes
(two people sharing given name and surname), and relatives sharing a surname
(spouses; a father and a son whose patronymic comes from the father's given name).
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Callable
from itertools import accumulate

from svidok.demo.data import given_names, misc, surname_roots
from svidok.demo.ids import Batch, Ids
from svidok.demo.people import Identity
from svidok.demo.translit import transliterate

NATIVE = (("be", 60), ("ru", 32), ("uk", 8))
Recorder = Callable[[Identity], None]


class Population:
    """Creates identities, and person and person_name rows for those the register holds."""

    def __init__(self, rng: random.Random, ids: Ids, record: Recorder) -> None:
        self.rng = rng
        self.ids = ids
        self.record = record
        self.count = 0
        self.registered = 0
        self.recent: deque[Identity] = deque(maxlen=400)
        names = given_names()
        self._given_cw = {sex: list(accumulate(g.weight for g in names[sex])) for sex in names}
        roots = surname_roots()
        self._surname_cw = list(accumulate(r.weight for r in roots))
        self._words: list[str] = misc()["pseudonyms"]

    def _given(self, sex: str) -> int:
        cw = self._given_cw[sex]
        return self.rng.choices(range(len(cw)), cum_weights=cw)[0]

    def _surname(self) -> int:
        cw = self._surname_cw
        return self.rng.choices(range(len(cw)), cum_weights=cw)[0]

    def _birth(self, first: int, last: int) -> str:
        rng = self.rng
        last = max(first, last)
        return f"{rng.randint(first, last)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"

    def new(
        self,
        kind: str,
        batch: Batch,
        *,
        register: bool,
        sex: str | None = None,
        surname: int | None = None,
        father: int | None = None,
        given: int | None = None,
        native: str | None = None,
        born: tuple[int, int] = (1958, 2003),
    ) -> Identity:
        """A new identity; with `register`, also its person and person_name rows."""
        rng = self.rng
        sex = sex or ("male" if rng.random() < 0.62 else "female")
        self.count += 1
        ident = Identity(
            key=f"T{self.count:08d}",
            sex=sex,
            given=self._given(sex) if given is None else given,
            father=self._given("male") if father is None else father,
            surname=self._surname() if surname is None else surname,
            native=native or rng.choices([n for n, _ in NATIVE], [w for _, w in NATIVE])[0],
            birth_date=self._birth(*born),
            kind=kind,
        )
        if register:
            self._register(ident, batch)
        self.record(ident)
        self.recent.append(ident)
        return ident

    def relative(self, of: Identity, relation: str, batch: Batch, *, register: bool) -> Identity:
        """A spouse, parent or child of `of`, sharing the surname root."""
        year = int(of.birth_date[:4])
        if relation == "child" and year > 1982:
            relation = "parent"
        if relation == "spouse":
            sex = "female" if of.sex == "male" else "male"
            return self.new(
                "relative",
                batch,
                register=register,
                sex=sex,
                surname=of.surname,
                native=of.native,
                born=(year - 4, min(year + 4, 2004)),
            )
        if relation == "parent":
            sex = "male" if self.rng.random() < 0.5 else "female"
            given = of.father if sex == "male" else None
            return self.new(
                "relative",
                batch,
                register=register,
                sex=sex,
                surname=of.surname,
                given=given,
                native=of.native,
                born=(year - 34, year - 20),
            )
        child_sex = "male" if self.rng.random() < 0.6 else "female"
        father = of.given if of.sex == "male" else None
        return self.new(
            "relative",
            batch,
            register=register,
            sex=child_sex,
            surname=of.surname,
            father=father,
            native=of.native,
            born=(year + 20, min(year + 32, 2004)),
        )

    def namesake(self, kind: str, batch: Batch, *, register: bool) -> Identity | None:
        """Another person with the given name and surname of someone recently created."""
        if not self.recent:
            return None
        of = self.rng.choice(self.recent)
        return self.new(kind, batch, register=register, sex=of.sex, surname=of.surname, given=of.given)

    def _register(self, ident: Identity, batch: Batch) -> None:
        rng = self.rng
        self.registered += 1
        ident.person_id = self.ids.new("person")
        birth = ident.birth_date if rng.random() < 0.85 else ident.birth_date[:4]
        word = self._words[self.registered % len(self._words)]
        batch.add(
            "person",
            {
                "id": ident.person_id,
                "primary_name": ident.canonical(),
                "sex": ident.sex,
                "pseudonym": f"{word} {self.registered}",
                "birth_date": birth,
                "description": None,
            },
        )
        forms = [(ident.canonical(), ident.native, "Cyrl", "primary")]
        forms += [
            (ident.canonical(lang), lang, "Cyrl", "variant") for lang in ("be", "ru") if lang != ident.native
        ]
        latin = transliterate(ident.canonical(), "icao", ident.native)
        forms.append((latin, ident.native, "Latn", "transliteration"))
        for name, lang, script, kind in forms:
            batch.add(
                "person_name",
                {
                    "id": self.ids.new("person_name"),
                    "person_id": ident.person_id,
                    "name": name,
                    "lang": lang,
                    "script": script,
                    "kind": kind,
                    "name_keys": None,
                },
            )
