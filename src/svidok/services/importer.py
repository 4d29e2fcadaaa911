"""The one import path every file format feeds: validate, de-duplicate, check references, insert.

Records arrive in file order as `Incoming` items. They are processed in chunks
inside ONE transaction, so an import is all-or-nothing: either every record is
written or none is. With a reject file, bad records (and records that refer to
them) are written there verbatim and the rest is imported.

Re-importing is idempotent: a record whose id already exists with the same
contents is counted as unchanged; the same id with different contents is a
conflict, reported like any other bad record (never a silent overwrite).

A record may refer to records already in the register or earlier in the file;
`svidok export` writes files in that order.
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from sqlalchemy import Connection, Table, UniqueConstraint, select

from svidok.errors import ImportFailed, RecordProblem
from svidok.services.incoming import Incoming
from svidok.services.transfer import export_form
from svidok.services.validation import FieldProblems, cleaner
from svidok.store.db import fields_of, personal_columns
from svidok.store.models import RECORD_TABLES
from svidok.store.register import Store, insert_rows, table_of

CHUNK = 5_000
CHUNK_CHARS = 16 << 20
"""A chunk also ends once its lines hold this many characters: memory stays bounded with huge records."""
MAX_PROBLEMS_KEPT = 1_000
ID_QUERY_BATCH = 500


@dataclass
class ImportReport:
    """What an import did."""

    read: int = 0
    inserted: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    unchanged: int = 0
    rejected: int = 0
    problems: list[RecordProblem] = field(default_factory=list)
    reject_file: Path | None = None
    inserted_ids: dict[str, list[str]] = field(default_factory=dict)

    @property
    def inserted_total(self) -> int:
        return sum(self.inserted.values())


@dataclass
class _Checked:
    item: Incoming
    kind: str
    record: dict[str, Any]


class Importer:
    """Runs one import into a store."""

    def __init__(
        self,
        store: Store,
        file_label: str,
        reject_file: Path | None = None,
        progress: Callable[[int], None] | None = None,
        on_commit: Callable[[Connection, ImportReport], None] | None = None,
        track_ids: bool = False,
    ) -> None:
        self.track_ids = track_ids
        self.store = store
        self.progress = progress
        self.on_commit = on_commit
        self.file_label = file_label
        self.reject_file = reject_file
        self.report = ImportReport(reject_file=reject_file)
        self._header: str | None = None
        self._rejects: TextIO | None = None
        self._unique_seen: dict[tuple[str, tuple[str, ...]], set[tuple[Any, ...]]] = defaultdict(set)
        self._rejected_keys: set[tuple[str, str]] = set()
        self._chunk_rejects: list[Incoming] = []

    def run(self, items: Iterable[Incoming], header: str | None = None) -> ImportReport:
        """Import `items`; raise `ImportFailed` (nothing written) on any bad record without a reject file.

        Rejected lines go to a temporary file beside the reject file as they are found (memory
        does not grow with them); it replaces the reject file only once the import has committed.
        """
        self._header = header
        committed = False
        try:
            with self.store.begin() as conn:
                for chunk in _chunks(items, CHUNK, CHUNK_CHARS):
                    self._process(conn, chunk)
                    if self.progress is not None:
                        self.progress(len(chunk))
                if self.report.problems and self.reject_file is None:
                    conn.rollback()
                    raise ImportFailed(self.report.problems)
                if self.on_commit is not None:
                    self.on_commit(conn, self.report)
            committed = True
        finally:
            if self.reject_file is not None:
                self._finish_rejects(committed)
        return self.report

    def _problem(self, item: Incoming, field_name: str | None, reason: str) -> None:
        label = item.field_labels.get(field_name or "", field_name)
        if len(self.report.problems) < MAX_PROBLEMS_KEPT:
            self.report.problems.append(RecordProblem(self.file_label, item.line, label, reason))

    def _reject(self, item: Incoming) -> None:
        self.report.rejected += 1
        if self.reject_file is not None:
            self._chunk_rejects.append(item)

    def _write_rejects(self) -> None:
        """The chunk's rejected lines in file order, so a fixed reject file imports again (a record
        still comes after what it refers to)."""
        rejected, self._chunk_rejects = self._chunk_rejects, []
        if not rejected:
            return
        rejected.sort(key=lambda item: item.line)
        if self._rejects is None:
            # surrogateescape writes back the very bytes of a line that was not UTF-8
            tmp = self._reject_tmp()
            self._rejects = tmp.open("w", encoding="utf-8", errors="surrogateescape", newline="")
            if self._header is not None:
                header = self._header
                self._rejects.write(header if header.endswith("\n") else header + "\n")
        for item in rejected:
            text = item.raw_text
            self._rejects.write(text if text.endswith("\n") else text + "\n")

    def _process(self, conn: Connection, chunk: list[Incoming]) -> None:
        self.report.read += len(chunk)
        checked: list[_Checked] = []
        for item in chunk:
            ok = self._clean(item)
            if ok is None:
                self._reject(item)
            else:
                checked.append(ok)
        fresh = self._drop_known(conn, checked)
        accepted = self._check_references(conn, self._check_unique(conn, fresh))
        by_kind: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for entry in accepted:
            by_kind[entry.kind].append(entry.record)
        cipher = fields_of(conn.dialect)
        if cipher is not None:  # every subject key of the chunk in one key-store commit, not one per kind
            personal = [kind for kind in by_kind if personal_columns(table_of(kind))]
            cipher.prepare(r["id"] for kind in personal for r in by_kind[kind])
        for kind in RECORD_TABLES:
            if by_kind.get(kind):
                insert_rows(conn, table_of(kind), by_kind[kind])
                self.report.inserted[kind] += len(by_kind[kind])
                if self.track_ids:
                    self.report.inserted_ids.setdefault(kind, []).extend(r["id"] for r in by_kind[kind])
        self._write_rejects()

    def _clean(self, item: Incoming) -> _Checked | None:
        if item.parse_error is not None:
            self._problem(item, None, item.parse_error)
            return None
        if item.kind not in RECORD_TABLES or item.data is None:
            self._problem(
                item, "record", f"unknown record kind {item.kind!r}; kinds: {', '.join(RECORD_TABLES)}"
            )
            return None
        try:
            record = cleaner(item.kind).clean(item.data, from_text=item.from_text)
        except FieldProblems as bad:
            for problem in bad.problems:
                self._problem(item, problem.field, problem.reason)
            return None
        return _Checked(item, item.kind, record)

    def _drop_known(self, conn: Connection, checked: list[_Checked]) -> list[_Checked]:
        """Skip records already stored with identical contents; flag conflicting ones."""
        ids_by_kind: dict[str, set[str]] = defaultdict(set)
        for entry in checked:
            ids_by_kind[entry.kind].add(entry.record["id"])
        stored: dict[tuple[str, str], dict[str, Any]] = {}
        for kind, ids in ids_by_kind.items():
            table = table_of(kind)
            for batch in _batches(sorted(ids), ID_QUERY_BATCH):
                for row in conn.execute(select(table).where(table.c.id.in_(batch))).mappings():
                    stored[(kind, row["id"])] = export_form(kind, dict(row))
        fresh: list[_Checked] = []
        seen_here: dict[tuple[str, str], dict[str, Any]] = {}
        for entry in checked:
            key = (entry.kind, entry.record["id"])
            form = export_form(entry.kind, entry.record)
            existing = stored.get(key) or seen_here.get(key)
            if existing is None:
                seen_here[key] = form
                fresh.append(entry)
            elif existing == form:
                self.report.unchanged += 1
            else:
                differing = sorted(k for k in form if form.get(k) != existing.get(k))
                self._problem(
                    entry.item,
                    "id",
                    f"{entry.record['id']} already exists with different {', '.join(differing)}",
                )
                self._reject(entry.item)
        return fresh

    def _check_references(self, conn: Connection, fresh: list[_Checked]) -> list[_Checked]:
        """Keep records whose references exist in the register or earlier in the file."""
        wanted: dict[str, set[str]] = defaultdict(set)
        position = {(e.kind, e.record["id"]): i for i, e in enumerate(fresh)}
        for entry in fresh:
            for fk in cleaner(entry.kind).foreign_keys:
                target = entry.record.get(fk.column)
                if target is not None and (fk.target_kind, target) not in position:
                    wanted[fk.target_kind].add(target)
        in_store = _existing_ids(conn, wanted)
        accepted: list[_Checked] = []
        accepted_keys: set[tuple[str, str]] = set()
        for index, entry in enumerate(fresh):
            ok = True
            for fk in cleaner(entry.kind).foreign_keys:
                target = entry.record.get(fk.column)
                if target is None:
                    continue
                key = (fk.target_kind, target)
                if key in accepted_keys or (fk.target_kind, target) in in_store:
                    continue
                if key in self._rejected_keys:
                    reason = f"refers to {fk.target_kind} {target}, which was rejected"
                elif key in position and position[key] >= index:
                    reason = f"refers to {fk.target_kind} {target}, which comes later in the file"
                elif key in position:
                    reason = f"refers to {fk.target_kind} {target}, which was rejected"
                else:
                    reason = f"refers to {fk.target_kind} {target}, which does not exist"
                self._problem(entry.item, fk.column, reason)
                ok = False
            if ok:
                accepted.append(entry)
                accepted_keys.add((entry.kind, entry.record["id"]))
            else:
                self._rejected_keys.add((entry.kind, entry.record["id"]))
                self._reject(entry.item)
        return accepted

    def _check_unique(self, conn: Connection, accepted: list[_Checked]) -> list[_Checked]:
        """Refuse records that repeat a unique value (`source.external_ref`, one citation per
        subject/field/source, one link per kind/from/to) of the register or of this file, which the
        database would otherwise refuse mid-insert with an error quoting the values."""
        out: list[_Checked] = []
        by_kind: dict[str, list[_Checked]] = defaultdict(list)
        for entry in accepted:
            by_kind[entry.kind].append(entry)
        bad: set[int] = set()
        for kind, entries in by_kind.items():
            table = table_of(kind)
            for columns in _unique_sets(table):
                seen = self._unique_seen[(kind, columns)]
                wanted = {
                    key for e in entries if None not in (key := tuple(e.record.get(c) for c in columns))
                }
                in_store = _existing_tuples(conn, table, columns, wanted - seen)
                for entry in entries:
                    key = tuple(entry.record.get(c) for c in columns)
                    if None in key or id(entry) in bad:
                        continue
                    if key in in_store or key in seen:
                        where = "the register" if key in in_store else "an earlier line"
                        self._problem(
                            entry.item,
                            columns[-1] if len(columns) == 1 else columns[0],
                            f"{' + '.join(columns)} repeats a value already in {where} (must be unique)",
                        )
                        bad.add(id(entry))
                    else:
                        seen.add(key)
        for entry in accepted:
            if id(entry) in bad:
                self._rejected_keys.add((entry.kind, entry.record["id"]))
                self._reject(entry.item)
            else:
                out.append(entry)
        return out

    def _reject_tmp(self) -> Path:
        assert self.reject_file is not None  # nosec B101 # type narrowing: called only with a reject file
        return self.reject_file.with_name(self.reject_file.name + ".tmp")

    def _finish_rejects(self, committed: bool) -> None:
        assert self.reject_file is not None  # nosec B101 # type narrowing: called only with a reject file
        tmp = self._reject_tmp()
        if self._rejects is not None:
            self._rejects.close()
            self._rejects = None
        if not committed:
            tmp.unlink(missing_ok=True)
            return
        if not tmp.exists():
            tmp.write_bytes(b"")
        os.replace(tmp, self.reject_file)


def _unique_sets(table: Table) -> list[tuple[str, ...]]:
    """Column sets a table keeps unique, besides its primary key."""
    sets = [
        tuple(c.name for c in constraint.columns)
        for constraint in table.constraints
        if isinstance(constraint, UniqueConstraint)
    ]
    sets += [(c.name,) for c in table.columns if c.unique]
    return sorted(set(sets))


def _existing_tuples(
    conn: Connection, table: Table, columns: tuple[str, ...], wanted: set[tuple[Any, ...]]
) -> set[tuple[Any, ...]]:
    """Which of `wanted` (values of `columns`) the table already holds; queried by the first column."""
    found: set[tuple[Any, ...]] = set()
    firsts = sorted({key[0] for key in wanted})
    for batch in _batches(firsts, ID_QUERY_BATCH):
        query = select(*(table.c[c] for c in columns)).where(table.c[columns[0]].in_(batch))
        found.update(tuple(row) for row in conn.execute(query) if tuple(row) in wanted)
    return found


def _existing_ids(conn: Connection, wanted: dict[str, set[str]]) -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    for kind, ids in wanted.items():
        table = table_of(kind)
        for batch in _batches(sorted(ids), ID_QUERY_BATCH):
            for (record_id,) in conn.execute(select(table.c.id).where(table.c.id.in_(batch))):
                found.add((kind, record_id))
    return found


def _chunks(items: Iterable[Incoming], size: int, chars: int) -> Iterator[list[Incoming]]:
    chunk: list[Incoming] = []
    held = 0
    for item in items:
        chunk.append(item)
        held += len(item.raw_text)
        if len(chunk) >= size or held >= chars:
            yield chunk
            chunk = []
            held = 0
    if chunk:
        yield chunk


def _batches(values: list[Any], size: int) -> Iterator[list[str]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]
