"""Reporting use cases: statistics (internal and public), estimation, exports, evidence packages.

Access: statistics need `register.stats` (suspect counts also `suspect.view`),
exports `register.export`, packages `evidence.export` on the incident. Public
statistics are for everyone: they never contain suspects or units, and every
published cell passes disclosure control (`svidok.reports.disclosure`), checked
by linear programming before anything is returned.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, select

from svidok.errors import ConfigError, InputError
from svidok.reports import disclosure, exports, mse
from svidok.reports.stats import count_tables, to_csv, totals
from svidok.services.context import ServiceContext
from svidok.services.register import as_context
from svidok.store.register import Store, table_of

__all__ = [
    "DEFAULT_LISTS",
    "capture_histories",
    "estimate_victims",
    "export",
    "public_statistics",
    "statistics",
    "statistics_csv",
]


def statistics(target: ServiceContext | Store) -> dict[str, Any]:
    """Counts by day, place, violation type, unit and status, within the actor's compartments."""
    ctx = as_context(target)
    ctx.require("register.stats")
    suspects = ctx.can("suspect.view")
    with ctx.store.read() as conn:
        return {
            "totals": totals(ctx, conn, suspects=suspects),
            "tables": count_tables(ctx, conn, suspects=suspects),
            "suspects_included": suspects,
        }


def _labels(conn: Connection, kind: str) -> dict[str, str]:
    table = table_of(kind)
    return {str(r[0]): str(r[1]) for r in conn.execute(select(table.c.id, table.c.name))}


def statistics_csv(target: ServiceContext | Store, out_dir: Path) -> list[Path]:
    """The numbers behind every chart, one CSV per dimension (`by_<dimension>.csv`)."""
    ctx = as_context(target)
    stats = statistics(ctx)
    out_dir.mkdir(parents=True, exist_ok=True)
    with ctx.store.read() as conn:
        names = {"place": _labels(conn, "place"), "unit": _labels(conn, "unit")}
    written = []
    for dim, rows in stats["tables"].items():
        path = out_dir / f"by_{dim}.csv"
        labels = names.get(dim, {})
        path.write_text(to_csv(rows, labels.get if labels else None), encoding="utf-8")
        written.append(path)
    return written


def _partition(name: str, group: str, rows: list[dict[str, Any]], measure: str, key: Any) -> disclosure.Table:
    cells: dict[str, int] = defaultdict(int)
    for row in rows:
        cells[key(row)] += int(row[measure] or 0)
    return disclosure.Table(name, group, [disclosure.Cell(k, v) for k, v in sorted(cells.items())])


def public_statistics(target: ServiceContext | Store) -> dict[str, Any]:
    """Published statistics: one-way tables of incidents and acts, small counts suppressed.

    Tables: incidents by month, place and status; acts by violation type and month;
    the number of victims (suppressed under the threshold). No suspects, no units.
    """
    ctx = as_context(target)
    with ctx.store.read() as conn:
        tables = count_tables(ctx, conn, suspects=False, dimensions=("day", "place", "violation", "status"))
        total = totals(ctx, conn, suspects=False)
        places = _labels(conn, "place")
    month = lambda r: str(r["key"])[:7]  # noqa: E731
    plain = lambda r: str(r["key"])  # noqa: E731
    published = [
        _partition("incidents_by_month", "incidents", tables["day"], "incidents", month),
        _partition("incidents_by_place", "incidents", tables["place"], "incidents", plain),
        _partition("incidents_by_status", "incidents", tables["status"], "incidents", plain),
        _partition("acts_by_violation", "acts", tables["violation"], "acts", plain),
        _partition("acts_by_month", "acts", tables["day"], "acts", month),
    ]
    disclosure.suppress_all(published)
    problems = disclosure.audit(published)
    if problems:
        raise ConfigError("disclosure control failed: " + "; ".join(problems))
    out = [t.public() for t in published]
    for table in out:
        if table["name"] == "incidents_by_place":
            for cell in table["cells"]:  # type: ignore[attr-defined]
                cell["label"] = places.get(cell["key"], cell["key"])
    victims = total["victims"]
    return {
        "threshold": disclosure.THRESHOLD,
        "method": (
            f"Counts from 1 to {disclosure.THRESHOLD - 1} are withheld; further cells are withheld so that "
            f"the withheld cells of each table number at least two and add up to at least "
            f"{disclosure.MIN_HIDDEN_SUM}, and a linear-programming audit confirms that no withheld "
            "count can be worked out from the published tables and totals. Suspects are never published."
        ),
        "totals": {
            "incidents": total["incidents"] if published[0].total_shown else None,
            "acts": total["acts"] if published[3].total_shown else None,
            "victims": victims if victims == 0 or victims >= disclosure.THRESHOLD else None,
        },
        "tables": out,
    }


# -- multiple systems estimation -------------------------------------------------------------------

DEFAULT_LISTS = ("testimonies", "custody_records", "missing_reports", "register_acts")


def _list_members(ctx: ServiceContext, conn: Connection, name: str) -> set[str]:
    if name == "testimonies":
        mention, source = table_of("mention"), table_of("source")
        query = (
            select(mention.c.person_id)
            .join(source, mention.c.source_id == source.c.id)
            .where(mention.c.role == "victim", mention.c.person_id.is_not(None), source.c.kind == "testimony")
            .where(ctx.visible("source", source.c.id))
        )
    elif name == "custody_records":
        cr = table_of("custody_record")
        query = select(cr.c.person_id).where(
            cr.c.person_id.is_not(None), ctx.visible("custody_record", cr.c.id)
        )
    elif name == "missing_reports":
        mc = table_of("missing_case")
        query = select(mc.c.person_id).where(
            mc.c.person_id.is_not(None), ctx.visible("missing_case", mc.c.id)
        )
    elif name == "register_acts":
        act = table_of("act")
        query = select(act.c.victim_id).where(act.c.victim_id.is_not(None), ctx.visible("act", act.c.id))
    elif name.startswith("origin:"):
        mention, source = table_of("mention"), table_of("source")
        query = (
            select(mention.c.person_id)
            .join(source, mention.c.source_id == source.c.id)
            .where(mention.c.role == "victim", mention.c.person_id.is_not(None))
            .where(source.c.origin == name.split(":", 1)[1], ctx.visible("source", source.c.id))
        )
    else:
        raise InputError(
            f"unknown list {name!r}; lists: {', '.join(DEFAULT_LISTS)} or origin:<source origin>"
        )
    return {str(r[0]) for r in conn.execute(query.distinct())}


def capture_histories(
    target: ServiceContext | Store, lists: tuple[str, ...] = DEFAULT_LISTS
) -> dict[tuple[int, ...], int]:
    """Pattern (1 = on that list) → number of victims: the only thing estimation sees (STAT-01)."""
    ctx = as_context(target)
    ctx.require("register.stats")
    with ctx.store.read() as conn:
        members = [_list_members(ctx, conn, name) for name in lists]
    everyone = set().union(*members)
    counts: dict[tuple[int, ...], int] = defaultdict(int)
    for pid in everyone:
        counts[tuple(int(pid in m) for m in members)] += 1
    return dict(counts)


def estimate_victims(
    target: ServiceContext | Store,
    lists: tuple[str, ...] = DEFAULT_LISTS,
    *,
    criterion: str = "aic",
    bootstrap: int = 300,
    seed: int = 1,
) -> mse.Estimate:
    """Multiple systems estimate of all victims from the register's lists."""
    return mse.estimate(
        list(lists), capture_histories(target, lists), criterion=criterion, bootstrap=bootstrap, seed=seed
    )


# -- exports -------------------------------------------------------------------------------------------


def export(
    target: ServiceContext | Store, fmt: str, out: Path, *, record_types: list[str] | None = None
) -> dict[str, Any]:
    """Export the records in reach as `ftm` (FtM JSON lines), `csv` (a directory) or `jsonl`. Audited.

    `record_types` narrows a CSV export to those record types (one file each)."""
    ctx = as_context(target)
    ctx.require("register.export")
    if record_types is not None and fmt != "csv":
        raise InputError("only a CSV export can be narrowed to record types")
    with ctx.store.read() as conn:
        if fmt == "ftm":
            written: dict[str, Any] = {"entities": exports.write_ftm(ctx, conn, out)}
        elif fmt == "csv":
            written = exports.write_csv(ctx, conn, out, record_types)
        elif fmt == "jsonl":
            written = exports.write_jsonl(ctx, conn, out)
        else:
            raise InputError(f"unknown export format {fmt!r}; formats: ftm, csv, jsonl")
    digest = _digest(out)
    details: dict[str, Any] = {"format": fmt, "sha256": digest, "records": _sum(written)}
    if fmt != "ftm":
        details["types"] = sorted(written)
    with ctx.store.begin() as conn:
        ctx.record(conn, "register.export", None, None, details)
    return written


def _sum(written: dict[str, Any]) -> int:
    return sum(int(v) for v in written.values())


def _digest(path: Path) -> str:
    sha = hashlib.sha256()
    files = sorted(path.iterdir()) if path.is_dir() else [path]
    for item in files:
        with item.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                sha.update(block)
    return sha.hexdigest()
