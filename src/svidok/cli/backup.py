"""`svidok backup create|verify|list|prune|keygen`, `svidok restore`, `svidok evacuate`.

Targets: `dir:PATH` (or a plain path), `sftp://user@host[:port]/path`,
`s3://bucket/prefix` (endpoint `--s3-endpoint` or SVIDOK_S3_ENDPOINT). The
register's master secret comes from SVIDOK_KEY_FILE / SVIDOK_PASSPHRASE / a
prompt, as for every command; a restore asks for the *new* secret the same
way (or `--new-key-file`). Exit codes: 0 ok, 2 usage or configuration, 3 a
target failed, 4 wrong secret or identity, 5 a backup is damaged.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Annotated

import typer

from svidok.backup.repo import load_identities, new_identity_file
from svidok.backup.targets import Target, open_target
from svidok.cli.context import actor_name, settings_of
from svidok.crypto.keyring import MasterSecret, generate_key_file
from svidok.errors import ConfigError
from svidok.services import backup as service
from svidok.services.evidence import default_blob_store

__all__ = ["backup_app", "evacuate", "restore"]

backup_app = typer.Typer(help="Encrypted, incremental, signed backups.", no_args_is_help=True)

ToOpt = Annotated[
    list[str], typer.Option("--to", help="Target: dir:PATH, sftp://user@host/path, s3://bucket/prefix.")
]
FromOpt = Annotated[str, typer.Option("--from", help="Target holding the backup repository.")]
RecipientOpt = Annotated[
    list[str] | None,
    typer.Option("--recipient", help="Custodian's age public key (age1...); needed for a new repository."),
]
EndpointOpt = Annotated[
    str | None, typer.Option("--s3-endpoint", help="S3 endpoint URL (else SVIDOK_S3_ENDPOINT).")
]
WorkersOpt = Annotated[
    int | None,
    typer.Option("--workers", min=0, help="age worker processes (default one per core; 0: in this process)."),
]
KeyOpt = Annotated[
    str | None, typer.Option("--key", help="Pinned backup signing key (printed by `backup create`).")
]


def _targets(specs: list[str], endpoint: str | None) -> list[Target]:
    if not specs:
        raise ConfigError("give at least one --to TARGET")
    return [open_target(s, s3_endpoint=endpoint) for s in specs]


def _close(targets: list[Target]) -> None:
    for t in targets:
        t.close()


def _human(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:,.1f} {unit}" if unit != "B" else f"{int(n)} B"
        n /= 1024
    return f"{n:.1f} GiB"


def _print_create(report: service.CreateReport) -> None:
    rate = report.bytes_read / report.seconds / 2**20 if report.seconds else 0.0
    typer.echo(
        f"snapshot {report.snapshot}: {report.files} files, {_human(report.bytes_read)} read, "
        f"{report.unique_chunks} unique chunks, {report.seconds:.1f} s ({rate:.0f} MiB/s); "
        f"audit log at {report.audit_size} entries"
    )
    for t in report.targets:
        if t.error:
            typer.echo(f"  FAILED {t.target}: {t.error}", err=True)
        else:
            fresh = " (new repository)" if t.created_repository else ""
            typer.echo(f"  {t.target}{fresh}: {t.new_packs} new packs, {_human(t.bytes_written)} written")
    typer.echo(f"backup signing key (pin it with --key): {report.signing_key}")


@backup_app.command("create")
def create(
    ctx: typer.Context,
    to: ToOpt,
    recipient: RecipientOpt = None,
    s3_endpoint: EndpointOpt = None,
    every: Annotated[
        int | None,
        typer.Option(
            "--every", help="Repeat every N minutes (a foreground schedule; prefer a systemd timer)."
        ),
    ] = None,
    workers: WorkersOpt = None,
) -> None:
    """Back up the whole register to every target: only new chunks are sent."""
    from svidok.cli.security import open_protection

    settings = settings_of(ctx)
    while True:
        targets = _targets(to, s3_endpoint)
        p = open_protection(ctx)
        try:
            blobs = default_blob_store(settings.data_dir, os.environ.get("SVIDOK_BLOB_URL"))
            report = service.create(
                p, settings, targets, actor_name(), blobs, recipients=recipient or [], workers=workers
            )
        finally:
            p.close()
            _close(targets)
        _print_create(report)
        if every is None:
            if not report.ok:
                raise typer.Exit(3)
            return
        time.sleep(every * 60)


@backup_app.command("verify")
def verify(
    from_: FromOpt,
    identity: Annotated[
        Path | None,
        typer.Option("--identity", help="Custodian's age identity file: also decrypt and re-hash."),
    ] = None,
    snapshot: Annotated[str | None, typer.Option("--snapshot", help="Only this snapshot.")] = None,
    key: KeyOpt = None,
    s3_endpoint: EndpointOpt = None,
) -> None:
    """Re-read every chunk; check hashes and signatures; name what is missing, altered or replaced."""
    target = open_target(from_, s3_endpoint=s3_endpoint)
    try:
        identities = load_identities(identity) if identity else None
        report = service.verify(target, pinned_key=key, identities=identities, snapshot=snapshot)
    finally:
        target.close()
    typer.echo(report.summary(), err=not report.ok)
    if key is None and report.ok:
        typer.echo("note: signatures checked against the key in config.json; pass --key to pin it", err=True)
    if not report.ok:
        raise typer.Exit(5)


@backup_app.command("list")
def list_(from_: FromOpt, key: KeyOpt = None, s3_endpoint: EndpointOpt = None) -> None:
    """The snapshots in a repository, oldest first."""
    target = open_target(from_, s3_endpoint=s3_endpoint)
    try:
        rows = service.list_snapshots(target, key)
    finally:
        target.close()
    typer.echo(f"{'snapshot':<24} {'created':<21} {'files':>7} {'size':>12} {'new':>12}  keys")
    for r in rows:
        if r.problem:
            typer.echo(f"{r.snapshot:<24} BAD: {r.problem}")
            continue
        typer.echo(
            f"{r.snapshot:<24} {r.created:<21} {r.files:>7} {_human(r.bytes):>12} {_human(r.new_bytes):>12}"
            f"  {'yes' if r.has_keys else 'pruned'}"
        )


@backup_app.command("prune")
def prune(
    from_: FromOpt,
    keep_last: Annotated[int, typer.Option("--keep-last", help="Keep the N newest snapshots.")] = 0,
    keep_daily: Annotated[int, typer.Option("--keep-daily", help="Keep the newest of each of N days.")] = 0,
    keep_weekly: Annotated[int, typer.Option("--keep-weekly", help="... of each of N weeks.")] = 0,
    keep_monthly: Annotated[int, typer.Option("--keep-monthly", help="... of each of N months.")] = 0,
    keep_keys: Annotated[
        int | None,
        typer.Option("--keep-keys", help="Keep key bundles of the N newest kept snapshots only (KEY-02)."),
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only show what would go.")] = False,
    force: Annotated[bool, typer.Option("--force", help="Ignore locks and unreadable manifests.")] = False,
    key: KeyOpt = None,
    s3_endpoint: EndpointOpt = None,
) -> None:
    """Forget snapshots outside the retention policy; delete packs no kept snapshot uses."""
    target = open_target(from_, s3_endpoint=s3_endpoint)
    try:
        plan = service.prune(
            target,
            keep_last=keep_last,
            keep_daily=keep_daily,
            keep_weekly=keep_weekly,
            keep_monthly=keep_monthly,
            keep_keys=keep_keys,
            pinned_key=key,
            dry_run=dry_run,
            force=force,
        )
    finally:
        target.close()
    verb = "would remove" if dry_run else "removed"
    typer.echo(
        f"{plan.target}: keep {len(plan.keep)} snapshot(s); {verb} {len(plan.remove)} snapshot(s), "
        f"{len(plan.remove_keys)} key bundle(s), {len(plan.remove_packs)} pack(s)"
    )
    for sid in plan.remove:
        typer.echo(f"  - {sid}")
    for problem in plan.skipped:
        typer.echo(f"  unreadable, left alone (packs kept): {problem}", err=True)


@backup_app.command("keygen")
def keygen(
    out: Annotated[Path, typer.Option("--out", help="New identity file (never overwritten).")],
) -> None:
    """Make a custodian's age key pair; give the printed public key to `--recipient`."""
    recipient = new_identity_file(out)
    typer.echo(f"identity written to {out} (keep it off the register's machine); public key:")
    typer.echo(recipient)


def restore(
    ctx: typer.Context,
    from_: FromOpt,
    identity: Annotated[Path, typer.Option("--identity", help="Custodian's age identity file.")],
    data_dir: Annotated[Path, typer.Option("--data-dir", help="New, empty data directory.")],
    snapshot: Annotated[str | None, typer.Option("--snapshot", help="Snapshot id (default: newest).")] = None,
    keys_from: Annotated[
        str | None, typer.Option("--keys-from", help="Take the key bundle of this snapshot (KEY-02).")
    ] = None,
    new_key_file: Annotated[
        Path | None, typer.Option("--new-key-file", help="Generate a key file here as the new master secret.")
    ] = None,
    key: KeyOpt = None,
    s3_endpoint: EndpointOpt = None,
    workers: WorkersOpt = None,
) -> None:
    """Rebuild the register from a backup into a new data directory, under a new secret."""
    from svidok.cli.security import master_secret
    from svidok.settings import Settings

    identities = load_identities(identity)
    if new_key_file is not None:
        generate_key_file(new_key_file)
        secret = MasterSecret(key_file=new_key_file)
    else:
        secret = master_secret(Settings.from_env(data_dir=data_dir), confirm=True)
    del ctx
    target = open_target(from_, s3_endpoint=s3_endpoint)
    try:
        report = service.restore(
            target,
            identities,
            data_dir,
            secret,
            snapshot=snapshot,
            pinned_key=key,
            keys_from=keys_from,
            actor=actor_name(),
            workers=workers,
        )
    finally:
        target.close()
    total = sum(report.counts.values())
    typer.echo(
        f"restored snapshot {report.snapshot} into {report.data_dir}: {report.files} files, "
        f"{_human(report.bytes_written)}, {total:,} records, {report.seconds:.1f} s; "
        f"keys from {report.keys_from}"
    )
    typer.echo(
        f"audit log: {report.audit_size} entries, root matches the backup, verify "
        f"{'OK' if report.audit_ok else 'FAILED'}"
    )
    if not report.audit_ok:
        raise typer.Exit(5)


def evacuate(
    ctx: typer.Context,
    to: ToOpt,
    recipient: RecipientOpt = None,
    wipe_local: Annotated[
        bool, typer.Option("--wipe-local", help="After a verified backup, destroy the local keys.")
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would happen; change nothing.")
    ] = False,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask before wiping.")] = False,
    s3_endpoint: EndpointOpt = None,
) -> None:
    """Full verified backup to every target, then (--wipe-local) leave only ciphertext here."""
    from svidok.cli.security import open_protection

    settings = settings_of(ctx)
    if wipe_local and not dry_run and not yes:
        typer.confirm("After the backup verifies, the local keys are destroyed for good. Go on?", abort=True)
    targets = _targets(to, s3_endpoint)
    p = open_protection(ctx)
    try:
        blobs = default_blob_store(settings.data_dir, os.environ.get("SVIDOK_BLOB_URL"))
        report = service.evacuate(
            p,
            settings,
            targets,
            actor_name(),
            blobs,
            recipients=recipient or [],
            wipe_local=wipe_local,
            dry_run=dry_run,
        )
    finally:
        p.close()
        _close(targets)
    if dry_run:
        typer.echo("dry run; nothing was written or deleted. The evacuation would:")
        for step in report.plan:
            typer.echo(f"  - {step}")
        return
    assert report.backup is not None  # nosec B101 # type narrowing: a non-dry run always backs up
    _print_create(report.backup)
    for v in report.verified:
        typer.echo(v.summary(), err=not v.ok)
    if not report.backup.ok or not all(v.ok for v in report.verified):
        typer.echo("evacuation INCOMPLETE: local keys kept", err=True)
        raise typer.Exit(5)
    for path in report.wiped:
        typer.echo(f"destroyed {path}")
    if wipe_local:
        typer.echo("local keys destroyed: this machine now holds only ciphertext")
    typer.echo(f"evacuated to {len(report.verified)} target(s), snapshot {report.backup.snapshot}")
