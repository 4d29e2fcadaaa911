"""`svidok names ...`: compare and score personal names (filled in by the name engine work)."""

from __future__ import annotations

import typer

app = typer.Typer(help="Compare personal names across scripts and languages.", no_args_is_help=True)
