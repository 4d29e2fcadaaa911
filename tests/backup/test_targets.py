"""One contract for every target: directory, S3-compatible (moto on loopback), SFTP (paramiko
server on loopback). Plus a backup and restore through SFTP end to end."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from svidok.backup.repo import load_identities
from svidok.backup.targets import ObjectMissing, Target, open_target
from svidok.crypto.keyring import MasterSecret
from svidok.errors import ConfigError
from svidok.services import backup as service

from .conftest import Custodian, Register, new_bucket
from .sftp_server import LoopbackSFTP


@pytest.fixture
def sftp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[LoopbackSFTP]:
    server = LoopbackSFTP(tmp_path / "sftp-root", tmp_path)
    for k, v in server.env().items():
        monkeypatch.setenv(k, v)
    yield server
    server.close()


@pytest.fixture(params=["dir", "s3", "sftp"])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Target]:
    if request.param == "dir":
        t = open_target(str(tmp_path / "plain-path"))
    elif request.param == "s3":
        endpoint = request.getfixturevalue("s3_endpoint")
        t = open_target(f"s3://{new_bucket(endpoint)}/a/b", s3_endpoint=endpoint)
    else:
        t = open_target(request.getfixturevalue("sftp").url)
    yield t
    t.close()


def test_target_contract(target: Target) -> None:
    assert target.list("") == []
    target.put("config.json", b"one")
    target.put("packs/ab/ab12.age", b"\x00" * 100_000)
    target.put("packs/cd/cd34.map", b"map")
    target.put("snapshots/s1.json", b"s1")
    assert target.get("config.json") == b"one"
    target.put("config.json", b"two")  # replaced atomically
    assert target.get("config.json") == b"two"
    assert target.get("packs/ab/ab12.age") == b"\x00" * 100_000
    assert target.list("packs/") == ["packs/ab/ab12.age", "packs/cd/cd34.map"]
    assert target.list("snap") == ["snapshots/s1.json"]
    assert target.exists("snapshots/s1.json") and not target.exists("snapshots/s2.json")
    with pytest.raises(ObjectMissing, match="snapshots/s2.json"):
        target.get("snapshots/s2.json")
    target.delete("snapshots/s1.json")
    target.delete("snapshots/s1.json")  # deleting twice is fine
    assert target.list("snapshots/") == []
    with pytest.raises(ValueError):
        target.put("../escape", b"x")


def test_target_urls() -> None:
    assert open_target("dir:/tmp/x").describe() == "dir:/tmp/x"
    with pytest.raises(ConfigError):
        open_target("ftp://host/x")


def test_sftp_refuses_an_unknown_host_key(
    sftp: LoopbackSFTP, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    empty = tmp_path / "empty_known_hosts"
    empty.write_text("")
    monkeypatch.setenv("SVIDOK_SFTP_KNOWN_HOSTS", str(empty))
    with pytest.raises(Exception, match="not found in known_hosts|127.0.0.1"):
        open_target(sftp.url)


def test_backup_and_restore_over_sftp(
    sftp: LoopbackSFTP, register: Register, custodians: list[Custodian], tmp_path: Path
) -> None:
    target = open_target(sftp.url)
    report = service.create(
        register.protection,
        register.settings,
        [target],
        "op",
        register.blobs,
        recipients=[custodians[0].recipient],
    )
    assert report.ok, report.targets
    assert service.verify(target, identities=load_identities(custodians[0].identity)).ok
    restored = service.restore(
        target,
        load_identities(custodians[0].identity),
        tmp_path / "r",
        MasterSecret(passphrase="over ssh we go"),
    )
    target.close()
    assert restored.audit_ok and restored.files == report.files
    assert (sftp.root / "backups" / "config.json").is_file()
