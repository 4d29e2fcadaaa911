"""Tables of public intake: submissions, their later additions, operators' languages.

A submission is the envelope of what a source sent through the public form: its
testimony is a `source` row (kind `testimony`, origin `web`), its files are
`evidence` rows, its people are `mention` rows. This table adds only what intake
needs: the receipt (a digest of the code and an Argon2id hash of the
passphrase; never the values), the language and urgency that route it, and its
place in the queue. Nothing here records where a request came from.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from svidok.store.models import CODE, ID, Base


class Submission(Base):
    """One public submission: receipt, routing and queue state."""

    __tablename__ = "submission"
    __table_args__ = (Index("ix_submission_queue", "status", "language", "urgency", "received_at"),)
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    source_id: Mapped[str] = mapped_column(ID, ForeignKey("source.id"), index=True)
    receipt_digest: Mapped[str] = mapped_column(String(64), unique=True)
    passphrase_hash: Mapped[str] = mapped_column(String(200))
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0)
    language: Mapped[str] = mapped_column(String(8))
    urgency: Mapped[int] = mapped_column(Integer, default=0)
    urgent_reasons: Mapped[list[str]] = mapped_column(default=list)
    injuries: Mapped[list[str]] = mapped_column(default=list)
    status: Mapped[str] = mapped_column(CODE, default="new")
    assigned_to: Mapped[str | None] = mapped_column(String(100))
    received_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)


class SubmissionAddition(Base):
    """Information a source added later with their receipt: one more `source` row."""

    __tablename__ = "submission_addition"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    submission_id: Mapped[str] = mapped_column(ID, ForeignKey("submission.id"), index=True)
    source_id: Mapped[str] = mapped_column(ID, ForeignKey("source.id"))
    received_at: Mapped[datetime] = mapped_column(DateTime)


class IntakeOperator(Base):
    """An intake operator and the languages they read, for routing the queue."""

    __tablename__ = "intake_operator"
    operator: Mapped[str] = mapped_column(String(100), primary_key=True)
    languages: Mapped[list[str]] = mapped_column(default=list)
