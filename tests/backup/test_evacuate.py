"""Evacuation: a dry run changes nothing; a real one backs up and verifies every target, then
destroys the local keys so the machine left behind holds only ciphertext; the register lives on
abroad."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from svidok.backup.repo import load_identities
from svidok.backup.targets import DirTarget
from svidok.cli.app import app
from svidok.crypto.keyring import MasterSecret
from svidok.services import backup as service
from svidok.services.keys import Protection

from .conftest import PASSPHRASE, Custodian, Register

runner = CliRunner()


def tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_dry_run_changes_nothing(register: Register, custodians: list[Custodian], tmp_path: Path) -> None:
    register.protection.close()
    before = tree(register.data_dir)
    t1, t2 = tmp_path / "usb", tmp_path / "nas"
    result = runner.invoke(
        app,
        [
            "--data-dir",
            str(register.data_dir),
            "evacuate",
            "--to",
            f"dir:{t1}",
            "--to",
            str(t2),
            "--recipient",
            custodians[0].recipient,
            "--wipe-local",
            "--dry-run",
        ],
        env={"SVIDOK_PASSPHRASE": PASSPHRASE},
    )
    assert result.exit_code == 0, result.output
    assert "dry run" in result.output and "keyring.json" in result.output and "keys.db" in result.output
    assert tree(register.data_dir) == before
    assert not t1.exists() and not t2.exists()


def test_evacuate_and_wipe(register: Register, custodians: list[Custodian], tmp_path: Path) -> None:
    register.protection.close()
    data = register.data_dir
    t1, t2 = tmp_path / "usb", tmp_path / "nas"
    result = runner.invoke(
        app,
        [
            "--data-dir",
            str(data),
            "evacuate",
            "--to",
            f"dir:{t1}",
            "--to",
            f"dir:{t2}",
            "--recipient",
            custodians[0].recipient,
            "--recipient",
            custodians[1].recipient,
            "--wipe-local",
            "--yes",
        ],
        env={"SVIDOK_PASSPHRASE": PASSPHRASE},
    )
    assert result.exit_code == 0, result.output
    assert "only ciphertext" in result.output
    assert not (data / "keyring.json").exists() and not (data / "keys.db").exists()
    # The machine left behind cannot open its register any more, even with the passphrase.
    result = runner.invoke(
        app, ["--data-dir", str(data), "audit", "verify"], env={"SVIDOK_PASSPHRASE": PASSPHRASE}
    )
    assert result.exit_code != 0 and "keyring" in result.output
    with (data / "register.db").open("rb") as fh:
        assert not fh.read(16).startswith(b"SQLite format 3")
    # Both targets hold the full register; each restores on its own.
    for i, target in enumerate((t1, t2)):
        secret = MasterSecret(passphrase="new home passphrase")
        report = service.restore(
            DirTarget(target), load_identities(custodians[i].identity), tmp_path / f"restored{i}", secret
        )
        assert report.audit_ok and sum(report.counts.values()) > 100
        p = Protection.open(register.settings.__class__(data_dir=tmp_path / f"restored{i}"), secret)
        with p.store.read() as conn:
            actions = [r[0] for r in conn.exec_driver_sql("SELECT action FROM audit_entry ORDER BY seq")]
        p.close()
        assert "backup.evacuate" in actions and actions[-1] == "backup.restore"


def test_no_wipe_when_a_target_fails(register: Register, custodians: list[Custodian], tmp_path: Path) -> None:
    blocked = tmp_path / "not-a-dir"
    blocked.write_text("a file where the target directory should be")
    report = service.evacuate(
        register.protection,
        register.settings,
        [DirTarget(tmp_path / "ok"), DirTarget(blocked)],
        "op",
        register.blobs,
        recipients=[custodians[0].recipient],
        wipe_local=True,
    )
    assert report.backup is not None and not report.backup.ok
    assert report.wiped == [] and (register.data_dir / "keys.db").exists()


@pytest.mark.parametrize("wipe", [False])
def test_evacuate_without_wipe_keeps_keys(
    wipe: bool, register: Register, custodians: list[Custodian], tmp_path: Path
) -> None:
    report = service.evacuate(
        register.protection,
        register.settings,
        [DirTarget(tmp_path / "t")],
        "op",
        register.blobs,
        recipients=[custodians[0].recipient],
        wipe_local=wipe,
    )
    assert report.verified and all(v.ok for v in report.verified) and report.wiped == []
    assert (register.data_dir / "keys.db").exists()
