"""Precomputed, hashable keys of a name: what comparison and blocking need.

`name_keys` parses a raw name once and turns every token into a `PartKey`
(skeletons, given-name classes, surname stem keys, patronymic father-name keys,
initials, gender). Keys are plain frozen data: hashable, cheap to compare, and
storable through `to_dict`/`from_dict`, so the linking engine computes them once
at intake. Blocking keys put variants of one surname (in any script or system)
into one bucket; `search_keys` gives the same keys for a single search word.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from functools import lru_cache
from typing import Any

from svidok.names.givennames import registry
from svidok.names.normalize import clean
from svidok.names.parse import ParsedName, parse_cleaned
from svidok.names.tokens import analyse

__all__ = ["NameKeys", "ParseKey", "PartKey", "name_keys", "search_keys"]

#: Score handicap of a second, less likely reading of a name's order.
ALTERNATIVE_PENALTY = 0.03
#: Shortest skeleton (whole surname) and stem in which one edit counts as a typo.
TYPO_MIN_FULL = 7
TYPO_MIN_STEM = 5


@dataclass(frozen=True, slots=True)
class PartKey:
    """One token (or hyphen part) in one role."""

    text: str
    initial: bool
    fines: tuple[str, ...]
    coarses: tuple[str, ...]
    initials: frozenset[str]
    classes: frozenset[str]
    dims: frozenset[str]
    fuzzy: bool
    gender: str
    ends: frozenset[str] = frozenset()  # first+last letters: where a typo could match
    coarse_set: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class ParseKey:
    """Keys of one reading of a name's order."""

    given: tuple[PartKey, ...]
    patronymic: PartKey | None
    surname: tuple[PartKey, ...]
    gender: str
    order: str
    penalty: float


@dataclass(frozen=True, slots=True)
class NameKeys:
    """Everything needed to compare a name, without the raw text."""

    parses: tuple[ParseKey, ...]
    blocking: tuple[str, ...]
    empty: bool = False

    def blocking_keys(self) -> list[str]:
        """Keys for candidate generation: names sharing one may be the same person."""
        return list(self.blocking)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able data (sets become sorted lists)."""
        return _plain(asdict(self))  # type: ignore[no-any-return]

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> NameKeys:
        """Inverse of `to_dict`."""

        def part(d: dict[str, Any] | None) -> PartKey | None:
            if d is None:
                return None
            return PartKey(
                text=d["text"],
                initial=d["initial"],
                fines=tuple(d["fines"]),
                coarses=tuple(d["coarses"]),
                initials=frozenset(d["initials"]),
                classes=frozenset(d["classes"]),
                dims=frozenset(d["dims"]),
                fuzzy=d["fuzzy"],
                gender=d["gender"],
                ends=frozenset(d.get("ends", ())),
                coarse_set=frozenset(d["coarses"]),
            )

        parses = tuple(
            ParseKey(
                given=tuple(p for p in map(part, pk["given"]) if p is not None),
                patronymic=part(pk["patronymic"]),
                surname=tuple(p for p in map(part, pk["surname"]) if p is not None),
                gender=pk["gender"],
                order=pk["order"],
                penalty=pk["penalty"],
            )
            for pk in data["parses"]
        )
        return cls(parses=parses, blocking=tuple(data["blocking"]), empty=data["empty"])


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, frozenset | set):
        return sorted(value)
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


@lru_cache(maxsize=400_000)
def _part(text: str, role: str, initial: bool) -> PartKey:
    info = analyse(text)
    if role == "given":
        classes, dims, gender = info.given_full, info.given_dim, info.given_gender
    elif role == "patronymic":
        classes, dims, gender = info.pat_stems, frozenset(), info.pat_gender
        if not classes and not initial:
            classes = frozenset("~" + c for c in info.coarses)
    else:
        classes, dims, gender = info.sur_stems, frozenset(), info.sur_gender
    initials = info.initials
    if role == "patronymic" and info.pat_known:
        reg = registry()
        for cid in info.pat_stems:  # Мікалаеўна fits "N." as well as "M."
            initials = initials | reg.initials.get(cid, frozenset())
    if initial:
        classes, dims, gender = frozenset(), frozenset(), ""
    ends = {c[0] + c[-1] for c in info.coarses if len(c) >= TYPO_MIN_FULL}
    for stem in classes:
        core, _, cls = stem.partition("|")
        if len(core) >= TYPO_MIN_STEM:
            ends.add(f"{core[0]}{core[-1]}|{cls}")
    return PartKey(
        text=text,
        initial=initial,
        fines=info.fines,
        coarses=info.coarses,
        initials=initials,
        classes=classes,
        dims=dims,
        fuzzy=info.given_fuzzy if role == "given" else False,
        gender=gender,
        ends=frozenset(ends),
        coarse_set=frozenset(info.coarses),
    )


@lru_cache(maxsize=200_000)
def _parts(tokens: tuple[str, ...], role: str, initial: bool) -> tuple[PartKey, ...]:
    # Cached: names share their given names, patronymics and surnames (and the batch
    # scorer recognises a shared tuple at once).
    out = []
    for token in tokens:
        for piece in token.split("-"):
            if piece:
                out.append(_part(piece, role, initial))
    return tuple(out)


def _gender(given: tuple[PartKey, ...], pat: PartKey | None, surname: tuple[PartKey, ...]) -> str:
    # A given name recognised only by typo tolerance ("Fedora" read as Fyodor) does not
    # vote: the surname's ending is surer.
    votes = {p.gender for p in given if p.gender and not p.initial and not p.fuzzy}
    if pat is not None and pat.gender:
        votes.add(pat.gender)
    votes |= {p.gender for p in surname if p.gender}
    return votes.pop() if len(votes) == 1 else ""


def _parse_key(parsed: ParsedName, penalty: float) -> ParseKey:
    given = _parts(parsed.given, "given", parsed.given_is_initial)
    pats = (
        _parts((parsed.patronymic,), "patronymic", parsed.patronymic_is_initial)
        if (parsed.patronymic)
        else ()
    )
    pat = pats[0] if pats else None
    surname = _parts(parsed.surname, "surname", False)
    return ParseKey(
        given=given,
        patronymic=pat,
        surname=surname,
        gender=_gender(given, pat, surname),
        order=parsed.order,
        penalty=penalty,
    )


def _blocking(parses: tuple[ParseKey, ...]) -> tuple[str, ...]:
    keys: set[str] = set()
    for pk in parses:
        for part in pk.surname:
            keys |= {"s:" + stem for stem in part.classes}
        if not pk.surname:
            for part in pk.given:
                keys |= {"g:" + c for c in part.classes | part.dims}
    return tuple(sorted(keys))


@lru_cache(maxsize=500_000)
def name_keys(raw: str) -> NameKeys:
    """Keys of a raw name (cached; names that clean to the same text share keys)."""
    return _keys_cleaned(clean(raw))


@lru_cache(maxsize=200_000)
def _keys_cleaned(text: str) -> NameKeys:
    candidates = parse_cleaned(text)
    parses = tuple(_parse_key(p, 0.0 if i == 0 else ALTERNATIVE_PENALTY) for i, p in enumerate(candidates))
    best = parses[0]
    empty = not (best.given or best.patronymic or best.surname)
    return NameKeys(parses=parses, blocking=_blocking(parses), empty=empty)


def search_keys(text: str) -> list[str]:
    """Script-independent keys of the words of a search string.

    "Tsikhanouskaya", "Тихановская" and "Cichanouska" share the key
    "s:tEGAnAvs|SK"; "Sasha" and "Aleksandr" share "g:aleksandr".
    """
    keys: set[str] = set()
    for word in text.replace(",", " ").split():
        token = name_keys(word).parses[0]
        for part in (*token.surname, *token.given):
            info = analyse(part.text)
            keys |= {"s:" + stem for stem in info.sur_stems}
            keys |= {"g:" + c for c in info.given_full | info.given_dim}
    return sorted(keys)
