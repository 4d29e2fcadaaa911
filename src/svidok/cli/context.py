"""Helpers every command uses: the settings of this invocation and the opened store."""

from __future__ import annotations

import typer

from svidok.settings import Settings
from svidok.store.register import Store


def settings_of(ctx: typer.Context) -> Settings:
    """The settings the root callback built for this invocation."""
    obj = ctx.find_root().obj
    if not isinstance(obj, Settings):
        obj = Settings.from_env()
    return obj


def open_store(ctx: typer.Context) -> Store:
    """The register named by --data-dir / --database-url; its schema must be current."""
    return Store.open(settings_of(ctx))
