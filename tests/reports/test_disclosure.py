"""Public statistics: small cells withheld, no combination of published numbers reveals one."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from svidok.reports.disclosure import MIN_HIDDEN_SUM, THRESHOLD, Cell, Table, audit, suppress


def _table(counts: list[int], name: str = "t") -> Table:
    return suppress(Table(name, "g", [Cell(f"c{i}", n) for i, n in enumerate(counts)]))


def test_small_cells_are_withheld_and_one_more_protects_them_from_the_total() -> None:
    table = _table([120, 3, 40, 9])
    shown = {c.key: c.shown for c in table.cells}
    assert shown["c1"] is None and shown["c3"] is None  # 3 primary, 9 complementary
    assert shown["c0"] == 120 and shown["c2"] == 40
    assert table.public()["total"] == 172
    assert audit([table]) == []


def test_a_lone_withheld_cell_would_be_revealed_by_the_total() -> None:
    naive = Table("t", "g", [Cell("a", 100, 100), Cell("b", 2, None, "primary")])
    assert audit([naive])  # total − 100 = 2: the audit catches it
    assert audit([_table([100, 2])]) == []


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(st.integers(0, 40), min_size=1, max_size=8), min_size=1, max_size=4))
def test_no_published_table_or_combination_reveals_a_withheld_cell(tables: list[list[int]]) -> None:
    published = [_table(counts, f"t{i}") for i, counts in enumerate(tables)]
    for table in published:
        assert all(c.shown is None for c in table.cells if 0 < c.count < THRESHOLD)
        hidden = [c for c in table.cells if c.reason]
        if hidden and any(c.count > 0 for c in table.cells if not c.reason) or len(hidden) > 1:
            assert len(hidden) >= 2 or sum(c.count for c in table.cells) < MIN_HIDDEN_SUM
    if all(len([c for c in t.cells if c.reason]) != 1 for t in published):
        assert audit(published) == []


def test_public_statistics_of_the_register(store, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from svidok.demo.generator import DemoConfig, generate
    from svidok.services import reporting

    generate(store, tmp_path, DemoConfig(scale=400, seed=3))
    full = reporting.statistics(store)
    public = reporting.public_statistics(store)
    text = json.dumps(public, ensure_ascii=False)
    assert "suspect" not in text.replace("Suspects are never published", "")
    assert set(public["totals"]) == {"incidents", "acts", "victims"}
    withheld = 0
    for table in public["tables"]:
        for cell in table["cells"]:
            assert cell["count"] is None or cell["count"] == 0 or cell["count"] >= THRESHOLD
            withheld += cell["count"] is None
    assert withheld > 0
    violations = {r["key"]: r["acts"] for r in full["tables"]["violation"]}
    published = next(t for t in public["tables"] if t["name"] == "acts_by_violation")
    assert published["total"] == sum(violations.values())
    for cell in published["cells"]:
        if cell["count"] is not None:
            assert cell["count"] == violations[cell["key"]]


def test_a_tiny_register_withholds_the_totals_too() -> None:
    from svidok.reports.disclosure import suppress_all

    tables = suppress_all(
        [
            Table("by_month", "incidents", [Cell("2020-08", 1)]),
            Table("by_status", "incidents", [Cell("alleged", 1)]),
            Table("by_violation", "acts", [Cell("torture", 30), Cell("threats", 12)]),
        ]
    )
    assert [t.public()["total"] for t in tables] == [None, None, 42]
    assert audit(tables) == []
