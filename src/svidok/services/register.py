"""Register-wide use cases: create, import, export, count, show one record."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import or_, select

from svidok.errors import InputError, NotFound
from svidok.services import csv_import, transfer
from svidok.services.importer import Importer, ImportReport
from svidok.settings import Settings
from svidok.store.models import RECORD_TABLES
from svidok.store.register import Store, table_of

CHILDREN: dict[str, list[tuple[str, str]]] = {
    "incident": [("act", "incident_id")],
    "act": [("involvement", "act_id")],
    "person": [("person_name", "person_id"), ("membership", "person_id"), ("mention", "person_id")],
    "source": [("mention", "source_id"), ("evidence", "source_id")],
    "unit": [("membership", "unit_id"), ("deployment", "unit_id"), ("unit", "parent_id")],
    "place": [("place", "parent_id")],
}
"""Records listed under a record when it is shown."""


def init_register(settings: Settings) -> Store:
    """Create the register (or bring its schema up to date)."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return Store.open(settings, create=True)


def import_file(
    store: Store,
    path: Path,
    *,
    mapping: Path | None = None,
    reject_file: Path | None = None,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Import a JSON Lines export or, with a mapping, a CSV file."""
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    importer = Importer(store, str(path), reject_file=reject_file, progress=progress)
    if mapping is not None:
        header, rows = csv_import.read_csv(store, path, csv_import.load_mapping(mapping))
        return importer.run(rows, header=header)
    if path.suffix.lower() == ".csv":
        raise InputError(f"{path}: a CSV import needs --mapping FILE (see docs/import.md)")
    return importer.run(transfer.read_jsonl(path))


def export_register(store: Store, out: Path) -> dict[str, int]:
    return transfer.export_jsonl(store, out)


def show(store: Store, kind: str, record_id: str) -> dict[str, Any]:
    """One record with the sources it rests on, its links and the records listed under it."""
    table = table_of(kind)
    with store.read() as conn:
        row = conn.execute(select(table).where(table.c.id == record_id)).mappings().first()
        if row is None:
            raise NotFound(kind, record_id)
        citation = table_of("citation")
        cites = conn.execute(
            select(citation)
            .where(citation.c.subject_kind == kind, citation.c.subject_id == record_id)
            .order_by(citation.c.field, citation.c.source_id)
        ).mappings()
        link = table_of("link")
        links = conn.execute(
            select(link)
            .where(or_(link.c.from_id == record_id, link.c.to_id == record_id))
            .order_by(link.c.kind, link.c.id)
        ).mappings()
        shown: dict[str, Any] = {
            "record": transfer.export_form(kind, dict(row)),
            "sources": [transfer.export_form("citation", dict(c)) for c in cites],
            "links": [transfer.export_form("link", dict(li)) for li in links],
        }
        for child_kind, column in CHILDREN.get(kind, []):
            child = table_of(child_kind)
            rows = conn.execute(
                select(child).where(child.c[column] == record_id).order_by(child.c.id).limit(200)
            ).mappings()
            shown.setdefault("related", {})[child_kind] = [
                transfer.export_form(child_kind, dict(r)) for r in rows
            ]
    return shown


def record_kinds() -> list[str]:
    return list(RECORD_TABLES)
