"""Erasure of a person or a testimony by crypto-shredding (issue #4, `svidok erase`).

Threat: a person asks to be forgotten (or must be, to protect them), but copies of
the register exist: backups, a seized laptop's file, a PostgreSQL dump. Deleting
rows reaches none of those.

Design: every record that holds a person's own data is sealed under a data key of
its own, `subject:<record id>` (the `personal` columns of `store.models`; the store
seals them on insert, on SQLite inside the SQLCipher file too). The granularity is
the record, not the person, because which records belong to a person changes
(linking, merges, splits) while a record's key cannot: erasing a person destroys the
keys of the person record and of every record linked to it *now* — its names, the
mentions of it in testimonies, its custody records and missing-person cases. Erasing a
testimony (`source`) destroys the keys of the source and of the mentions in it (they are
derived from its text). What is left reads as `[erased]` everywhere; ids, codes, dates,
places, acts and incidents (the non-personal facts) stay, and the audit log still verifies.

Also cleared, because they would betray the subject without any key: the linker's
blocking keys (`name_key` rows, `name_keys` columns), a mention's birth year, sealed
source identities filed under the records (the protection officer could open them), and
the search index documents (re-indexed from the now unreadable values).

Values written before personal columns were sealed this way (under the column key on
PostgreSQL, plaintext inside SQLCipher) are re-sealed under the record's key first, so
that destroying it reaches them in the live register; copies made before cannot be
reached (run `svidok keys reseal-subjects` once after upgrading, then back up).

Order: re-seal and clear (one transaction), destroy the keys (keys.db), then the audit
entry (ids, counts and the reason only). An erasure interrupted before its audit entry
is completed by running it again: the keys stay destroyed and the entry is written then.
Erasing again after that is a no-op that changes and records nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Table, bindparam, delete, select, text, update

from svidok.crypto.fields import ERASED, SUBJECT_TOKEN_PREFIX, SubjectValue
from svidok.errors import InputError, NotFound
from svidok.reports import index as search_index
from svidok.services.context import ServiceContext
from svidok.services.keys import Protection, context_of
from svidok.store.db import personal_columns
from svidok.store.register import table_of

__all__ = ["ERASABLE", "ErasureReport", "erase", "linked_records", "reseal_subjects"]

ERASABLE = ("person", "source")
"""Record kinds an erasure request names."""
PERSONAL_KINDS = ("person", "person_name", "source", "mention", "custody_record", "missing_case")
"""Tables with personal columns, each row under its own subject key."""
_LINKED: dict[str, tuple[tuple[str, str], ...]] = {
    "person": (
        ("person_name", "person_id"),
        ("mention", "person_id"),
        ("custody_record", "person_id"),
        ("missing_case", "person_id"),
    ),
    "source": (("mention", "source_id"),),
}
CHUNK = 500


@dataclass
class ErasureReport:
    """What one erasure did; ids and counts only."""

    kind: str
    record_id: str
    records: dict[str, list[str]] = field(default_factory=dict)
    keys_destroyed: int = 0
    resealed: int = 0
    name_keys_removed: int = 0
    sealed_identities_removed: int = 0
    documents_reindexed: int = 0
    audited: bool = False

    @property
    def already_erased(self) -> bool:
        """Nothing was left to destroy, re-seal, clear or record: a repeated request."""
        return not (
            self.keys_destroyed
            or self.resealed
            or self.name_keys_removed
            or self.sealed_identities_removed
            or self.audited
        )

    def details(self, reason_hmac: str) -> dict[str, Any]:
        # The reason is free text an officer typed ("request of <name>"): in an append-only log it
        # would outlive the erasure, so the log keeps its keyed digest only.
        return {
            "reason_hmac": reason_hmac,
            "records": [f"{k}:{rid}" for k, ids in sorted(self.records.items()) for rid in ids],
            "keys_destroyed": self.keys_destroyed,
            "resealed": self.resealed,
            "name_keys_removed": self.name_keys_removed,
            "sealed_identities_removed": self.sealed_identities_removed,
        }


def _chunks(ids: list[str]) -> Iterator[list[str]]:
    for start in range(0, len(ids), CHUNK):
        yield ids[start : start + CHUNK]


def linked_records(conn: Connection, kind: str, record_id: str) -> dict[str, list[str]]:
    """The personal records an erasure of `kind` `record_id` reaches: kind -> ids."""
    out = {kind: [record_id]}
    for child, column in _LINKED[kind]:
        table = table_of(child)
        ids = conn.execute(select(table.c.id).where(table.c[column] == record_id).order_by(table.c.id))
        out[child] = [str(r[0]) for r in ids]
    return out


def _raw_values(conn: Connection, table: Table, ids: list[str]) -> Iterator[tuple[str, str, str]]:
    """(id, column, stored value) of every personal value of `ids` as stored, not opened."""
    columns = personal_columns(table)
    # A textual query: its columns have no type, so the stored token comes back, not the value.
    sql = f"SELECT id, {', '.join(columns)} FROM {table.name} WHERE id IN :ids"  # nosec B608 # names from the models
    query = text(sql).bindparams(bindparam("ids", expanding=True))
    for chunk in _chunks(ids):
        for row in conn.execute(query, {"ids": chunk}):
            for name, value in zip(columns, row[1:], strict=True):
                if value is not None:
                    yield str(row[0]), name, str(value)


def _reseal(conn: Connection, kind: str, ids: list[str], destroyed: set[str] | None = None) -> int:
    """Re-seal the values of `ids` not yet under their record's subject key; return how many.

    A record whose key is already destroyed (`destroyed`) cannot be sealed any more: its
    stale values are overwritten with `ERASED` instead."""
    table = table_of(kind)
    stale: dict[str, set[str]] = {}
    for rid, column, value in _raw_values(conn, table, ids):
        if not value.startswith(f"{SUBJECT_TOKEN_PREFIX}{rid}:"):
            stale.setdefault(rid, set()).add(column)
    count = 0
    for rid, names in stale.items():
        columns = sorted(names)
        current = conn.execute(select(*(table.c[c] for c in columns)).where(table.c.id == rid)).one()
        values: dict[str, str]
        if destroyed and rid in destroyed:
            values = {c: ERASED for c, v in zip(columns, current, strict=True) if v != ERASED}
        else:
            values = {c: SubjectValue(str(v), subject=rid) for c, v in zip(columns, current, strict=True)}
        if values:
            conn.execute(update(table).where(table.c.id == rid).values(values))
        count += len(values)
    return count


def reseal_subjects(
    p: Protection, who: ServiceContext | str, *, kinds: Iterable[str] = PERSONAL_KINDS
) -> int:
    """Re-seal every personal value written before subject keys (`key.reseal`); idempotent.

    Values already under their record's key are left alone, so a second run changes
    nothing and an interrupted run is finished by the next."""
    ctx = context_of(p, who)
    ctx.require("key.reseal")
    total = 0
    for kind in kinds:
        table = table_of(kind)
        with p.store.read() as conn:
            ids = [str(r[0]) for r in conn.execute(select(table.c.id).order_by(table.c.id))]
        for chunk in _chunks(ids):
            status = p.keyring.subject_status(chunk)
            gone = {rid for rid in chunk if status.get(f"subject:{rid}") == "destroyed"}
            with p.store.begin() as conn:
                p.keyring.subject_keys(rid for rid in chunk if rid not in gone)
                total += _reseal(conn, kind, chunk, gone)
    with p.store.begin() as conn:
        p.audit.append(conn, ctx.actor.name, "key.reseal", None, None, {"resealed": total})
    return total


def _clear_derived(conn: Connection, records: dict[str, list[str]]) -> tuple[int, int]:
    """Remove what is derived from the personal values in the clear; (name keys, sealed ids)."""
    every = [rid for ids in records.values() for rid in ids]
    name_key, sealed = table_of("name_key"), table_of("sealed_identity")
    removed = sealed_removed = 0
    for chunk in _chunks(every):
        removed += conn.execute(delete(name_key).where(name_key.c.record_id.in_(chunk))).rowcount or 0
        sealed_removed += conn.execute(delete(sealed).where(sealed.c.record_id.in_(chunk))).rowcount or 0
    for kind in ("mention", "person_name"):
        table = table_of(kind)
        for chunk in _chunks(records.get(kind, [])):
            values: dict[str, Any] = {"name_keys": None}
            if kind == "mention":
                values["birth_year"] = None
            conn.execute(update(table).where(table.c.id.in_(chunk)).values(values))
    return removed, sealed_removed


def _already_audited(conn: Connection, kind: str, record_id: str) -> bool:
    entry = table_of("audit_entry")
    query = select(entry.c.seq).where(
        entry.c.action == "record.erase", entry.c.kind == kind, entry.c.record_id == record_id
    )
    return conn.execute(query.limit(1)).first() is not None


def erase(p: Protection, who: ServiceContext | str, kind: str, record_id: str, reason: str) -> ErasureReport:
    """Erase a person or a testimony by destroying the keys of its personal records (`record.erase`).

    See the module docstring for what is reached and in which order. `NotFound` for an
    unknown record; a refusal is an `access.deny` audit entry.
    """
    if kind not in ERASABLE:
        raise InputError(f"cannot erase a {kind!r}; erasable kinds: {', '.join(ERASABLE)}")
    if not reason.strip():
        raise InputError("an erasure needs a reason (the request, the court order ...)")
    ctx = context_of(p, who)
    ctx.require("record.erase", kind)
    table = table_of(kind)
    report = ErasureReport(kind, record_id)
    with p.store.begin() as conn:
        if conn.execute(select(table.c.id).where(table.c.id == record_id)).first() is None:
            raise NotFound(kind, record_id)
        report.records = linked_records(conn, kind, record_id)
        every = [rid for ids in report.records.values() for rid in ids]
        status = p.keyring.subject_status(every)
        gone = {rid for rid in every if status.get(f"subject:{rid}") == "destroyed"}
        live = [rid for rid in every if rid not in gone]
        if live:
            p.keyring.subject_keys(live)  # legacy values are re-sealed under keys made now
        for child, ids in report.records.items():
            report.resealed += _reseal(conn, child, ids, gone)
        report.name_keys_removed, report.sealed_identities_removed = _clear_derived(conn, report.records)
    destroyed = p.keyring.destroy_many([f"subject:{rid}" for rid in every]) if every else {}
    report.keys_destroyed = sum(destroyed.values())
    with p.store.begin() as conn:
        if not report.already_erased or not _already_audited(conn, kind, record_id):
            details = report.details(p.audit.digest(reason))
            p.audit.append(conn, ctx.actor.name, "record.erase", kind, record_id, details)
            report.audited = True
    if report.audited:
        # After the commit: the index re-reads the records, whose values now read as erased.
        report.documents_reindexed = search_index.refresh(p.store, kind, [record_id])
        for child, ids in report.records.items():
            if child != kind and ids and child in ("mention", "person_name"):
                report.documents_reindexed += search_index.refresh(p.store, child, ids)
    return report
