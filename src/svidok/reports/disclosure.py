"""Statistical disclosure control for published tables.

Primary suppression: a count from 1 to `THRESHOLD - 1` is withheld. Complementary
suppression: each published table carries its total, so one withheld cell could
be worked out by subtraction; more cells are withheld (smallest first) until the
withheld cells of the table number at least two and add up to at least
`MIN_HIDDEN_SUM`, so none of them is pinned down by the total even knowing each
is at least 1. Published tables are one-way partitions of the same records
(each record falls in exactly one cell), so the only equations that join them
are their equal totals; `audit` checks this with linear programming: for every
withheld cell it finds the smallest and largest value consistent with every
published number, and reports any cell whose range is too narrow. In a tiny
register a table's total itself would give a withheld cell away; then the
total of its group (tables partitioning the same records) is withheld too.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import linprog  # type: ignore[import-untyped]

__all__ = ["MIN_HIDDEN_SUM", "THRESHOLD", "Cell", "Table", "audit", "suppress", "suppress_all"]

THRESHOLD = 5
MIN_HIDDEN_SUM = 10
SUPPRESSED = None


@dataclass
class Cell:
    key: str
    count: int
    shown: int | None = None
    reason: str | None = None  # "primary" or "complementary" when withheld


@dataclass
class Table:
    """One published one-way table: cells that partition `total` records."""

    name: str
    group: str  # tables of one group partition the same records (same total)
    cells: list[Cell] = field(default_factory=list)
    total_shown: bool = True

    @property
    def total(self) -> int:
        return sum(c.count for c in self.cells)

    @property
    def protected(self) -> bool:
        """Whether the total leaves the withheld cells undetermined (else it must be withheld)."""
        hidden = [c for c in self.cells if c.reason]
        if 0 < self.total < THRESHOLD:
            return False
        return not hidden or (len(hidden) >= 2 and sum(c.count for c in hidden) >= MIN_HIDDEN_SUM)

    def public(self) -> dict[str, object]:
        return {
            "name": self.name,
            "total": self.total if self.total_shown else None,
            # Withheld or not, never why: "primary" would tell a reader the count is under the threshold.
            "cells": [
                {"key": c.key, "count": c.shown, "suppressed": c.reason is not None} for c in self.cells
            ],
        }


def suppress(table: Table, threshold: int = THRESHOLD, min_hidden: int = MIN_HIDDEN_SUM) -> Table:
    """Apply primary and complementary suppression in place; return the table."""
    for cell in table.cells:
        cell.shown, cell.reason = cell.count, None
        if 0 < cell.count < threshold:
            cell.shown, cell.reason = SUPPRESSED, "primary"
    hidden = [c for c in table.cells if c.reason]
    if not hidden:
        return table
    candidates = sorted(
        (c for c in table.cells if not c.reason and c.count > 0), key=lambda c: (c.count, c.key)
    )
    while candidates and (len(hidden) < 2 or sum(c.count for c in hidden) < min_hidden):
        extra = candidates.pop(0)
        extra.shown, extra.reason = SUPPRESSED, "complementary"
        hidden.append(extra)
    return table


def suppress_all(tables: list[Table]) -> list[Table]:
    """`suppress` every table; where a table's total would reveal a withheld cell (a tiny
    register), withhold the total of its whole group (the tables share it)."""
    for table in tables:
        suppress(table)
    exposed = {t.group for t in tables if not t.protected}
    for table in tables:
        table.total_shown = table.group not in exposed
    return tables


def _equations(tables: list[Table], index: dict[int, int], n: int) -> tuple[list[np.ndarray], list[float]]:
    """Published facts as equations over the withheld cells.

    A shown total: withheld cells add up to total − shown. A withheld group total still ties
    the group's tables together: withheld(A) − withheld(B) = shown(B) − shown(A).
    """
    rows: list[np.ndarray] = []
    rhs: list[float] = []

    def hidden_row(t: Table) -> np.ndarray:
        row = np.zeros(n)
        for c in t.cells:
            if c.reason:
                row[index[id(c)]] = 1
        return row

    def shown(t: Table) -> int:
        return sum(c.shown or 0 for c in t.cells)

    groups: dict[str, list[Table]] = {}
    for t in tables:
        groups.setdefault(t.group, []).append(t)
    for members in groups.values():
        if members[0].total_shown:
            for t in members:
                rows.append(hidden_row(t))
                rhs.append(float(t.total - shown(t)))
        else:
            first = members[0]
            for t in members[1:]:
                rows.append(hidden_row(first) - hidden_row(t))
                rhs.append(float(shown(t) - shown(first)))
    return rows, rhs


def _bounds(tables: list[Table]) -> list[tuple[str, str, float, float, int]]:
    """(table, cell, min, max, true value) of every withheld cell under all published numbers."""
    variables = [(t, c) for t in tables for c in t.cells if c.reason]
    if not variables:
        return []
    index = {id(c): i for i, (_, c) in enumerate(variables)}
    rows, rhs = _equations(tables, index, len(variables))
    kept = [(r, b) for r, b in zip(rows, rhs, strict=True) if r.any()]
    a_eq = np.array([r for r, _ in kept]) if kept else None
    b_eq = np.array([b for _, b in kept]) if kept else None
    limits = [(1, None)] * len(variables)
    out = []
    for i, (t, c) in enumerate(variables):
        goal = np.zeros(len(variables))
        goal[i] = 1
        low = linprog(goal, A_eq=a_eq, b_eq=b_eq, bounds=limits, method="highs")
        high = linprog(-goal, A_eq=a_eq, b_eq=b_eq, bounds=limits, method="highs")
        top = float("inf") if high.status == 3 else -float(high.fun)
        out.append((t.name, c.key, float(low.fun), top, c.count))
    return out


def audit(tables: list[Table], min_width: float = 2.0) -> list[str]:
    """Problems: withheld cells whose feasible range is narrower than `min_width`."""
    problems = []
    for name, key, low, high, _true in _bounds(tables):
        if high - low < min_width:
            problems.append(f"table {name}: withheld cell {key!r} lies in [{low:g}, {high:g}]")
    return problems
