"""Controlled vocabularies: reviewable YAML files, loaded once into a registry.

Each file under `vocab/` holds one vocabulary: its name, a description and its
codes, each with labels in en, be, ru, uk and pl. Codes are stable identifiers
stored in the register; labels are for people. `check` rejects an unknown code
with the list of valid ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import yaml

from svidok.errors import UnknownCode

LANGUAGES: tuple[str, ...] = ("en", "be", "ru", "uk", "pl")

_FILES = {
    "violation_type": "violation_types.yaml",
    "involvement_role": "involvement_roles.yaml",
    "place_type": "place_types.yaml",
    "injury_type": "injury_types.yaml",
    "source_kind": "source_kinds.yaml",
    "source_role": "source_roles.yaml",
    "mention_role": "mention_roles.yaml",
    "unit_kind": "unit_kinds.yaml",
    "incident_status": "incident_status.yaml",
    "missing_status": "missing_status.yaml",
    "link_kind": "link_kinds.yaml",
}


@dataclass(frozen=True)
class Term:
    """One code of a vocabulary with its labels."""

    code: str
    labels: dict[str, str]
    note: str | None = None

    def label(self, lang: str = "en") -> str:
        return self.labels.get(lang) or self.labels["en"]


@dataclass(frozen=True)
class Vocabulary:
    """A named set of codes."""

    name: str
    description: str
    terms: dict[str, Term]

    @property
    def codes(self) -> list[str]:
        return list(self.terms)

    def __contains__(self, code: object) -> bool:
        return code in self.terms

    def check(self, code: object) -> str:
        """Return `code` if it is valid, else raise `UnknownCode` listing the valid codes."""
        if isinstance(code, str) and code in self.terms:
            return code
        raise UnknownCode(self.name, code, self.codes)

    def label(self, code: str, lang: str = "en") -> str:
        return self.terms[self.check(code)].label(lang)


def _parse(name: str, data: dict[str, Any]) -> Vocabulary:
    if data.get("name") != name:
        raise ValueError(f"vocabulary file for {name} declares name {data.get('name')!r}")
    terms: dict[str, Term] = {}
    for code, entry in data["codes"].items():
        missing = [lang for lang in LANGUAGES if not entry.get(lang)]
        if missing:
            raise ValueError(f"vocabulary {name}: code {code} lacks labels {missing}")
        labels = {lang: str(entry[lang]) for lang in LANGUAGES}
        terms[str(code)] = Term(code=str(code), labels=labels, note=entry.get("note"))
    return Vocabulary(name=name, description=str(data.get("description", "")), terms=terms)


@cache
def vocabulary(name: str) -> Vocabulary:
    """The vocabulary called `name`, loaded from its file on first use."""
    if name not in _FILES:
        raise KeyError(f"no vocabulary called {name!r}; known: {', '.join(_FILES)}")
    text = resources.files("svidok.domain").joinpath("vocab", _FILES[name]).read_text("utf-8")
    return _parse(name, yaml.safe_load(text))


def all_vocabularies() -> dict[str, Vocabulary]:
    return {name: vocabulary(name) for name in _FILES}
