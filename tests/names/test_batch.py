"""Batch scoring (`PairScorer`, behind `svidok names score`) gives exactly `compare`'s results."""

from __future__ import annotations

import random

from svidok.names import PairScorer, compare, name_keys, score_pairs

NAMES = [
    "Аляксандр Кавалёў",
    "Александр Сергеевич Ковалёв",
    "Kovalev A.S.",
    "KOVALEV Aleksandr",
    "Kavaliou, Aliaksandr  ",
    "Саша Ковалев",
    "Ковалева Анна",
    "Anna Kowalewa",
    "Морозова  ",
    "Morozova, Oksana",
    "Ольга Николаевна Ковальчук",
    "Ольга Николаевна Ковальчик",
    "Петров",
    "Иван Петров",
    "Пётр Петров",
    "Петров-Водкин Кузьма",
    "Karpovich Ivan",
    "Ivan Petrovich",  # two readings of the order: a surname, or a patronymic
    "Иван Карпович Сергеевич",
    "",
    "   ",
    "12345",
    "Юрый",
    "Yuri Kuznetov",
    "Юрий Кузнецво",
]


def test_batches_give_compares_results_whatever_the_batch() -> None:
    rng = random.Random(5)
    pairs = [(rng.choice(NAMES), rng.choice(NAMES)) for _ in range(3000)]
    expected = [(c.score, c.same) for c in (compare(a, b) for a, b in pairs)]
    assert score_pairs(pairs) == expected
    scorer = PairScorer()  # what the CLI does: one scorer, block after block
    got: list[tuple[float, bool]] = []
    for start, size in ((0, 1), (1, 7), (8, 500), (508, 2492)):
        got += scorer.score(pairs[start : start + size])
    assert got == expected
    assert scorer.score([]) == []


def test_columns_and_keys_of_both_readings() -> None:
    assert len(name_keys("Ivan Petrovich").parses) == 2  # the path for two readings is covered
    a = ["Ivan Petrovich", "", "Anna Kowalewa", "Иван Карпович Сергеевич"]
    b = ["Иван Петрович", "Иван Петров", "Ковалева Анна", "Ivan Karpovich"]
    expected = [(c.score, c.same) for c in map(compare, a, b)]
    assert PairScorer().score_columns(a, b) == expected
