"""Mentions → persons: blocking on name keys, Fellegi–Sunter scoring, constrained clustering.

1. **Blocking**: every record gets keys from the name engine's parses: surname
   stem × given-name class or initial, given name × patronymic (for surname
   typos), the surname alone (met only by records without a given name). Records sharing a key are
   candidate pairs (a self-join in DuckDB); oversized blocks are skipped (or, with
   `window`, paired by sorted neighbourhood).
2. **Scoring**: each pair gets comparison levels for name (the name engine's
   score, banded), birth year, sex, unit, rank, badge number and side (officer
   or civilian). m is trained by EM on the candidate pairs, u is measured on
   random pairs, so the weights fit this register rather than a guess.
3. **Bands**: probability ≥ `auto_threshold` links automatically; between the
   two thresholds the link waits in the review queue; below, nothing.
4. **Clustering**: auto links are applied strongest first, never joining two
   existing persons, never putting a mention with a person a reviewer rejected
   for it; confirmed links pin their mentions. Each cluster is one person:
   the existing person in it, or a new one.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from svidok.linking import fellegi_sunter as fs
from svidok.linking.frames import duck
from svidok.linking.records import LinkRecords
from svidok.names import PairScorer
from svidok.names.compare import fast_score
from svidok.names.keys import NameKeys, name_keys

FEATURES = (
    fs.Feature("name", ("different", "weakly similar", "similar", "equivalent")),
    fs.Feature("birth_year", ("more than a year apart", "one year apart", "same")),
    fs.Feature("sex", ("different", "same")),
    fs.Feature("unit", ("different", "same")),
    fs.Feature("rank", ("different", "same")),
    fs.Feature("badge", ("different", "same")),
    fs.Feature("side", ("officer vs civilian", "same side")),
    fs.Feature("incident", ("different incidents", "same incident")),
)


@dataclass(frozen=True)
class PersonLinkSettings:
    """Everything that decides a run's result; stored with the run."""

    auto_threshold: float = 0.95
    review_threshold: float = 0.60
    name_levels: tuple[float, float, float] = (0.50, 0.75, 0.90)
    max_block: int = 400
    #: in a block larger than `max_block`, each record meets this many neighbours (sorted by
    #: name); 0 skips such a block (on the demo the neighbours cost precision, see docs/linking.md)
    window: int = 0
    #: candidates each record keeps, those sharing its rarest keys first (0: all)
    max_candidates: int = 0
    conflict_below: float = 0.60
    #: a partial name ("Петров И.", "Иван Петров") whose auto links reach two persons with
    #: conflicting names within this many bits of each other is left to review
    ambiguity_margin: float = 4.0
    #: leave such partial names to review instead of guessing (precision over recall)
    defer_ambiguous: bool = False
    u_sample_pairs: int = 30_000
    prior: float = 0.001
    em_iterations: int = 40
    seed: int = 20200809
    method: str = "persons-fs-v1"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class PairScores:
    left: npt.NDArray[np.int64]
    right: npt.NDArray[np.int64]
    gammas: npt.NDArray[np.int8]
    probability: npt.NDArray[np.float64]
    #: log2 odds; probabilities of strong pairs all round to 1.0, weights still rank them
    weight: npt.NDArray[np.float64] | None = None


@dataclass
class PersonLinkResult:
    """What a run decided, before it is written."""

    model: fs.Model
    pairs: PairScores
    cluster_of: npt.NDArray[np.int64]
    person_of_cluster: dict[int, str]
    new_persons: dict[str, list[int]]
    stats: dict[str, int] = field(default_factory=dict)
    keys_of: list[set[str]] = field(default_factory=list)
    #: records left out of automatic merging because two persons fit them (see `_ambiguous`)
    ambiguous: set[int] = field(default_factory=set)


class _NameCache:
    """Each distinct name's keys once, and each distinct pair of keys scored once.

    Spellings that clean to the same text share one `NameKeys` (the name engine
    caches by cleaned text), so they get one number (`kid`) here, and a pair of
    records is scored through its pair of numbers: a batch of candidate pairs costs
    one name-engine call per distinct pair of keys, not per pair of records.
    """

    def __init__(self) -> None:
        self._slips: dict[tuple[int, int], bool] = {}
        self.keys: dict[str, NameKeys] = {}
        self._kid_of_raw: dict[str, int] = {}
        self._kid_of_obj: dict[int, int] = {}
        #: the keys of every number, kept alive so that their id() stays unique
        self.by_kid: list[NameKeys] = []
        self._raw_of_kid: list[str] = []
        #: the name engine's batch scorer: parts of names compared once per distinct pair of parts
        self.scorer = PairScorer()
        self.pairs: dict[int, float] = {}
        #: the distinct pairs of the largest batch scored so far (sorted codes), for single look-ups
        self._codes: npt.NDArray[np.int64] = np.zeros(0, dtype=np.int64)
        self._scores: npt.NDArray[np.float64] = np.zeros(0)

    def key(self, raw: str) -> NameKeys:
        found = self.keys.get(raw)
        if found is None:
            found = self.keys[raw] = name_keys(raw[:300])
        return found

    def kid(self, raw: str) -> int:
        number = self._kid_of_raw.get(raw)
        if number is None:
            keys = self.key(raw)
            number = self._kid_of_obj.get(id(keys))
            if number is None:
                number = self._kid_of_obj[id(keys)] = len(self.by_kid)
                self.by_kid.append(keys)
                self._raw_of_kid.append(raw[:300])
            self._kid_of_raw[raw] = number
        return number

    def full_given(self, raw: str) -> bool:
        """The name's best reading has a given name written out, not an initial."""
        parse = self.key(raw).parses[0]
        return bool(parse.given) and not parse.given[0].initial

    def slip_only(self, a: str, b: str) -> bool:
        """Whether two names differ only by a slip of the pen (see `slip_compatible`)."""
        code = self.kid(a), self.kid(b)
        found = self._slips.get(code)
        if found is None:
            found = self._slips[code] = slip_compatible(self.key(a), self.key(b))
        return found

    def kid_score(self, a: int, b: int) -> float:
        code = (a << 32 | b) if a <= b else (b << 32 | a)
        value = self.pairs.get(code)
        if value is None:
            at = int(np.searchsorted(self._codes, code)) if len(self._codes) else 0
            if at < len(self._codes) and self._codes[at] == code:
                value = float(self._scores[at])
            else:
                value = fast_score(self.by_kid[a], self.by_kid[b])
            self.pairs[code] = value
        return value

    def score(self, names_a: tuple[str, ...], names_b: tuple[str, ...]) -> float:
        best = 0.0
        for a in names_a:
            for b in names_b:
                best = max(best, self.kid_score(self.kid(a), self.kid(b)))
        return best

    def score_codes(self, codes: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
        """Scores of distinct (low << 32 | high) pairs of key numbers, one name-engine call each."""
        reps = self._raw_of_kid
        mask = (1 << 32) - 1
        left = [reps[c >> 32] for c in codes.tolist()]
        right = [reps[c & mask] for c in codes.tolist()]
        scores = np.fromiter((r[0] for r in self.scorer.score_columns(left, right)), np.float64, len(codes))
        if len(codes) > len(self._codes):  # the candidate pairs: clustering asks about them again
            self._codes, self._scores = codes, scores
        return scores


@dataclass
class _NameColumns:
    """Every record's key numbers, flat (`flat[start[i]:start[i] + count[i]]` are record i's)."""

    start: npt.NDArray[np.int64]
    count: npt.NDArray[np.int64]
    flat: npt.NDArray[np.int64]


def _name_columns(records: LinkRecords, cache: _NameCache) -> _NameColumns:
    kid = cache.kid
    count = np.fromiter((len(names) for names in records.names), dtype=np.int64, count=len(records))
    flat = np.fromiter((kid(raw) for names in records.names for raw in names), dtype=np.int64)
    start = np.cumsum(count) - count
    return _NameColumns(start, count, flat)


def name_scores(
    columns: _NameColumns, cache: _NameCache, left: npt.NDArray[np.int64], right: npt.NDArray[np.int64]
) -> npt.NDArray[np.float64]:
    """The best name score of each pair of records over their names (one engine call per distinct pair)."""
    n = len(left)
    if n == 0:
        return np.zeros(0)
    cl, cr = columns.count[left], columns.count[right]
    per_pair = cl * cr
    pair_of = np.repeat(np.arange(n), per_pair)
    offset = np.arange(int(per_pair.sum())) - np.repeat(np.cumsum(per_pair) - per_pair, per_pair)
    ka = columns.flat[columns.start[left][pair_of] + offset // cr[pair_of]]
    kb = columns.flat[columns.start[right][pair_of] + offset % cr[pair_of]]
    codes = np.minimum(ka, kb) << 32 | np.maximum(ka, kb)
    distinct, inverse = np.unique(codes, return_inverse=True)
    scores = cache.score_codes(distinct)[inverse.reshape(-1)]
    if len(scores) == n:  # one name on each side of every pair
        return scores
    return np.maximum.reduceat(scores, np.cumsum(per_pair) - per_pair)


def _bones(part: Any) -> set[str]:
    """The consonants of a name part's skeletons: what a slip of the pen rarely changes all of."""
    return {"".join(c for c in skeleton if c not in "AEIUYJ") for skeleton in part.coarses}


def _within_one(left: set[str], right: set[str], shortest: int = 4) -> bool:
    """Some spelling on each side is the same, or one letter apart (dropped, added or changed)."""
    for x in left:
        for y in right:
            if x == y:
                return True
            if min(len(x), len(y)) < shortest or abs(len(x) - len(y)) > 1:
                continue
            drops_x = {x[:i] + x[i + 1 :] for i in range(len(x))}
            drops_y = {y[:i] + y[i + 1 :] for i in range(len(y))}
            if y in drops_x or x in drops_y or drops_x & drops_y:
                return True
    return False


def slip_compatible(a: NameKeys, b: NameKeys) -> bool:
    """Two full names that agree but for a slip in the surname or patronymic.

    "Климвоич Софья Денисовна" and "Соф'я Клімовіч", "Олена Андаіївна Ткачук" and
    "Елена Андреевна Ткачук": the given names and the gender agree, and the surname
    (and the patronymic, where both give one) keep their consonants but for one. The
    name engine scores such a pair low, but it is no evidence of two people, so it
    does not stop two clusters from joining (`_conflicting`); it never makes a link.
    """
    pa, pb = a.parses[0], b.parses[0]
    if not (pa.surname and pb.surname and pa.given and pb.given):
        return False
    ga, gb = pa.given[0], pb.given[0]
    if ga.initial or gb.initial or not (ga.classes | ga.dims) & (gb.classes | gb.dims):
        return False
    if pa.gender and pb.gender and pa.gender != pb.gender:
        return False
    if not _within_one(_bones(pa.surname[0]), _bones(pb.surname[0])):
        return False
    pat_a, pat_b = pa.patronymic, pb.patronymic
    if pat_a is None or pat_b is None or pat_a.initial or pat_b.initial or pat_a.classes & pat_b.classes:
        return True
    return _within_one(_bones(pat_a), _bones(pat_b))


def blocking_keys(keys: NameKeys, unit: str | None, incident: str | None = None) -> set[str]:
    """Keys under which a record meets its candidates.

    Besides name keys, a surname meets the same surname in the same incident:
    a testimony that only says "Козлова" about the evening another source
    describes with "Оксана Артёмовна Козлова".
    """
    out: set[str] = set()
    for parse in keys.parses:
        surnames = {s for part in parse.surname for s in part.classes}
        givens: set[str] = set()
        for part in parse.given[:1]:
            givens |= {"g" + c for c in part.classes | part.dims}
            givens |= {"i" + i for i in part.initials}
        patronymics = set()
        if parse.patronymic is not None:
            patronymics = {"p" + c for c in parse.patronymic.classes} or {
                "pi" + i for i in parse.patronymic.initials
            }
        if incident:
            out |= {f"{s}|n{incident}" for s in surnames}
            # "Даша", "Воля": a given name alone meets the full names of its incident
            out |= {f"{g}|n{incident}" for g in givens if g.startswith("g")}
        for s in surnames:
            # every surname meets the bare surnames ("Козлова"), paired only with records
            # that have no given name written out (see `candidate_pairs`)
            out.add(f"{s}|b")
            if givens:
                out |= {f"{s}|{g}" for g in givens}
            elif unit:
                out.add(f"{s}|u{unit}")
        for g in givens:
            if g.startswith("g"):
                out |= {f"{g}|{p}" for p in patronymics}
    return out


def record_keys(records: LinkRecords, cache: _NameCache) -> list[set[str]]:
    """The blocking keys of every record (all its names)."""
    out = []
    for index, names in enumerate(records.names):
        keys: set[str] = set()
        for raw in names:
            keys |= blocking_keys(cache.key(raw), records.unit[index], records.incident[index])
        out.append(keys)
    return out


def candidate_pairs(
    records: LinkRecords,
    keys_of: list[set[str]],
    max_block: int,
    initial_only: list[bool],
    order: list[str] | None = None,
    window: int = 0,
    cap: int = 0,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], int]:
    """Pairs of record indices sharing a blocking key, without person–person pairs.

    A key built on a given-name initial ("Kovalev A.") or on the surname alone
    (`|b`, which brings a bare "Kovalev" to every Kovalev) only pairs records
    where at least one side has no written-out given name: two full names are
    already paired by their given-name class, and every Aleksandr, Aleksei and
    Anna Kovalev meeting each other on "A" would multiply the pairs for nothing.

    A key shared by more than `max_block` records is not paired all with all (its
    pairs grow with the square of its size). With `window` 0 (the default) it is
    skipped; otherwise its records are sorted by `order` (see `_sort_keys`) and each
    meets the `window` records after it (a sorted neighbourhood), so the pairs grow
    linearly. On the demo the neighbourhood lowers F1 (the oversized blocks are
    namesakes' partial names, which chain different people together; see
    docs/linking.md), so it is off. The third value is the number of oversized keys.
    """
    key_ids: dict[str, int] = {}
    rec_col: list[int] = []
    key_col: list[int] = []
    weak_col: list[bool] = []
    for index, keys in enumerate(keys_of):
        for key in keys:
            rec_col.append(index)
            key_col.append(key_ids.setdefault(key, len(key_ids)))
            weak_col.append("|i" in key or key.endswith("|b"))
    con = duck()
    con.execute("SET preserve_insertion_order = false")
    con.register(
        "k",
        {
            "rec": np.asarray(rec_col, dtype=np.int64),
            "key": np.asarray(key_col, dtype=np.int64),
            "weak": np.asarray(weak_col, dtype=bool),
        },
    )
    con.register(
        "p",
        {
            "rec": np.arange(len(records), dtype=np.int64),
            "person": np.asarray(records.is_person, dtype=bool),
            "initial_only": np.asarray(initial_only, dtype=bool),
            "ord": np.asarray(order if order is not None else [""] * len(records), dtype=object),
        },
    )
    oversized = con.execute(
        "SELECT count(*) FROM (SELECT key FROM k GROUP BY key HAVING count(*) > ?)", [max_block]
    ).fetchone()
    neighbours = """
               UNION ALL
               SELECT least(a.rec, b.rec), greatest(a.rec, b.rec), a.person, b.person, a.weak,
                      a.initial_only, b.initial_only, a.n
               FROM kk a JOIN kk b ON a.key = b.key AND b.pos > a.pos AND b.pos <= a.pos + $window
               WHERE a.big"""
    position = "row_number() OVER (PARTITION BY k.key ORDER BY p.ord, k.rec)" if window > 0 else "0"
    plain = """
        SELECT DISTINCT l, r FROM joined
        WHERE NOT (ap AND bp) AND (NOT w OR ai OR bi)
        ORDER BY l, r"""
    # Each record keeps its `cap` best candidates, best = sharing the rarest keys (Σ 1/block
    # size over the keys a pair shares); a pair stays when either side keeps it.
    capped = """,
             shared AS (
               SELECT l, r, sum(1.0 / n) AS strength FROM joined
               WHERE NOT (ap AND bp) AND (NOT w OR ai OR bi) GROUP BY l, r
             ),
             kept AS (
               SELECT l, r FROM shared
               QUALIFY row_number() OVER (PARTITION BY l ORDER BY strength DESC, r) <= $cap
               UNION
               SELECT l, r FROM shared
               QUALIFY row_number() OVER (PARTITION BY r ORDER BY strength DESC, l) <= $cap
             )
        SELECT l, r FROM kept ORDER BY l, r"""
    found = con.execute(
        f"""
        WITH size AS (SELECT key, count(*) AS n FROM k GROUP BY key),
             kk AS (SELECT k.rec, k.key, k.weak, p.person, p.initial_only, s.n, s.n > $max AS big,
                           {position} AS pos
                    FROM k JOIN size s USING (key) JOIN p USING (rec)),
             joined AS (
               SELECT a.rec AS l, b.rec AS r, a.person AS ap, b.person AS bp, a.weak AS w,
                      a.initial_only AS ai, b.initial_only AS bi, a.n
               FROM kk a JOIN kk b ON a.key = b.key AND a.rec < b.rec
               WHERE NOT a.big{neighbours if window > 0 else ""}
             )
        {capped if cap > 0 else plain}
        """,  # nosec B608 # constant SQL fragments chosen above; values are bound as $names
        {"max": max_block, **({"window": window} if window > 0 else {}), **({"cap": cap} if cap > 0 else {})},
    ).fetchnumpy()
    con.close()
    return found["l"].astype(np.int64), found["r"].astype(np.int64), int(oversized[0] if oversized else 0)


def _sort_keys(records: LinkRecords, cache: _NameCache) -> list[str]:
    """Within an oversized block, what brings likely matches next to each other.

    The block's key already fixes the surname and the given name (or the given
    name and patronymic), so the sort goes by patronymic, then given name, then
    surname classes, then birth year: the same full name sits together, partial
    names after the full ones.
    """
    out = []
    for index, names in enumerate(records.names):
        parse = cache.key(names[0]).parses[0]
        pat = min(parse.patronymic.classes, default="~") if parse.patronymic is not None else "~"
        given = min(parse.given[0].classes, default="~") if parse.given else "~"
        surname = min(parse.surname[0].classes, default="~") if parse.surname else "~"
        year = records.birth_year[index]
        out.append(f"{pat}|{given}|{surname}|{year if year > 0 else 9999}")
    return out


def _codes(values: list[str | None]) -> npt.NDArray[np.int64]:
    table: dict[str, int] = {}
    return np.asarray([-1 if v is None else table.setdefault(v, len(table)) for v in values], dtype=np.int64)


def comparison_levels(
    records: LinkRecords,
    cache: _NameCache,
    left: npt.NDArray[np.int64],
    right: npt.NDArray[np.int64],
    settings: PersonLinkSettings,
    columns: _NameColumns | None = None,
) -> npt.NDArray[np.int8]:
    """The level of every feature for every pair (-1 where a side lacks the value)."""
    n = len(left)
    gammas = np.full((n, len(FEATURES)), -1, dtype=np.int8)
    if columns is None:
        columns = _name_columns(records, cache)
    scores = name_scores(columns, cache, np.asarray(left, dtype=np.int64), np.asarray(right, dtype=np.int64))
    gammas[:, 0] = np.searchsorted(np.asarray(settings.name_levels), scores, side="right")

    year = np.asarray(records.birth_year)
    ya, yb = year[left], year[right]
    known = (ya > 0) & (yb > 0)
    gap = np.abs(ya - yb)
    gammas[:, 1] = np.where(known, np.where(gap == 0, 2, np.where(gap == 1, 1, 0)), -1)

    for column, values in ((2, np.asarray(records.sex)), (6, np.asarray(records.side))):
        va, vb = values[left], values[right]
        gammas[:, column] = np.where((va >= 0) & (vb >= 0), (va == vb).astype(np.int8), -1)
    for column, strings in ((3, records.unit), (4, records.rank), (5, records.badge), (7, records.incident)):
        codes = _codes(strings)
        va, vb = codes[left], codes[right]
        gammas[:, column] = np.where((va >= 0) & (vb >= 0), (va == vb).astype(np.int8), -1)
    # an officer turns up at many incidents: for them a different incident is no evidence
    side = np.asarray(records.side)
    officers = (side[left] == 1) | (side[right] == 1)
    gammas[officers & (gammas[:, 7] == 0), 7] = -1
    return gammas


def score_pairs(
    records: LinkRecords, settings: PersonLinkSettings, cache: _NameCache, keys_of: list[set[str]]
) -> tuple[PairScores, fs.Model, int]:
    if len(records) < 2:  # nothing to compare
        empty = np.zeros(0, dtype=np.int64)
        gammas0 = np.zeros((0, len(FEATURES)), dtype=np.int8)
        return PairScores(empty, empty, gammas0, np.zeros(0)), fs.initial_model(FEATURES, settings.prior), 0
    initial_only = [not any(cache.full_given(raw) for raw in names) for names in records.names]
    order = _sort_keys(records, cache) if settings.window > 0 else None
    left, right, oversized = candidate_pairs(
        records, keys_of, settings.max_block, initial_only, order, settings.window, settings.max_candidates
    )
    columns = _name_columns(records, cache)
    gammas = comparison_levels(records, cache, left, right, settings, columns)
    rng = np.random.default_rng(settings.seed)
    size = min(settings.u_sample_pairs, max(len(records) * 4, 1))
    ra = rng.integers(0, len(records), size=size)
    rb = rng.integers(0, len(records), size=size)
    keep = ra != rb
    u = fs.estimate_u(comparison_levels(records, cache, ra[keep], rb[keep], settings, columns), FEATURES)
    model = fs.train_em(
        gammas, FEATURES, prior=settings.prior, max_iterations=settings.em_iterations, fixed_u=u
    )
    weight = fs.match_weights(model, gammas) if len(gammas) else np.zeros(0)
    probability = 1.0 / (1.0 + np.exp2(-weight))
    return PairScores(left, right, gammas, probability, weight), model, oversized


def cluster(
    records: LinkRecords, pairs: PairScores, settings: PersonLinkSettings, cache: _NameCache
) -> PersonLinkResult:
    """Constrained clustering of auto-band pairs; see the module docstring.

    Two clusters join only if no name in one conflicts with a name in the other
    (score below `conflict_below`): "Елена Липовецкая" may match both "Елена
    Ивановна" and "Елена Витальевна Липовецкая", but must not chain them together.
    """
    n = len(records)
    names_of: dict[int, set[str]] = {i: set(records.names[i]) for i in range(n)}
    # Two clusters whose known birth years are more than a year apart are two people, however
    # their names agree. (Badge numbers are not used so: witnesses misremember them, and on the
    # demo the same rule on badges cost more true merges than it saved false ones.)
    years_of = {i: {year} for i, year in enumerate(records.birth_year) if year > 0}
    parent = list(range(n))
    index_of = {record_id: i for i, record_id in enumerate(records.ids)}
    person_at: dict[int, str] = {i: records.ids[i] for i in range(n) if records.is_person[i]}
    forbidden: dict[int, set[str]] = {}
    for mention_id, person_id in records.rejected:
        if mention_id in index_of:
            forbidden.setdefault(index_of[mention_id], set()).add(person_id)

    def find(i: int) -> int:
        root = i
        while parent[root] != root:
            root = parent[root]
        while parent[i] != root:
            parent[i], i = root, parent[i]
        return root

    # A refusal stands while neither cluster changes: many auto pairs join the same two
    # clusters, and checking their names again each time was most of the clustering's time.
    version = [0] * n
    refusals: set[tuple[int, int, int, int]] = set()

    def union(a: int, b: int) -> bool:
        ra, rb = find(a), find(b)
        if ra == rb:
            return True
        seen = (ra, version[ra], rb, version[rb]) if ra < rb else (rb, version[rb], ra, version[ra])
        if seen in refusals:
            return False
        if not _joinable(ra, rb):
            refusals.add(seen)
            return False
        pb = person_at.get(rb)
        parent[rb] = ra
        version[ra] += 1
        left_names = names_of[ra]
        left_names |= names_of.pop(rb)
        if rb in years_of:
            years_of.setdefault(ra, set()).update(years_of.pop(rb))
        if pb:
            person_at[ra] = pb
        if rb in forbidden:
            forbidden.setdefault(ra, set()).update(forbidden.pop(rb))
        return True

    def _joinable(ra: int, rb: int) -> bool:
        pa, pb = person_at.get(ra), person_at.get(rb)
        if pa and pb and pa != pb:
            return False
        if (pa and pa in forbidden.get(rb, ())) or (pb and pb in forbidden.get(ra, ())):
            return False
        if _years_differ(years_of.get(ra), years_of.get(rb)):
            return False
        return not _conflicting(names_of[ra], names_of[rb], cache, settings.conflict_below)

    refused = 0
    for mention_id, person_id in sorted(records.pinned.items()):
        if mention_id in index_of and person_id in index_of:
            union(index_of[person_id], index_of[mention_id])
    auto = np.flatnonzero(pairs.probability >= settings.auto_threshold)
    strength = pairs.weight if pairs.weight is not None else pairs.probability
    auto = auto[np.argsort(-strength[auto], kind="stable")]
    specific = np.fromiter((_specific(records, i, cache) for i in range(n)), dtype=bool, count=n)
    both = specific[pairs.left[auto]] & specific[pairs.right[auto]]
    # Pass 1: records that name a person fully (or are persons) form the clusters.
    for k in auto[both]:
        if not union(int(pairs.left[k]), int(pairs.right[k])):
            refused += 1
    # Pass 2: partial names join them, unless they fit two conflicting persons equally well.
    rest = auto[~both]
    ambiguous: set[int] = set()
    if settings.defer_ambiguous:
        ambiguous = _ambiguous(pairs, rest, specific, strength, find, names_of, cache, settings)
    for k in rest:
        a, b = int(pairs.left[k]), int(pairs.right[k])
        if a in ambiguous or b in ambiguous:
            continue
        if not union(a, b):
            refused += 1
    roots = np.fromiter((find(i) for i in range(n)), dtype=np.int64, count=n)
    person_of_cluster: dict[int, str] = {}
    members: dict[int, list[int]] = {}
    for i in range(n):
        members.setdefault(int(roots[i]), []).append(i)
    new_persons: dict[str, list[int]] = {}
    for root, indices in members.items():
        existing = person_at.get(root)
        if existing:
            person_of_cluster[root] = existing
            continue
        person_id = _reuse_or_new(records, indices, index_of, new_persons)
        person_of_cluster[root] = person_id
        new_persons[person_id] = indices
    return PersonLinkResult(
        model=fs.Model(FEATURES, [], [], 0.0),
        pairs=pairs,
        cluster_of=roots,
        person_of_cluster=person_of_cluster,
        new_persons=new_persons,
        ambiguous=ambiguous,
        stats={
            "records": n,
            "pairs": len(pairs.left),
            "auto_pairs": len(auto),
            "refused_merges": refused,
            "ambiguous_records": len(ambiguous),
        },
    )


def _years_differ(years_a: set[int] | None, years_b: set[int] | None) -> bool:
    return bool(years_a and years_b and min(abs(x - y) for x in years_a for y in years_b) > 1)


def _specific(records: LinkRecords, i: int, cache: _NameCache) -> bool:
    """An existing person, or a name with given name, patronymic and surname written out."""
    if records.is_person[i]:
        return True
    for raw in records.names[i]:
        parse = cache.key(raw).parses[0]
        pat, given = parse.patronymic, parse.given
        if parse.surname and given and not given[0].initial and pat is not None and not pat.initial:
            return True
    return False


def _ambiguous(
    pairs: PairScores,
    rest: npt.NDArray[np.intp],
    specific: npt.NDArray[np.bool_],
    strength: npt.NDArray[np.float64],
    find: Any,
    names_of: dict[int, set[str]],
    cache: _NameCache,
    settings: PersonLinkSettings,
) -> set[int]:
    """Partial-name records whose auto links reach conflicting clusters about equally strongly.

    "Иван Петров" auto-links to "Иван Сергеевич Петров" and to "Иван Олегович Петров":
    joining either is a guess, and a wrong join also blocks the true one later.
    """
    reach: dict[int, dict[int, float]] = {}
    for k in rest:
        a, b = int(pairs.left[k]), int(pairs.right[k])
        for partial, other in ((a, b), (b, a)):
            if not specific[partial] and specific[other]:
                roots = reach.setdefault(partial, {})
                root = find(other)
                roots[root] = max(roots.get(root, -np.inf), float(strength[k]))
    out: set[int] = set()
    margin = settings.ambiguity_margin if pairs.weight is not None else 0.0
    for partial, roots in reach.items():
        if len(roots) < 2:
            continue
        ranked = sorted(roots.items(), key=lambda item: -item[1])
        best_root, best = ranked[0]
        for root, value in ranked[1:]:
            if value < best - margin:
                break
            if _conflicting(names_of[best_root], names_of[root], cache, settings.conflict_below):
                out.add(partial)
                break
    return out


def _reuse_or_new(
    records: LinkRecords, indices: list[int], index_of: dict[str, int], taken: dict[str, list[int]]
) -> str:
    """The person most of the cluster's mentions had before, so ids stay stable across runs; else a new id."""
    previous = Counter(p for i in indices if (p := records.current_person[i]) is not None)
    for earlier, _count in previous.most_common():
        if earlier not in index_of and earlier not in taken:
            return earlier
    first = min(records.ids[i] for i in indices)
    person_id = "pe_" + hashlib.sha256(first.encode()).hexdigest()[:20]
    while person_id in index_of or person_id in taken:  # taken by a person of another cluster
        person_id = "pe_" + hashlib.sha256(person_id.encode()).hexdigest()[:20]
    return person_id


def _conflicting(left: set[str], right: set[str], cache: _NameCache, below: float) -> bool:
    """Whether joining two clusters would put incompatible names together.

    Two full names that disagree (different given names or patronymics) are a
    conflict at once. Disagreements that involve initials count only when they
    are the majority: initials across languages (Я. for Яўгенія, Е. for
    Евгения) disagree while the names agree.
    """
    weak = total = 0
    for x in left:
        for y in right:
            if x == y:
                continue
            total += 1
            if cache.score((x,), (y,)) >= below or cache.slip_only(x, y):
                continue
            if cache.full_given(x) and cache.full_given(y):
                return True
            weak += 1
    return total > 0 and weak * 3 > total


def link_persons(records: LinkRecords, settings: PersonLinkSettings) -> PersonLinkResult:
    """Score and cluster; nothing is written (see `svidok.services.linking`)."""
    cache = _NameCache()
    keys_of = record_keys(records, cache)
    pairs, model, oversized = score_pairs(records, settings, cache, keys_of)
    result = cluster(records, pairs, settings, cache)
    result.model = model
    result.keys_of = keys_of
    result.stats["oversized_blocks"] = oversized
    result.stats["review_pairs"] = int(
        np.sum(
            (pairs.probability >= settings.review_threshold) & (pairs.probability < settings.auto_threshold)
        )
    )
    return result
