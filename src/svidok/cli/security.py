"""`svidok keys|protect|evidence|audit ...` (filled in by the protection work)."""

from __future__ import annotations

import typer

keys_app = typer.Typer(help="Master key and data keys.", no_args_is_help=True)
protect_app = typer.Typer(help="Sealed source identities (protection officer).", no_args_is_help=True)
evidence_app = typer.Typer(help="Evidence files and their chain of custody.", no_args_is_help=True)
audit_app = typer.Typer(help="The tamper-evident audit log.", no_args_is_help=True)
