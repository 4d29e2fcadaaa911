"""`svidok demo`: build the fictional demo register, with ground truth beside it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from svidok.demo.generator import DEFAULT_SCALE, DEFAULT_SEED, DemoConfig, generate
from svidok.services.context import ServiceContext

DEMO_COMPARTMENT = "demo-city"


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
    no_link: Annotated[
        bool,
        typer.Option("--no-link", help="Leave the register unlinked (no persons from mentions, no links)."),
    ] = False,
    host: Annotated[str, typer.Option("--host", help="Address to serve on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to serve on.")] = 8000,
    truth_dir: Annotated[
        Path | None,
        typer.Option(
            "--truth-dir",
            help="Where the plaintext ground truth goes (default: beside the data directory, "
            "DATA_DIR-truth); never inside the encrypted register.",
        ),
    ] = None,
) -> None:
    """Generate a fictional city under a crackdown into an empty register (demo data only)."""
    from svidok.cli.context import open_service, settings_of
    from svidok.reports import index as search_index
    from svidok.services import accounts
    from svidok.services.linking import link_register
    from svidok.store.models import RECORD_TABLES

    settings = settings_of(ctx)
    console = Console()
    service = open_service(ctx, "admin", create=True)
    store = service.store
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
                truth_dir or settings.data_dir.with_name(settings.data_dir.name + "-truth"),
                DemoConfig(scale=scale, seed=seed),
                progress=lambda n: bar.advance(task, n),
            )
        with store.begin() as conn:
            service.record(conn, "demo.generate", None, None, {"scale": scale, "seed": seed})
        accounts.create_compartment(service, DEMO_COMPARTMENT, "The fictional demo city")
        for kind in RECORD_TABLES:
            accounts.assign_records(service, DEMO_COMPARTMENT, kind, unassigned=True)
        with console.status("indexing the demo register for search"):
            search_index.rebuild(store)
        if not no_link:
            with console.status("linking the demo register") as status:
                linked = link_register(service, progress=lambda step: status.update(step), full=True)
            accounts.assign_records(service, DEMO_COMPARTMENT, "person", unassigned=True)
            accounts.assign_records(service, DEMO_COMPARTMENT, "link", unassigned=True)
            result.counts = store.counts()
            console.print(
                f"linked: {linked.stats.get('person_links', 0):,} mention links, "
                f"{linked.stats.get('new_persons', 0):,} persons formed from mentions"
            )
    finally:
        store.close()
    table = Table("record kind", "rows", title=f"Demo register (seed {seed})")
    for kind, count in result.counts.items():
        table.add_row(kind, f"{count:,}")
    console.print(table)
    console.print(f"ground truth: {result.truth_dir}")
    console.print(
        f"every record is in compartment {DEMO_COMPARTMENT!r}: grant it to users who should see them"
    )
    if no_serve:
        return
    _demo_users(service, console)
    service.store.close()
    from svidok.cli.serve import serve

    serve(ctx, host=host, port=port, tls=False)


DEMO_USERS = (
    ("demo-admin", "admin", (), ()),
    ("demo-investigator", "investigator", (DEMO_COMPARTMENT,), (DEMO_COMPARTMENT,)),
    ("demo-analyst", "analyst", (DEMO_COMPARTMENT,), ()),
    ("demo-operator", "intake_operator", (DEMO_COMPARTMENT, "intake"), ()),
)


def _demo_users(service: ServiceContext, console: Console) -> None:
    """One-time logins for the demo, printed once (fictional register, local use only)."""
    from svidok.services import accounts

    if "intake" not in {c["name"] for c in accounts.list_compartments(service)}:
        accounts.create_compartment(service, "intake", "New public submissions")
    console.print("One-time demo logins (sign in at /login, then set a new password; enrol the TOTP secret")
    console.print("in an authenticator app). Shown once, never stored:")
    for name, role, compartments, identity in DEMO_USERS:
        enrolment = accounts.create_user(
            service, name, role, compartments=compartments, identity_compartments=identity
        )
        totp = enrolment.totp_secret or "-"
        typer.echo(f"  {name:<18} {role:<16} password {enrolment.password}  totp {totp}")
