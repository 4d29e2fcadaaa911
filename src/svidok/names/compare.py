"""Comparing two names: a score in [0, 1], a decision, and the reasons.

The score combines three parts, each compared only when both names have it:
surname (weight 0.50), given name (0.35) and patronymic (0.15). Strong evidence
against caps the score whatever the rest says: different known given names,
different patronymics, different genders (Kovalev / Kovaleva), a surname that is
not a variant or a plausible typo. A name reduced to one part is worth a little
less than a full match. `same` is `score >= THRESHOLD`, calibrated on the
development set (bench/data/names_dev.jsonl).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rapidfuzz.distance import OSA, Levenshtein

from svidok.names.keys import TYPO_MIN_FULL, TYPO_MIN_STEM, NameKeys, ParseKey, PartKey, name_keys

__all__ = [
    "ENGINE_VERSION",
    "THRESHOLD",
    "Comparison",
    "compare",
    "compare_keys",
]

ENGINE_VERSION = "names-v1"
THRESHOLD = 0.75

W_SURNAME, W_GIVEN, W_PATRONYMIC = 0.50, 0.35, 0.15
CAP_GIVEN_MISMATCH = 0.30
CAP_PATRONYMIC_MISMATCH = 0.40
CAP_GENDER_MISMATCH = 0.30
CAP_SURNAME_MISMATCH = 0.55
ONLY_SURNAME = 0.90  # "Kowaljow" against "Aleksandr Kovalev"
NO_SURNAME_ONE_SIDE = 0.72  # "Анна Петровна" against "Анна Петровна Иванова"
NO_SURNAME_AT_ALL = 0.90  # "Саша" against "Александр"
TYPO = 0.88
TYPO2 = 0.80


@dataclass(frozen=True, slots=True)
class Comparison:
    """The engine's verdict on two names."""

    score: float
    same: bool
    explanation: list[str] = field(default_factory=list)
    version: str = ENGINE_VERSION


def _typo_sim(a: str, b: str) -> float:
    """TYPO or TYPO2 when two different skeletons look like one with a typo, else 0."""
    # Typos rarely hit the first letter, and a changed last letter is an ending.
    if a[0] != b[0] or a[-1] != b[-1] or a.startswith(b) or b.startswith(a):
        return 0.0
    dist = OSA.distance(a, b, score_cutoff=2)
    if dist == 1:
        return TYPO
    if dist == 2 and min(len(a), len(b)) >= 12:
        return TYPO2
    return 0.0


def _transposed(a: str, b: str) -> bool:
    """Two spellings in one script that differ by two neighbouring letters swapped.

    A swap keeps every letter, so unlike a changed letter it rarely turns one real
    surname into another, even at the ending (Кузнецво, Гаврилвоа).
    """
    return (
        len(a) == len(b) >= 6
        and a[0] == b[0]
        and a != b
        and OSA.distance(a, b, score_cutoff=1) == 1
        and sorted(a) == sorted(b)
    )


def _surname_part(a: PartKey, b: PartKey) -> tuple[float, str]:
    # isdisjoint: a yes/no without building the intersection, on the hottest path
    if not a.classes.isdisjoint(b.classes) or not a.coarse_set.isdisjoint(b.coarse_set):
        return 1.0, "same"
    best = 0.0
    if not a.ends.isdisjoint(b.ends):
        for ca in a.coarses:
            for cb in b.coarses:
                if len(ca) >= TYPO_MIN_FULL and len(cb) >= TYPO_MIN_FULL:
                    best = max(best, _typo_sim(ca, cb))
        for sa in a.classes:
            stem_a, _, cls_a = sa.partition("|")
            for sb in b.classes:
                stem_b, _, cls_b = sb.partition("|")
                if cls_a == cls_b and min(len(stem_a), len(stem_b)) >= TYPO_MIN_STEM:
                    best = max(best, _typo_sim(stem_a, stem_b))
    if best:
        return best, "typo"
    if len(a.text) == len(b.text) and _transposed(a.text, b.text):
        return TYPO, "typo"
    if not a.coarses or not b.coarses:
        return 0.0, "different"
    sim = Levenshtein.normalized_similarity(a.coarses[0], b.coarses[0])
    return (sim if sim < 0.7 else 0.7), "different"


def _cover(short: tuple[PartKey, ...], long_: tuple[PartKey, ...]) -> tuple[float, list[str]]:
    """How well every part of `short` is found among the parts of `long_`."""
    sims: list[float] = []
    kinds: list[str] = []
    for part in short:
        sim, kind = max(_surname_part(part, other) for other in long_)
        sims.append(sim)
        kinds.append(kind)
    return min(sims), kinds


def _surnames(sa: tuple[PartKey, ...], sb: tuple[PartKey, ...]) -> tuple[float, str]:
    if len(sa) == 1 and len(sb) == 1:
        return _surname_part(sa[0], sb[0])
    if len(sa) != len(sb):
        short, long_ = (sa, sb) if len(sa) < len(sb) else (sb, sa)
        sim = _cover(short, long_)[0] * 0.93
        return sim, "part of a double surname" if sim >= TYPO2 else "different"
    sim_a, kinds_a = _cover(sa, sb)
    sim_b, kinds_b = _cover(sb, sa)
    kinds = kinds_a + kinds_b
    return min(sim_a, sim_b), "same" if all(k == "same" for k in kinds) else max(kinds)


def _given_pair(a: PartKey, b: PartKey) -> tuple[float, str]:
    if a.initial or b.initial:
        if not a.initials.isdisjoint(b.initials):
            return (0.8, "initials agree") if a.initial and b.initial else (0.8, "initial fits")
        return 0.0, "initial differs"
    if not a.classes.isdisjoint(b.classes):
        return (0.9, "same name, with a typo") if a.fuzzy or b.fuzzy else (1.0, "same name")
    if not a.classes.isdisjoint(b.dims) or not a.dims.isdisjoint(b.classes):
        return 0.93, "diminutive"
    if not a.dims.isdisjoint(b.dims):
        return 0.9, "same diminutive"
    if (a.classes or a.dims) and (b.classes or b.dims) and not (a.fuzzy or b.fuzzy):
        return 0.0, "different names"
    best = 0.0
    for fa in a.fines:
        for fb in b.fines:
            if fa == fb:
                return 1.0, "same spelling"
            if min(len(fa), len(fb)) >= 6:
                best = max(best, _typo_sim(fa, fb))
    return (best, "similar spelling") if best >= TYPO2 else (0.0, "different names")


def _given(ga: tuple[PartKey, ...], gb: tuple[PartKey, ...]) -> tuple[float, str]:
    if len(ga) == 1 and len(gb) == 1:
        return _given_pair(ga[0], gb[0])
    best = (-1.0, "")
    for a in ga:
        for b in gb:
            best = max(best, _given_pair(a, b))
    return best


def _patronymic(a: PartKey, b: PartKey) -> tuple[float, str]:
    if a.initial or b.initial:
        return (0.85, "initial fits") if not a.initials.isdisjoint(b.initials) else (0.0, "initial differs")
    if not a.classes.isdisjoint(b.classes):
        return 1.0, "same father's name"
    known_a = any(not c.startswith("~") for c in a.classes)
    known_b = any(not c.startswith("~") for c in b.classes)
    if known_a and known_b:
        return 0.0, "different father's names"
    best = 0.0
    for ca in a.coarses:
        for cb in b.coarses:
            if ca == cb:
                return 1.0, "same spelling"
            if min(len(ca), len(cb)) >= 6:
                best = max(best, _typo_sim(ca, cb))
    return (best, "similar spelling") if best >= TYPO2 else (0.0, "different father's names")


Reason = tuple[str, float, str]  # (part, similarity, how)


_UNUSED_REASONS: list[Reason] = []
_UNUSED_AGAINST: list[str] = []


def _compare_parse(a: ParseKey, b: ParseKey, explain: bool = True) -> tuple[float, list[Reason], list[str]]:
    """Score of two readings; the reasons are only gathered when `explain` (batch scoring skips them)."""
    total = weight = 0.0
    # Without `explain` nothing is appended: one shared empty list spares two allocations.
    reasons: list[Reason] = [] if explain else _UNUSED_REASONS
    against: list[str] = [] if explain else _UNUSED_AGAINST
    cap = 1.0
    s_sim = -1.0
    n_parts = 0
    if a.surname and b.surname:
        s_sim, how = _surnames(a.surname, b.surname)
        total += W_SURNAME * s_sim
        weight += W_SURNAME
        n_parts += 1
        if explain:
            reasons.append(("surname", s_sim, how))
        if s_sim < TYPO2:
            cap = CAP_SURNAME_MISMATCH
            if explain:
                against.append("surnames differ")
    if a.given and b.given:
        g_sim, how = _given(a.given, b.given)
        total += W_GIVEN * g_sim
        weight += W_GIVEN
        n_parts += 1
        if explain:
            reasons.append(("given name", g_sim, how))
        if g_sim <= 0.0:
            if cap > CAP_GIVEN_MISMATCH:
                cap = CAP_GIVEN_MISMATCH
            if explain:
                against.append("given names differ")
    if a.patronymic is not None and b.patronymic is not None:
        p_sim, how = _patronymic(a.patronymic, b.patronymic)
        total += W_PATRONYMIC * p_sim
        weight += W_PATRONYMIC
        n_parts += 1
        if explain:
            reasons.append(("patronymic", p_sim, how))
        if p_sim <= 0.0:
            if cap > CAP_PATRONYMIC_MISMATCH:
                cap = CAP_PATRONYMIC_MISMATCH
            if explain:
                against.append("patronymics differ")
    if a.gender and b.gender and a.gender != b.gender:
        if cap > CAP_GENDER_MISMATCH:
            cap = CAP_GENDER_MISMATCH
        if explain:
            against.append(f"gender differs ({a.gender} / {b.gender})")
    if not weight:
        return 0.0, reasons, ["nothing comparable"]
    score = total / weight
    if s_sim < 0.0:
        if a.surname or b.surname:
            score *= NO_SURNAME_ONE_SIDE
            if explain:
                against.append("surname missing on one side")
        else:
            score *= NO_SURNAME_AT_ALL
    elif n_parts == 1:
        score *= ONLY_SURNAME
        if explain:
            against.append("only the surname could be compared")
    score = min(score, cap) - a.penalty - b.penalty
    return max(0.0, min(1.0, score)), reasons, against


def _best(
    ka: NameKeys, kb: NameKeys, explain: bool = True
) -> tuple[float, list[Reason], list[str], ParseKey, ParseKey]:
    best: tuple[float, list[Reason], list[str], ParseKey, ParseKey] | None = None
    for pa in ka.parses:
        for pb in kb.parses:
            score, reasons, against = _compare_parse(pa, pb, explain)
            if best is None or score > best[0]:
                best = (score, reasons, against, pa, pb)
    assert best is not None  # nosec B101 # type narrowing: every key has at least one parse
    return best


def _render(part: str, sim: float, how: str, pa: ParseKey, pb: ParseKey) -> str:
    def texts(pk: ParseKey) -> str:
        if part == "surname":
            return "-".join(p.text for p in pk.surname)
        if part == "given name":
            return " ".join(p.text + ("." if p.initial else "") for p in pk.given)
        pat = pk.patronymic
        return "" if pat is None else pat.text + ("." if pat.initial else "")

    return f"{part}: {texts(pa)!r} ~ {texts(pb)!r}: {how} ({sim:.2f})"


def compare_keys(ka: NameKeys, kb: NameKeys) -> Comparison:
    """Compare two precomputed names, with an explanation."""
    if ka.empty or kb.empty:
        return Comparison(0.0, False, ["nothing to compare: a name is empty"])
    score, reasons, against, pa, pb = _best(ka, kb)
    score = round(score, 4)
    same = score >= THRESHOLD
    lines = [f"read A as: {pa.order}", f"read B as: {pb.order}"]
    lines += [_render(part, sim, how, pa, pb) for part, sim, how in reasons]
    lines += [f"against: {item}" for item in against]
    lines.append(
        f"score {score:.2f} {'>=' if same else '<'} threshold {THRESHOLD:.2f}: "
        f"{'same person' if same else 'different persons'} ({ENGINE_VERSION})"
    )
    return Comparison(score, same, lines)


def compare(a: str, b: str) -> Comparison:
    """Compare two raw names."""
    return compare_keys(name_keys(a), name_keys(b))


def fast_score(ka: NameKeys, kb: NameKeys) -> float:
    """The score of `compare_keys` without building the explanation."""
    if ka.empty or kb.empty:
        return 0.0
    if len(ka.parses) == 1 and len(kb.parses) == 1:
        return round(_compare_parse(ka.parses[0], kb.parses[0], False)[0], 4)
    return round(_best(ka, kb, False)[0], 4)


def __getattr__(name: str) -> Any:
    """`PairScorer` and `score_pairs` live in `svidok.names.batch` (which imports this module)."""
    if name in ("PairScorer", "score_pairs", "PAIR_CACHE_SIZE"):
        from svidok.names import batch

        return getattr(batch, name)
    raise AttributeError(name)
