"""Batch scoring: many pairs of raw names, each distinct name keyed once.

`PairScorer` gives exactly the scores of `compare` (the same functions on the same
keys, the same floating-point operations in the same order), only cheaper per pair:

- each distinct raw name gets a number, and each distinct unordered pair of numbers is
  scored once (the score is symmetric);
- a name with one reading (nearly all) is reduced to four small numbers: which surname
  parts, which given-name parts, which patronymic, which gender. The parts of a name
  come from a cache shared by every name they occur in, so there are few distinct ones
  (a million pairs over 50,000 names have about 3,500 distinct surnames, 1,000 given
  names, 800 patronymics), and the similarity of two surnames, two given names or two
  patronymics is computed once per distinct pair of them and remembered;
- the score is then a function of those three similarities and whether the genders
  conflict, also computed once per distinct combination.

A name with two readings of its order, or an empty one, takes the general path
(`_best`), as `compare_keys` does.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterable, Sequence
from itertools import starmap
from typing import Any

from svidok.names.compare import (
    CAP_GENDER_MISMATCH,
    CAP_GIVEN_MISMATCH,
    CAP_PATRONYMIC_MISMATCH,
    CAP_SURNAME_MISMATCH,
    NO_SURNAME_AT_ALL,
    NO_SURNAME_ONE_SIDE,
    ONLY_SURNAME,
    THRESHOLD,
    TYPO2,
    W_GIVEN,
    W_PATRONYMIC,
    W_SURNAME,
    _best,
    _given,
    _given_pair,
    _patronymic,
    _surname_part,
    _surnames,
)
from svidok.names.keys import NameKeys, PartKey, name_keys

__all__ = ["PAIR_CACHE_SIZE", "PairScorer", "score_pairs"]

#: Distinct pairs remembered by a `PairScorer` before it forgets them all (bounded memory).
PAIR_CACHE_SIZE = 4_000_000
#: Distinct pairs of surnames, given names or patronymics remembered (each table).
PART_CACHE_SIZE = 2_000_000

Result = tuple[float, bool]


def score_pairs(pairs: Iterable[tuple[str, str]]) -> list[Result]:
    """Scores and decisions for many pairs; each distinct name is analysed once."""
    return PairScorer().score(pairs)


def _combine(
    s_sim: float, s_state: int, g_sim: float | None, p_sim: float | None, gender_clash: bool
) -> Result:
    """`compare._compare_parse` of one reading against one, from its parts' similarities.

    `s_state`: 2 both names have a surname (then `s_sim` is theirs), 1 one of them, 0
    neither; `g_sim`/`p_sim` are None unless both names have that part. The operations
    and their order are those of `_compare_parse` (penalties of first readings are 0).
    """
    total = weight = 0.0
    cap = 1.0
    n_parts = 0
    if s_state == 2:
        total += W_SURNAME * s_sim
        weight += W_SURNAME
        n_parts += 1
        if s_sim < TYPO2:
            cap = CAP_SURNAME_MISMATCH
    else:
        s_sim = -1.0
    if g_sim is not None:
        total += W_GIVEN * g_sim
        weight += W_GIVEN
        n_parts += 1
        if g_sim <= 0.0 and cap > CAP_GIVEN_MISMATCH:
            cap = CAP_GIVEN_MISMATCH
    if p_sim is not None:
        total += W_PATRONYMIC * p_sim
        weight += W_PATRONYMIC
        n_parts += 1
        if p_sim <= 0.0 and cap > CAP_PATRONYMIC_MISMATCH:
            cap = CAP_PATRONYMIC_MISMATCH
    if gender_clash and cap > CAP_GENDER_MISMATCH:
        cap = CAP_GENDER_MISMATCH
    if not weight:
        score = 0.0
    else:
        score = total / weight
        if s_sim < 0.0:
            score *= NO_SURNAME_ONE_SIDE if s_state == 1 else NO_SURNAME_AT_ALL
        elif n_parts == 1:
            score *= ONLY_SURNAME
        score = min(score, cap)  # minus the penalties of two first readings: 0.0
        score = max(0.0, min(1.0, score))
    score = round(score, 4)
    return score, score >= THRESHOLD


class PairScorer:
    """Scores pairs batch after batch, keeping every distinct name's keys between batches.

    Each distinct name gets a number and, with one reading, its parts' numbers. A batch
    is then scored column-wise with numpy: the distinct pairs of surnames, of given
    names and of patronymics among the batch's pairs are found at once, each new one is
    compared once (and remembered for later batches), and each distinct combination of
    the three similarities gives one shared result. Only names with two readings or
    none go pair by pair (`_best`, as `compare_keys`), each distinct pair once.

    The cyclic garbage collector is paused during each batch: keys hold no cycles, and
    with hundreds of thousands of cached objects its passes cost more than the work.
    """

    def __init__(self) -> None:
        self._ids: dict[str, int] = {}  # raw name -> number
        self._by_keys: dict[int, int] = {}  # id(NameKeys) -> number: spellings that clean alike
        self._keys: list[NameKeys] = []
        # Per name number: its parts' numbers (0: no such part), gender, general path.
        self._sur: list[int] = []
        self._giv: list[int] = []
        self._pat: list[int] = []
        self._gen: list[int] = []
        self._general: list[bool] = []
        self._arrays: tuple[Any, ...] | None = None  # the lists above as numpy arrays, so far
        # Interned parts: number -> the parts (kept alive, so the id()s keying them stay unique).
        self._surname_ids: dict[tuple[int, ...], int] = {}
        self._given_ids: dict[tuple[int, ...], int] = {}
        self._patronymic_ids: dict[tuple[int, ...], int] = {}
        self._surname_parts: list[tuple[PartKey, ...]] = [()]
        self._given_parts: list[tuple[PartKey, ...]] = [()]
        self._patronymic_parts: list[tuple[PartKey, ...]] = [()]
        # Similarities of distinct pairs of parts, as codes into `_sim_values`.
        self._sims = (_Memo(PART_CACHE_SIZE), _Memo(PART_CACHE_SIZE), _Memo(PART_CACHE_SIZE))
        self._sim_codes: dict[float, int] = {}
        self._sim_values: list[float] = [-1.0, -1.0]  # codes 0 and 1 are reserved
        self._combined = _Memo(PART_CACHE_SIZE)  # combination -> result code
        self._pairs: dict[int, int] = {}  # general path: pair of names -> result code
        self._result_codes: dict[Result, int] = {}
        self._results: list[Result] = []

    def score(self, pairs: Iterable[tuple[str, str]]) -> list[Result]:
        """(score, same) for each pair, in order."""
        columns = list(zip(*pairs, strict=True))
        if not columns:
            return []
        a, b = columns
        return self.score_columns(a, b)

    def score_columns(self, a: Sequence[str], b: Sequence[str]) -> list[Result]:
        """(score, same) for each pair (a[i], b[i]), in order."""
        if len(a) != len(b):
            raise ValueError("score_columns: columns of different lengths")
        if not a:
            return []
        enabled = gc.isenabled()
        gc.disable()
        try:
            results = self._results
            return list(map(results.__getitem__, self._codes(a, b)))
        finally:
            if enabled:
                gc.enable()

    def score_codes(self, a: Sequence[str], b: Sequence[str]) -> tuple[list[int], Sequence[Result]]:
        """Like `score_columns`, as numbers into a table of the distinct results.

        The table is the scorer's own, only ever appended to, so a caller can render
        each distinct result once and reuse it for every later batch."""
        if len(a) != len(b):
            raise ValueError("score_codes: columns of different lengths")
        if not a:
            return [], self._results
        enabled = gc.isenabled()
        gc.disable()
        try:
            return self._codes(a, b), self._results
        finally:
            if enabled:
                gc.enable()

    # ------------------------------------------------------------------ names

    def _intern(
        self, parts: tuple[PartKey, ...], ids: dict[tuple[int, ...], int], store: list[tuple[PartKey, ...]]
    ) -> int:
        if not parts:
            return 0
        ident = tuple(map(id, parts))
        number = ids.get(ident)
        if number is None:
            number = ids[ident] = len(store)
            store.append(parts)
        return number

    def _number(self, raw: str) -> int:
        keys = name_keys(raw)
        number = self._by_keys.get(id(keys))
        if number is None:
            number = self._by_keys[id(keys)] = len(self._keys)
            self._keys.append(keys)  # kept alive: its id() stays unique
            general = keys.empty or len(keys.parses) != 1
            pk = keys.parses[0]
            pat = () if pk.patronymic is None else (pk.patronymic,)
            self._sur.append(
                0 if general else self._intern(pk.surname, self._surname_ids, self._surname_parts)
            )
            self._giv.append(0 if general else self._intern(pk.given, self._given_ids, self._given_parts))
            self._pat.append(
                0 if general else self._intern(pat, self._patronymic_ids, self._patronymic_parts)
            )
            self._gen.append(_GENDERS.get(pk.gender, 3))
            self._general.append(general)
        self._ids[raw] = number
        return number

    def _numbers(self, column: Sequence[str]) -> Any:
        import numpy as np

        ids = self._ids
        new = set(column).difference(ids)  # in C; sorted below only so numbering is repeatable
        for raw in sorted(new) if new else ():
            self._number(raw)
        return np.fromiter(map(ids.__getitem__, column), dtype=np.int64, count=len(column))

    # ------------------------------------------------------------------ scoring

    def _code(self, result: Result) -> int:
        code = self._result_codes.get(result)
        if code is None:
            code = self._result_codes[result] = len(self._results)
            self._results.append(result)
        return code

    def _sim_code(self, sim: float) -> int:
        code = self._sim_codes.get(sim)
        if code is None:
            code = self._sim_codes[sim] = len(self._sim_values)
            if code >> _CODE_BITS:  # similarities are ratios of lengths of bounded words: never
                raise OverflowError("more distinct similarities than a combination key holds")
            self._sim_values.append(sim)
        return code

    def _part_sims(self, which: int, left: Any, right: Any) -> Any:
        """Similarity codes of the pairs of parts (left[i], right[i]), both non-zero."""
        import numpy as np

        lo = np.minimum(left, right)
        key = lo << 32 | (left ^ right ^ lo)  # (smaller, larger): the similarity is symmetric
        unique, inverse = np.unique(key, return_inverse=True)
        parts = (self._surname_parts, self._given_parts, self._patronymic_parts)[which]
        compare_parts = _PART_COMPARE[which]
        sim_code = self._sim_code

        def compute(keys: list[int]) -> list[int]:
            pairs = [(parts[k >> 32], parts[k & 0xFFFFFFFF]) for k in keys]
            return list(map(sim_code, starmap(compare_parts, pairs)))

        return self._sims[which].get(unique, compute)[inverse]

    def _columns(self) -> tuple[Any, ...]:
        """The per-name lists as numpy arrays, extended by the names added since last time."""
        import numpy as np

        lists: tuple[list[Any], ...] = (self._sur, self._giv, self._pat, self._gen, self._general)
        if self._arrays is None:
            self._arrays = tuple(np.zeros(0, dtype=bool if i == 4 else np.int64) for i in range(5))
        done = len(self._arrays[0])
        if done < len(self._sur):
            self._arrays = tuple(
                np.concatenate((array, np.array(values[done:], dtype=array.dtype)))
                for array, values in zip(self._arrays, lists, strict=True)
            )
        return self._arrays

    def _codes(self, a: Sequence[str], b: Sequence[str]) -> list[int]:
        import numpy as np

        ia, ib = self._numbers(a), self._numbers(b)
        sur, giv, pat, gen, general = self._columns()
        out = np.empty(len(a), dtype=np.int64)
        slow = general[ia] | general[ib]
        if slow.any():
            where = np.flatnonzero(slow)
            out[where] = self._general_codes(ia[where].tolist(), ib[where].tolist())
            fast = np.flatnonzero(~slow)
            ia, ib = ia[fast], ib[fast]
        else:
            fast = None
        if len(ia):
            # Per pair: codes of the surname (0 neither, 1 one side, else the similarity),
            # given-name and patronymic similarities (0: not both), gender clash.
            combo = np.zeros(len(ia), dtype=np.int64)
            for which, table in enumerate((sur, giv, pat)):
                left, right = table[ia], table[ib]
                both = (left != 0) & (right != 0)
                codes = np.zeros(len(ia), dtype=np.int64)
                if which == 0:
                    codes[(left != 0) | (right != 0)] = 1
                if both.any():
                    codes[both] = self._part_sims(which, left[both], right[both])
                combo = combo << _CODE_BITS | codes
            ga, gb = gen[ia], gen[ib]
            clash = (ga != gb) & (ga != 0) & (gb != 0)
            combo = combo << 1 | clash
            unique, inverse = np.unique(combo, return_inverse=True)
            values = self._combined.get(unique, self._combinations)[inverse]
            if fast is None:
                out = values
            else:
                out[fast] = values
        return out.tolist()

    def _combinations(self, keys: list[int]) -> list[int]:
        out = []
        mask = (1 << _CODE_BITS) - 1
        values = self._sim_values
        for key in keys:
            clash = bool(key & 1)
            codes = key >> 1
            p_code, g_code, s_code = codes & mask, (codes >> _CODE_BITS) & mask, codes >> (2 * _CODE_BITS)
            result = _combine(
                values[s_code] if s_code >= 2 else -1.0,
                s_code if s_code < 2 else 2,
                values[g_code] if g_code else None,
                values[p_code] if p_code else None,
                clash,
            )
            out.append(self._code(result))
        return out

    def _general_codes(self, left: list[int], right: list[int]) -> list[int]:
        keys, seen = self._keys, self._pairs
        out = []
        for ia, ib in zip(left, right, strict=True):
            pair = (ia << 32 | ib) if ia <= ib else (ib << 32 | ia)
            code = seen.get(pair)
            if code is None:
                ka, kb = keys[ia], keys[ib]
                if ka.empty or kb.empty:
                    result = (0.0, False)
                else:
                    score = round(_best(ka, kb, False)[0], 4)
                    result = (score, score >= THRESHOLD)
                if len(seen) >= PAIR_CACHE_SIZE:
                    seen.clear()
                code = seen[pair] = self._code(result)
            out.append(code)
        return out


class _Memo:
    """int64 keys -> int64 values, looked up and filled a whole array at a time.

    Sorted numpy arrays instead of a dict: a batch's keys are found by one binary search
    in C, and only the new ones reach Python. Forgets everything past `size` entries."""

    def __init__(self, size: int) -> None:
        import numpy as np

        self._size = size
        self._keys = np.zeros(0, dtype=np.int64)
        self._values = np.zeros(0, dtype=np.int64)

    def get(self, keys: Any, compute: Callable[[list[int]], list[int]]) -> Any:
        """Values of the sorted distinct `keys`; `compute` gives those of keys not seen yet."""
        import numpy as np

        known = self._keys
        pos = np.searchsorted(known, keys)
        if len(known):
            found = known[np.minimum(pos, len(known) - 1)] == keys
        else:
            found = np.zeros(len(keys), dtype=bool)
        values = np.empty(len(keys), dtype=np.int64)
        values[found] = self._values[pos[found]]
        if not found.all():
            new = ~found
            new_keys = keys[new]
            new_values = np.array(compute(new_keys.tolist()), dtype=np.int64)
            values[new] = new_values
            if len(known) + len(new_keys) > self._size:
                self._keys, self._values = new_keys, new_values
            else:
                at = pos[new]
                self._keys = np.insert(known, at, new_keys)
                self._values = np.insert(self._values, at, new_values)
        return values


_GENDERS = {"": 0, "m": 1, "f": 2}
#: Bits of each similarity code in a combination key (3 codes and a bit in an int64).
_CODE_BITS = 20


def _surname_sim(a: tuple[PartKey, ...], b: tuple[PartKey, ...]) -> float:
    # One part each (nearly always): what `_surnames` does then, one call shorter.
    return _surname_part(a[0], b[0])[0] if len(a) == 1 == len(b) else _surnames(a, b)[0]


def _given_sim(a: tuple[PartKey, ...], b: tuple[PartKey, ...]) -> float:
    return _given_pair(a[0], b[0])[0] if len(a) == 1 == len(b) else _given(a, b)[0]


def _patronymic_sim(a: tuple[PartKey, ...], b: tuple[PartKey, ...]) -> float:
    return _patronymic(a[0], b[0])[0]


_PART_COMPARE = (_surname_sim, _given_sim, _patronymic_sim)
