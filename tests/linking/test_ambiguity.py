"""Clustering: strongest pairs first by weight, and partial names that two persons fit."""

from __future__ import annotations

import numpy as np

from svidok.linking.persons import PairScores, PersonLinkSettings, _NameCache, cluster
from svidok.linking.records import LinkRecords


def _records(names: list[str]) -> LinkRecords:
    records = LinkRecords()
    for i, name in enumerate(names):
        records.add(f"me_{i}", False, (name,), None, None, None, None, None, 0)
    return records


def _pairs(edges: list[tuple[int, int, float]]) -> PairScores:
    left = np.asarray([a for a, _, _ in edges], dtype=np.int64)
    right = np.asarray([b for _, b, _ in edges], dtype=np.int64)
    weight = np.asarray([w for _, _, w in edges], dtype=np.float64)
    gammas = np.zeros((len(edges), 8), dtype=np.int8)
    return PairScores(left, right, gammas, 1.0 / (1.0 + np.exp2(-weight)), weight)


NAMES = [
    "Иван Сергеевич Петров",  # 0
    "Петров Иван Сергеевич",  # 1
    "Иван Олегович Петров",  # 2
    "Петров Иван Олегович",  # 3
    "Иван Петров",  # 4: fits both
]
EDGES = [(0, 1, 60.0), (2, 3, 60.0), (0, 4, 55.0), (2, 4, 55.0), (1, 4, 54.0), (3, 4, 54.0)]


def test_a_partial_name_joins_one_person_by_default() -> None:
    records = _records(NAMES)
    result = cluster(records, _pairs(EDGES), PersonLinkSettings(), _NameCache())
    roots = result.cluster_of
    assert roots[0] == roots[1] and roots[2] == roots[3] and roots[0] != roots[2]
    assert roots[4] in (roots[0], roots[2])  # a guess: the conflict keeps it out of the other
    assert not result.ambiguous


def test_a_partial_name_two_persons_fit_is_deferred() -> None:
    records = _records(NAMES)
    settings = PersonLinkSettings(defer_ambiguous=True)
    result = cluster(records, _pairs(EDGES), settings, _NameCache())
    roots = result.cluster_of
    assert roots[0] == roots[1] and roots[2] == roots[3]
    assert roots[4] not in (roots[0], roots[2])
    assert result.ambiguous == {4} and result.stats["ambiguous_records"] == 1


def test_a_clearly_stronger_fit_is_not_ambiguous() -> None:
    records = _records(NAMES)
    edges = [(0, 1, 60.0), (2, 3, 60.0), (0, 4, 55.0), (2, 4, 40.0)]  # 15 bits apart
    result = cluster(records, _pairs(edges), PersonLinkSettings(defer_ambiguous=True), _NameCache())
    assert result.cluster_of[4] == result.cluster_of[0] and not result.ambiguous


def test_pairs_are_applied_by_weight_even_when_probabilities_round_to_one() -> None:
    """Both pairs have probability 1.0; the heavier one must win the conflict."""
    records = _records(["Иван Петров", "Иван Сергеевич Петров", "Иван Олегович Петров"])
    for strong, weak in (((0, 1), (0, 2)), ((0, 2), (0, 1))):
        edges = [(*weak, 70.0), (*strong, 90.0)]
        pairs = _pairs(edges)
        assert set(pairs.probability.tolist()) == {1.0}
        result = cluster(records, pairs, PersonLinkSettings(), _NameCache())
        assert result.cluster_of[strong[0]] == result.cluster_of[strong[1]]
        assert result.cluster_of[weak[0]] != result.cluster_of[weak[1]]


def test_known_birth_years_more_than_a_year_apart_keep_clusters_apart() -> None:
    records = LinkRecords()
    for i, year in enumerate((1980, None, 1990, 1981)):
        records.add(f"me_{i}", False, ("Иван Сергеевич Петров",), None, year, None, None, None, 0)
    # 0–1 and 1–2 are strong, but 0 and 2 were born ten years apart: 2 stays out; 3 fits 0
    edges = [(0, 1, 60.0), (1, 2, 59.0), (0, 3, 58.0)]
    result = cluster(records, _pairs(edges), PersonLinkSettings(), _NameCache())
    roots = result.cluster_of
    assert roots[0] == roots[1] == roots[3] and roots[2] != roots[0]
    assert result.stats["refused_merges"] == 1
