"""`svidok keys|erase|protect|evidence|audit ...`: thin commands over the protection services.

The master secret comes from SVIDOK_KEY_FILE (a key file) or SVIDOK_PASSPHRASE,
else an interactive prompt; it is never an option (options end up in shell
history and process lists).
"""

from __future__ import annotations

import getpass
import json
import os
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy import select

from svidok.cli.context import settings_of
from svidok.crypto.keyring import Keyring, MasterSecret, generate_key_file
from svidok.errors import InputError
from svidok.services import audit as audit_service
from svidok.services import erasure
from svidok.services import keys as key_service
from svidok.services.context import Actor, ServiceContext
from svidok.services.evidence import EvidenceService, default_blob_store
from svidok.services.keys import Protection
from svidok.settings import Settings
from svidok.store.register import table_of

keys_app = typer.Typer(help="Master key and data keys.", no_args_is_help=True)
erase_app = typer.Typer(
    help="Erase a person or a testimony by destroying the keys of their records (crypto-shredding).",
    no_args_is_help=True,
)
protect_app = typer.Typer(help="Sealed source identities (protection officer).", no_args_is_help=True)
evidence_app = typer.Typer(help="Evidence files and their chain of custody.", no_args_is_help=True)
audit_app = typer.Typer(help="The tamper-evident audit log.", no_args_is_help=True)


def _actor() -> str:
    return os.environ.get("SVIDOK_ACTOR") or f"cli:{getpass.getuser()}"


def _context(p: Protection) -> ServiceContext:
    """The operator's context: the holder of the master secret, with the register's audit log."""
    return ServiceContext(p.store, Actor(_actor(), "operator"), audit=p.audit)


def master_secret(settings: Settings, *, confirm: bool = False) -> MasterSecret:
    """The operator's secret: key file (SVIDOK_KEY_FILE), passphrase (SVIDOK_PASSPHRASE) or prompt."""
    key_file = os.environ.get("SVIDOK_KEY_FILE")
    if key_file:
        return MasterSecret(key_file=Path(key_file))
    passphrase = settings.passphrase or typer.prompt(
        "Passphrase", hide_input=True, confirmation_prompt=confirm
    )
    return MasterSecret(passphrase=passphrase)


def open_protection(ctx: typer.Context, *, create: bool = False) -> Protection:
    settings = settings_of(ctx)
    confirm = create and not Keyring.exists(settings.data_dir)
    return Protection.open(settings, master_secret(settings, confirm=confirm), create=create)


# -- keys ------------------------------------------------------------------------------------


@keys_app.command("init")
def keys_init(
    ctx: typer.Context,
    new_key_file: Annotated[
        Path | None, typer.Option("--new-key-file", help="Generate a key file here and use it.")
    ] = None,
) -> None:
    """Create the keyring and the encrypted register (passphrase, or a new key file)."""
    settings = settings_of(ctx)
    if new_key_file is not None:
        generate_key_file(new_key_file)
        secret = MasterSecret(key_file=new_key_file)
        p = Protection.open(settings, secret, create=True)
        typer.echo(f"key file written to {new_key_file}: keep it off this machine")
    else:
        p = open_protection(ctx, create=True)
    typer.echo(f"keyring and encrypted register ready in {settings.data_dir}")
    typer.echo(f"audit log verifier key: {p.audit.key.verifier_key}")
    p.close()


@keys_app.command("rotate")
def keys_rotate(ctx: typer.Context) -> None:
    """Re-wrap every data key under a new passphrase (SVIDOK_NEW_PASSPHRASE or prompt)."""
    settings = settings_of(ctx)
    old = master_secret(settings)
    new_passphrase = os.environ.get("SVIDOK_NEW_PASSPHRASE") or typer.prompt(
        "New passphrase", hide_input=True, confirmation_prompt=True
    )
    count = key_service.rotate_master(settings, old, MasterSecret(passphrase=new_passphrase))
    p = Protection.open(settings, MasterSecret(passphrase=new_passphrase))
    with p.store.begin() as conn:
        _context(p).record(conn, "key.rotate", None, None, {"rewrapped": count})
    p.close()
    typer.echo(f"master key rotated: {count} data keys re-wrapped, no data re-encrypted")


@keys_app.command("shred")
def keys_shred(
    ctx: typer.Context,
    subject: Annotated[str, typer.Argument(help="Subject (person/testimony) id.")],
    reason: Annotated[str, typer.Option(help="Why (erasure request, court order ...).")],
) -> None:
    """Destroy a subject's data key: what was sealed under it is gone for good."""
    p = open_protection(ctx)
    key_service.shred_subject(p, _context(p), subject, reason)
    p.close()
    typer.echo(f"data key of {subject} destroyed")


@keys_app.command("reseal-subjects")
def keys_reseal_subjects(ctx: typer.Context) -> None:
    """Seal personal values written before per-record keys under their record's key (idempotent)."""
    p = open_protection(ctx)
    count = erasure.reseal_subjects(p, _context(p))
    p.close()
    typer.echo(f"{count} personal values re-sealed under their record's own key")


# -- erase -------------------------------------------------------------------------------------


def _erase(ctx: typer.Context, kind: str, record_id: str, reason: str) -> None:
    p = open_protection(ctx)
    report = erasure.erase(p, _context(p), kind, record_id, reason)
    p.close()
    if report.already_erased:
        typer.echo(f"{kind} {record_id} was already erased: nothing changed, nothing recorded")
        return
    reached = ", ".join(f"{len(ids)} {k}" for k, ids in report.records.items() if ids)
    typer.echo(
        f"{kind} {record_id} erased: {report.keys_destroyed} keys destroyed ({reached}); "
        f"{report.name_keys_removed} name keys removed; "
        f"{report.documents_reindexed} search documents re-indexed"
    )


@erase_app.command("person")
def erase_person(
    ctx: typer.Context,
    record_id: Annotated[str, typer.Argument(metavar="ID", help="Person id.")],
    reason: Annotated[str, typer.Option(help="Why (erasure request, court order ...); recorded.")],
) -> None:
    """Erase a person: their names, birth date, contacts and the mentions, custody records and
    missing-person cases linked to them read as [erased] from now on, in backups too."""
    _erase(ctx, "person", record_id, reason)


@erase_app.command("source")
def erase_source(
    ctx: typer.Context,
    record_id: Annotated[str, typer.Argument(metavar="ID", help="Source (testimony) id.")],
    reason: Annotated[str, typer.Option(help="Why (withdrawn by its author ...); recorded.")],
) -> None:
    """Erase a testimony: its title, text and the mentions in it read as [erased] from now on."""
    _erase(ctx, "source", record_id, reason)


# -- protect -----------------------------------------------------------------------------------


@protect_app.command("keygen")
def protect_keygen(
    ctx: typer.Context,
    out: Annotated[Path, typer.Option("--out", help="Where to write the private key.")],
    officer: Annotated[str, typer.Option(help="Who holds the key.")] = "protection-officer",
) -> None:
    """Make the protection officer's key pair; the public half goes into the register."""
    p = open_protection(ctx)
    kid = key_service.register_officer_key(p, _context(p), officer, out)
    p.close()
    typer.echo(f"protection key {kid}: private key in {out}; move it off this machine")


@protect_app.command("open")
def protect_open(
    ctx: typer.Context,
    record: Annotated[str, typer.Argument(help="Record id whose sealed identity to open.")],
    key: Annotated[Path, typer.Option("--key", help="The officer's private key file.")],
    purpose: Annotated[str, typer.Option(help="Why it is opened (recorded).")] = "protection",
) -> None:
    """Open a sealed source identity (the opening is written to the audit log first)."""
    p = open_protection(ctx)
    opened = key_service.open_identity(p, _context(p), record, key, purpose)
    p.close()
    for identity in opened:
        typer.echo(json.dumps(identity, ensure_ascii=False, sort_keys=True))


# -- audit -------------------------------------------------------------------------------------


@audit_app.command("verify")
def audit_verify(
    ctx: typer.Context,
    file: Annotated[Path | None, typer.Option("--file", help="Verify an exported JSONL log.")] = None,
    key: Annotated[
        str | None, typer.Option("--key", help="Pinned verifier key (name+id+key) for --file.")
    ] = None,
    deep: Annotated[
        bool,
        typer.Option(
            "--deep", help="Also check every chain link under the signed roots and the query columns."
        ),
    ] = False,
) -> None:
    """Re-hash every entry and check every signed checkpoint; name the first bad entry."""
    if file is not None:
        if not file.is_file():
            raise InputError(f"{file}: no such file")
        report = audit_service.verify_exported(file, key)
        if key is None:
            typer.echo("note: checked with the key inside the file; pass --key to pin it", err=True)
    else:
        p = open_protection(ctx)
        report = audit_service.verify_register(p, _context(p), deep=deep)
        p.close()
    typer.echo(report.summary(), err=not report.ok)
    if not report.ok:
        raise typer.Exit(5)


@audit_app.command("checkpoint")
def audit_checkpoint(ctx: typer.Context) -> None:
    """Verify the log and sign a checkpoint of its current size and root."""
    p = open_protection(ctx)
    cp = audit_service.checkpoint(p, _context(p))
    p.close()
    typer.echo(f"checkpoint: size {cp.size}, root {cp.root.hex()}")


@audit_app.command("export")
def audit_export(
    ctx: typer.Context,
    out: Annotated[Path, typer.Option("--out", help="JSONL file to write.")],
) -> None:
    """Export entries, signed checkpoints and the verifier key as JSON Lines."""
    p = open_protection(ctx)
    count = audit_service.export_log(p, out, _context(p))
    typer.echo(f"{count} entries written to {out}; verifier key {p.audit.key.verifier_key}")
    p.close()


def _parse_time(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError as exc:
        raise InputError(f"--captured-at: {value!r} is not an ISO 8601 time") from exc


# -- evidence ----------------------------------------------------------------------------------


def _evidence_service(ctx: typer.Context) -> tuple[Protection, EvidenceService]:
    p = open_protection(ctx)
    blobs = default_blob_store(settings_of(ctx).data_dir, os.environ.get("SVIDOK_BLOB_URL"))
    return p, EvidenceService(p, blobs)


@evidence_app.command("add")
def evidence_add(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="The file to take into custody.")],
    source: Annotated[str | None, typer.Option("--source", help="Source record id.")] = None,
    captured_at: Annotated[
        str | None, typer.Option("--captured-at", help="Asserted capture time (ISO 8601).")
    ] = None,
    lat: Annotated[float | None, typer.Option("--lat", help="Asserted latitude.")] = None,
    lon: Annotated[float | None, typer.Option("--lon", help="Asserted longitude.")] = None,
) -> None:
    """Hash, encrypt and store a file; record its intake in the chain of custody."""
    p, service = _evidence_service(ctx)
    evidence_id = service.add(
        file, _context(p), source_id=source, captured_at=_parse_time(captured_at), lat=lat, lon=lon
    )
    with p.store.read() as conn:
        evidence = table_of("evidence")
        digest = conn.execute(select(evidence.c.sha256).where(evidence.c.id == evidence_id)).scalar_one()
    p.close()
    typer.echo(f"{evidence_id} sha256 {digest}")


@evidence_app.command("verify")
def evidence_verify(ctx: typer.Context) -> None:
    """Re-hash every stored original; name each item whose bytes changed (exit 5)."""
    p, service = _evidence_service(ctx)
    checked, problems = service.verify(_context(p))
    p.close()
    for problem in problems:
        typer.echo(f"DAMAGED {problem}", err=True)
    if problems:
        typer.echo(f"{len(problems)} damaged of {checked} evidence items", err=True)
        raise typer.Exit(5)
    typer.echo(f"all {checked} evidence items match their SHA-256")


@evidence_app.command("export")
def evidence_export(
    ctx: typer.Context,
    evidence_id: Annotated[str, typer.Argument(metavar="ID", help="Evidence id.")],
    out: Annotated[Path, typer.Option("--out", help="Directory for the bundle.")],
    purpose: Annotated[str, typer.Option(help="Why (recorded in the custody chain).")] = "export",
) -> None:
    """Write the original bytes and a custody record signed with the audit key."""
    p, service = _evidence_service(ctx)
    record = service.export(evidence_id, out, _context(p), purpose)
    p.close()
    typer.echo(f"exported {evidence_id} to {out} (custody record {record.name})")
