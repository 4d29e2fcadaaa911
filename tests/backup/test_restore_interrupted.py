"""A restore that stops half-way is never taken for a register: killed while writing or while
moving into place, the directory cannot be opened, and the next restore removes the leftover and
succeeds; a damaged pack leaves nothing behind; a directory with someone else's files is refused."""

from __future__ import annotations

import errno
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from svidok.backup import direct
from svidok.backup import restore as unpacking
from svidok.backup.repo import BackupCorrupt, Repository, load_identities, pack_object
from svidok.backup.targets import DirTarget
from svidok.crypto.keyring import KEYRING_FILE, TEST_ARGON2, MasterSecret
from svidok.errors import ConfigError, SvidokError
from svidok.services import backup as service
from svidok.services.keys import Protection
from svidok.settings import Settings

from .conftest import Custodian, Register

SECRET = MasterSecret(passphrase="restored passphrase")


@pytest.fixture
def backed_up(register: Register, custodians: list[Custodian], tmp_path: Path) -> DirTarget:
    target = DirTarget(tmp_path / "repo")
    report = service.create(
        register.protection,
        register.settings,
        [target],
        "op",
        register.blobs,
        recipients=[custodians[0].recipient],
    )
    assert report.ok
    return target


def _restore_in_child(target: DirTarget, identity: Path, new_dir: Path, sabotage: Callable[[], None]) -> int:
    """Run a restore in a forked process that `sabotage` kills part-way (os._exit: no cleanup)."""
    pid = os.fork()
    if pid == 0:  # the child: nothing here may return into pytest
        code = 0
        try:
            sabotage()
            service.restore(target, load_identities(identity), new_dir, SECRET, params=TEST_ARGON2)
        except BaseException as exc:
            os.write(2, f"restore in the child failed: {exc!r}\n".encode())
            code = 3
        finally:
            os._exit(code)
    _pid, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


def _assert_unusable_then_restorable(
    target: DirTarget, custodian: Custodian, new_dir: Path, register: Register
) -> None:
    names = {e.name for e in new_dir.iterdir()}
    assert unpacking.STAGING in names and KEYRING_FILE not in names, names
    with pytest.raises(SvidokError):  # no command can open what the killed restore left
        Protection.open(Settings(data_dir=new_dir), SECRET)
    again = service.restore(target, load_identities(custodian.identity), new_dir, SECRET, params=TEST_ARGON2)
    assert again.cleaned_partial and again.audit_ok
    assert unpacking.STAGING not in {e.name for e in new_dir.iterdir()}
    p = Protection.open(Settings(data_dir=new_dir), SECRET)
    try:
        restored = {k: v for k, v in p.store.counts().items() if "audit" not in k}
    finally:
        p.close()
    assert restored == {k: v for k, v in register.protection.store.counts().items() if "audit" not in k}


def test_restore_killed_while_writing_is_refused_then_redone(
    backed_up: DirTarget, custodians: list[Custodian], register: Register, tmp_path: Path
) -> None:
    new_dir = tmp_path / "restored"
    written = [0]

    def sabotage() -> None:
        original = service.unpacking.unpack

        def unpack_then_die(*args: object, **kwargs: object) -> object:
            def progress(n: int) -> None:
                written[0] += n
                if written[0] > 256 * 1024:  # some files written, most not
                    os._exit(9)  # the kernel's view of a power cut: no finally, no cleanup

            kwargs["progress"] = progress
            return original(*args, **kwargs)  # type: ignore[arg-type]

        service.unpacking.unpack = unpack_then_die  # type: ignore[assignment]

    assert _restore_in_child(backed_up, custodians[0].identity, new_dir, sabotage) == 9
    _assert_unusable_then_restorable(backed_up, custodians[0], new_dir, register)


def test_restore_killed_while_moving_into_place_is_refused_then_redone(
    backed_up: DirTarget, custodians: list[Custodian], register: Register, tmp_path: Path
) -> None:
    new_dir = tmp_path / "restored"

    def sabotage() -> None:
        renames = [0]
        real_rename = os.rename

        def rename_then_die(src: object, dst: object) -> None:
            renames[0] += 1
            if renames[0] == 3:  # some entries moved, the keyring not yet
                os._exit(9)
            real_rename(src, dst)  # type: ignore[arg-type]

        unpacking.os.rename = rename_then_die  # type: ignore[assignment]

    assert _restore_in_child(backed_up, custodians[0].identity, new_dir, sabotage) == 9
    assert {e.name for e in new_dir.iterdir()} - {unpacking.STAGING}  # it was interrupted mid-move
    _assert_unusable_then_restorable(backed_up, custodians[0], new_dir, register)


def test_damaged_pack_leaves_nothing_behind(
    backed_up: DirTarget, custodians: list[Custodian], tmp_path: Path
) -> None:
    repo = Repository.open(backed_up)
    manifest = repo.manifest(repo.snapshot_ids()[-1])
    pid = manifest.packs[-1].pack
    path = backed_up.root / pack_object(pid)
    data = bytearray(path.read_bytes())
    data[-100] ^= 0x40
    path.write_bytes(bytes(data))
    new_dir = tmp_path / "restored"
    with pytest.raises(BackupCorrupt, match=pid):
        service.restore(
            backed_up, load_identities(custodians[0].identity), new_dir, SECRET, params=TEST_ARGON2
        )
    assert list(new_dir.iterdir()) == []


def test_directory_with_other_files_is_refused_and_left_alone(
    backed_up: DirTarget, custodians: list[Custodian], tmp_path: Path
) -> None:
    new_dir = tmp_path / "restored"
    new_dir.mkdir()
    (new_dir / "notes.txt").write_text("someone's notes")
    (new_dir / unpacking.STAGING).mkdir()
    (new_dir / KEYRING_FILE).write_text("{}")  # a finished restore or a live register: never cleaned
    with pytest.raises(ConfigError, match="not empty"):
        service.restore(
            backed_up, load_identities(custodians[0].identity), new_dir, SECRET, params=TEST_ARGON2
        )
    assert (new_dir / "notes.txt").read_text() == "someone's notes"


def test_check_restore_decrypts_and_checks_without_writing(
    backed_up: DirTarget, custodians: list[Custodian], tmp_path: Path
) -> None:
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    report = service.check_restore(backed_up, load_identities(custodians[0].identity))
    assert report.files >= 2 and report.bytes_written > 0 and report.packs > 0
    assert report.busy["decrypt"] > 0 and report.busy["verify"] > 0
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before


def test_full_disk_is_reported_and_leaves_nothing_behind(
    backed_up: DirTarget, custodians: list[Custodian], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_space(_fd: int, _data: object) -> int:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(direct, "_write", no_space)  # every file write of the restore
    new_dir = tmp_path / "restored"
    with pytest.raises(ConfigError, match="No space left on device"):
        service.restore(
            backed_up, load_identities(custodians[0].identity), new_dir, SECRET, params=TEST_ARGON2
        )
    monkeypatch.undo()
    assert list(new_dir.iterdir()) == []
    again = service.restore(
        backed_up, load_identities(custodians[0].identity), new_dir, SECRET, params=TEST_ARGON2
    )
    assert again.audit_ok and not again.cleaned_partial
