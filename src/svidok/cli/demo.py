"""`svidok demo`: build the fictional demo register, with ground truth beside it."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from svidok.demo.generator import DEFAULT_SCALE, DEFAULT_SEED, DemoConfig, generate
from svidok.store.register import Store


def demo(
    ctx: typer.Context,
    scale: Annotated[
        int,
        typer.Option("--scale", min=1, help="Number of testimonies; other counts scale from it."),
    ] = DEFAULT_SCALE,
    seed: Annotated[
        int, typer.Option("--seed", help="Seed: the same seed gives the same register.")
    ] = DEFAULT_SEED,
    no_serve: Annotated[
        bool, typer.Option("--no-serve", help="Only generate; do not start the web server.")
    ] = False,
) -> None:
    """Generate a fictional city under a crackdown into an empty register (demo data only)."""
    from svidok.cli.app import settings_of  # the root app imports this module

    settings = settings_of(ctx)
    console = Console()
    store = Store.open(settings, create=True)
    try:
        columns = (
            TextColumn("[progress.description]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
        )
        with Progress(*columns, console=console, transient=False) as bar:
            task = bar.add_task("testimonies", total=scale)
            result = generate(
                store,
                settings.data_dir,
                DemoConfig(scale=scale, seed=seed),
                progress=lambda n: bar.advance(task, n),
            )
    finally:
        store.close()
    table = Table("record kind", "rows", title=f"Demo register (seed {seed})")
    for kind, count in result.counts.items():
        table.add_row(kind, f"{count:,}")
    console.print(table)
    console.print(f"ground truth: {result.truth_dir}")
    if not no_serve:
        console.print(f"serving is not available yet; the register is ready at {settings.data_dir}")
