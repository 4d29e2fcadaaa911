"""Start-up recovery: what a crash (SIGKILL, power cut, full disk) can leave behind, cleaned or named.

Intake stores a file's encrypted blob (fsynced, linked into place) before the
transaction that writes its rows (`EvidenceService.prepare`/`record`), and a
receipt is returned only after that commit. So a crash can leave, at worst:

- blobs that no `evidence_blob` row names (the transaction never committed);
- temporary files of unfinished encryptions (`blobs/.incoming/blob-*`);
- spooled uploads of unfinished requests (`blobs/.uploads/<random>/`);
- downloads a crash interrupted (`.downloads/<random>/` in the data directory): exports and
  evidence packages in plaintext, which must not outlive their request on a seized disk.

None of them belongs to an acknowledged submission; they are removed here, and
the log names them by count and by their random spool names only. A blob is
named by the SHA-256 of its original, which would let anyone holding the log
confirm that a known file was sent, so blobs are counted, never named.

The opposite, a row whose blob is missing, cannot be repaired: it is reported by
evidence id (never deleted) so that `svidok evidence verify` and an operator
look at it.

Another process (`svidok evidence add`) may be between storing its blob and
committing its row while the server starts; only leftovers older than `grace`
seconds are removed (`SVIDOK_RECOVERY_GRACE`, default 900), younger ones are
counted and left for the next start.
"""

from __future__ import annotations

import logging
import os
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select

from svidok.evidence.blobs import BlobStore, FileBlobStore
from svidok.services.keys import Protection
from svidok.store.models import Base

__all__ = ["DEFAULT_GRACE", "RecoveryReport", "grace_from_env", "recover", "recover_at_start"]

DEFAULT_GRACE = 900.0
_EVIDENCE = Base.metadata.tables["evidence"]
_BLOB = Base.metadata.tables["evidence_blob"]
log = logging.getLogger("svidok.recovery")


@dataclass
class RecoveryReport:
    """What start-up recovery found; names are spool names and evidence ids, never contents."""

    orphan_blobs_removed: int = 0
    orphan_blobs_recent: int = 0
    spool_removed: list[str] = field(default_factory=list)
    spool_recent: int = 0
    evidence_without_blob: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not (
            self.orphan_blobs_removed
            or self.orphan_blobs_recent
            or self.spool_removed
            or self.spool_recent
            or self.evidence_without_blob
        )

    def lines(self) -> list[str]:
        out: list[str] = []
        if self.orphan_blobs_removed:
            out.append(
                f"recovery: removed {self.orphan_blobs_removed} blob(s) no evidence row names "
                "(an intake interrupted before its commit; no receipt was given for them)"
            )
        if self.spool_removed:
            shown = ", ".join(self.spool_removed[:20])
            more = f" and {len(self.spool_removed) - 20} more" if len(self.spool_removed) > 20 else ""
            out.append(f"recovery: removed {len(self.spool_removed)} unfinished spool file(s): {shown}{more}")
        if self.orphan_blobs_recent or self.spool_recent:
            out.append(
                f"recovery: left {self.orphan_blobs_recent} blob(s) and {self.spool_recent} spool file(s) "
                "younger than the grace period (another process may still be writing them)"
            )
        if self.evidence_without_blob:
            out.append(
                f"recovery: {len(self.evidence_without_blob)} evidence item(s) have no stored original: "
                + ", ".join(self.evidence_without_blob[:50])
                + " (not repaired; run `svidok evidence verify`)"
            )
        return out


def grace_from_env() -> float:
    raw = os.environ.get("SVIDOK_RECOVERY_GRACE", "")
    try:
        return max(0.0, float(raw)) if raw.strip() else DEFAULT_GRACE
    except ValueError:
        return DEFAULT_GRACE


def _age(path: Path, now: float) -> float:
    try:
        return now - path.lstat().st_mtime
    except FileNotFoundError:
        return float("inf")


def _spool_entries(root: Path) -> Iterator[tuple[Path, str]]:
    incoming, uploads = root / ".incoming", root / ".uploads"
    if incoming.is_dir():
        for path in sorted(incoming.glob("blob-*")):
            yield path, f".incoming/{path.name}"
    if uploads.is_dir():
        for path in sorted(uploads.iterdir()):
            yield path, f".uploads/{path.name}"


def _download_entries(data_dir: Path) -> Iterator[tuple[Path, str]]:
    downloads = data_dir / ".downloads"
    if downloads.is_dir():
        for path in sorted(downloads.iterdir()):
            yield path, f".downloads/{path.name}"


def _remove_leftovers(
    entries: Iterator[tuple[Path, str]], report: RecoveryReport, now: float, grace: float
) -> None:
    for path, name in entries:
        if _age(path, now) < grace:
            report.spool_recent += 1
            continue
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
        report.spool_removed.append(name)


def recover(protection: Protection, blobs: BlobStore, *, grace: float = DEFAULT_GRACE) -> RecoveryReport:
    """Remove a crash's leftovers older than `grace` seconds; report what was found (and log it)."""
    report = RecoveryReport()
    now = time.time()
    with protection.store.read() as conn:
        known = {str(r[0]) for r in conn.execute(select(_BLOB.c.sha256))}
        named = {str(r[0]) for r in conn.execute(select(_EVIDENCE.c.sha256).distinct())}
        evidence = conn.execute(select(_EVIDENCE.c.id, _EVIDENCE.c.sha256)).all()
    _remove_leftovers(_download_entries(protection.keyring.data_dir), report, now, grace)
    if isinstance(blobs, FileBlobStore):
        _remove_leftovers(_spool_entries(blobs.root), report, now, grace)
        stored: set[str] = set()
        for digest in blobs.digests():
            stored.add(digest)
            if digest in known or digest in named:
                continue
            path = blobs.path(digest)
            if _age(path, now) < grace:
                report.orphan_blobs_recent += 1
                continue
            path.unlink(missing_ok=True)
            report.orphan_blobs_removed += 1
        report.evidence_without_blob = sorted(str(i) for i, d in evidence if str(d) not in stored)
    for line in report.lines():
        log.warning("%s", line)
    return report


def recover_at_start(protection: Protection) -> RecoveryReport:
    """Recovery over the register's own blob store (the file store in the data directory)."""
    from svidok.services.evidence import default_blob_store

    blobs = default_blob_store(protection.keyring.data_dir)
    return recover(protection, blobs, grace=grace_from_env())
