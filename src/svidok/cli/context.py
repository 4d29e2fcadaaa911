"""Helpers every command uses: the settings of this invocation and the unlocked register."""

from __future__ import annotations

import getpass
import os

import typer

from svidok.services.context import Actor, ServiceContext
from svidok.settings import Settings


def settings_of(ctx: typer.Context) -> Settings:
    """The settings the root callback built for this invocation."""
    obj = ctx.find_root().obj
    if not isinstance(obj, Settings):
        obj = Settings.from_env()
    return obj


def actor_name() -> str:
    return os.environ.get("SVIDOK_ACTOR") or f"cli:{getpass.getuser()}"


def open_service(ctx: typer.Context, role: str = "operator", *, create: bool = False) -> ServiceContext:
    """Unlock the keyring (passphrase, key file or prompt), open the encrypted register, audit on."""
    from svidok.cli.security import open_protection  # the security commands import this module

    protection = open_protection(ctx, create=create)
    return ServiceContext(protection.store, Actor(actor_name(), role), audit=protection.audit)
