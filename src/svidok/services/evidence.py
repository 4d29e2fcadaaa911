"""Evidence use cases: intake, verify, export (EV-01 … EV-05).

Intake reads the file once: SHA-256 and BLAKE3 of the original bytes, its
encryption (`svidok.evidence.stream`) and, for a JPEG or TIFF, the head its
metadata is read from, all in the same pass, into a temporary file
that the blob store then links into place under the SHA-256 (never replacing
an existing blob). Then, in one transaction: the `evidence` row, the blob row,
the capture claims (EXIF beside assertions), the custody event `intake` and its
audit entry. `verify` re-decrypts and re-hashes every stored original and names
each evidence item whose bytes changed. `export` writes the original bytes and a
custody record signed with the audit key, with inclusion proofs of its custody
entries in a signed checkpoint, so a court can check it without our server.
"""

from __future__ import annotations

import base64
import hashlib
import json
import mimetypes
import os
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, insert, select

from svidok.audit.entry import canonical_json, utc_naive
from svidok.crypto.errors import EvidenceCorrupt
from svidok.domain.values import new_id, to_utc
from svidok.errors import InputError, NotFound
from svidok.evidence import custody
from svidok.evidence.blobs import BlobStore, FileBlobStore
from svidok.evidence.filenames import safe_name
from svidok.evidence.metadata import MAX_METADATA_BYTES, Claim, exif_claims_from, might_have_exif
from svidok.evidence.stream import DEFAULT_CHUNK, Digests, Head, SyncedWriter, decrypt_stream, encrypt_stream
from svidok.services.context import Actor, ServiceContext
from svidok.services.keys import Protection
from svidok.store.models import Base

__all__ = ["EvidenceService", "Prepared", "Problem", "default_blob_store", "verify_custody_record"]

_EVIDENCE = Base.metadata.tables["evidence"]
_BLOB = Base.metadata.tables["evidence_blob"]
_CLAIM = Base.metadata.tables["evidence_claim"]
BLOB_KEY = "blob"


def default_blob_store(data_dir: Path, url: str | None = None) -> BlobStore:
    """`<data_dir>/blobs` unless an `s3://bucket/prefix` URL is given."""
    if url:
        from svidok.evidence.blobs import S3BlobStore

        return S3BlobStore.from_url(url)
    return FileBlobStore(data_dir / "blobs")


def _advise_sequential(fd: int) -> None:
    """Tell the kernel the original is read once, front to back (a larger read-ahead)."""
    if hasattr(os, "posix_fadvise"):
        try:
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_SEQUENTIAL)
        except OSError:  # a hint: a file system that refuses it still reads
            pass


@dataclass(frozen=True)
class Prepared:
    """A file whose encrypted blob is stored, with what its rows will say."""

    digests: Digests
    media_type: str
    original_name: str
    received: datetime
    claims: list[Claim]
    capture_start: datetime | None
    time_basis: str
    lat: float | None
    lon: float | None
    place_basis: str
    device: str | None


@dataclass(frozen=True)
class Problem:
    evidence_ids: list[str]
    sha256: str
    reason: str

    def __str__(self) -> str:
        return f"evidence {', '.join(self.evidence_ids)} (sha256 {self.sha256}): {self.reason}"


class EvidenceService:
    def __init__(
        self,
        p: Protection,
        blobs: BlobStore,
        *,
        chunk_size: int = DEFAULT_CHUNK,
        spool: Path | None = None,
    ) -> None:
        self.p = p
        self.blobs = blobs
        self.chunk_size = chunk_size
        self.spool = spool or p.keyring.data_dir / "blobs" / ".incoming"

    # -- intake ------------------------------------------------------------------------------

    def _context(self, who: ServiceContext | str) -> ServiceContext:
        """The caller's context; a bare name is the system acting (tools, tests), as in
        `services.register.as_context`: the CLI and the web pass their context."""
        if isinstance(who, ServiceContext):
            return who
        return ServiceContext(self.p.store, Actor(who), audit=self.p.audit)

    def add(
        self,
        path: Path,
        who: ServiceContext | str,
        *,
        source_id: str | None = None,
        captured_at: datetime | None = None,
        lat: float | None = None,
        lon: float | None = None,
        media_type: str | None = None,
        description: str | None = None,
    ) -> str:
        """Take a file into custody; return the new evidence id (operation `evidence.add`)."""
        ctx = self._context(who)
        if source_id is None:
            ctx.require("evidence.add", "evidence")
        else:
            ctx.require_record("evidence.add", "source", source_id)
        prepared = self.prepare(path, captured_at=captured_at, lat=lat, lon=lon, media_type=media_type)
        with self.p.store.begin() as conn:
            return self.record(conn, prepared, ctx.actor.name, source_id=source_id, description=description)

    def prepare(
        self,
        path: Path,
        *,
        captured_at: datetime | None = None,
        lat: float | None = None,
        lon: float | None = None,
        media_type: str | None = None,
    ) -> Prepared:
        """Hash, encrypt and store the blob of a file; its rows are written by `record`.

        The blob is in place (and fsynced) before any row names it, so a crash leaves at
        worst a blob without rows, which start-up recovery removes (`services.recovery`).
        """
        if not path.is_file():
            raise InputError(f"{path}: no such file")
        if (lat is None) != (lon is None):
            raise InputError("give both --lat and --lon, or neither")
        received = utc_naive()
        self.spool.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=self.spool, prefix="blob-")
        tmp = Path(tmp_name)
        head = Head(MAX_METADATA_BYTES, wanted=might_have_exif)
        try:
            # The ciphertext is written once, beside the store: the file store links it
            # into place (no copy); only a remote store (S3) reads it again to upload.
            dst = SyncedWriter(fd)
            try:
                with path.open("rb", buffering=0) as src:  # readinto straight into our frames
                    _advise_sequential(src.fileno())
                    digests = encrypt_stream(
                        src,
                        dst,
                        self.p.keyring.data_key(BLOB_KEY),
                        BLOB_KEY,
                        self.chunk_size,
                        head=head,
                    )
            finally:
                dst.close()
            self.blobs.put(digests.sha256, tmp)
        finally:
            tmp.unlink(missing_ok=True)
        claims = exif_claims_from(head.data)
        found = {c.field: c.value for c in claims}
        if captured_at is not None:
            claims.append(Claim("captured_at", captured_at.isoformat(), "asserted", "submitter statement"))
        if lat is not None and lon is not None:
            claims += [
                Claim("lat", f"{lat:.6f}", "asserted", "submitter statement"),
                Claim("lon", f"{lon:.6f}", "asserted", "submitter statement"),
            ]
        claims.append(Claim("received_at", received.isoformat() + "Z", "server", "server receive time"))
        capture_start, time_basis = None, "unknown"
        if "captured_at" in found:
            capture_start, time_basis = to_utc(datetime.fromisoformat(found["captured_at"]))[0], "metadata"
        elif captured_at is not None:
            capture_start, time_basis = to_utc(captured_at)[0], "asserted"
        place_basis, ev_lat, ev_lon = "unknown", lat, lon
        if "lat" in found:
            place_basis, ev_lat, ev_lon = "metadata", float(found["lat"]), float(found["lon"])
        elif lat is not None:
            place_basis = "asserted"
        return Prepared(
            digests=digests,
            media_type=media_type or mimetypes.guess_type(path.name)[0] or "application/octet-stream",
            original_name=safe_name(path.name),
            received=received,
            claims=claims,
            capture_start=capture_start,
            time_basis=time_basis,
            lat=ev_lat,
            lon=ev_lon,
            place_basis=place_basis,
            device=found.get("device"),
        )

    def record(
        self,
        conn: Connection,
        prepared: Prepared,
        actor: str,
        *,
        source_id: str | None = None,
        description: str | None = None,
    ) -> str:
        """Write the rows of a prepared file in the caller's transaction; return the evidence id."""
        digests, received, claims = prepared.digests, prepared.received, prepared.claims
        evidence_id = new_id("evidence")
        conn.execute(
            insert(_EVIDENCE).values(
                id=evidence_id,
                source_id=source_id,
                media_type=prepared.media_type,
                original_name=prepared.original_name,
                size_bytes=digests.size,
                sha256=digests.sha256,
                capture_start=prepared.capture_start,
                capture_time_basis=prepared.time_basis,
                lat=prepared.lat,
                lon=prepared.lon,
                capture_place_basis=prepared.place_basis,
                device=prepared.device,
                collector=actor,
                received_at=received,
                description=description,
            )
        )
        known = conn.execute(select(_BLOB.c.sha256).where(_BLOB.c.sha256 == digests.sha256)).first()
        if known is None:
            conn.execute(
                insert(_BLOB).values(
                    sha256=digests.sha256,
                    blake3=digests.blake3,
                    size_bytes=digests.size,
                    key_id=BLOB_KEY,
                    stored_at=received,
                )
            )
        if claims:
            conn.execute(
                insert(_CLAIM),
                [
                    {
                        "evidence_id": evidence_id,
                        "field": c.field,
                        "value": c.value,
                        "basis": c.basis,
                        "source": c.source,
                        "recorded_by": actor,
                        "recorded_at": received,
                    }
                    for c in claims
                ],
            )
        custody.record_event(conn, self.p.audit, evidence_id, "intake", actor, digests.sha256, at=received)
        return evidence_id

    # -- verification ----------------------------------------------------------------------------

    def _rehash(self, digest: str) -> str:
        sha = hashlib.sha256()
        with self.blobs.open(digest) as fh:
            for chunk in decrypt_stream(fh, self.p.keyring.data_key):
                sha.update(chunk)
        return sha.hexdigest()

    def verify(self, who: ServiceContext | str) -> tuple[int, list[Problem]]:
        """Re-hash every stored original; return (items checked, problems). Audited (`evidence.verify`)."""
        ctx = self._context(who)
        ctx.require("evidence.verify", "evidence")
        actor = ctx.actor.name
        with self.p.store.read() as conn:
            rows = conn.execute(select(_EVIDENCE.c.id, _EVIDENCE.c.sha256).order_by(_EVIDENCE.c.id)).all()
        by_digest: dict[str, list[str]] = {}
        for evidence_id, digest in rows:
            by_digest.setdefault(str(digest), []).append(str(evidence_id))
        problems: list[Problem] = []
        for digest, ids in sorted(by_digest.items()):
            try:
                actual = self._rehash(digest)
            except NotFound:
                problems.append(Problem(ids, digest, "the stored original is missing"))
                continue
            except EvidenceCorrupt as exc:
                problems.append(Problem(ids, digest, f"the stored original is damaged: {exc}"))
                continue
            if actual != digest:
                problems.append(Problem(ids, digest, f"the stored bytes now hash to {actual}"))
        bad = {i for pr in problems for i in pr.evidence_ids}
        with self.p.store.begin() as conn:
            for digest, ids in by_digest.items():
                for evidence_id in ids:
                    outcome = "FAILED" if evidence_id in bad else "ok"
                    custody.record_event(
                        conn, self.p.audit, evidence_id, "verify", actor, digest, f"re-hash: {outcome}"
                    )
        return len(rows), problems

    # -- export ------------------------------------------------------------------------------------

    def export(self, evidence_id: str, out_dir: Path, who: ServiceContext | str, purpose: str) -> Path:
        """Write the original bytes and a signed custody record into `out_dir` (`evidence.export`)."""
        ctx = self._context(who)
        ctx.require_record("evidence.export", "evidence", evidence_id)
        actor = ctx.actor.name
        with self.p.store.read() as conn:
            row = conn.execute(select(_EVIDENCE).where(_EVIDENCE.c.id == evidence_id)).mappings().first()
            if row is None:
                raise NotFound("evidence", evidence_id)
            blob = conn.execute(select(_BLOB).where(_BLOB.c.sha256 == row["sha256"])).mappings().one()
        out_dir.mkdir(parents=True, exist_ok=True)
        digest = str(row["sha256"])
        extension = mimetypes.guess_extension(str(row["media_type"])) or ".bin"
        original = out_dir / f"{digest}{extension}"
        part = original.with_name(original.name + ".part")
        sha = hashlib.sha256()
        with self.blobs.open(digest) as fh, part.open("wb") as out:
            for chunk in decrypt_stream(fh, self.p.keyring.data_key):
                sha.update(chunk)
                out.write(chunk)
        if sha.hexdigest() != digest:
            part.unlink()
            raise EvidenceCorrupt(f"evidence {evidence_id}: stored bytes no longer match {digest}")
        part.replace(original)
        with self.p.store.begin() as conn:
            custody.record_event(conn, self.p.audit, evidence_id, "export", actor, digest, purpose)
            self.p.audit.checkpoint(conn)
        with self.p.store.read() as conn:
            events = custody.custody_events(conn, evidence_id)
            entries = {
                str(e.seq): json.loads(e.encode())
                for e in self.p.audit.entries_for(conn, "evidence", evidence_id)
            }
            proofs = self.p.audit.proofs(conn, [int(s) for s in entries])
        record = {
            "format": "svidok-custody-record",
            "version": 1,
            "evidence": {
                "id": evidence_id,
                "sha256": digest,
                "blake3": blob["blake3"],
                "size_bytes": row["size_bytes"],
                "media_type": row["media_type"],
                "file": original.name,
                "received_at": row["received_at"].isoformat() + "Z",
                "capture_start": row["capture_start"].isoformat() + "Z" if row["capture_start"] else None,
                "capture_time_basis": row["capture_time_basis"],
                "lat": row["lat"],
                "lon": row["lon"],
                "capture_place_basis": row["capture_place_basis"],
                "device": row["device"],
            },
            "custody": events,
            "audit_entries": entries,
            "proofs": proofs,
        }
        body = canonical_json(record)
        signature = self.p.audit.key.private.sign(body) if self.p.audit.key.private else b""
        signed = {
            "record": record,
            "signature": base64.b64encode(signature).decode(),
            "verifier_key": self.p.audit.key.verifier_key,
        }
        target = out_dir / f"{evidence_id}.custody.json"
        target.write_text(json.dumps(signed, indent=2, sort_keys=True) + "\n")
        return target


def verify_custody_record(record_path: Path, trusted_key: str | None = None) -> list[str]:
    """Check an exported bundle with hashlib and cryptography only; return the problems found."""
    from svidok.audit.merkle import leaf_hash, verify_inclusion
    from svidok.audit.note import NoteError, open_checkpoint
    from svidok.audit.verify import parse_verifier_key

    signed = json.loads(record_path.read_text())
    record: dict[str, Any] = signed["record"]
    problems: list[str] = []
    try:
        name, public = parse_verifier_key(trusted_key or signed["verifier_key"])
        public.verify(base64.b64decode(signed["signature"]), canonical_json(record))
    except Exception as exc:  # noqa: BLE001 - any failure is a failed signature
        return [f"custody record signature: {type(exc).__name__}"]
    original = record_path.parent / record["evidence"]["file"]
    if not original.is_file():
        problems.append(f"file {original.name} is missing")
    else:
        sha = hashlib.sha256()
        with original.open("rb") as fh:
            while chunk := fh.read(1 << 20):
                sha.update(chunk)
        if sha.hexdigest() != record["evidence"]["sha256"]:
            problems.append(f"file {original.name} does not match its SHA-256")
    try:
        cp = open_checkpoint(record["proofs"]["checkpoint"], name, public)
    except NoteError as exc:
        return [*problems, f"checkpoint: {exc}"]
    for seq, entry in record["audit_entries"].items():
        path = record["proofs"]["inclusion"].get(seq)
        leaf = leaf_hash(canonical_json(entry))
        if path is None or not verify_inclusion(
            leaf, int(seq) - 1, cp.size, [bytes.fromhex(h) for h in path], cp.root
        ):
            problems.append(f"audit entry {seq} is not proved in the checkpoint")
    return problems
