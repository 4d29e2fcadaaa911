"""Evidence as investigators see it: intake, custody, verify naming damage, court export."""

from __future__ import annotations

import hashlib
import json
import os
import random
from datetime import UTC, datetime
from pathlib import Path

from PIL import Image
from sqlalchemy import select

from svidok.evidence.blobs import FileBlobStore
from svidok.services.evidence import EvidenceService, verify_custody_record
from svidok.store.models import Base


def _file(tmp_path: Path, name: str, size: int, seed: int = 1) -> Path:
    path = tmp_path / name
    path.write_bytes(random.Random(seed).randbytes(size))
    return path


def _blob_path(service: EvidenceService, digest: str) -> Path:
    assert isinstance(service.blobs, FileBlobStore)
    return service.blobs.path(digest)


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _events(service: EvidenceService, evidence_id: str) -> list[str]:
    table = Base.metadata.tables["custody_event"]
    with service.p.store.read() as conn:
        return [
            r[0]
            for r in conn.execute(
                select(table.c.event).where(table.c.evidence_id == evidence_id).order_by(table.c.id)
            )
        ]


def test_intake_stores_digests_encrypted_and_logs_custody(service, tmp_path) -> None:
    path = _file(tmp_path, "clip.mp4", 300_000)
    evidence_id = service.add(
        path, "intake-3", captured_at=datetime(2026, 8, 10, 21, 5, tzinfo=UTC), lat=53.9, lon=27.56
    )
    evidence = Base.metadata.tables["evidence"]
    blob = Base.metadata.tables["evidence_blob"]
    with service.p.store.read() as conn:
        row = conn.execute(select(evidence).where(evidence.c.id == evidence_id)).mappings().one()
        b = conn.execute(select(blob)).mappings().one()
        report = service.p.audit.verify(conn)
    assert row["sha256"] == _sha(path) and row["size_bytes"] == 300_000
    assert row["capture_time_basis"] == "asserted" and row["capture_place_basis"] == "asserted"
    assert b["blake3"] and len(b["blake3"]) == 64
    stored = _blob_path(service, row["sha256"]).read_bytes()
    assert path.read_bytes()[:1000] not in stored
    assert _events(service, evidence_id) == ["intake"]
    assert report.ok and report.entries == 1


def test_originals_are_never_overwritten(service, tmp_path) -> None:
    path = _file(tmp_path, "a.bin", 10_000)
    first = service.add(path, "op")
    digest = _sha(path)
    before = _blob_path(service, digest).read_bytes()
    second = service.add(path, "op")  # same bytes again: a second custody item, same blob
    assert first != second
    assert _blob_path(service, digest).read_bytes() == before
    other = tmp_path / "other.enc"
    other.write_bytes(b"forged ciphertext")
    assert service.blobs.put(digest, other) is False
    assert _blob_path(service, digest).read_bytes() == before
    assert not os.access(_blob_path(service, digest), os.W_OK) or os.geteuid() == 0
    assert _blob_path(service, digest).stat().st_mode & 0o222 == 0


def test_verify_names_the_flipped_and_the_truncated_item(service, tmp_path) -> None:
    ids = [service.add(_file(tmp_path, f"f{i}.bin", 200_000 + i, seed=i), "op") for i in range(4)]
    checked, problems = service.verify("auditor")
    assert checked == 4 and problems == []
    evidence = Base.metadata.tables["evidence"]
    with service.p.store.read() as conn:
        digests = dict(conn.execute(select(evidence.c.id, evidence.c.sha256)).all())
    flipped = _blob_path(service, digests[ids[1]])
    os.chmod(flipped, 0o644)
    data = bytearray(flipped.read_bytes())
    data[len(data) // 2] ^= 0x01
    flipped.write_bytes(bytes(data))
    truncated = _blob_path(service, digests[ids[3]])
    os.chmod(truncated, 0o644)
    truncated.write_bytes(truncated.read_bytes()[: 64 * 1024 + 16 + 100])
    checked, problems = service.verify("auditor")
    named = sorted(i for p in problems for i in p.evidence_ids)
    assert named == sorted([ids[1], ids[3]])
    assert all(p.sha256 == digests[p.evidence_ids[0]] for p in problems)
    assert _events(service, ids[0]) == ["intake", "verify", "verify"]


def _jpeg_with_gps(path: Path) -> None:
    image = Image.new("RGB", (8, 8), "white")
    exif = Image.Exif()
    exif[0x010F] = "Canon"
    exif[0x0110] = "EOS 80D"
    exif.get_ifd(0x8769)[0x9003] = "2026:08:10 23:14:05"
    exif.get_ifd(0x8769)[0x9011] = "+03:00"
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = "N", (53.0, 54.0, 21.6)
    gps[3], gps[4] = "E", (27.0, 33.0, 36.0)
    image.save(path, exif=exif)


def test_exif_capture_data_is_kept_beside_asserted_values(service, tmp_path) -> None:
    path = tmp_path / "photo.jpg"
    _jpeg_with_gps(path)
    digest = _sha(path)
    evidence_id = service.add(path, "op", lat=53.0, lon=27.0)
    assert _sha(path) == digest  # the original is read, never altered
    evidence = Base.metadata.tables["evidence"]
    claim = Base.metadata.tables["evidence_claim"]
    with service.p.store.read() as conn:
        row = conn.execute(select(evidence).where(evidence.c.id == evidence_id)).mappings().one()
        claims = conn.execute(
            select(claim.c.field, claim.c.value, claim.c.basis, claim.c.source).where(
                claim.c.evidence_id == evidence_id
            )
        ).all()
    assert row["sha256"] == digest
    assert row["capture_place_basis"] == "metadata" and row["capture_time_basis"] == "metadata"
    assert abs(row["lat"] - 53.906) < 1e-3 and abs(row["lon"] - 27.56) < 1e-3
    assert row["capture_start"] == datetime(2026, 8, 10, 20, 14, 5)
    assert row["device"] == "Canon EOS 80D"
    assert ("lat", "53.906000", "metadata", "file EXIF") in claims
    assert ("lat", "53.000000", "asserted", "submitter statement") in claims


def test_export_bundle_verifies_offline_and_detects_a_changed_file(service, tmp_path) -> None:
    evidence_id = service.add(_file(tmp_path, "v.bin", 150_000), "intake")
    out = tmp_path / "court"
    record = service.export(evidence_id, out, "investigator-2", "ICC request 17")
    assert verify_custody_record(record) == []
    signed = json.loads(record.read_text())
    assert [e["event"] for e in signed["record"]["custody"]] == ["intake", "export"]
    original = out / signed["record"]["evidence"]["file"]
    original.write_bytes(original.read_bytes()[:-1] + b"\x00")
    assert any("does not match" in p for p in verify_custody_record(record))
    signed["record"]["custody"][0]["actor"] = "someone-else"
    record.write_text(json.dumps(signed))
    assert verify_custody_record(record) == ["custody record signature: InvalidSignature"]
