"""CSV import with a column mapping file: bulk testimonies, custody lists, rosters.

A mapping file (YAML) says which record kind each CSV row becomes and where
each field comes from:

    record: custody_record
    key: [Log no]                 # columns that identify a row across re-imports
    delimiter: ","                # optional; default ","
    fields:
      recorded_name: {column: Name}
      facility_id:   {column: Facility, lookup: place}    # a place by name
      held_from:     {column: Admitted, format: "%d.%m.%Y %H:%M", utc_offset: "+03:00"}
      injuries:      {column: Injuries, split: ";", map: {синяки: bruising}}
      release_kind:  {value: released}                    # a constant

Record ids are derived from the mapping's record kind and the key columns, so
re-importing the same file creates no duplicates. Every row goes through the
same validation as JSON Lines; messages name the CSV line and column.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select

from svidok.domain.values import ID_PREFIXES
from svidok.errors import InputError
from svidok.services.incoming import Incoming
from svidok.store.models import RECORD_TABLES
from svidok.store.register import Store, table_of

LOOKUP_KINDS = ("place", "unit", "source", "person")
MAX_FIELD_CHARS = 1_000_000


@dataclass(frozen=True)
class FieldRule:
    """Where one record field comes from."""

    target: str
    column: str | None = None
    value: Any = None
    lookup: str | None = None
    time_format: str | None = None
    utc_offset: str | None = None
    split: str | None = None
    mapping: dict[str, str] | None = None


@dataclass(frozen=True)
class Mapping:
    """A parsed mapping file."""

    record: str
    key: tuple[str, ...]
    fields: tuple[FieldRule, ...]
    delimiter: str = ","

    @property
    def columns(self) -> set[str]:
        return {rule.column for rule in self.fields if rule.column} | set(self.key)


def load_mapping(path: Path) -> Mapping:
    """Read and check a mapping file; errors name the mapping file and the entry."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise InputError(f"{path}: cannot read mapping ({type(exc).__name__})") from None
    if not isinstance(data, dict):
        raise InputError(f"{path}: a mapping file must be a YAML object")
    record = data.get("record")
    if record not in RECORD_TABLES or record == "link":
        raise InputError(f"{path}: record: {record!r} is not an importable kind")
    columns = {c.name for c in table_of(record).columns}
    rules: list[FieldRule] = []
    for target, spec in (data.get("fields") or {}).items():
        if target not in columns or target == "id":
            raise InputError(f"{path}: fields.{target}: not a field of {record}")
        if not isinstance(spec, dict) or ("column" in spec) == ("value" in spec):
            raise InputError(f"{path}: fields.{target}: give exactly one of 'column' or 'value'")
        lookup = spec.get("lookup")
        if lookup is not None and lookup not in LOOKUP_KINDS:
            raise InputError(f"{path}: fields.{target}: lookup must be one of {', '.join(LOOKUP_KINDS)}")
        rules.append(
            FieldRule(
                target=target,
                column=spec.get("column"),
                value=spec.get("value"),
                lookup=lookup,
                time_format=spec.get("format"),
                utc_offset=spec.get("utc_offset"),
                split=spec.get("split"),
                mapping={str(k).casefold(): str(v) for k, v in (spec.get("map") or {}).items()},
            )
        )
    key = data.get("key") or []
    if not isinstance(key, list) or not all(isinstance(k, str) for k in key):
        raise InputError(f"{path}: key: must be a list of column names")
    if not key:
        key = sorted({rule.column for rule in rules if rule.column})
    return Mapping(record=record, key=tuple(key), fields=tuple(rules), delimiter=data.get("delimiter", ","))


class Lookups:
    """Names of places, units, sources and persons resolved to ids, loaded once per import."""

    def __init__(self, store: Store, kinds: set[str]) -> None:
        self._index: dict[str, dict[str, set[str]]] = {}
        with store.read() as conn:
            for kind in kinds:
                table = table_of(kind)
                index: dict[str, set[str]] = {}
                name_columns = [c for c in ("name", "abbreviation", "external_ref") if c in table.c]
                for row in conn.execute(select(table)).mappings():
                    labels = [row["id"]] + [row[c] for c in name_columns if row[c]]
                    if "names" in table.c and row["names"]:
                        labels.extend(row["names"].values())
                    for label in labels:
                        index.setdefault(str(label).casefold().strip(), set()).add(row["id"])
                self._index[kind] = index

    def resolve(self, kind: str, label: str) -> str:
        ids = self._index[kind].get(label.casefold().strip(), set())
        if len(ids) == 1:
            return next(iter(ids))
        if not ids:
            raise ValueError(f"no {kind} has the name given in this cell")
        raise ValueError(f"{len(ids)} {kind} records have the name given in this cell; use an id")


def read_csv(store: Store, path: Path, mapping: Mapping) -> tuple[str, Iterator[Incoming]]:
    """The header line and the records of a CSV file under `mapping`."""
    handle = path.open("r", encoding="utf-8-sig", newline="")
    header_text = handle.readline()
    header = next(csv.reader([header_text], delimiter=mapping.delimiter), [])
    missing = sorted(mapping.columns - set(header))
    if missing:
        handle.close()
        raise InputError(f"{path}: line 1: columns missing from the header: {', '.join(missing)}")
    lookups = Lookups(store, {rule.lookup for rule in mapping.fields if rule.lookup})
    return header_text, _rows(handle, header, mapping, lookups)


def _rows(
    handle: io.TextIOWrapper, header: list[str], mapping: Mapping, lookups: Lookups
) -> Iterator[Incoming]:
    labels = {
        rule.target: f"{rule.target} (column {rule.column!r})" for rule in mapping.fields if rule.column
    }
    csv.field_size_limit(MAX_FIELD_CHARS)
    with handle:
        line_no = 1
        while True:
            raw = _read_record(handle)
            if raw is None:
                return
            text, lines = raw
            line_no += lines
            start_line = line_no - lines + 1
            if not text.strip():
                continue
            yield _convert(start_line, text, header, mapping, lookups, labels)


def _read_record(handle: io.TextIOWrapper) -> tuple[str, int] | None:
    """One CSV record's raw text, which may span lines inside quotes."""
    text = handle.readline()
    if not text:
        return None
    lines = 1
    while text.count('"') % 2 == 1:
        more = handle.readline()
        if not more:
            break
        text += more
        lines += 1
    return text, lines


def _convert(
    line: int, text: str, header: list[str], mapping: Mapping, lookups: Lookups, labels: dict[str, str]
) -> Incoming:
    try:
        cells = next(csv.reader([text], delimiter=mapping.delimiter, strict=True))
    except csv.Error as exc:
        return Incoming(line, text, None, None, parse_error=f"malformed CSV ({exc})")
    if len(cells) != len(header):
        return Incoming(
            line, text, None, None, parse_error=f"has {len(cells)} cells, the header has {len(header)}"
        )
    row = dict(zip(header, cells, strict=True))
    record: dict[str, Any] = {}
    for rule in mapping.fields:
        try:
            record[rule.target] = _field_value(rule, row, lookups)
        except ValueError as exc:
            return Incoming(
                line, text, None, None, parse_error=f"{labels.get(rule.target, rule.target)}: {exc}"
            )
    key_text = "\x1f".join([mapping.record, *(row[k] for k in mapping.key)])
    digest = hashlib.sha256(key_text.encode("utf-8")).hexdigest()[:24]
    record["id"] = f"{ID_PREFIXES[mapping.record]}_{digest}"
    return Incoming(line, text, mapping.record, record, from_text=True, field_labels=labels)


def _field_value(rule: FieldRule, row: dict[str, str], lookups: Lookups) -> Any:
    if rule.column is None:
        return rule.value
    cell = row[rule.column].strip()
    if cell == "":
        return ""
    if rule.split:
        parts = [p.strip() for p in cell.split(rule.split) if p.strip()]
        if rule.mapping:
            parts = [rule.mapping.get(p.casefold(), p) for p in parts]
        return ";".join(parts)
    if rule.mapping:
        cell = rule.mapping.get(cell.casefold(), cell)
    if rule.lookup:
        return lookups.resolve(rule.lookup, cell)
    if rule.time_format:
        try:
            moment = datetime.strptime(cell, rule.time_format)
        except ValueError:
            raise ValueError(f"does not match the time format {rule.time_format}") from None
        if rule.utc_offset and moment.tzinfo is None:
            moment = moment.replace(tzinfo=_offset(rule.utc_offset))
        return moment.isoformat()
    return cell


def _offset(text: str) -> timezone:
    sign = -1 if text.startswith("-") else 1
    hours, _, minutes = text.lstrip("+-").partition(":")
    return timezone(sign * timedelta(hours=int(hours), minutes=int(minutes or 0)))
