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
published number, and reports any cell whose range is too narrow.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import linprog  # type: ignore[import-untyped]

__all__ = ["MIN_HIDDEN_SUM", "THRESHOLD", "Cell", "Table", "audit", "suppress"]

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

    @property
    def total(self) -> int:
        return sum(c.count for c in self.cells)

    def public(self) -> dict[str, object]:
        return {
            "name": self.name,
            "total": self.total,
            "cells": [{"key": c.key, "count": c.shown, "suppressed": c.reason} for c in self.cells],
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


def _bounds(tables: list[Table]) -> list[tuple[str, str, float, float, int]]:
    """(table, cell, min, max, true value) of every withheld cell under all published numbers."""
    variables = [(t, c) for t in tables for c in t.cells if c.reason]
    if not variables:
        return []
    index = {id(c): i for i, (_, c) in enumerate(variables)}
    rows, rhs = [], []
    for t in tables:  # each table: withheld cells add up to its total minus what is shown
        row = np.zeros(len(variables))
        for c in t.cells:
            if c.reason:
                row[index[id(c)]] = 1
        if row.any():
            rows.append(row)
            rhs.append(t.total - sum(c.shown or 0 for c in t.cells))
    a_eq, b_eq = np.array(rows), np.array(rhs, dtype=float)
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
