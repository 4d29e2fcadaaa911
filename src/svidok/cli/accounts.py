"""`svidok user|token|compartment`: accounts, API tokens, compartments and break-glass review.

These commands run as the register's operator (who holds the master secret);
every change is an audit entry. Secrets (an initial password, a TOTP seed, an
API token) are printed once and never stored in the clear.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from svidok.cli.context import open_service
from svidok.errors import InputError
from svidok.services import accounts
from svidok.services.context import ServiceContext, utc_now

__all__ = ["compartment_app", "parse_expiry", "token_app", "user_app"]

console = Console()
user_app = typer.Typer(help="Users: add, list, disable, grant compartments.", no_args_is_help=True)
token_app = typer.Typer(help="Scoped API tokens: create, list, revoke.", no_args_is_help=True)
compartment_app = typer.Typer(
    help="Compartments: add, list, assign records, review break-glass.", no_args_is_help=True
)

_DURATION = re.compile(r"^(\d+)\s*([mhdw])$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_expiry(text: str, now: datetime | None = None) -> timedelta:
    """`30d`, `12h`, `2w`, `90m`, or a date/time (UTC) such as `2027-01-31`."""
    match = _DURATION.match(text.strip().lower())
    if match:
        return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise InputError(
            f"--expires {text!r}: give a duration (30d, 12h, 2w) or a date (2027-01-31)"
        ) from None
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment - (now or utc_now())


def _service(ctx: typer.Context) -> ServiceContext:
    return open_service(ctx, "admin")


def _echo_json(value: Any) -> None:
    typer.echo(json.dumps(value, ensure_ascii=False, indent=2, default=str))


# -- users ----------------------------------------------------------------------------------------


@user_app.command("add")
def user_add(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Login name.")],
    role: Annotated[str, typer.Option("--role", help="One role of the access policy.")],
    compartment: Annotated[
        list[str] | None, typer.Option("--compartment", help="Grant this compartment (repeatable).")
    ] = None,
    identity_compartment: Annotated[
        list[str] | None,
        typer.Option("--identity-compartment", help="Grant this compartment with its identity fields."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Add a user and print their one-time enrolment secrets (initial password, TOTP)."""
    service = _service(ctx)
    try:
        enrolment = accounts.create_user(
            service,
            name,
            role,
            compartments=compartment or [],
            identity_compartments=identity_compartment or [],
        )
    finally:
        service.store.close()
    if as_json:
        _echo_json(enrolment.__dict__)
        return
    typer.echo(f"user {enrolment.name} added with role {enrolment.role} (id {enrolment.user_id})")
    typer.echo("one-time enrolment secrets (shown once; hand them over in person or over a secure channel):")
    typer.echo(f"  initial password: {enrolment.password}   (must be changed at first login)")
    if enrolment.totp_secret:
        typer.echo(f"  TOTP secret:      {enrolment.totp_secret}")
        typer.echo(f"  TOTP URI:         {enrolment.totp_uri}")


@user_app.command("list")
def user_list(
    ctx: typer.Context, as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False
) -> None:
    """Users, roles, compartments and state."""
    service = _service(ctx)
    try:
        users = accounts.list_users(service)
    finally:
        service.store.close()
    if as_json:
        _echo_json(users)
        return
    table = Table("name", "role", "compartments", "state", "last login")
    for u in users:
        state = "disabled" if u["disabled"] else "enrolling" if u["must_change_password"] else "active"
        table.add_row(u["name"], u["role"], ", ".join(u["compartments"]), state, u["last_login_at"] or "-")
    console.print(table)


@user_app.command("disable")
def user_disable(ctx: typer.Context, name: Annotated[str, typer.Argument(help="Login name.")]) -> None:
    """Disable a user: their sessions and API tokens stop working at once."""
    service = _service(ctx)
    try:
        accounts.disable_user(service, name)
    finally:
        service.store.close()
    typer.echo(f"user {name} disabled; sessions and tokens revoked")


@user_app.command("grant")
def user_grant(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Login name.")],
    compartment: Annotated[str, typer.Argument(help="Compartment to grant.")],
    identity: Annotated[
        bool, typer.Option("--identity", help="Also the identity fields of its records.")
    ] = False,
) -> None:
    """Grant a compartment to a user."""
    service = _service(ctx)
    try:
        accounts.grant_compartment(service, name, compartment, identity=identity)
    finally:
        service.store.close()
    typer.echo(f"{name} granted {compartment}{' with identities' if identity else ''}")


@user_app.command("withdraw")
def user_withdraw(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Login name.")],
    compartment: Annotated[str, typer.Argument(help="Compartment to withdraw.")],
) -> None:
    """Withdraw a compartment from a user (effective on their next request)."""
    service = _service(ctx)
    try:
        removed = accounts.withdraw_compartment(service, name, compartment)
    finally:
        service.store.close()
    typer.echo(f"{name}: {compartment} withdrawn" if removed else f"{name} had no grant of {compartment}")


@user_app.command("logout")
def user_logout(ctx: typer.Context, name: Annotated[str, typer.Argument(help="Login name.")]) -> None:
    """End every session of a user."""
    service = _service(ctx)
    try:
        ended = accounts.revoke_sessions(service, name)
    finally:
        service.store.close()
    typer.echo(f"{ended} session(s) of {name} ended")


# -- tokens ---------------------------------------------------------------------------------------


@token_app.command("create")
def token_create(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The user the token acts for.")],
    scope: Annotated[
        list[str],
        typer.Option("--scope", help="An operation (record.view) or prefix (record.*); repeatable."),
    ],
    expires: Annotated[
        str, typer.Option("--expires", help="Duration (30d, 12h) or date (2027-01-31).")
    ] = "30d",
    label: Annotated[str | None, typer.Option("--label", help="What the token is for.")] = None,
) -> None:
    """Issue a scoped, expiring API token; it is printed once (send it as `Authorization: Bearer`)."""
    service = _service(ctx)
    try:
        issued = accounts.create_token(service, name, scope, expires_in=parse_expiry(expires), label=label)
    finally:
        service.store.close()
    typer.echo(f"token {issued.token_id} for {name}, expires {issued.expires_at.isoformat()} UTC")
    typer.echo(f"  {issued.token}")
    typer.echo("shown once: only its digest is stored")


@token_app.command("list")
def token_list(
    ctx: typer.Context,
    user: Annotated[str | None, typer.Option("--user", help="Only this user's tokens.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """API tokens (never their secrets)."""
    service = _service(ctx)
    try:
        tokens = accounts.list_tokens(service, user)
    finally:
        service.store.close()
    if as_json:
        _echo_json(tokens)
        return
    table = Table("id", "user", "scopes", "state", "expires")
    for t in tokens:
        table.add_row(t["id"], t["user"], ", ".join(t["scopes"]), t["state"], t["expires_at"])
    console.print(table)


@token_app.command("revoke")
def token_revoke(ctx: typer.Context, token_id: Annotated[str, typer.Argument(help="Token id.")]) -> None:
    """Revoke a token at once."""
    service = _service(ctx)
    try:
        accounts.revoke_token(service, token_id)
    finally:
        service.store.close()
    typer.echo(f"token {token_id} revoked")


# -- compartments ---------------------------------------------------------------------------------


@compartment_app.command("add")
def compartment_add(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Compartment name (a case, a region, a collection).")],
    description: Annotated[str | None, typer.Option("--description", help="What it holds.")] = None,
) -> None:
    """Add a compartment."""
    service = _service(ctx)
    try:
        accounts.create_compartment(service, name, description)
    finally:
        service.store.close()
    typer.echo(f"compartment {name} added")


@compartment_app.command("list")
def compartment_list(
    ctx: typer.Context, as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False
) -> None:
    """Compartments with their numbers of records and users."""
    service = _service(ctx)
    try:
        found = accounts.list_compartments(service)
    finally:
        service.store.close()
    if as_json:
        _echo_json(found)
        return
    table = Table("name", "records", "users", "description")
    for c in found:
        table.add_row(c["name"], str(c["records"]), str(c["users"]), c["description"] or "")
    console.print(table)


@compartment_app.command("assign")
def compartment_assign(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Compartment.")],
    kind: Annotated[str, typer.Argument(help="Record kind (incident, source, person, ...).")],
    ids: Annotated[list[str] | None, typer.Argument(help="Record ids.")] = None,
    unassigned: Annotated[
        bool, typer.Option("--unassigned", help="Also every record of KIND that is in no compartment yet.")
    ] = False,
) -> None:
    """Put records into a compartment (child records follow their parent unless assigned themselves)."""
    service = _service(ctx)
    try:
        added = accounts.assign_records(service, name, kind, ids or [], unassigned=unassigned)
    finally:
        service.store.close()
    typer.echo(f"{added} {kind} record(s) added to {name}")


@compartment_app.command("unassign")
def compartment_unassign(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Compartment.")],
    kind: Annotated[str, typer.Argument(help="Record kind.")],
    ids: Annotated[list[str], typer.Argument(help="Record ids.")],
) -> None:
    """Take records out of a compartment."""
    service = _service(ctx)
    try:
        removed = accounts.unassign_records(service, name, kind, ids)
    finally:
        service.store.close()
    typer.echo(f"{removed} {kind} record(s) removed from {name}")


@compartment_app.command("break-glass")
def compartment_break_glass(
    ctx: typer.Context,
    unreviewed: Annotated[bool, typer.Option("--unreviewed", help="Only openings not yet reviewed.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Break-glass openings for the auditor's review (overdue ones are flagged)."""
    service = _service(ctx)
    try:
        found = accounts.list_break_glass(service, unreviewed=unreviewed)
    finally:
        service.store.close()
    if as_json:
        _echo_json(found)
        return
    table = Table("id", "user", "target", "opened", "expires", "review", "reason")
    for g in found:
        target = g["compartment"] or f"{g['kind']} {g['record_id']}"
        review = g["reviewed_by"] or ("OVERDUE" if g["overdue"] else "pending")
        table.add_row(g["id"], g["user"], target, g["opened_at"], g["expires_at"], review, g["reason"])
    console.print(table)
