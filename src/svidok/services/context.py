"""Who is acting, on which register, and where their actions are recorded.

Every service function takes a `ServiceContext`. It is the one place that
writes the audit log, inside the same transaction as the change it describes,
so an entry exists exactly when the change does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy import ColumnElement, Connection, true

from svidok.store.register import Store


class AuditSink(Protocol):
    def append(
        self,
        conn: Connection,
        actor: str,
        action: str,
        kind: str | None,
        record_id: str | None,
        details: dict[str, Any] | None = None,
    ) -> int: ...


@dataclass(frozen=True)
class Actor:
    """A person or process acting on the register."""

    name: str
    role: str = "system"


@dataclass
class ServiceContext:
    store: Store
    actor: Actor
    audit: AuditSink | None = None

    def require(self, operation: str, kind: str | None = None) -> None:
        """Refuse `operation` (a name from the access policy, e.g. "record.view") unless allowed.

        The access-control work fills this in (roles, grants, compartments, audit of
        denials); until then every actor may do everything.
        """

    def visible(self, kind: str, id_column: ColumnElement[str]) -> ColumnElement[bool]:
        """A WHERE clause keeping only records of `kind` inside the actor's compartments."""
        del kind, id_column  # the access-control work uses them
        return true()

    def record(
        self,
        conn: Connection,
        action: str,
        kind: str | None,
        record_id: str | None,
        details: dict[str, Any] | None = None,
    ) -> None:
        """Append an audit entry for `action` in the caller's transaction (ids and codes only)."""
        if self.audit is not None:
            self.audit.append(conn, self.actor.name, action, kind, record_id, details or {})


def utc_now() -> datetime:
    """The current time as the naive UTC the register stores."""
    return datetime.now(UTC).replace(tzinfo=None)
