"""Chain-of-custody events (EV-04): a row per event, mirrored by an audit log entry.

The `custody_event` row is for queries and custody reports; the audit entry
(action `evidence.<event>`, details: sha256 and purpose) is what makes the
event tamper-evident. Both are written in the caller's transaction.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select

from svidok.audit import AuditLog
from svidok.audit.entry import utc_naive
from svidok.errors import InputError
from svidok.store.models import Base

__all__ = ["EVENTS", "custody_events", "record_event"]

EVENTS = ("intake", "view", "export", "transfer", "verify")
_TABLE = Base.metadata.tables["custody_event"]


def record_event(
    conn: Connection,
    audit: AuditLog,
    evidence_id: str,
    event: str,
    actor: str,
    sha256: str,
    purpose: str | None = None,
    *,
    at: datetime | None = None,
) -> int:
    """Write one custody event and its audit entry; return the audit entry number."""
    if event not in EVENTS:
        raise InputError(f"unknown custody event {event!r}; events: {', '.join(EVENTS)}")
    moment = utc_naive(at)
    details: dict[str, Any] = {"sha256": sha256}
    if purpose:
        details["purpose"] = purpose
    seq = audit.append(conn, actor, f"evidence.{event}", "evidence", evidence_id, details, at=moment)
    conn.execute(
        insert(_TABLE).values(
            evidence_id=evidence_id,
            event=event,
            actor=actor,
            at=moment,
            purpose=purpose,
            sha256=sha256,
            audit_seq=seq,
        )
    )
    return seq


def custody_events(conn: Connection, evidence_id: str) -> list[dict[str, Any]]:
    rows = conn.execute(
        select(_TABLE).where(_TABLE.c.evidence_id == evidence_id).order_by(_TABLE.c.id)
    ).mappings()
    return [
        {
            "event": r["event"],
            "actor": r["actor"],
            "at": r["at"].strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "purpose": r["purpose"],
            "sha256": r["sha256"],
            "audit_seq": r["audit_seq"],
        }
        for r in rows
    ]
