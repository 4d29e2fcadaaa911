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
from typing import Any

from sqlalchemy import Connection, select

from svidok.errors import ImportFailed, RecordProblem
from svidok.services.incoming import Incoming
from svidok.services.transfer import export_form
from svidok.services.validation import FieldProblems, cleaner
from svidok.store.models import RECORD_TABLES
from svidok.store.register import Store, insert_rows, table_of

CHUNK = 5_000
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
        self._rejected_lines: list[str] = []

    def run(self, items: Iterable[Incoming], header: str | None = None) -> ImportReport:
        """Import `items`; raise `ImportFailed` (nothing written) on any bad record without a reject file."""
        with self.store.begin() as conn:
            for chunk in _chunks(items, CHUNK):
                self._process(conn, chunk)
                if self.progress is not None:
                    self.progress(len(chunk))
            if self.report.problems and self.reject_file is None:
                conn.rollback()
                raise ImportFailed(self.report.problems)
            if self.on_commit is not None:
                self.on_commit(conn, self.report)
        if self.reject_file is not None:
            self._write_rejects(header)
        return self.report

    def _problem(self, item: Incoming, field_name: str | None, reason: str) -> None:
        label = item.field_labels.get(field_name or "", field_name)
        if len(self.report.problems) < MAX_PROBLEMS_KEPT:
            self.report.problems.append(RecordProblem(self.file_label, item.line, label, reason))

    def _reject(self, item: Incoming) -> None:
        self.report.rejected += 1
        self._rejected_lines.append(item.raw_text)

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
        accepted = self._check_references(conn, fresh)
        by_kind: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for entry in accepted:
            by_kind[entry.kind].append(entry.record)
        for kind in RECORD_TABLES:
            if by_kind.get(kind):
                insert_rows(conn, table_of(kind), by_kind[kind])
                self.report.inserted[kind] += len(by_kind[kind])
                if self.track_ids:
                    self.report.inserted_ids.setdefault(kind, []).extend(r["id"] for r in by_kind[kind])

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
                if key in position and position[key] >= index:
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
                self._reject(entry.item)
        return accepted

    def _write_rejects(self, header: str | None) -> None:
        assert self.reject_file is not None
        tmp = self.reject_file.with_name(self.reject_file.name + ".tmp")
        with tmp.open("w", encoding="utf-8", newline="") as out:
            if header is not None and self._rejected_lines:
                out.write(header if header.endswith("\n") else header + "\n")
            for text in self._rejected_lines:
                out.write(text if text.endswith("\n") else text + "\n")
        os.replace(tmp, self.reject_file)


def _existing_ids(conn: Connection, wanted: dict[str, set[str]]) -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    for kind, ids in wanted.items():
        table = table_of(kind)
        for batch in _batches(sorted(ids), ID_QUERY_BATCH):
            for (record_id,) in conn.execute(select(table.c.id).where(table.c.id.in_(batch))):
                found.add((kind, record_id))
    return found


def _chunks(items: Iterable[Incoming], size: int) -> Iterator[list[Incoming]]:
    chunk: list[Incoming] = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _batches(values: list[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]
