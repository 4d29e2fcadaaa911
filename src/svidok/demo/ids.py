"""Deterministic ids and the per-chunk row batch.

Ids come from a `random.Random` seeded by the scenario seed (never uuid4 or
`secrets`), so the same seed gives the same register, id for id. Their 80 bits
are a per-kind sequence number (32 bits) followed by 48 random bits: records
then arrive in key order, so the B-tree of every primary key and of most
foreign-key indexes grows at its right edge instead of at random pages, which
keeps a million-testimony insert fast.
"""

from __future__ import annotations

import random
from typing import Any

from sqlalchemy import Connection

from svidok.domain.values import new_id
from svidok.store.models import RECORD_TABLES
from svidok.store.register import insert_rows, table_of


class Ids:
    """Record ids drawn from a seeded generator of their own."""

    def __init__(self, seed: int) -> None:
        self._rng = random.Random(f"svidok-demo-ids:{seed}")  # nosec B311 # demo ids, seeded to be reproducible
        self._serial: dict[str, int] = {}

    def new(self, kind: str) -> str:
        serial = self._serial.get(kind, 0) + 1
        self._serial[kind] = serial
        return new_id(kind, f"{serial:08x}{self._rng.getrandbits(48):012x}")


class Batch:
    """Rows of one chunk, by table, inserted in dependency order."""

    def __init__(self) -> None:
        self.rows: dict[str, list[dict[str, Any]]] = {kind: [] for kind in RECORD_TABLES}

    def add(self, kind: str, row: dict[str, Any]) -> None:
        self.rows[kind].append(row)

    def __len__(self) -> int:
        return sum(len(rows) for rows in self.rows.values())

    def flush(self, conn: Connection) -> dict[str, int]:
        """Insert every row set-wise (executemany per table); return counts and empty the batch."""
        counts: dict[str, int] = {}
        for kind, rows in self.rows.items():
            if rows:
                counts[kind] = insert_rows(conn, table_of(kind), rows)
                rows.clear()
        return counts
