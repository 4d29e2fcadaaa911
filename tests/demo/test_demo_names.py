"""Names in the demo: derivations, transliterations, forms, scripts and hard cases."""

from __future__ import annotations

import random
import re
from collections import Counter
from importlib import resources

import pytest

from svidok.demo import data
from svidok.demo.forms import render_name, typo
from svidok.demo.ids import Batch, Ids
from svidok.demo.people import Identity, patronymic, surname
from svidok.demo.population import Population
from svidok.demo.translit import transliterate

from .conftest import DemoRun

REAL_PEOPLE_SURNAMES = {
    "Лукашенко",
    "Тихановск",
    "Колесников",
    "Бабарико",
    "Протасевич",
    "Караев",
    "Балаба",
    "Кубраков",
    "Карпенков",
    "Тарайковск",
    "Бондаренко",
    "Беляцк",
    "Назаренко",
    "Шуневич",
    "Латушко",
    "Цепкало",
    "Макей",
}


def _given(sex: str, ru: str) -> int:
    return next(i for i, g in enumerate(data.given_names()[sex]) if g.forms["ru"] == ru)


def _root(ru: str) -> int:
    return next(i for i, r in enumerate(data.surname_roots()) if r.stems["ru"] == ru)


@pytest.mark.parametrize(
    ("father", "lang", "sex", "expected"),
    [
        ("Сергей", "ru", "male", "Сергеевич"),
        ("Сергей", "be", "female", "Сяргееўна"),
        ("Андрей", "uk", "female", "Андріївна"),
        ("Илья", "ru", "male", "Ильич"),
        ("Василий", "uk", "female", "Василівна"),
        ("Александр", "be", "male", "Аляксандравіч"),
        ("Станислав", "be", "female", "Станіславаўна"),
    ],
)
def test_patronymics_derive_from_the_fathers_name(father: str, lang: str, sex: str, expected: str) -> None:
    assert patronymic(data.given_names()["male"][_given("male", father)], lang, sex) == expected


@pytest.mark.parametrize(
    ("root", "lang", "sex", "expected"),
    [
        ("Козло", "ru", "female", "Козлова"),
        ("Козло", "be", "male", "Казлоў"),
        ("Жуков", "be", "female", "Жукоўская"),
        ("Жуков", "uk", "male", "Жуковський"),
        ("Шевчук", "ru", "female", "Шевчук"),
        ("Савченко", "be", "male", "Саўчанка"),
        ("Бел", "uk", "female", "Біла"),
    ],
)
def test_surnames_take_gendered_and_language_endings(root: str, lang: str, sex: str, expected: str) -> None:
    assert surname(data.surname_roots()[_root(root)], lang, sex) == expected


@pytest.mark.parametrize(
    ("text", "scheme", "lang", "expected"),
    [
        ("Аляксандр", "icao", "be", "Aliaksandr"),
        ("Лукашэвіч", "lacinka", "be", "Łukaševič"),
        ("Жукоўская", "polish", "be", "Żukouska"),
        ("Юрий", "bgn", "ru", "Yuriy"),
        ("Щукин", "iso9", "ru", "Ŝukin"),
        ("Жуковский", "german", "ru", "Schukowski"),
        ("Олександр Сергійович", "icao", "uk", "Oleksandr Serhiiovych"),
        ("Сяргей", "by_national", "be", "Siarhiej"),
        ("Дмитрий", "english", "ru", "Dmitry"),
        ("КОЗЛОВ", "icao", "ru", "KOZLOV"),
    ],
)
def test_transliterators(text: str, scheme: str, lang: str, expected: str) -> None:
    assert transliterate(text, scheme, lang) == expected


def test_relatives_share_the_surname_and_sons_take_the_fathers_name() -> None:
    seen: list[Identity] = []
    pop = Population(random.Random(1), Ids(1), seen.append)
    batch = Batch()
    father = pop.new("victim", batch, register=True, sex="male", born=(1950, 1975))
    for _ in range(20):
        child = pop.relative(father, "child", batch, register=False)
        assert child.surname == father.surname
        assert child.patronymic_in("ru") == patronymic(father.given_name, "ru", child.sex)
    wife = pop.relative(father, "spouse", batch, register=True)
    assert (
        wife.sex == "female" and wife.surname_in("ru") != father.surname_in("ru") or father.root.type == "inv"
    )
    twin = pop.namesake("victim", batch, register=True)
    assert twin is not None
    assert len(batch.rows["person"]) == 3
    assert {r["kind"] for r in batch.rows["person_name"]} == {"primary", "variant", "transliteration"}


def test_render_name_gives_many_forms_of_one_identity() -> None:
    rng = random.Random(5)
    ident = Identity(
        "T1",
        "male",
        _given("male", "Евгений"),
        _given("male", "Сергей"),
        _root("Жуков"),
        "be",
        "1980-01-02",
        "officer",
    )
    forms = {render_name(ident, lang, rng, officer=True).text for lang in data.LANGS for _ in range(40)}
    assert "Жукоўскі" in forms and "Жуковский" in forms
    assert any(f.startswith("ЖУК") for f in forms)
    assert any(re.search(r"\b[A-Z][a-z]*\.", f) for f in forms)
    assert any("Zhukovsk" in f or "Žukoŭsk" in f or "Żukowsk" in f for f in forms)
    assert len(forms) > 40


def test_typo_changes_one_letter() -> None:
    rng = random.Random(3)
    for _ in range(50):
        out = typo("Казлоў Ігар", rng)
        assert out != "Казлоў Ігар"
        assert abs(len(out) - len("Казлоў Ігар")) <= 1


def test_demo_mentions_use_several_scripts_and_forms(demo_run: DemoRun) -> None:
    names = [m["raw_name"] for m in demo_run.rows("mention") if m["raw_name"]]
    text = " ".join(names)
    assert re.search(r"[ўі]", text), "Belarusian Cyrillic"
    assert re.search(r"[ыэъ]", text), "Russian Cyrillic"
    assert re.search(r"[A-Za-z]", text), "Latin"
    assert re.search(r"[a-z]", text) and re.search(r"[žšłŭ]", text), "Łacinka or Polish"
    patterns = Counter(f["form"].split(":")[2] for f in demo_run.truth("mention_forms"))
    assert {"GPS", "SGP", "GS", "S", "badge"} <= set(patterns)
    assert any(f["form"].endswith(":typo") for f in demo_run.truth("mention_forms"))


def test_one_identity_is_written_differently_by_different_sources(demo_run: DemoRun) -> None:
    names = {m["id"]: m["raw_name"] for m in demo_run.rows("mention")}
    by_identity: dict[str, set[str]] = {}
    for t in demo_run.truth("mentions"):
        if names[t["mention_id"]]:
            by_identity.setdefault(t["true_identity"], set()).add(names[t["mention_id"]])
    assert max(len(v) for v in by_identity.values()) >= 4


def test_population_shares_surnames_and_persons_have_several_names(demo_run: DemoRun) -> None:
    identities = demo_run.truth("identities")
    surnames = Counter(i["name_ru"].split()[-1] for i in identities)
    assert max(surnames.values()) >= 2  # relatives, namesakes, common surnames
    per_person = Counter(n["person_id"] for n in demo_run.rows("person_name"))
    assert min(per_person.values()) >= 2
    scripts = {n["script"] for n in demo_run.rows("person_name")}
    assert scripts == {"Cyrl", "Latn"}


def test_surnames_are_long_tailed_like_a_real_population() -> None:
    # With a small pool of surnames namesakes would be the rule (two thirds of 6,000 people
    # shared given name and surname with someone); in a real population they are the exception.
    pop = Population(random.Random(11), Ids(1), lambda ident: None)
    batch = Batch()
    people = [pop.new("victim", batch, register=False) for _ in range(6000)]
    by_name = Counter((p.sex, p.given, p.surname) for p in people)
    sharing = sum(n for n in by_name.values() if n > 1) / len(people)
    surnames = Counter(p.surname for p in people)
    assert sharing < 0.15
    assert len(surnames) > 1500
    assert max(surnames.values()) / len(people) < 0.015


def test_tail_surnames_have_belarusian_and_ukrainian_spellings() -> None:
    common = len(data.load("surnames.yaml")["roots"])
    tail = {surname(r, "ru", "male"): r for r in data.surname_roots()[common:]}
    assert surname(tail["Голубович"], "be", "male") == "Галубовіч"
    assert surname(tail["Голубович"], "uk", "female") == "Голубович"
    rooted = [r for r in tail.values() if r.type == "poss"]
    assert any(surname(r, "be", "male").endswith(("оў", "аў")) for r in rooted)
    assert all(not surname(r, "be", "male").endswith("ов") for r in rooted)
    males = Counter(surname(r, "ru", "male") for r in data.surname_roots())
    assert max(males.values()) == 1  # no surname twice


def test_no_real_public_figures_among_surnames() -> None:
    for root in data.surname_roots():
        for sex in ("male", "female"):
            name = surname(root, "ru", sex)
            assert not any(name.startswith(real) for real in REAL_PEOPLE_SURNAMES), name


def test_cyrillic_data_has_no_stray_latin_letters() -> None:
    for name in (
        "given_names.yaml",
        "surnames.yaml",
        "places.yaml",
        "units.yaml",
        "texts_be.yaml",
        "texts_ru.yaml",
        "texts_uk.yaml",
    ):
        raw = resources.files("svidok.demo").joinpath("data", name).read_text("utf-8")
        mixed = [
            w
            for w in re.findall(r"\w+", raw)
            if re.search(r"[а-яёіўєїґ]", w, re.I) and re.search(r"[a-z]", w, re.I)
        ]
        assert mixed == [], (name, mixed)
