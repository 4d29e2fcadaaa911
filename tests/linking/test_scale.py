"""The pieces that keep linking bounded at scale give the same answers as the plain forms."""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

import numpy as np
from sqlalchemy import insert

from svidok.linking import fellegi_sunter as fs
from svidok.linking import incremental
from svidok.linking.persons import _name_columns, _NameCache, name_scores
from svidok.linking.records import LinkRecords
from svidok.linking.suspects import SuspectSettings, suspect_candidates
from svidok.names import compare
from svidok.services import register
from svidok.store.register import Store, table_of
from tests.factories import RECORDS, write_jsonl
from tests.linking.test_suspects import EXTRA


def test_distinct_patterns_are_those_of_numpy_unique_in_the_same_order() -> None:
    rng = np.random.default_rng(1)
    gammas = rng.integers(-1, 4, size=(5_000, 8)).astype(np.int8)
    gammas[:, 2] = rng.integers(-1, 1, size=5_000)  # few levels in one column: repeated rows
    patterns, counts = fs.distinct_patterns(gammas)
    expected, expected_counts = np.unique(gammas, axis=0, return_counts=True)
    assert np.array_equal(patterns, expected) and np.array_equal(counts, expected_counts)


def test_a_pair_scores_the_best_of_its_names_once_per_distinct_pair() -> None:
    records = LinkRecords()
    names = [
        ("Иван Петров",),
        ("Ivan Petrov", "Іван Пятроў"),  # a person with two names
        ("Ольга Сидоренко",),
        ("Иван Петров",),
    ]
    for i, n in enumerate(names):
        records.add(f"me_{i}", False, n, None, None, None, None, None, 0)
    cache = _NameCache()
    left, right = np.array([0, 0, 1, 0]), np.array([1, 2, 2, 3])
    got = name_scores(_name_columns(records, cache), cache, left, right)
    for k, (a, b) in enumerate(zip(left, right, strict=True)):
        best = max(compare(x, y).score for x in names[a] for y in names[b])
        assert got[k] == round(best, 4)
    assert got[0] > 0.9 and got[1] < 0.5


def test_one_mention_takes_the_records_sharing_its_rarest_keys_first(store: Store) -> None:
    index = table_of("name_key")
    rows = [{"key": "common", "record_id": f"me_c{i:03d}"} for i in range(40)]
    rows += [{"key": "rare", "record_id": "me_c039"}, {"key": "rare", "record_id": "me_r1"}]
    with store.begin() as conn:
        conn.execute(insert(index), rows)
    with store.read() as conn:
        found = incremental.candidate_ids(conn, ["common", "rare", "absent"], limit=5)
        assert found[:2] == ["me_c039", "me_r1"]  # both keys, then the rare one
        assert len(found) == 5 and len(set(found)) == 5
        everything = incremental.candidate_ids(conn, ["common", "rare"], limit=100)
        assert set(everything) == {r["record_id"] for r in rows}
        assert incremental.candidate_ids(conn, ["absent"]) == []


def test_suspects_keep_each_acts_best_candidates_ranked_in_the_query(store: Store, tmp_path: Path) -> None:
    register.import_file(
        store, write_jsonl(tmp_path / "r.jsonl", [*RECORDS, *cast(list[dict[str, Any]], EXTRA)])
    )
    with store.read() as conn:
        every = suspect_candidates(conn, SuspectSettings())
        top2 = suspect_candidates(conn, SuspectSettings(max_per_act=2))
    assert len(every) > 2
    assert top2 == every[:2]  # same candidates, scores and explanations, cut after the best two
