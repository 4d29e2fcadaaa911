"""Register-wide use cases: create, import, export, count, show one record."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, func, or_, select

from svidok.errors import InputError, NotFound
from svidok.reports import index as search_index
from svidok.services import csv_import, transfer
from svidok.services.accounts import file_records, filing_compartments
from svidok.services.context import Actor, ServiceContext
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


def as_context(target: ServiceContext | Store) -> ServiceContext:
    """A bare Store (tools, tests) acts as the system with no audit sink; the CLI passes a full context."""
    if isinstance(target, ServiceContext):
        return target
    return ServiceContext(target, Actor("system"))


def init_register(settings: Settings) -> Store:
    """Create an unencrypted register (tests and tools; `svidok init` makes an encrypted one)."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return Store.open(settings, create=True)


def counts(target: ServiceContext | Store) -> dict[str, int]:
    """Number of records of every kind the actor may see."""
    ctx = as_context(target)
    ctx.require("register.stats")
    out: dict[str, int] = {}
    with ctx.store.read() as conn:
        for kind in RECORD_TABLES:
            table = table_of(kind)
            query = select(func.count()).select_from(table).where(ctx.visible(kind, table.c.id))
            out[kind] = int(conn.execute(query).scalar_one())
    return out


def import_file(
    target: ServiceContext | Store,
    path: Path,
    *,
    mapping: Path | None = None,
    reject_file: Path | None = None,
    progress: Callable[[int], None] | None = None,
    compartments: list[str] | None = None,
) -> ImportReport:
    """Import a JSON Lines export or, with a mapping, a CSV file; one audit entry for the batch.

    New records are filed into `compartments` (by default the importing user's own).
    """
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    ctx = as_context(target)
    ctx.require("register.import")
    filing = filing_compartments(ctx, "source", compartments)
    store = ctx.store

    def audit(conn: Connection, report: ImportReport) -> None:
        for kind, ids in report.inserted_ids.items():
            file_records(conn, kind, ids, filing)
        ctx.record(
            conn,
            "register.import",
            None,
            None,
            {
                "file_sha256": _sha256(path),
                "inserted": report.inserted_total,
                "kinds": sorted(f"{kind}:{n}" for kind, n in report.inserted.items()),
                "unchanged": report.unchanged,
                "rejected": report.rejected,
            },
        )

    importer = Importer(
        store, str(path), reject_file=reject_file, progress=progress, on_commit=audit, track_ids=True
    )
    if mapping is not None:
        header, rows = csv_import.read_csv(store, path, csv_import.load_mapping(mapping))
        report = importer.run(rows, header=header)
    elif path.suffix.lower() == ".csv":
        raise InputError(f"{path}: a CSV import needs --mapping FILE (see docs/import.md)")
    else:
        report = importer.run(transfer.read_jsonl(path))
    for kind, ids in report.inserted_ids.items():  # the search index follows the register
        search_index.refresh(store, kind, ids)
    return report


def export_register(target: ServiceContext | Store, out: Path) -> dict[str, int]:
    """Write the register as JSON Lines: every record the actor may see, protected fields masked
    as their role requires; the export is an audit entry."""
    ctx = as_context(target)
    ctx.require("register.export")
    written = transfer.export_jsonl(ctx.store, out, view=None if ctx.is_system else ctx)
    with ctx.store.begin() as conn:
        ctx.record(
            conn,
            "register.export",
            None,
            None,
            {"records": sum(written.values()), "file_sha256": _sha256(out)},
        )
    return written


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def show(target: ServiceContext | Store, kind: str, record_id: str) -> dict[str, Any]:
    """One record with the sources it rests on, its links and the records listed under it.

    Showing a record reads its protected fields, so it is an audit entry.
    """
    ctx = as_context(target)
    if kind not in RECORD_TABLES:
        table_of(kind)  # a clear error for an unknown kind
    ctx.require_record("record.view", kind, record_id)
    table = table_of(kind)

    def form(conn: Connection, of: str, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [transfer.export_form(of, r) for r in ctx.mask(conn, of, rows)]

    with ctx.store.begin() as conn:
        row = conn.execute(select(table).where(table.c.id == record_id)).mappings().first()
        if row is None:
            raise NotFound(kind, record_id)
        citation = table_of("citation")
        cites = conn.execute(
            select(citation)
            .where(citation.c.subject_kind == kind, citation.c.subject_id == record_id)
            .where(ctx.visible("citation", citation.c.id), ctx.visible("source", citation.c.source_id))
            .order_by(citation.c.field, citation.c.source_id)
        ).mappings()
        link = table_of("link")
        link_query = (
            select(link)
            .where(
                or_(link.c.from_id == record_id, link.c.to_id == record_id), ctx.visible("link", link.c.id)
            )
            .order_by(link.c.kind, link.c.id)
        )
        if not ctx.can("suspect.view"):  # suspect candidates are a compartment of their own
            link_query = link_query.where(link.c.kind != "suspect_act")
        shown: dict[str, Any] = {
            "record": form(conn, kind, [dict(row)])[0],
            "sources": form(conn, "citation", [dict(c) for c in cites]),
            "links": form(conn, "link", [dict(li) for li in conn.execute(link_query).mappings()]),
        }
        for child_kind, column in CHILDREN.get(kind, []):
            child = table_of(child_kind)
            rows = conn.execute(
                select(child)
                .where(child.c[column] == record_id, ctx.visible(child_kind, child.c.id))
                .order_by(child.c.id)
                .limit(200)
            ).mappings()
            shown.setdefault("related", {})[child_kind] = form(conn, child_kind, [dict(r) for r in rows])
        ctx.record(conn, "record.view", kind, record_id)
    return shown


def record_kinds() -> list[str]:
    return list(RECORD_TABLES)
