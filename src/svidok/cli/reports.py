"""`svidok search`, `svidok report stats|export|estimate|reindex`, `svidok package incident|verify`."""

from __future__ import annotations

import json
import os
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from svidok.cli.context import actor_name, open_service, settings_of
from svidok.errors import InputError
from svidok.reports import index
from svidok.services import reporting
from svidok.services.context import Actor, ServiceContext
from svidok.services.search import SearchFilters
from svidok.services.search import search as run_search

console = Console()
report_app = typer.Typer(help="Statistics, estimates, exports and the search index.", no_args_is_help=True)
package_app = typer.Typer(help="Evidence packages for prosecutors.", no_args_is_help=True)


def _date(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise InputError(f"{option}: {value!r} is not a date (YYYY-MM-DD)") from exc


def search(
    ctx: typer.Context,
    query: Annotated[str, typer.Argument(help='Words, "a phrase", -excluded; any script.')],
    kind: Annotated[
        list[str] | None, typer.Option("--kind", help="source, incident, person, unit, place.")
    ] = None,
    date_from: Annotated[str | None, typer.Option("--from", help="From day (YYYY-MM-DD).")] = None,
    date_to: Annotated[str | None, typer.Option("--to", help="To day (YYYY-MM-DD), inclusive.")] = None,
    place: Annotated[str | None, typer.Option(help="Place id (its sub-places included).")] = None,
    violation: Annotated[list[str] | None, typer.Option("--violation", help="Violation type code.")] = None,
    unit: Annotated[list[str] | None, typer.Option("--unit", help="Unit id (sub-units included).")] = None,
    status: Annotated[list[str] | None, typer.Option("--status", help="Incident status.")] = None,
    lang: Annotated[str | None, typer.Option(help="Language of the source.")] = None,
    compartment: Annotated[str | None, typer.Option(help="Only records in this compartment.")] = None,
    limit: Annotated[int, typer.Option(help="Hits to show.")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Search testimonies, incidents, persons, units and places (ranked, highlighted, with facets)."""
    filters = SearchFilters(
        kinds=kind or [],
        date_from=_date(date_from, "--from"),
        date_to=_date(date_to, "--to"),
        place=place,
        violations=violation or [],
        units=unit or [],
        statuses=status or [],
        lang=lang,
        compartment=compartment,
    )
    service = open_service(ctx, "analyst")
    result = run_search(service, query, filters, limit=limit)
    service.store.close()
    if as_json:
        typer.echo(json.dumps(result.as_dict(), ensure_ascii=False, indent=2))
        return
    more = "" if result.total_is_exact else "+"
    console.print(f"{result.total}{more} matches ({result.ms:.0f} ms, {result.method})")
    for hit in result.hits:
        text = _rich(hit.snippet, hit.marks)
        console.print(f"[bold]{hit.kind}[/bold] {hit.id}  {escape(hit.label or '')}  {hit.day or ''}")
        console.print(f"    {text}", highlight=False)
    for name, counts in result.facets.items():
        shown = ", ".join(f"{k} {v}" for k, v in list(counts.items())[:8])
        console.print(f"[dim]{name}: {escape(shown)}[/dim]", highlight=False)


def _rich(text: str, marks: list[tuple[int, int]]) -> str:
    out, last = [], 0
    for a, b in marks:
        out += [escape(text[last:a]), "[reverse]", escape(text[a:b]), "[/reverse]"]
        last = b
    out.append(escape(text[last:]))
    return "".join(out)


@report_app.command("reindex")
def reindex(ctx: typer.Context) -> None:
    """Rebuild the search index of the whole register."""
    service = open_service(ctx, "analyst")
    done = index.rebuild(service.store, lambda kind, n: console.print(f"{kind}: {n:,}"))
    service.store.close()
    console.print(f"indexed {sum(done['documents'].values()):,} documents in {done['seconds']} s")


@report_app.command("stats")
def stats(
    ctx: typer.Context,
    public: Annotated[
        bool, typer.Option("--public", help="Published statistics (disclosure control).")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    csv_dir: Annotated[
        Path | None, typer.Option("--csv", help="Write the CSV behind each chart here.")
    ] = None,
) -> None:
    """Counts of incidents, acts, victims (and suspects) by day, place, violation, unit and status."""
    service = open_service(ctx, "analyst")
    if public:
        data = reporting.public_statistics(service)
    else:
        data = reporting.statistics(service)
        if csv_dir is not None:
            for path in reporting.statistics_csv(service, csv_dir):
                typer.echo(f"wrote {path}", err=True)
    service.store.close()
    if as_json:
        typer.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))
        return
    console.print(f"totals: {data['totals']}")
    tables = data["tables"]
    for name, rows in (
        tables.items() if isinstance(tables, dict) else ((t["name"], t["cells"]) for t in tables)
    ):
        table = Table(title=name)
        columns = [c for c in rows[0] if c != "suppressed"] if rows else []
        for column in columns:
            table.add_column(column)
        for row in rows:
            table.add_row(*("·" if row.get(c) is None else str(row.get(c)) for c in columns))
        console.print(table)


@report_app.command("export")
def export(
    ctx: typer.Context,
    fmt: Annotated[str, typer.Option("--format", help="ftm, csv or jsonl.")],
    out: Annotated[Path, typer.Option("--out", help="File (ftm, jsonl) or directory (csv).")],
) -> None:
    """Export the records in reach: FollowTheMoney entities, CSV per record type, or JSON Lines."""
    service = open_service(ctx, "investigator")
    written = reporting.export(service, fmt, out)
    service.store.close()
    console.print(f"wrote {sum(int(v) for v in written.values()):,} records to {out}")


@report_app.command("estimate")
def estimate(
    ctx: typer.Context,
    lists: Annotated[
        list[str] | None, typer.Option("--list", help="Lists (≥3): testimonies, custody_records, ...")
    ] = None,
    criterion: Annotated[str, typer.Option(help="aic or bic.")] = "aic",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Estimate all victims, documented or not, by multiple systems estimation."""
    service = open_service(ctx, "analyst")
    chosen = tuple(lists) if lists else reporting.DEFAULT_LISTS
    result = reporting.estimate_victims(service, chosen, criterion=criterion)
    service.store.close()
    if as_json:
        typer.echo(json.dumps(result.__dict__, ensure_ascii=False, indent=2))
        return
    console.print(result.explain())
    console.print("Assumptions:")
    for line in result.assumptions:
        console.print(f"  - {line}")


@package_app.command("incident")
def package_incident(
    ctx: typer.Context,
    incident_id: Annotated[str, typer.Argument(metavar="ID", help="Incident id.")],
    out: Annotated[Path, typer.Option("--out", help="The .zip file to write.")],
    purpose: Annotated[str, typer.Option(help="Why (recorded in every custody chain).")] = "evidence package",
    include_suggested: Annotated[
        bool, typer.Option("--include-suggested", help="Also evidence only suggested by the linker.")
    ] = False,
) -> None:
    """Write a signed evidence package for one incident (an audit entry and custody events)."""
    from svidok.cli.security import open_protection
    from svidok.reports.package import build_package
    from svidok.services.evidence import default_blob_store

    p = open_protection(ctx)
    service = ServiceContext(p.store, Actor(actor_name(), "investigator"), audit=p.audit)
    blobs = default_blob_store(settings_of(ctx).data_dir, os.environ.get("SVIDOK_BLOB_URL"))
    manifest = build_package(
        service, p, blobs, incident_id, out, purpose=purpose, suggested=include_suggested
    )
    key = p.audit.key.verifier_key
    p.close()
    console.print(f"wrote {out}: {len(manifest['files'])} files, {len(manifest['evidence'])} originals")
    typer.echo(f"verify with: svidok package verify {out} --key '{key}'")


@package_app.command("verify")
def package_verify(
    file: Annotated[Path, typer.Argument(help="The package (.zip).")],
    key: Annotated[str | None, typer.Option("--key", help="Pinned verifier key (name+id+key).")] = None,
) -> None:
    """Check a package's signature, files, custody records and audit proofs (exit 5 if it fails)."""
    from svidok.reports.verify_package import verify

    if not file.is_file():
        raise InputError(f"{file}: no such file")
    problems = verify(str(file), key)
    if key is None:
        typer.echo("note: checked with the key inside the package; pass --key to pin it", err=True)
    for problem in problems:
        typer.echo(f"FAILED {problem}", err=True)
    if problems:
        raise typer.Exit(5)
    typer.echo(f"{file}: package verifies")
