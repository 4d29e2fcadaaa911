"""Storing machine links without ever undoing a human decision.

A linking run hands over its suggestions; they are upserted set-wise on
(kind, from_id, to_id). Rows a person confirmed or rejected are left exactly as
they are, whatever the run says. With `replace_stale`, earlier suggestions of
the same kind and method that the run no longer makes are removed (never
decided rows).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, delete, literal_column, or_, select
from sqlalchemy.dialects import postgresql, sqlite

from svidok.domain.values import MACHINE_STATUSES
from svidok.store.register import table_of

BATCH = 5_000


@dataclass(frozen=True)
class Suggestion:
    """One machine suggestion that `from_id` and `to_id` belong together."""

    kind: str
    from_id: str
    to_id: str
    score: float
    explanation: Sequence[str]
    method: str
    status: str = "suggested"


@dataclass
class WriteReport:
    written: int = 0
    removed: int = 0


def write_suggestions(
    conn: Connection,
    suggestions: Iterable[Suggestion],
    *,
    now: datetime,
    replace_stale: tuple[str, str] | None = None,
) -> WriteReport:
    """Upsert suggestions; decided links are never touched. Returns counts."""
    link = table_of("link")
    report = WriteReport()
    kept: set[tuple[str, str]] = set()
    for batch in _batches(suggestions):
        rows = [
            {
                "id": link_id(s.kind, s.from_id, s.to_id),
                "kind": s.kind,
                "from_id": s.from_id,
                "to_id": s.to_id,
                "score": round(float(s.score), 6),
                "explanation": list(s.explanation),
                "method": s.method,
                "status": s.status,
                "created_at": now,
            }
            for s in batch
        ]
        if replace_stale:
            kept.update((str(r["from_id"]), str(r["to_id"])) for r in rows)
        conn.execute(_upsert(conn), rows)
        report.written += len(rows)
    if replace_stale:
        kind, method = replace_stale
        stale = [
            row.id
            for row in conn.execute(
                select(link.c.id, link.c.from_id, link.c.to_id).where(
                    and_(link.c.kind == kind, link.c.method == method, link.c.status.in_(MACHINE_STATUSES))
                )
            )
            if (row.from_id, row.to_id) not in kept
        ]
        for start in range(0, len(stale), BATCH):
            conn.execute(delete(link).where(link.c.id.in_(stale[start : start + BATCH])))
        report.removed = len(stale)
    return report


def link_id(kind: str, from_id: str, to_id: str) -> str:
    """The same statement always gets the same id, across runs and registers."""
    digest = hashlib.sha256(f"{kind}\x1f{from_id}\x1f{to_id}".encode()).hexdigest()[:20]
    return f"li_{digest}"


def _upsert(conn: Connection) -> Any:
    link = table_of("link")
    dialect = sqlite if conn.dialect.name == "sqlite" else postgresql
    statement = dialect.insert(link)
    return statement.on_conflict_do_update(
        index_elements=["kind", "from_id", "to_id"],
        set_={
            "score": statement.excluded.score,
            "explanation": statement.excluded.explanation,
            "method": statement.excluded.method,
            "status": statement.excluded.status,
        },
        # literal values: executemany cannot expand an IN list
        where=or_(*(link.c.status == literal_column(f"'{status}'") for status in MACHINE_STATUSES)),
    )


def _batches(items: Iterable[Suggestion]) -> Iterator[list[Suggestion]]:
    batch: list[Suggestion] = []
    for item in items:
        batch.append(item)
        if len(batch) >= BATCH:
            yield batch
            batch = []
    if batch:
        yield batch
