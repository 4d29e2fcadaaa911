"""`svidok init|import|export|stats|show`: the register as a whole."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from svidok.cli.context import open_service, settings_of
from svidok.services import register, reporting

console = Console()


def init(ctx: typer.Context) -> None:
    """Create an empty register in the data directory (or upgrade its schema)."""
    settings = settings_of(ctx)
    service = open_service(ctx, "admin", create=True)
    service.store.close()
    console.print(f"encrypted register ready in {settings.data_dir}")


def import_(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="A JSON Lines export, or a CSV file with --mapping.")],
    mapping: Annotated[Path | None, typer.Option(help="Column mapping (YAML) for a CSV file.")] = None,
    reject_file: Annotated[
        Path | None,
        typer.Option(help="Write bad records here and import the rest (default: all or nothing)."),
    ] = None,
    compartment: Annotated[
        list[str] | None, typer.Option("--compartment", help="File the new records into this compartment.")
    ] = None,
) -> None:
    """Import records; a bad record refuses the whole file unless --reject-file is given."""
    service = open_service(ctx)
    with Progress(
        SpinnerColumn(),
        TextColumn("importing"),
        BarColumn(),
        TextColumn("{task.completed} records"),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as progress:
        task = progress.add_task("import", total=None)
        report = register.import_file(
            service,
            file,
            mapping=mapping,
            reject_file=reject_file,
            progress=lambda n: progress.advance(task, n),
            compartments=compartment,
        )
    service.store.close()
    console.print(
        f"read {report.read}, inserted {report.inserted_total}, unchanged {report.unchanged}, "
        f"rejected {report.rejected}"
    )
    for problem in report.problems[:20]:
        console.print(f"  [yellow]{problem}[/yellow]", highlight=False, markup=True)
    if report.rejected and reject_file:
        console.print(f"rejected records written to {reject_file}")


def export(
    ctx: typer.Context,
    out: Annotated[Path, typer.Option("--out", help="JSON Lines file to write.")],
) -> None:
    """Export the whole register, losslessly, as JSON Lines."""
    service = open_service(ctx)
    counts = register.export_register(service, out)
    service.store.close()
    console.print(f"wrote {sum(counts.values())} records to {out}")


def stats(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    public: Annotated[
        bool, typer.Option("--public", help="Published statistics: small counts suppressed, no suspects.")
    ] = False,
) -> None:
    """Count the records of every kind (or, with --public, the statistics that may be published)."""
    service = open_service(ctx, "analyst")
    if public:
        published = reporting.public_statistics(service)
        service.store.close()
        typer.echo(json.dumps(published, ensure_ascii=False, indent=2 if as_json else None, default=str))
        return
    counts = register.counts(service)
    service.store.close()
    if as_json:
        typer.echo(json.dumps({"counts": counts}, indent=2))
        return
    table = Table("kind", "records")
    for kind, count in counts.items():
        table.add_row(kind, f"{count:,}")
    console.print(table)


def show(
    ctx: typer.Context,
    kind: Annotated[str, typer.Argument(help="Record kind, e.g. incident, person, source.")],
    record_id: Annotated[str, typer.Argument(metavar="ID")],
) -> None:
    """Show one record with its sources, links and related records, as JSON."""
    service = open_service(ctx, "analyst")
    shown = register.show(service, kind, record_id)
    service.store.close()
    typer.echo(json.dumps(shown, ensure_ascii=False, indent=2))
