"""verify names what is wrong: a flipped byte, a missing pack, a replaced or forged manifest,
a replaced repository; custodians (BAK-01): each alone decrypts, a stranger cannot."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from svidok.backup.repo import (
    CONFIG,
    BackupCorrupt,
    Repository,
    load_identities,
    pack_object,
    sign_document,
    snapshot_object,
)
from svidok.backup.targets import DirTarget
from svidok.crypto.keyring import TEST_ARGON2, MasterSecret
from svidok.errors import InputError
from svidok.services import backup as service

from .conftest import Custodian, Register


@pytest.fixture
def repo(register: Register, custodians: list[Custodian], tmp_path: Path) -> tuple[DirTarget, str, list[str]]:
    """A repository with two snapshots; returns the target, the signing key and the snapshot ids."""
    target = DirTarget(tmp_path / "repo")
    recipients = [custodians[0].recipient, custodians[1].recipient]
    first = service.create(
        register.protection, register.settings, [target], "op", register.blobs, recipients=recipients
    )
    second = service.create(register.protection, register.settings, [target], "op", register.blobs)
    assert first.ok and second.ok
    return target, first.signing_key, [first.snapshot, second.snapshot]


def packs(target: DirTarget) -> list[str]:
    return [n for n in target.list("packs/") if n.endswith(".age")]


def test_clean_repository_verifies(
    repo: tuple[DirTarget, str, list[str]], custodians: list[Custodian]
) -> None:
    target, key, sids = repo
    report = service.verify(target, pinned_key=key)
    assert report.ok, report.summary()
    assert report.snapshots == sids and report.packs == len(packs(target))
    deep = service.verify(target, pinned_key=key, identities=load_identities(custodians[1].identity))
    assert deep.ok and deep.decrypted, deep.summary()


def test_flipped_byte_in_a_pack_is_named(
    repo: tuple[DirTarget, str, list[str]], custodians: list[Custodian]
) -> None:
    target, key, sids = repo
    victim = pack_object(Repository.open(target, key).manifest(sids[-1]).packs[0].pack)
    path = target.root / victim
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    pid = Path(victim).name.removesuffix(".age")
    report = service.verify(target, pinned_key=key)
    assert not report.ok
    assert any(pid in p and "altered" in p and "chunks" in p for p in report.problems), report.problems
    assert len(report.problems) == 1
    # A restore from it stops and names the pack instead of writing damaged data.
    with pytest.raises(BackupCorrupt, match=pid):
        service.restore(
            target,
            load_identities(custodians[0].identity),
            target.root.parent / "r",
            MasterSecret(passphrase="new passphrase"),
            params=TEST_ARGON2,
        )


def test_missing_pack_is_named(repo: tuple[DirTarget, str, list[str]]) -> None:
    target, key, _ = repo
    victim = packs(target)[-1]
    (target.root / victim).unlink()
    pid = Path(victim).name.removesuffix(".age")
    report = service.verify(target, pinned_key=key)
    assert any(pid in p and "missing" in p for p in report.problems), report.problems


def test_replaced_manifest_is_named(repo: tuple[DirTarget, str, list[str]]) -> None:
    target, key, (first, second) = repo
    # An old, validly signed manifest put in place of the newest one (a rollback).
    (target.root / snapshot_object(second)).write_bytes((target.root / snapshot_object(first)).read_bytes())
    report = service.verify(target, pinned_key=key)
    assert any(second in p and "replaced" in p for p in report.problems), report.problems


def test_forged_manifest_is_named(repo: tuple[DirTarget, str, list[str]]) -> None:
    target, key, (_first, second) = repo
    name = snapshot_object(second)
    body = json.loads((target.root / name).read_bytes())["signed"]
    body["stats"]["files"] += 1
    (target.root / name).write_bytes(sign_document("snapshot", body, Ed25519PrivateKey.generate()))
    report = service.verify(target, pinned_key=key)
    assert any(second in p and "signature does not verify" in p for p in report.problems), report.problems
    # An edit without re-signing fails the same way.
    doc = json.loads((target.root / name).read_bytes())
    doc["signed"]["created"] = "2000-01-01T00:00:00Z"
    (target.root / name).write_text(json.dumps(doc))
    assert any(second in p for p in service.verify(target, pinned_key=key).problems)


def test_replaced_repository_is_caught_by_the_pinned_key(
    repo: tuple[DirTarget, str, list[str]], register: Register, custodians: list[Custodian], tmp_path: Path
) -> None:
    target, key, _ = repo
    forger = Repository.initialise(
        DirTarget(tmp_path / "forged"),
        service.BackupKeys(b"k" * 32, Ed25519PrivateKey.generate()),
        register.protection.keyring.register_id,
        [custodians[2].recipient],
    )
    (target.root / CONFIG).write_bytes(forger.target.get(CONFIG))
    report = service.verify(target, pinned_key=key)
    assert not report.ok and "pinned key" in report.problems[0] and CONFIG in report.problems[0]
    # Without a pinned key the manifests no longer match the (replaced) config's key.
    unpinned = service.verify(target)
    assert not unpinned.ok and all("signature does not verify" in p for p in unpinned.problems)
    # And the register refuses to write into a repository that is not its own.
    report2 = service.create(register.protection, register.settings, [target], "op", register.blobs)
    assert not report2.ok and "pinned key" in str(report2.targets[0].error)


def test_each_custodian_alone_decrypts_a_stranger_cannot(
    repo: tuple[DirTarget, str, list[str]], custodians: list[Custodian]
) -> None:
    target, key, _ = repo
    repository = Repository.open(target, key)
    for custodian in custodians[:2]:
        identity = repository.repo_identity(load_identities(custodian.identity))
        assert str(identity.to_public()) == repository.config["repo_recipient"]
    with pytest.raises(InputError, match="not one of this repository's custodians"):
        repository.repo_identity(load_identities(custodians[2].identity))
    report = service.verify(target, pinned_key=key, identities=load_identities(custodians[2].identity))
    assert not report.ok and "custodians" in report.problems[0]


def test_object_names_in_messages_never_contents(repo: tuple[DirTarget, str, list[str]]) -> None:
    target, key, _ = repo
    for victim in packs(target)[:2]:
        (target.root / victim).write_bytes(b"Ivanov Ivan Ivanovich was beaten at the station")
    report = service.verify(target, pinned_key=key)
    assert len(report.problems) == 2
    assert not any("Ivanov" in p or "beaten" in p for p in report.problems)
