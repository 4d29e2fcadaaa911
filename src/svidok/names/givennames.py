"""The registry of given names: equivalence classes, diminutives, gender.

Built once from `data/given_names.yaml`. Every spelling of a class is indexed by
its fine phonetic skeleton under every reading, so "Aliaksandr", "Oleksandr",
"Александр" and "Aleksander" all land on class `aleksandr`, and "Саша" on the
diminutives of both `aleksandr` and `aleksandra`. Patronymic stems of male
classes ("Серг" of Сергей/Сергій/Сяргей) are indexed by coarse skeleton.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache, lru_cache

from rapidfuzz import process
from rapidfuzz.distance import OSA

from svidok.names._data import load_yaml
from svidok.names.phonetic import coarse, fine
from svidok.names.readings import readings

__all__ = ["GivenClass", "GivenRegistry", "LANG_KEYS", "registry"]

LANG_KEYS = ("ru", "be", "uk", "pl", "other")
_FORM_KEYS = frozenset((*LANG_KEYS, "dim", "g"))


@dataclass(frozen=True, slots=True)
class GivenClass:
    """One given name across languages, e.g. Александр/Аляксандр/Олександр."""

    id: str
    gender: str
    forms: tuple[str, ...]
    diminutives: tuple[str, ...]


def _fines(form: str) -> list[str]:
    """Distinct fine skeletons of a spelling, its primary reading first."""
    out: list[str] = []
    for phon in readings(form.lower()):
        skel = fine(phon)
        if skel not in out:
            out.append(skel)
    return out


def strip_final_vowel(skel: str) -> str:
    """A coarse skeleton without its final vowel: the patronymic stem of a name."""
    return skel[:-1] if len(skel) > 2 and skel[-1] in "AEIUY" else skel


class GivenRegistry:
    """Lookups from skeletons to given-name classes."""

    def __init__(self, data: dict[str, dict[str, str]]) -> None:
        self.classes: dict[str, GivenClass] = {}
        self.full: dict[str, set[str]] = {}
        self.dim: dict[str, set[str]] = {}
        # Secondary readings of Latin spellings ("Eugene" read as Belarusian) are
        # only consulted for Latin input, so they never capture a Cyrillic form.
        self.full_alt: dict[str, set[str]] = {}
        self.dim_alt: dict[str, set[str]] = {}
        self.patronymic: dict[str, set[str]] = {}
        self.initials: dict[str, frozenset[str]] = {}
        for cid, spec in data.items():
            unknown = set(spec) - _FORM_KEYS
            if unknown or spec.get("g") not in ("m", "f"):
                raise ValueError(f"given_names.yaml: class {cid}: bad keys or gender")
            forms = tuple(w for key in LANG_KEYS for w in str(spec.get(key, "")).split())
            dims = tuple(str(spec.get("dim", "")).split())
            cls = GivenClass(cid, spec["g"], forms, dims)
            self.classes[cid] = cls
            firsts: set[str] = set()
            for form in forms:
                for rank, skel in enumerate(_fines(form)):
                    index = self.full if rank == 0 else self.full_alt
                    index.setdefault(skel, set()).add(cid)
                    if rank == 0:
                        firsts.add(skel[:1])
                    if cls.gender == "m" and rank == 0:
                        stem = strip_final_vowel(coarse(skel))
                        self.patronymic.setdefault(stem, set()).add(cid)
            for form in dims:
                for rank, skel in enumerate(_fines(form)):
                    index = self.dim if rank == 0 else self.dim_alt
                    index.setdefault(skel, set()).add(cid)
            self.initials[cid] = frozenset(firsts)
        self._full_keys = list(self.full)

    def gender(self, cid: str) -> str:
        return self.classes[cid].gender

    @lru_cache(maxsize=100_000)  # noqa: B019 - the registry lives for the process
    def lookup(self, fines: tuple[str, ...], latin: bool) -> tuple[frozenset[str], frozenset[str], bool]:
        """(full classes, diminutive classes, found only by typo tolerance).

        `fines` are the token's skeletons in reading order; the first reading that
        names any class wins, so "Eugene" read as English is not also read as
        Belarusian "Евгения".
        """
        for skel in fines:
            full = set(self.full.get(skel, ()))
            dim = set(self.dim.get(skel, ()))
            if latin:
                full |= self.full_alt.get(skel, set())
                dim |= self.dim_alt.get(skel, set())
            if full:
                return frozenset(full), frozenset(), False
            if dim:
                return frozenset(), frozenset(dim), False
        found: set[str] = set()
        for skel in fines:
            if len(skel) < 5:
                continue
            for key, dist, _ in process.extract(
                skel, self._full_keys, scorer=OSA.distance, score_cutoff=1, limit=3
            ):
                if dist <= 1 and len(key) >= 5:
                    found |= self.full[key]
            if found:
                break
        return frozenset(found), frozenset(), bool(found)

    def patronymic_classes(self, stem: str) -> frozenset[str]:
        """Male classes whose patronymic stem is this coarse skeleton."""
        return frozenset(self.patronymic.get(strip_final_vowel(stem), ()))


@cache
def registry() -> GivenRegistry:
    """The process-wide given-name registry (loaded on first use)."""
    return GivenRegistry(load_yaml("given_names.yaml"))
