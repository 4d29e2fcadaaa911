"""Everything the engine knows about one token, computed once and cached.

A token is analysed for every role it might play (given name, patronymic,
surname, initial) so that parsing only chooses among ready answers and the same
analysis serves every name the token occurs in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache, lru_cache

from svidok.names._data import load_yaml
from svidok.names.givennames import registry
from svidok.names.phonetic import coarse, fine
from svidok.names.readings import readings

__all__ = ["TokenInfo", "analyse"]

# Latin single letters that stand for an iotated vowel in some system (Ю Я Е Ё).
_WILD_INITIALS = {
    "y": frozenset("IUAEJ"),
    "j": frozenset("IUAEZJ"),
    "i": frozenset("IUAEJ"),
    "e": frozenset("EA"),
}


@dataclass(frozen=True, slots=True, eq=False)
class TokenInfo:
    """Analyses of one lower-case token under every role."""

    text: str
    latin: bool
    fines: tuple[str, ...]
    coarses: tuple[str, ...]
    initials: frozenset[str]
    given_full: frozenset[str]
    given_dim: frozenset[str]
    given_fuzzy: bool
    given_gender: str
    sur_stems: frozenset[str]
    sur_classes: frozenset[str]
    sur_gender: str
    sur_shaped: bool
    pat_stems: frozenset[str]
    pat_gender: str
    pat_known: bool

    @property
    def is_given(self) -> bool:
        return bool(self.given_full or self.given_dim) and not self.given_fuzzy

    @property
    def is_patronymic(self) -> bool:
        return bool(self.pat_gender)


@cache
def _endings() -> tuple[
    list[tuple[re.Pattern[str], str, str]],
    list[re.Pattern[str]],
    list[tuple[re.Pattern[str], str]],
]:
    data = load_yaml("endings.yaml")
    surname = [(re.compile(p), c, g) for p, c, g in data["surname"]]
    shapes = [re.compile(p) for p in data["surname_shapes"]]
    patronymic = [(re.compile(p), g) for p, g in data["patronymic"]]
    return surname, shapes, patronymic


def _one_gender(genders: set[str]) -> str:
    genders.discard("")
    return genders.pop() if len(genders) == 1 else ""


def _surname(phons: tuple[str, ...]) -> tuple[frozenset[str], frozenset[str], str, bool]:
    rules, shapes, _ = _endings()
    stems: set[str] = set()
    classes: set[str] = set()
    genders: set[str] = set()
    shaped = False
    for phon in phons:
        for pattern, cls, gender in rules:
            match = pattern.search(phon)
            if match is None:
                continue
            stem = coarse(fine(phon[: match.start()]))
            if len(stem) >= 2:
                stems.add(f"{stem}|{cls}")
                if cls in ("OV", "IN") and len(stem) >= 4:
                    # Surnames from given names: Николаев = Миколаєв = Мікалаеў
                    stems |= {f"{cid}|{cls}" for cid in registry().patronymic_classes(stem)}
                classes.add(cls)
                genders.add(gender)
                shaped = True
                break
        else:
            stems.add(coarse(fine(phon)) + "|")
            shaped = shaped or any(p.search(phon) for p in shapes)
    return frozenset(stems), frozenset(classes), _one_gender(genders), shaped


def _patronymic(phons: tuple[str, ...]) -> tuple[frozenset[str], str, bool]:
    _, _, rules = _endings()
    reg = registry()
    stems: set[str] = set()
    genders: set[str] = set()
    known = False
    for phon in phons:
        for index, (pattern, gender) in enumerate(rules):
            match = pattern.search(phon)
            if match is None:
                continue
            stem = coarse(fine(phon[: match.start()]))
            classes = reg.patronymic_classes(stem)
            if len(stem) < 2 or (index == len(rules) - 1 and not classes):
                continue
            if classes:
                stems |= classes
                known = True
            else:
                stems.add("~" + stem)
            genders.add(gender)
            break
    if known:
        stems = {s for s in stems if not s.startswith("~")}
    return frozenset(stems), _one_gender(genders), known


@lru_cache(maxsize=200_000)
def analyse(token: str) -> TokenInfo:
    """The cached analysis of a lower-case token (letters, ' and - only)."""
    phons = readings(token)
    latin = any(ch.isascii() for ch in token if ch.isalpha())
    fines: list[str] = []
    for phon in phons:
        skel = fine(phon)
        if skel and skel not in fines:
            fines.append(skel)
    coarses = tuple(dict.fromkeys(coarse(f) for f in fines))
    reg = registry()
    full, dim, fuzzy = reg.lookup(tuple(fines), latin)
    initials = {f[0] for f in fines}
    letters = token.replace("-", "").replace("'", "")
    if len(letters) == 1 and letters in _WILD_INITIALS:
        initials |= _WILD_INITIALS[letters]
    for cid in full | dim:
        initials |= reg.initials[cid]
    if "v" in initials or "U" in initials:
        initials |= {"v", "U"}  # Belarusian У for В: Уладзімір, U. = V.
    genders = {reg.gender(c) for c in full or dim}
    sur_phons = phons
    if latin and token.endswith("ine") and len(token) > 4:
        # French writes -ин as -ine (Iline, Choukhine); only for surnames: a French
        # given name in -ine is feminine (Valentine, Catherine).
        sur_phons = phons + tuple(p for p in readings(token[:-1]) if p not in phons)
    sur_stems, sur_classes, sur_gender, shaped = _surname(sur_phons)
    pat_stems, pat_gender, pat_known = _patronymic(phons)
    return TokenInfo(
        text=token,
        latin=latin,
        fines=tuple(fines),
        coarses=coarses,
        initials=frozenset(initials),
        given_full=full,
        given_dim=dim,
        given_fuzzy=fuzzy,
        given_gender=_one_gender(genders),
        sur_stems=sur_stems,
        sur_classes=sur_classes,
        sur_gender=sur_gender,
        sur_shaped=shaped,
        pat_stems=pat_stems,
        pat_gender=pat_gender,
        pat_known=pat_known,
    )
