"""The demo's data files (`demo/data/*.yaml`), loaded once into plain structures."""

from __future__ import annotations

import random
import zlib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import yaml

LANGS: tuple[str, ...] = ("be", "ru", "uk", "pl", "en")
CYRILLIC_LANGS: tuple[str, ...] = ("be", "ru", "uk")


def load(name: str) -> Any:
    """Parse one YAML file of `svidok/demo/data`."""
    text = resources.files("svidok.demo").joinpath("data", name).read_text("utf-8")
    return yaml.safe_load(text)


@dataclass(frozen=True)
class GivenName:
    """One given name with its forms per language, diminutives and patronymic stems."""

    sex: str
    weight: float
    forms: dict[str, str]
    diminutives: dict[str, tuple[str, ...]]
    patronymic: dict[str, str | tuple[str, str]]


@dataclass(frozen=True)
class SurnameRoot:
    """A surname root: how its ending changes with sex and language (see surnames.yaml)."""

    type: str
    weight: float
    stems: dict[str, str]


@dataclass(frozen=True)
class Rank:
    code: str
    labels: dict[str, str]
    short: str
    weights: dict[str, float]


def _given(sex: str, entry: dict[str, Any]) -> GivenName:
    pat: dict[str, str | tuple[str, str]] = {}
    for lang, value in (entry.get("pat") or {}).items():
        pat[lang] = (str(value[0]), str(value[1])) if isinstance(value, list) else str(value)
    return GivenName(
        sex=sex,
        weight=float(entry["w"]),
        forms={lang: str(entry[lang]) for lang in LANGS},
        diminutives={lang: tuple(v) for lang, v in (entry.get("dim") or {}).items()},
        patronymic=pat,
    )


@cache
def given_names() -> dict[str, tuple[GivenName, ...]]:
    """Given names by sex ('male', 'female'), most frequent first."""
    data = load("given_names.yaml")
    return {sex: tuple(_given(sex, e) for e in data[sex]) for sex in ("male", "female")}


@cache
def surname_roots() -> tuple[SurnameRoot, ...]:
    """The common surnames of surnames.yaml, then the long tail derived from surname_bases.yaml."""
    rows = load("surnames.yaml")["roots"]
    head = tuple(
        SurnameRoot(type=t, weight=float(w), stems={"ru": ru, "be": be, "uk": uk})
        for t, w, ru, be, uk in rows
    )
    return head + surname_tail(head)


TAIL_SHARE = 0.8
"""Share of the population whose surname comes from the long tail, not the common surnames."""
TAIL_PATTERNS_PER_STEM = 10
_BE_HARD = "жшчрц"
"""Consonants that are always hard in Belarusian: е, і after them are written э, ы."""
_SIBILANT = "жшчщц"
# (type, weight, ru, be, uk) suffixes that turn a word stem into a surname root; "{o}" is the
# linking vowel (see _tail_root), "poss"/"in"/"sky" roots take their gendered endings later.
_TAIL_PATTERNS: tuple[tuple[str, float, str, str, str], ...] = (
    ("poss", 30, "{o}", "{o}", "{o}"),
    ("in", 8, "и", "і", "і"),
    ("sky", 8, "ов", "оў", "ов"),
    ("sky", 3, "ин", "ін", "ин"),
    ("inv", 14, "енко", "енка", "енко"),
    ("inv", 8, "ук", "ук", "ук"),
    ("inv", 5, "чук", "чук", "чук"),
    ("inv", 10, "ович", "овіч", "ович"),
    ("inv", 7, "евич", "евіч", "евич"),
    ("inv", 6, "ик", "ік", "ик"),
    ("inv", 5, "ко", "ка", "ко"),
    ("inv", 3, "ёнок", "ёнак", "ьонок"),
    ("inv", 3, "ец", "ец", "ець"),
    ("inv", 3, "ич", "іч", "ич"),
)


def _be_suffix(stem: str, suffix: str) -> tuple[str, str]:
    """Belarusian spelling at the joint: д/т soften to дз/ц before е, і; hard consonants take э, ы."""
    if suffix[:1] in ("е", "і", "ё") and stem[-1:] in ("д", "т"):
        stem = stem[:-1] + ("дз" if stem[-1] == "д" else "ц")
    if stem[-1:] in _BE_HARD:
        if suffix.startswith("енка"):
            suffix = ("анка" if stem[-1] in "жшч" else "энка") + suffix[4:]
        elif suffix.startswith("е"):
            suffix = "э" + suffix[1:]
        elif suffix.startswith("і"):
            suffix = "ы" + suffix[1:]
        elif suffix.startswith("ё"):
            suffix = "о" + suffix[1:]
    return stem, suffix


def _tail_root(stems: list[str], pattern: tuple[str, float, str, str, str]) -> SurnameRoot | None:
    kind, _, *suffixes = pattern
    ru, be, uk = stems
    if suffixes[0] == "чук" and ru[-1] not in "нлрмв":
        return None
    if suffixes[0] in ("ик", "ко", "ук", "енко") and ru[-1] in "кщ":
        return None
    if suffixes[0] == "ич" and ru[-1] in "кчшщжц":
        return None
    vowels = sum(c in "аеёиоуыэюяіў" for c in be.lower())
    out: dict[str, str] = {}
    for lang, stem, suffix in zip(("ru", "be", "uk"), (ru, be, uk), suffixes, strict=True):
        if suffix == "{o}":
            suffix = {
                "ru": "е" if stem[-1] in _SIBILANT else "о",
                "be": "о" if vowels <= 1 else "а",
                "uk": "о",
            }[lang]
        if lang == "be":
            stem, suffix = _be_suffix(stem, suffix)
        elif lang == "uk" and suffix.startswith("і") and stem[-1] in _SIBILANT:
            suffix = "и" + suffix[1:]
        elif suffix.startswith("ё") and stem[-1] in _SIBILANT:
            suffix = "о" + suffix[1:]
        elif lang == "ru" and suffix == "ов" and stem[-1] in _SIBILANT:
            suffix = "ев"
        out[lang] = stem + suffix
    return SurnameRoot(type=kind, weight=0.0, stems=out)


def surname_tail(head: tuple[SurnameRoot, ...]) -> tuple[SurnameRoot, ...]:
    """Rare surnames derived from word stems, Zipf-weighted to TAIL_SHARE of all draws.

    Each stem takes TAIL_PATTERNS_PER_STEM of the patterns, drawn by pattern weight with a
    generator seeded by the stem, so the tail is the same on every machine and in every run.
    """
    spec = load("surname_bases.yaml")
    excluded = tuple(spec["excluded"])
    taken = {(r.type, r.stems["ru"]) for r in head}
    names = {_male_ru(r) for r in head}
    tail: list[SurnameRoot] = []
    for stems in spec["stems"]:
        rng = random.Random(zlib.crc32(stems[0].encode()))  # nosec B311 # fictional demo surnames, seeded to be the same everywhere
        chosen: list[tuple[str, float, str, str, str]] = []
        while len(chosen) < TAIL_PATTERNS_PER_STEM:
            pattern = rng.choices(_TAIL_PATTERNS, [p[1] for p in _TAIL_PATTERNS])[0]
            if pattern not in chosen:
                chosen.append(pattern)
        for pattern in chosen:
            root = _tail_root([str(s) for s in stems], pattern)
            if root is None or (root.type, root.stems["ru"]) in taken:
                continue
            male = _male_ru(root)
            if male in names or male.startswith(excluded) or _female_ru(root).startswith(excluded):
                continue
            taken.add((root.type, root.stems["ru"]))
            names.add(male)
            tail.append(root)
    random.Random(7).shuffle(tail)  # nosec B311 # fictional demo surnames, seeded
    ranks = [1.0 / (rank + 50) ** 0.6 for rank in range(len(tail))]
    scale = TAIL_SHARE / (1 - TAIL_SHARE) * sum(r.weight for r in head) / sum(ranks)
    return tuple(
        SurnameRoot(type=r.type, weight=w * scale, stems=r.stems) for r, w in zip(tail, ranks, strict=True)
    )


_RU_ENDINGS = {"poss": ("в", "ва"), "in": ("н", "на"), "sky": ("ский", "ская"), "tsky": ("цкий", "цкая")}
_RU_ENDINGS |= {"adj": ("ый", "ая"), "inv": ("", "")}


def _male_ru(root: SurnameRoot) -> str:
    return root.stems["ru"] + _RU_ENDINGS[root.type][0]


def _female_ru(root: SurnameRoot) -> str:
    return root.stems["ru"] + _RU_ENDINGS[root.type][1]


@cache
def places() -> dict[str, Any]:
    data: dict[str, Any] = load("places.yaml")
    return data


@cache
def units() -> dict[str, Any]:
    data: dict[str, Any] = load("units.yaml")
    return data


@cache
def ranks() -> tuple[Rank, ...]:
    return tuple(
        Rank(
            code=r["code"],
            labels={lang: r[lang] for lang in LANGS},
            short=r["short"],
            weights={k: float(v) for k, v in r["w"].items()},
        )
        for r in units()["ranks"]
    )


@cache
def texts(lang: str) -> dict[str, Any]:
    """The testimony templates of one language."""
    data: dict[str, Any] = load(f"texts_{lang}.yaml")
    return data


@cache
def misc() -> dict[str, Any]:
    data: dict[str, Any] = load("misc.yaml")
    return data
