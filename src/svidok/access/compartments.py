"""Compartments as SQL: which records a principal may know exist, and which fields it may read.

`Visibility.clause(kind, id_column)` is a WHERE clause: a row passes when the
record is in one of the principal's compartments, or (for child kinds such as
`act` or `mention`) has no compartment of its own and its parent passes, or an
open break-glass grant reaches it. Shared reference kinds (places, units) always
pass. A link passes when both of its ends do. Everything else is filtered out
in the database, so a hidden record is exactly like a missing one: not counted,
not listed, not linked, not exported.

`mask_rows` replaces the protected fields a role may not read by `REDACTED`;
identity fields are revealed on records of compartments where the user holds an
identity grant.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Column,
    ColumnElement,
    Connection,
    Table,
    and_,
    exists,
    false,
    not_,
    or_,
    select,
    true,
)

from svidok.access.policy import Policy
from svidok.access.principal import ALL_COMPARTMENTS, Principal
from svidok.store.models import Base

__all__ = ["REDACTED", "Visibility", "copy_compartments", "mask_rows"]

REDACTED = "[redacted]"
_CHUNK = 500


def _table(name: str) -> Table:
    return Base.metadata.tables[name]


def _is_id_of(id_column: ColumnElement[Any], table: Table) -> bool:
    return isinstance(id_column, Column) and id_column.table is table and id_column.name == "id"


class Visibility:
    """Builds the compartment clauses of one principal at one moment (break-glass expiry)."""

    def __init__(self, policy: Policy, principal: Principal, now: datetime) -> None:
        self.policy = policy
        self.principal = principal
        self.now = now

    def clause(self, kind: str, id_column: ColumnElement[Any]) -> ColumnElement[bool]:
        """Rows of `kind` (identified by `id_column`) that the principal may know of."""
        return self._clause(kind, id_column, self.principal.compartments, break_glass=True)

    def identity_clause(self, kind: str, id_column: ColumnElement[Any]) -> ColumnElement[bool]:
        """Rows of `kind` whose identity fields the principal's identity grants reveal."""
        return self._clause(kind, id_column, self.principal.identity_compartments, break_glass=False)

    # -- building blocks --------------------------------------------------------------------

    def _clause(
        self, kind: str, id_column: ColumnElement[Any], comps: frozenset[str], *, break_glass: bool
    ) -> ColumnElement[bool]:
        if ALL_COMPARTMENTS in comps or kind in self.policy.shared_kinds:
            return true()
        if kind == "link":
            return self._link(id_column, comps, break_glass=break_glass)
        own = self._direct(kind, id_column, comps, break_glass=break_glass)
        parents = self.policy.parents.get(kind, ())
        if not parents or kind not in Base.metadata.tables:
            return own
        table = _table(kind)
        rc = _table("record_compartment").alias()
        has_own = exists(select(rc.c.record_id).where(rc.c.kind == kind, rc.c.record_id == id_column))
        inherited: list[ColumnElement[bool]] = []
        for parent_kind, fk in parents:
            if _is_id_of(id_column, table):
                inherited.append(self._clause(parent_kind, table.c[fk], comps, break_glass=break_glass))
            else:
                alias = table.alias()
                inner = self._clause(parent_kind, alias.c[fk], comps, break_glass=break_glass)
                inherited.append(id_column.in_(select(alias.c.id).where(inner)))
        return or_(own, and_(not_(has_own), or_(*inherited)))

    def _direct(
        self, kind: str, id_column: ColumnElement[Any], comps: frozenset[str], *, break_glass: bool
    ) -> ColumnElement[bool]:
        rc = _table("record_compartment").alias()
        reach: list[ColumnElement[bool]] = []
        if comps:
            reach.append(rc.c.compartment.in_(sorted(comps)))
        glass = _table("break_glass").alias()
        user_id = self.principal.user_id
        if break_glass and user_id is not None:
            reach.append(
                rc.c.compartment.in_(
                    select(glass.c.compartment).where(
                        glass.c.user_id == user_id,
                        glass.c.expires_at > self.now,
                        glass.c.compartment.is_not(None),
                    )
                )
            )
        clauses: list[ColumnElement[bool]] = []
        if reach:
            # correlated EXISTS: one primary-key probe per row (fast for one record and for scans)
            clauses.append(
                exists(
                    select(rc.c.record_id).where(rc.c.kind == kind, rc.c.record_id == id_column, or_(*reach))
                )
            )
        if break_glass and user_id is not None:
            glass2 = _table("break_glass").alias()
            clauses.append(
                id_column.in_(
                    select(glass2.c.record_id).where(
                        glass2.c.user_id == user_id,
                        glass2.c.kind == kind,
                        glass2.c.expires_at > self.now,
                    )
                )
            )
        return or_(*clauses) if clauses else false()

    def _end(
        self, kinds: Sequence[str], id_column: ColumnElement[Any], comps: frozenset[str], *, break_glass: bool
    ) -> ColumnElement[bool]:
        if len(kinds) == 1:
            return self._clause(kinds[0], id_column, comps, break_glass=break_glass)
        options: list[ColumnElement[bool]] = []
        for kind in kinds:
            table = _table(kind).alias()
            options.append(
                and_(
                    id_column.in_(select(table.c.id)),
                    self._clause(kind, id_column, comps, break_glass=break_glass),
                )
            )
        return or_(*options)

    def _link(
        self, id_column: ColumnElement[Any], comps: frozenset[str], *, break_glass: bool
    ) -> ColumnElement[bool]:
        link = _table("link")
        direct = _is_id_of(id_column, link)
        table = link if direct else link.alias()
        per_kind = [
            and_(
                table.c.kind == link_kind,
                self._end(ends[0], table.c.from_id, comps, break_glass=break_glass),
                self._end(ends[1], table.c.to_id, comps, break_glass=break_glass),
            )
            for link_kind, ends in sorted(self.policy.link_ends.items())
        ]
        if not per_kind:
            return false()
        clause = or_(*per_kind)
        if direct:
            return clause
        return id_column.in_(select(table.c.id).where(clause))


def mask_rows(
    conn: Connection,
    policy: Policy,
    principal: Principal,
    kind: str,
    rows: Iterable[dict[str, Any]],
    now: datetime,
) -> list[dict[str, Any]]:
    """Copies of `rows` with the fields the principal may not read replaced by `REDACTED`."""
    rows = list(rows)
    role = policy.roles.get(principal.role)
    groups = role.field_groups if role is not None else frozenset()
    hidden = policy.masked_fields(kind, groups)
    if not hidden or not rows:
        return rows
    identity = policy.field_groups.get("identity")
    identity_fields = identity.fields.get(kind, frozenset()) if identity is not None else frozenset()
    revealed: set[str] = set()
    if identity_fields & hidden and principal.identity_compartments and kind in Base.metadata.tables:
        table = _table(kind)
        ids = [str(r["id"]) for r in rows if r.get("id") is not None]
        vis = Visibility(policy, principal, now)
        for start in range(0, len(ids), _CHUNK):
            chunk = ids[start : start + _CHUNK]
            query = select(table.c.id).where(table.c.id.in_(chunk), vis.identity_clause(kind, table.c.id))
            revealed.update(str(i) for i in conn.execute(query).scalars())
    masked: list[dict[str, Any]] = []
    for row in rows:
        fields = hidden - identity_fields if str(row.get("id")) in revealed else hidden
        copy = dict(row)
        for name in fields:
            if copy.get(name) is not None:
                copy[name] = REDACTED
        masked.append(copy)
    return masked


def copy_compartments(conn: Connection, pairs: Iterable[tuple[str, str, str, str]]) -> int:
    """Put each target record into the compartments of its origin record, set-wise.

    `pairs` are (target kind, target id, origin kind, origin id): a person the linker
    makes from mentions goes where their sources are; the new person of a split goes
    where the old one was. Rows already present are left alone. Returns rows added.
    """
    rc = _table("record_compartment")
    wanted: dict[tuple[str, str], set[tuple[str, str]]] = {}
    for target_kind, target_id, origin_kind, origin_id in pairs:
        wanted.setdefault((origin_kind, origin_id), set()).add((target_kind, target_id))
    if not wanted:
        return 0
    by_kind: dict[str, list[str]] = {}
    for origin_kind, origin_id in wanted:
        by_kind.setdefault(origin_kind, []).append(origin_id)
    rows: set[tuple[str, str, str]] = set()
    for origin_kind, ids in by_kind.items():
        for start in range(0, len(ids), _CHUNK):
            chunk = ids[start : start + _CHUNK]
            found = conn.execute(
                select(rc.c.record_id, rc.c.compartment).where(
                    rc.c.kind == origin_kind, rc.c.record_id.in_(chunk)
                )
            )
            for origin_id, compartment in found:
                for target_kind, target_id in wanted[(origin_kind, origin_id)]:
                    rows.add((target_kind, target_id, compartment))
    targets = sorted({(k, i) for k, i, _ in rows})
    present: set[tuple[str, str, str]] = set()
    for target_kind in sorted({k for k, _ in targets}):
        ids = [i for k, i in targets if k == target_kind]
        for start in range(0, len(ids), _CHUNK):
            chunk = ids[start : start + _CHUNK]
            present.update(
                (target_kind, str(r.record_id), str(r.compartment))
                for r in conn.execute(
                    select(rc.c.record_id, rc.c.compartment).where(
                        rc.c.kind == target_kind, rc.c.record_id.in_(chunk)
                    )
                )
            )
    new = [{"kind": k, "record_id": i, "compartment": c} for k, i, c in sorted(rows - present)]
    if new:
        conn.execute(rc.insert(), new)
    return len(new)
