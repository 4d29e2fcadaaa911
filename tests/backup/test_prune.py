"""Retention: list, prune by policy, packs freed only when unused; key bundles with their own
retention so that crypto-shredding reaches old backups (KEY-02)."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from svidok.backup.repo import load_identities
from svidok.backup.targets import DirTarget
from svidok.cli.app import app
from svidok.crypto.errors import KeyDestroyed
from svidok.crypto.keyring import Keyring, MasterSecret
from svidok.services import backup as service
from svidok.services.keys import shred_subject

from .conftest import Custodian, Register

runner = CliRunner()


def test_select_keep_follows_the_policy() -> None:
    start = datetime(2026, 1, 1, 3, 0)
    created = {f"s{i:03d}": start + timedelta(hours=12 * i) for i in range(120)}  # two a day, 60 days
    assert service.select_keep(created, last=3) == {"s119", "s118", "s117"}
    daily = service.select_keep(created, daily=7)
    assert len(daily) == 7 and "s119" in daily and "s118" not in daily  # newest of each day
    monthly = service.select_keep(created, monthly=3)
    assert {created[s].strftime("%Y-%m") for s in monthly} == {"2026-03", "2026-02", "2026-01"}
    both = service.select_keep(created, last=2, weekly=2)
    assert {"s119", "s118"} <= both and len(both) == 3


def test_prune_keeps_what_is_needed(register: Register, custodians: list[Custodian], tmp_path: Path) -> None:
    p = register.protection
    target = DirTarget(tmp_path / "repo")
    sids = []
    for _ in range(3):
        with p.store.begin() as conn:
            for i in range(300):
                p.audit.append(conn, "op", "record.view", "person", f"p{i}", {"i": i})
        report = service.create(
            p, register.settings, [target], "op", register.blobs, recipients=[custodians[0].recipient]
        )
        sids.append(report.snapshot)
    # What an interrupted backup leaves behind: a pack no manifest references.
    from svidok.backup.repo import PackWriter, Repository

    orphan = PackWriter(target, Repository.open(target).recipient)
    orphan.add(b"\x01" * 32, b"half of an interrupted backup")
    orphan_pid = orphan.flush()
    orphan.drain()
    assert orphan_pid is not None
    packs_before = len([n for n in target.list("packs/") if n.endswith(".age")])
    out = runner.invoke(app, ["backup", "list", "--from", str(target.root)])
    assert out.exit_code == 0 and all(s in out.output for s in sids)

    plan = service.prune(target, keep_last=1, dry_run=True)
    assert plan.remove == sids[:2] and not plan.done
    assert len(target.list("snapshots/")) == 3  # a dry run deletes nothing
    out = runner.invoke(app, ["backup", "prune", "--from", str(target.root), "--keep-last", "1"])
    assert out.exit_code == 0, out.output
    assert target.list("snapshots/") == [f"snapshots/{sids[2]}.json"]
    packs_after = len([n for n in target.list("packs/") if n.endswith(".age")])
    assert 0 < packs_after < packs_before  # at least the orphan went
    assert not target.exists(f"packs/{orphan_pid[:2]}/{orphan_pid}.age")
    assert service.verify(target).ok
    restored = service.restore(
        target,
        load_identities(custodians[0].identity),
        tmp_path / "r",
        MasterSecret(passphrase="restored here"),
    )
    assert restored.audit_ok


def test_prune_waits_for_a_running_backup(
    register: Register, custodians: list[Custodian], tmp_path: Path
) -> None:
    target = DirTarget(tmp_path / "repo")
    service.create(
        register.protection,
        register.settings,
        [target],
        "op",
        register.blobs,
        recipients=[custodians[0].recipient],
    )
    target.put(
        "locks/20990101T000000.000000Z-abcdef.lock", datetime.utcnow().strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    )
    with pytest.raises(Exception, match="a backup is running"):
        service.prune(target, keep_last=1)
    assert service.prune(target, keep_last=1, force=True).done


def test_shredding_reaches_old_backups_once_their_key_bundles_are_pruned(
    register: Register, custodians: list[Custodian], tmp_path: Path
) -> None:
    p = register.protection
    target = DirTarget(tmp_path / "repo")
    p.keyring.subject_key("witness-17")  # a subject with their own data key
    before = service.create(
        p, register.settings, [target], "op", register.blobs, recipients=[custodians[0].recipient]
    )
    shred_subject(p, "officer", "witness-17", "erasure request")
    after = service.create(p, register.settings, [target], "op", register.blobs)
    # Data retention: both snapshots; key retention: only the newest key bundle (KEY-02).
    plan = service.prune(target, keep_last=2, keep_keys=1)
    assert plan.remove == [] and plan.remove_keys == [f"keys/{before.snapshot}.age"]
    secret = MasterSecret(passphrase="restored passphrase")
    report = service.restore(
        target, load_identities(custodians[0].identity), tmp_path / "old", secret, snapshot=before.snapshot
    )
    assert report.keys_from == after.snapshot  # the old data with the newer keys
    ring = Keyring.unlock(tmp_path / "old", secret)
    with pytest.raises(KeyDestroyed):
        ring.data_key("subject:witness-17")
    ring.db_key()  # the register itself opens
