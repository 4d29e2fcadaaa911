"""Audit log use cases for the CLI and the web: verify, checkpoint, export, verify a file.

Writing entries is not here: every service appends with `Protection.audit.append(conn, ...)`
inside the transaction of the write it records (see `svidok.services.keys`).
"""

from __future__ import annotations

from pathlib import Path

from svidok.audit import LogReport, verify_file
from svidok.audit.note import Checkpoint
from svidok.services.keys import Protection

__all__ = ["checkpoint", "export_log", "verify_exported", "verify_register"]


def verify_register(p: Protection, *, deep: bool = True) -> LogReport:
    with p.store.read() as conn:
        return p.audit.verify(conn, deep=deep)


def checkpoint(p: Protection) -> Checkpoint:
    """Verify the log and sign a new checkpoint (refused if the log does not verify)."""
    with p.store.begin() as conn:
        return p.audit.checkpoint(conn)


def export_log(p: Protection, path: Path, actor: str) -> int:
    """Checkpoint, record the export itself, checkpoint again, then write the JSONL file."""
    with p.store.begin() as conn:
        p.audit.append(conn, actor, "audit.export", None, None, {"file": path.name})
        p.audit.checkpoint(conn)
    with p.store.read() as conn:
        return p.audit.export(conn, path)


def verify_exported(path: Path, trusted_key: str | None) -> LogReport:
    return verify_file(path, trusted_key=trusted_key)
