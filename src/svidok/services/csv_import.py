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
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, BinaryIO

import yaml
from sqlalchemy import select

from svidok.domain.values import ID_PREFIXES
from svidok.errors import InputError
from svidok.services.incoming import Incoming
from svidok.services.validation import field_label, shown
from svidok.store.models import RECORD_TABLES
from svidok.store.register import Store, table_of

LOOKUP_KINDS = ("place", "unit", "source", "person")
MAX_FIELD_CHARS = 1_000_000
MAX_RECORD_BYTES = 8 << 20
"""One CSV record (all its lines, when a quoted cell spans lines); more refuses the file."""
BOM = b"\xef\xbb\xbf"
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


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
    if not isinstance(record, str) or record not in RECORD_TABLES or record == "link":
        raise InputError(f"{path}: record: {shown(record)} is not an importable kind")
    columns = {c.name for c in table_of(record).columns}
    fields = data.get("fields") or {}
    if not isinstance(fields, dict):
        raise InputError(f"{path}: fields: must map record fields to their sources")
    rules = [_rule(path, record, columns, target, spec) for target, spec in fields.items()]
    key = data.get("key") or []
    if not isinstance(key, list) or not all(isinstance(k, str) for k in key):
        raise InputError(f"{path}: key: must be a list of column names")
    if not key:
        key = sorted({rule.column for rule in rules if rule.column})
    delimiter = data.get("delimiter", ",")
    if not isinstance(delimiter, str) or len(delimiter) != 1 or delimiter in '"\r\n':
        raise InputError(f"{path}: delimiter: must be one character other than a quote or a line break")
    return Mapping(record=record, key=tuple(key), fields=tuple(rules), delimiter=delimiter)


def _rule(path: Path, record: str, columns: set[str], target: Any, spec: Any) -> FieldRule:
    if not isinstance(target, str) or target not in columns or target == "id":
        raise InputError(f"{path}: fields.{field_label(target)}: not a field of {record}")
    if not isinstance(spec, dict) or ("column" in spec) == ("value" in spec):
        raise InputError(f"{path}: fields.{target}: give exactly one of 'column' or 'value'")
    lookup = spec.get("lookup")
    if lookup is not None and lookup not in LOOKUP_KINDS:
        raise InputError(f"{path}: fields.{target}: lookup must be one of {', '.join(LOOKUP_KINDS)}")
    for name in ("column", "format", "utc_offset", "split"):
        if spec.get(name) is not None and not (isinstance(spec[name], str) and spec[name]):
            raise InputError(f"{path}: fields.{target}: {name} must be non-empty text")
    offset = spec.get("utc_offset")
    if offset is not None:
        try:
            _offset(offset)
        except ValueError:
            raise InputError(f"{path}: fields.{target}: utc_offset must look like +03:00") from None
    mapping = spec.get("map") or {}
    if not isinstance(mapping, dict):
        raise InputError(f"{path}: fields.{target}: map must map words to codes")
    return FieldRule(
        target=target,
        column=spec.get("column"),
        value=spec.get("value"),
        lookup=lookup,
        time_format=spec.get("format"),
        utc_offset=offset,
        split=spec.get("split"),
        mapping={str(k).casefold(): str(v) for k, v in mapping.items()},
    )


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
    """The header line and the records of a CSV file under `mapping`.

    The file is read as bytes, one record at a time, and decoded as UTF-8 (a BOM is skipped): a
    record that is not UTF-8 is a bad record named by its line, kept byte for byte (surrogate
    escapes) for the reject file. A UTF-16 file, a header that is not UTF-8 or a record longer than
    `MAX_RECORD_BYTES` (a quote never closed) refuses the whole file.
    """
    handle = path.open("rb")
    try:
        head = handle.read(2)
        if head in UTF16_BOMS:
            raise InputError(f"{path}: the file is UTF-16; save it as CSV UTF-8")
        handle.seek(0)
        first = _read_record(path, handle, 1)
        header_bytes = first[0] if first else b""
        if header_bytes.startswith(BOM):
            header_bytes = header_bytes[len(BOM) :]
        try:
            header_text = header_bytes.decode("utf-8")
        except UnicodeDecodeError:
            raise InputError(f"{path}: line 1: the header is not UTF-8; save the file as CSV UTF-8") from None
        try:
            header = next(csv.reader([header_text], delimiter=mapping.delimiter, strict=True), [])
        except csv.Error as exc:
            raise InputError(f"{path}: line 1: malformed CSV header ({exc})") from None
        missing = sorted(mapping.columns - set(header))
        if missing:
            listed = ", ".join(m if len(m) <= 40 and m.isprintable() else shown(m) for m in missing)
            raise InputError(f"{path}: line 1: columns missing from the header: {listed}")
        lookups = Lookups(store, {rule.lookup for rule in mapping.fields if rule.lookup})
    except BaseException:
        handle.close()
        raise
    return header_text, _rows(path, handle, header, mapping, lookups, 1 + (first[1] if first else 0))


def _rows(
    path: Path, handle: BinaryIO, header: list[str], mapping: Mapping, lookups: Lookups, line_no: int
) -> Iterator[Incoming]:
    labels = {
        rule.target: f"{rule.target} (column {rule.column!r})" for rule in mapping.fields if rule.column
    }
    csv.field_size_limit(MAX_FIELD_CHARS)
    with handle:
        while True:
            raw = _read_record(path, handle, line_no)
            if raw is None:
                return
            data, lines = raw
            start_line = line_no
            line_no += lines
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError as exc:
                yield Incoming(
                    start_line,
                    data.decode("utf-8", "surrogateescape"),
                    None,
                    None,
                    parse_error=f"not valid UTF-8 (byte {exc.start + 1} of the record): save as CSV UTF-8",
                )
                continue
            if not text.strip():
                continue
            yield _convert(start_line, text, header, mapping, lookups, labels)


def _read_record(path: Path, handle: BinaryIO, line_no: int) -> tuple[bytes, int] | None:
    """One CSV record's raw bytes, which may span lines inside quotes, and its number of lines."""
    first = handle.readline(MAX_RECORD_BYTES + 1)
    if not first:
        return None
    parts, size, quotes = [first], len(first), first.count(b'"')
    # quotes and size are counted per line: re-counting the growing record would be quadratic
    while quotes % 2 == 1 and size <= MAX_RECORD_BYTES:
        more = handle.readline(MAX_RECORD_BYTES + 1 - size)
        if not more:
            break
        parts.append(more)
        size += len(more)
        quotes += more.count(b'"')
    lines = len(parts)
    data = b"".join(parts)
    if size > MAX_RECORD_BYTES:
        raise InputError(
            f"{path}:{line_no}: a record is longer than {MAX_RECORD_BYTES >> 20} MiB "
            "(a quoted cell never closed?); nothing was imported"
        )
    return data, lines


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
