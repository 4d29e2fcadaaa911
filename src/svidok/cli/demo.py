"""`svidok demo`: build the fictional demo register (filled in by the demo work)."""

from __future__ import annotations

import typer


def demo(ctx: typer.Context) -> None:
    """Generate the fictional demo register."""
    raise typer.Exit(1)
