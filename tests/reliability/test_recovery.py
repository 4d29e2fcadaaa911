"""Start-up recovery removes a crash's leftovers, keeps what rows name, and names nothing by content."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from svidok.crypto.keyring import TEST_ARGON2, MasterSecret
from svidok.evidence.blobs import FileBlobStore
from svidok.services.evidence import EvidenceService
from svidok.services.keys import Protection
from svidok.services.recovery import recover
from svidok.settings import Settings
from svidok.store.models import Base


@pytest.fixture
def protection(tmp_path: Path) -> Iterator[Protection]:
    settings = Settings(data_dir=tmp_path / "data")
    p = Protection.open(settings, MasterSecret(passphrase="recovery tests"), create=True, params=TEST_ARGON2)
    yield p
    p.close()


def _file(tmp_path: Path, name: str, content: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(content)
    return path


def _age(path: Path, seconds: float) -> None:
    then = time.time() - seconds
    os.utime(path, (then, then), follow_symlinks=False)


def test_leftovers_of_an_interrupted_intake_are_removed_and_counted(
    protection: Protection, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blobs = FileBlobStore(protection.keyring.data_dir / "blobs")
    service = EvidenceService(protection, blobs)
    kept = service.add(_file(tmp_path, "kept.pdf", b"%PDF-1.4 fictional kept"), "test")
    # A crash between storing the blob and committing its rows: the blob alone.
    orphan = service.prepare(_file(tmp_path, "orphan.pdf", b"%PDF-1.4 fictional orphan"))
    incoming = blobs.root / ".incoming" / "blob-halfdone"
    incoming.write_bytes(b"partial ciphertext")
    upload = blobs.root / ".uploads" / "0123456789abcdef"
    upload.mkdir(parents=True)
    (upload / "0").mkdir()
    (upload / "0" / "witness-name.jpg").write_bytes(b"\xff\xd8\xff fictional")
    # A crash while a plaintext export was being sent.
    download = protection.keyring.data_dir / ".downloads" / "tmpdownload1"
    download.mkdir(parents=True)
    (download / "register.jsonl").write_text('{"record": "person", "primary_name": "fictional"}\n')
    for path in (blobs.path(orphan.digests.sha256), incoming, upload, download):
        _age(path, 3600)

    with caplog.at_level(logging.WARNING, logger="svidok.recovery"):
        report = recover(protection, blobs, grace=60)

    assert report.orphan_blobs_removed == 1
    assert sorted(report.spool_removed) == [
        ".downloads/tmpdownload1",
        ".incoming/blob-halfdone",
        ".uploads/0123456789abcdef",
    ]
    assert not download.exists()
    assert report.evidence_without_blob == []
    assert not blobs.path(orphan.digests.sha256).exists() and not incoming.exists() and not upload.exists()
    assert list(blobs.digests()) == [service_digest(protection, kept)]
    logged = caplog.text
    assert "removed 1 blob(s)" in logged and "removed 3 unfinished spool file(s)" in logged
    # Named by count and random spool names only: never a digest or an uploaded file's name.
    assert orphan.digests.sha256[:8] not in logged and "witness-name" not in logged
    assert service.verify("test")[1] == []


def service_digest(protection: Protection, evidence_id: str) -> str:
    table = Base.metadata.tables["evidence"]
    with protection.store.read() as conn:
        return str(conn.execute(table.select().where(table.c.id == evidence_id)).mappings().one()["sha256"])


def test_young_leftovers_wait_for_the_grace_period(protection: Protection, tmp_path: Path) -> None:
    blobs = FileBlobStore(protection.keyring.data_dir / "blobs")
    service = EvidenceService(protection, blobs)
    orphan = service.prepare(_file(tmp_path, "young.pdf", b"%PDF-1.4 fictional young"))
    report = recover(protection, blobs, grace=600)
    assert (report.orphan_blobs_removed, report.orphan_blobs_recent) == (0, 1)
    assert blobs.exists(orphan.digests.sha256)
    report = recover(protection, blobs, grace=0)
    assert report.orphan_blobs_removed == 1 and not blobs.exists(orphan.digests.sha256)
    assert recover(protection, blobs, grace=0).clean


def test_rows_whose_blob_is_gone_are_named_not_deleted(protection: Protection, tmp_path: Path) -> None:
    blobs = FileBlobStore(protection.keyring.data_dir / "blobs")
    service = EvidenceService(protection, blobs)
    evidence_id = service.add(_file(tmp_path, "lost.pdf", b"%PDF-1.4 fictional lost"), "test")
    digest = service_digest(protection, evidence_id)
    blobs.path(digest).unlink()
    report = recover(protection, blobs, grace=0)
    assert report.evidence_without_blob == [evidence_id]
    assert any(evidence_id in line for line in report.lines())
    table = Base.metadata.tables["evidence"]
    with protection.store.read() as conn:
        assert conn.execute(table.select().where(table.c.id == evidence_id)).first() is not None
    assert [p.evidence_ids for p in service.verify("test")[1]] == [[evidence_id]]
