"""The root Typer app: global options, error handling, and the sub-command groups."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from svidok.cli import accounts as accounts_cli
from svidok.cli import backup as backup_cli
from svidok.cli import demo as demo_cli
from svidok.cli import linking as linking_cli
from svidok.cli import names as names_cli
from svidok.cli import register as register_cli
from svidok.cli import reports as reports_cli
from svidok.cli import security as security_cli
from svidok.cli import serve as serve_cli
from svidok.cli.context import settings_of
from svidok.errors import SvidokError
from svidok.settings import Settings

__all__ = ["app", "main", "settings_of"]


class _Group(TyperGroup):
    """Turns Svidok errors from any sub-command into a message and an exit code, no traceback."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except SvidokError as error:
            typer.echo(f"error: {error}", err=True)
            raise typer.Exit(error.exit_code) from None


app = typer.Typer(
    cls=_Group,
    name="svidok",
    help="Svidok: a register of testimonies, crimes and suspects.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(names_cli.app, name="names")
app.add_typer(security_cli.keys_app, name="keys")
app.add_typer(security_cli.erase_app, name="erase")
app.add_typer(security_cli.protect_app, name="protect")
app.add_typer(security_cli.evidence_app, name="evidence")
app.add_typer(security_cli.audit_app, name="audit")
app.add_typer(accounts_cli.user_app, name="user")
app.add_typer(accounts_cli.token_app, name="token")
app.add_typer(accounts_cli.compartment_app, name="compartment")
app.command("demo")(demo_cli.demo)
app.command("init")(register_cli.init)
app.command("import")(register_cli.import_)
app.command("export")(register_cli.export)
app.command("stats")(register_cli.stats)
app.command("show")(register_cli.show)
app.command("link")(linking_cli.link)
app.add_typer(linking_cli.review_app, name="review")
app.add_typer(backup_cli.backup_app, name="backup")
app.command("restore")(backup_cli.restore)
app.command("evacuate")(backup_cli.evacuate)
app.command("serve")(serve_cli.serve)
app.command("search")(reports_cli.search)
app.add_typer(reports_cli.package_app, name="package")
app.add_typer(reports_cli.report_app, name="report")


@app.callback()
def _global_options(
    ctx: typer.Context,
    data_dir: Annotated[
        Path | None,
        typer.Option(
            "--data-dir", help="Register directory (default ./svidok-data).", envvar="SVIDOK_DATA_DIR"
        ),
    ] = None,
    database_url: Annotated[
        str | None,
        typer.Option(
            "--database-url",
            help="SQLAlchemy URL of a PostgreSQL server instead of the embedded file.",
            envvar="SVIDOK_DATABASE_URL",
        ),
    ] = None,
) -> None:
    ctx.obj = Settings.from_env(data_dir=data_dir, database_url=database_url)


def main() -> None:
    """Entry point of the `svidok` command."""
    app()
