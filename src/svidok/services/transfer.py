"""Lossless JSON Lines export and import of the whole register.

Format: one record per line, `{"record": "<kind>", <every column in table order>}`,
UTF-8, times as ISO 8601 UTC with a `Z`. Kinds come in dependency order; within
a kind records are sorted by id, except places and units, which are sorted so
that a parent always precedes its children (ties by id). Export → import into an
empty register → export gives a byte-identical file.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol, TextIO

from sqlalchemy import ColumnElement, Connection, Table, select

from svidok.errors import InputError
from svidok.services.incoming import Incoming
from svidok.store.models import RECORD_TABLES
from svidok.store.register import Store, table_of

STREAM_BATCH = 10_000
MAX_LINE_BYTES = 8 << 20
"""One record's line; testimony text from the web form is at most 20,000 characters."""
BOM = b"\xef\xbb\xbf"
SELF_REFERENCING = {"place": "parent_id", "unit": "parent_id"}


def export_form(kind: str, record: dict[str, Any]) -> dict[str, Any]:
    """A record as it appears in the export: `record` (its kind) first, then columns in table order."""
    out: dict[str, Any] = {"record": kind}
    for column in table_of(kind).columns:
        value = record.get(column.name)
        if isinstance(value, datetime):
            value = value.isoformat() + "Z"
        out[column.name] = value
    return out


def dumps(form: dict[str, Any]) -> str:
    return json.dumps(form, ensure_ascii=False, separators=(",", ":"))


class View(Protocol):
    """What an actor may see: a WHERE clause per kind and a mask for protected fields."""

    def visible(self, kind: str, id_column: ColumnElement[Any]) -> ColumnElement[bool]: ...

    def mask(self, conn: Connection, kind: str, rows: list[dict[str, Any]]) -> list[dict[str, Any]]: ...

    def can(self, operation: str) -> bool: ...


def export_jsonl(
    store: Store, out_path: Path, kinds: list[str] | None = None, view: View | None = None
) -> dict[str, int]:
    """Write the register to `out_path` atomically; return the number of records per kind.

    With a `view`, only what that actor may see is written, masked (the lossless
    round trip holds for the full register, i.e. without a view).
    """
    counts: dict[str, int] = {}
    tmp = out_path.with_name(out_path.name + ".tmp")
    out_path.parent.mkdir(parents=True, exist_ok=True)
    with store.read() as conn, tmp.open("w", encoding="utf-8", newline="\n") as out:
        for kind in kinds or list(RECORD_TABLES):
            counts[kind] = (
                _write_kind(conn, kind, out) if view is None else _write_viewed(conn, kind, out, view)
            )
    os.replace(tmp, out_path)
    return counts


def _write_viewed(conn: Connection, kind: str, out: TextIO, view: View) -> int:
    table = table_of(kind)
    query = select(table).where(view.visible(kind, table.c.id)).order_by(table.c.id)
    if kind == "link" and not view.can("suspect.view"):
        query = query.where(table.c.kind != "suspect_act")
    written = 0
    result = conn.execute(query, execution_options={"stream_results": True, "yield_per": STREAM_BATCH})
    while batch := result.mappings().fetchmany(STREAM_BATCH):
        for row in view.mask(conn, kind, [dict(r) for r in batch]):
            out.write(dumps(export_form(kind, row)) + "\n")
            written += 1
    return written


def _write_kind(conn: Connection, kind: str, out: TextIO) -> int:
    table = table_of(kind)
    written = 0
    if kind in SELF_REFERENCING:
        for row in _parents_first(conn, table, SELF_REFERENCING[kind]):
            out.write(dumps(export_form(kind, row)) + "\n")
            written += 1
        return written
    result = conn.execute(
        select(table).order_by(table.c.id),
        execution_options={"stream_results": True, "yield_per": STREAM_BATCH},
    )
    for mapping in result.mappings():
        out.write(dumps(export_form(kind, dict(mapping))) + "\n")
        written += 1
    return written


def _parents_first(conn: Connection, table: Table, parent_column: str) -> Iterator[dict[str, Any]]:
    """Rows ordered so each parent precedes its children; gazetteers and unit trees are small."""
    rows = {row["id"]: dict(row) for row in conn.execute(select(table)).mappings()}
    children: dict[str | None, list[str]] = {}
    for record_id, row in rows.items():
        parent = row[parent_column] if row[parent_column] in rows else None
        children.setdefault(parent, []).append(record_id)
    frontier = sorted(children.get(None, []))
    while frontier:
        next_level: list[str] = []
        for record_id in frontier:
            yield rows[record_id]
            next_level.extend(children.get(record_id, []))
        frontier = sorted(next_level)


def read_jsonl(path: Path) -> Iterator[Incoming]:
    """Records of a JSON Lines file, with a parse error in place of any unreadable line.

    Lines are read as bytes and decoded one by one, so a line that is not UTF-8
    is named by its own number and the lines after it are still read; its text
    keeps the bad bytes (surrogate escapes) for a verbatim reject file. A line
    longer than `MAX_LINE_BYTES` refuses the whole file (`InputError`): reading
    it would cost memory without bound, and a reject file could not hold it
    verbatim without doing so.
    """
    with path.open("rb") as handle:
        line_no = 0
        while True:
            raw = handle.readline(MAX_LINE_BYTES + 1)
            if not raw:
                return
            line_no += 1
            if len(raw) > MAX_LINE_BYTES:
                raise InputError(
                    f"{path}:{line_no}: line is longer than {MAX_LINE_BYTES // (1 << 20)} MiB; "
                    "nothing was imported"
                )
            if line_no == 1 and raw.startswith(BOM):
                raw = raw[len(BOM) :]
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                yield Incoming(
                    line_no,
                    raw.decode("utf-8", "surrogateescape"),
                    None,
                    None,
                    parse_error=f"not valid UTF-8 (byte {exc.start + 1} of the line)",
                )
                continue
            if not text.strip():
                continue
            yield _parse_line(line_no, text)


def _parse_line(line_no: int, text: str) -> Incoming:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        return Incoming(
            line_no, text, None, None, parse_error=f"not valid JSON ({exc.msg}, column {exc.colno})"
        )
    except RecursionError:
        return Incoming(line_no, text, None, None, parse_error="JSON nested too deeply")
    except ValueError:  # an integer of more than 4,300 digits (Python's guard against slow parsing)
        return Incoming(line_no, text, None, None, parse_error="a number in the line has too many digits")
    if not isinstance(data, dict):
        return Incoming(line_no, text, None, None, parse_error="a line must hold one JSON object")
    kind = data.pop("record", None)
    if not isinstance(kind, str):
        return Incoming(line_no, text, None, None, parse_error='missing "record" naming the record kind')
    return Incoming(line_no, text, kind, data)
