"""Audit log use cases for the CLI and the web: verify, checkpoint, export, verify a file.

Each takes the caller's `ServiceContext` (or, for tools and tests, a bare actor name:
the system) and checks the access policy first: `audit.verify`, `audit.checkpoint`,
`audit.view` (export). Writing entries is not here: every service appends inside the
transaction of the write it records (`ServiceContext.record`, `Protection.audit.append`).
"""

from __future__ import annotations

from pathlib import Path

from svidok.audit import LogReport, verify_file
from svidok.audit.note import Checkpoint
from svidok.services.context import ServiceContext
from svidok.services.keys import Protection, context_of

__all__ = ["checkpoint", "export_log", "verify_exported", "verify_register"]


def verify_register(p: Protection, who: ServiceContext | str = "system", *, deep: bool = False) -> LogReport:
    """Re-hash every entry against the signed checkpoints and the chain (`audit.verify`).

    `deep` also checks every chain link under the signed roots and the query columns
    against the signed bytes (slower: it parses every entry)."""
    context_of(p, who).require("audit.verify", "audit_entry")
    with p.store.read() as conn:
        return p.audit.verify(conn, deep=deep)


def checkpoint(p: Protection, who: ServiceContext | str = "system") -> Checkpoint:
    """Verify the log and sign a new checkpoint (refused if the log does not verify)."""
    context_of(p, who).require("audit.checkpoint", "audit_entry")
    with p.store.begin() as conn:
        return p.audit.checkpoint(conn)


def export_log(p: Protection, path: Path, who: ServiceContext | str) -> int:
    """Checkpoint, record the export itself, checkpoint again, then write the JSONL file."""
    ctx = context_of(p, who)
    ctx.require("audit.view", "audit_entry")
    with p.store.begin() as conn:
        p.audit.append(conn, ctx.actor.name, "audit.export", None, None, {"file": path.name})
        p.audit.checkpoint(conn)
    with p.store.read() as conn:
        return p.audit.export(conn, path)


def verify_exported(path: Path, trusted_key: str | None) -> LogReport:
    """Check an exported log file offline (no register, no access check: the file is in hand)."""
    return verify_file(path, trusted_key=trusted_key)
