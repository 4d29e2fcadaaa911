"""The restore drill (issue 7's "done when"), driven through the CLI as an operator would.

demo register (encrypted, with real evidence blobs) → `backup create` to a directory
(and to an S3-compatible server on loopback) → destroy the original → `restore`
elsewhere under a new passphrase with one custodian's identity → `export` equal byte
for byte, every evidence SHA-256 equal → `audit verify` and `evidence verify` pass.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from svidok.cli.app import app
from svidok.store.models import Base

from .conftest import PASSPHRASE, Custodian, Register, new_bucket

runner = CliRunner()
NEW_PASSPHRASE = "a passphrase the custodian chose abroad"


def cli(data_dir: Path | None, *args: str, passphrase: str = PASSPHRASE, **env: str) -> str:
    prefix = ["--data-dir", str(data_dir)] if data_dir else []
    result = runner.invoke(app, [*prefix, *args], env={"SVIDOK_PASSPHRASE": passphrase, **env})
    assert result.exit_code == 0, f"{args[:2]} exit {result.exit_code}: {result.output}"
    return result.output


def evidence_hashes(reg_data: Path, passphrase: str) -> list[tuple[str, str]]:
    from svidok.crypto.keyring import MasterSecret
    from svidok.services.keys import Protection
    from svidok.settings import Settings

    p = Protection.open(Settings(data_dir=reg_data), MasterSecret(passphrase=passphrase))
    table = Base.metadata.tables["evidence"]
    with p.store.read() as conn:
        rows = [
            (str(r[0]), str(r[1]))
            for r in conn.execute(select(table.c.id, table.c.sha256).order_by(table.c.id))
        ]
    p.close()
    return rows


@pytest.mark.parametrize("kind", ["dir", "s3"])
def test_restore_drill(
    kind: str, register: Register, custodians: list[Custodian], tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    env: dict[str, str] = {}
    if kind == "dir":
        target = f"dir:{tmp_path / 'usb-disk'}"
    else:
        endpoint = request.getfixturevalue("s3_endpoint")
        target = f"s3://{new_bucket(endpoint)}/svidok/backups"
        env = {"SVIDOK_S3_ENDPOINT": endpoint}
    data = register.data_dir
    register.protection.close()
    original_export = tmp_path / "original.jsonl"
    cli(data, "export", "--out", str(original_export))
    original_hashes = evidence_hashes(data, PASSPHRASE)
    assert len(original_hashes) > 3
    cli(data, "evidence", "verify")

    kyiv, vilnius, _stranger = custodians
    out = cli(
        data,
        "backup",
        "create",
        "--to",
        target,
        "--recipient",
        kyiv.recipient,
        "--recipient",
        vilnius.recipient,
        **env,
    )
    assert "new repository" in out
    out = cli(None, "backup", "verify", "--from", target, "--identity", str(vilnius.identity), **env)

    shutil.rmtree(data)  # the original is gone: seized, burnt, or left behind
    assert not data.exists()

    new_dir = tmp_path / "abroad" / "data"
    out = cli(
        None,
        "restore",
        "--from",
        target,
        "--identity",
        str(kyiv.identity),
        "--data-dir",
        str(new_dir),
        "--workers",
        "1" if kind == "dir" else "0",  # one age worker process / age in the CLI's own process
        passphrase=NEW_PASSPHRASE,
        **env,
    )
    assert "root matches the backup" in out and "verify OK" in out

    restored_export = tmp_path / "restored.jsonl"
    cli(new_dir, "export", "--out", str(restored_export), passphrase=NEW_PASSPHRASE)
    assert restored_export.read_bytes() == original_export.read_bytes()
    assert evidence_hashes(new_dir, NEW_PASSPHRASE) == original_hashes
    cli(new_dir, "audit", "verify", passphrase=NEW_PASSPHRASE)
    out = cli(new_dir, "evidence", "verify", passphrase=NEW_PASSPHRASE)
    assert f"all {len(original_hashes)} evidence items match" in out
    # The old passphrase opens nothing there: the keys were re-wrapped under the new one.
    result = runner.invoke(
        app, ["--data-dir", str(new_dir), "audit", "verify"], env={"SVIDOK_PASSPHRASE": PASSPHRASE}
    )
    assert result.exit_code == 4


def test_restore_while_server_writes(register: Register, custodians: list[Custodian], tmp_path: Path) -> None:
    """A backup taken while another connection keeps appending is a consistent database."""
    import threading

    from svidok.backup.repo import load_identities
    from svidok.backup.targets import DirTarget
    from svidok.crypto.keyring import MasterSecret
    from svidok.services import backup as service
    from svidok.services.keys import Protection

    p = register.protection
    stop = threading.Event()
    written = [0]

    def writer() -> None:
        from sqlalchemy.exc import IntegrityError

        while not stop.is_set():
            try:
                with p.store.begin() as conn:
                    p.audit.append(
                        conn, "server", "record.view", "person", f"p{written[0]}", {"n": written[0]}
                    )
            except IntegrityError:
                continue  # collided with the backup's own audit entry: retry, as documented
            written[0] += 1

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        target = DirTarget(tmp_path / "t")
        report = service.create(
            p, register.settings, [target], "op", register.blobs, recipients=[custodians[0].recipient]
        )
    finally:
        stop.set()
        thread.join()
    assert report.ok and written[0] > 0
    new_dir = tmp_path / "new"
    secret = MasterSecret(passphrase=NEW_PASSPHRASE)
    restored = service.restore(target, load_identities(custodians[0].identity), new_dir, secret)
    assert restored.audit_ok and restored.audit_size >= report.audit_size
    q = Protection.open(register.settings.__class__(data_dir=new_dir), secret)
    with q.store.read() as conn:
        assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
    q.close()
