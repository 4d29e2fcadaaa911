"""Who is acting, on which register, and where their actions are recorded.

Every service function takes a `ServiceContext`. It is the one place that
writes the audit log, inside the same transaction as the change it describes,
so an entry exists exactly when the change does.

It is also where access is checked (`svidok.access`, rules in
`svidok/access/policy.yaml`):

- `require(operation, kind)` refuses an operation the principal's role (or its
  token's scope) does not allow, and writes the denial to the audit log. Call it
  first, before opening a transaction (the denial is committed on its own).
- `require_record(operation, kind, record_id)` also refuses a record outside the
  principal's compartments with the same `NotFound` a missing record raises.
- `visible(kind, id_column)` is a WHERE clause keeping only records in reach;
  every query that lists, counts, links or exports records adds it.
- `mask(conn, kind, rows)` hides the protected fields the role may not read.

A context without a principal is the system: tools and tests
(`ServiceContext(store, Actor(name))`) and the CLI, whose operator holds the
register's master secret, may do everything. An actor whose role has no account
in the policy (`Actor("public", "source")`) acts as that role, never as the system.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy import ColumnElement, Connection, select, true

from svidok.access.compartments import Visibility, mask_rows
from svidok.access.errors import AccessDenied
from svidok.access.policy import Policy, policy
from svidok.access.principal import Principal
from svidok.audit.entry import check_details
from svidok.errors import NotFound
from svidok.store.register import Store, table_of


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

    def digest(self, text: str) -> str: ...


@dataclass(frozen=True)
class Actor:
    """A person or process acting on the register."""

    name: str
    role: str = "system"


def utc_now() -> datetime:
    """The current time as the naive UTC the register stores."""
    return datetime.now(UTC).replace(tzinfo=None)


@dataclass
class ServiceContext:
    store: Store
    actor: Actor
    audit: AuditSink | None = None
    principal: Principal | None = None
    clock: Callable[[], datetime] = field(default=utc_now)

    def __post_init__(self) -> None:
        if self.principal is None:
            role = self.policy.roles.get(self.actor.role)
            if role is not None and not role.account:
                self.principal = Principal(self.actor.name, role.name, via="anonymous")
        elif self.actor.name != self.principal.name or self.actor.role != self.principal.role:
            self.actor = Actor(self.principal.name, self.principal.role)

    @property
    def policy(self) -> Policy:
        return policy()

    @property
    def is_system(self) -> bool:
        return self.principal is None

    def can(self, operation: str) -> bool:
        """True when the actor may perform `operation` (no audit entry; for menus and filters)."""
        return self.principal is None or self.principal.allows(self.policy, operation)

    def require(self, operation: str, kind: str | None = None) -> None:
        """Refuse `operation` (a name from the access policy, e.g. "record.view") unless allowed.

        A refusal is an audit entry (`access.deny`) committed in its own transaction,
        then `AccessDenied`. Deny by default: an operation without a rule is refused.
        """
        if self.can(operation):
            return
        self._deny(operation, kind, None, "role")
        raise AccessDenied(operation)

    def require_record(self, operation: str, kind: str, record_id: str) -> None:
        """`require(operation, kind)`, then refuse a record out of reach exactly as a missing one.

        Hidden and missing records both raise `NotFound(kind, record_id)`; the audit log
        (which only the auditor reads) notes the hidden case as `access.deny`.
        """
        self.require(operation, kind)
        if self.principal is None:
            return
        table = table_of(kind)
        with self.store.read() as conn:
            row = conn.execute(
                select(table.c.id, self.visible(kind, table.c.id).label("in_reach")).where(
                    table.c.id == record_id
                )
            ).first()
        if row is None:
            raise NotFound(kind, record_id)
        if not row.in_reach:
            self._deny(operation, kind, record_id, "compartment")
            raise NotFound(kind, record_id)

    def visible(self, kind: str, id_column: ColumnElement[Any]) -> ColumnElement[bool]:
        """A WHERE clause keeping only records of `kind` inside the actor's compartments."""
        if self.principal is None:
            return true()
        return Visibility(self.policy, self.principal, self.clock()).clause(kind, id_column)

    def mask(self, conn: Connection, kind: str, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """`rows` of `kind` with the protected fields the actor may not read replaced by a marker."""
        if self.principal is None:
            return rows
        return mask_rows(conn, self.policy, self.principal, kind, rows, self.clock())

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
        else:
            # Checked without a sink too (tests, tools): details the signed log would refuse must
            # fail where they are written, not first in production. (The log checks its own.)
            check_details(details or {})

    def digest(self, text: str) -> str | None:
        """The audit log's keyed digest of `text` (None without a log: nothing is recorded)."""
        return self.audit.digest(text) if self.audit is not None else None

    def _deny(self, operation: str, kind: str | None, record_id: str | None, reason: str) -> None:
        if self.audit is None:
            return
        principal = self.principal
        details: dict[str, Any] = {
            "operation": operation,
            "reason": reason,
            "role": principal.role if principal else self.actor.role,
            "via": principal.via if principal else "system",
        }
        if principal is not None and principal.credential_id is not None:
            details["credential"] = hashlib.sha256(principal.credential_id.encode()).hexdigest()[:16]
        with self.store.begin() as conn:
            self.record(conn, "access.deny", kind, record_id, details)
