"""Tables of the protection layer: audit log, checkpoints, custody, blobs, sealed identities.

None of these tables holds a protected value in the clear: audit entries carry
ids, field names and digests; sealed identities are ciphertext only the
protection officer's private key opens; blobs live outside the database and are
named here by the SHA-256 of their original bytes. Data keys are *not* here:
they live in the key store beside the register (`svidok.crypto.keystore`) so a
data backup never carries the keys that crypto-shredding destroys.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from svidok.store.models import ID, Base

BIGINT = BigInteger().with_variant(Integer(), "sqlite")
"""64-bit on PostgreSQL; on SQLite an INTEGER PRIMARY KEY is the rowid, the fastest scan order."""


class AuditEntry(Base):
    """One append-only log entry; `entry` holds its canonical bytes (the Merkle leaf input)."""

    __tablename__ = "audit_entry"
    __table_args__ = (Index("ix_audit_entry_kind_record_id", "kind", "record_id"),)
    seq: Mapped[int] = mapped_column(BIGINT, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(DateTime)
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(60))
    kind: Mapped[str | None] = mapped_column(String(30))
    record_id: Mapped[str | None] = mapped_column(String(80))
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    entry: Mapped[bytes] = mapped_column(LargeBinary)
    chain: Mapped[bytes] = mapped_column(LargeBinary(32))


class AuditCheckpoint(Base):
    """A signed tree head: the C2SP note over (origin, size, root)."""

    __tablename__ = "audit_checkpoint"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    size: Mapped[int] = mapped_column(BigInteger, index=True)
    root: Mapped[bytes] = mapped_column(LargeBinary(32))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    note: Mapped[str] = mapped_column(Text)


class EvidenceBlob(Base):
    """An encrypted original in the blob store, named by the SHA-256 of its plaintext."""

    __tablename__ = "evidence_blob"
    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    blake3: Mapped[str | None] = mapped_column(String(64), index=True)
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    key_id: Mapped[str] = mapped_column(String(40))
    stored_at: Mapped[datetime] = mapped_column(DateTime)


class EvidenceClaim(Base):
    """One capture fact about an evidence item with where it comes from (EV-03 sidecar).

    Claims are append-only: a corrected claim is a new row, never an edit.
    """

    __tablename__ = "evidence_claim"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    evidence_id: Mapped[str] = mapped_column(ID, ForeignKey("evidence.id"), index=True)
    field: Mapped[str] = mapped_column(String(40))
    value: Mapped[str] = mapped_column(String(200))
    basis: Mapped[str] = mapped_column(String(10))
    source: Mapped[str] = mapped_column(String(60))
    recorded_by: Mapped[str] = mapped_column(String(100))
    recorded_at: Mapped[datetime] = mapped_column(DateTime)


class CustodyEvent(Base):
    """A chain-of-custody event for an evidence item; mirrored by an audit entry (`audit_seq`)."""

    __tablename__ = "custody_event"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    evidence_id: Mapped[str] = mapped_column(ID, ForeignKey("evidence.id"), index=True)
    event: Mapped[str] = mapped_column(String(20))
    actor: Mapped[str] = mapped_column(String(100))
    at: Mapped[datetime] = mapped_column(DateTime)
    purpose: Mapped[str | None] = mapped_column(String(300))
    sha256: Mapped[str] = mapped_column(String(64))
    audit_seq: Mapped[int] = mapped_column(BigInteger)


class ProtectionKey(Base):
    """A protection officer's X25519 public key; the private half never reaches the server."""

    __tablename__ = "protection_key"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    public_key: Mapped[bytes] = mapped_column(LargeBinary(32))
    officer: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    active: Mapped[bool] = mapped_column(default=True)


class SealedIdentity(Base):
    """A source's identity and contacts sealed (NaCl sealed box) to a protection key."""

    __tablename__ = "sealed_identity"
    __table_args__ = (Index("ix_sealed_identity_kind_record_id", "kind", "record_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(30))
    record_id: Mapped[str] = mapped_column(ID)
    key_id: Mapped[str] = mapped_column(String(40), ForeignKey("protection_key.id"))
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime)
