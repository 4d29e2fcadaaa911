"""The demo's data files (`demo/data/*.yaml`), loaded once into plain structures."""

from __future__ import annotations

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
    rows = load("surnames.yaml")["roots"]
    return tuple(
        SurnameRoot(type=t, weight=float(w), stems={"ru": ru, "be": be, "uk": uk})
        for t, w, ru, be, uk in rows
    )


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
