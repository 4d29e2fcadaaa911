"""Tables of access control: users, compartments, grants, sessions, API tokens, throttling, break-glass.

No secret is stored usable: passwords are Argon2id hashes, sessions and API
tokens are SHA-256 digests of 256-bit random values, throttle rows are keyed by
digests of the submitted account name and address. The TOTP seed must be
readable by the server to check codes: on the embedded register the whole file
is SQLCipher-encrypted; on PostgreSQL the column is marked protected.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from svidok.store.models import ID, PROTECTED, Base

NAME = String(100)
COMPARTMENT = String(80)


class AppUser(Base):
    """An account: a person with one role, two factors, and compartment grants."""

    __tablename__ = "app_user"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    name: Mapped[str] = mapped_column(NAME, unique=True)
    role: Mapped[str] = mapped_column(String(40))
    password_hash: Mapped[str] = mapped_column(String(200))
    must_change_password: Mapped[bool] = mapped_column(default=True)
    totp_secret: Mapped[str | None] = mapped_column(String(64), info=PROTECTED)
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    created_by: Mapped[str] = mapped_column(NAME)
    disabled_at: Mapped[datetime | None] = mapped_column(DateTime)
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime)


class Compartment(Base):
    """A need-to-know unit: a case, a region, a partner organisation's collection."""

    __tablename__ = "compartment"
    name: Mapped[str] = mapped_column(COMPARTMENT, primary_key=True)
    description: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(DateTime)


class UserCompartment(Base):
    """A user's grant of a compartment; `identity` adds the identity fields of its records."""

    __tablename__ = "user_compartment"
    user_id: Mapped[str] = mapped_column(ID, ForeignKey("app_user.id"), primary_key=True)
    compartment: Mapped[str] = mapped_column(COMPARTMENT, ForeignKey("compartment.name"), primary_key=True)
    identity: Mapped[bool] = mapped_column(default=False)
    granted_at: Mapped[datetime] = mapped_column(DateTime)
    granted_by: Mapped[str] = mapped_column(NAME)


class RecordCompartment(Base):
    """A record in a compartment (a record may be in several)."""

    __tablename__ = "record_compartment"
    __table_args__ = (Index("ix_record_compartment_kind_compartment", "kind", "compartment", "record_id"),)
    kind: Mapped[str] = mapped_column(String(30), primary_key=True)
    record_id: Mapped[str] = mapped_column(ID, primary_key=True)
    compartment: Mapped[str] = mapped_column(COMPARTMENT, ForeignKey("compartment.name"), primary_key=True)


class UserSession(Base):
    """A login: idle and absolute expiry, revocable; `id` is the digest of the cookie's token."""

    __tablename__ = "user_session"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(ID, ForeignKey("app_user.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    last_seen_at: Mapped[datetime] = mapped_column(DateTime)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)
    address: Mapped[str | None] = mapped_column(String(64))


class ApiToken(Base):
    """A scoped, expiring, revocable API token; only the digest of the token is kept."""

    __tablename__ = "api_token"
    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    user_id: Mapped[str] = mapped_column(ID, ForeignKey("app_user.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64))
    scopes: Mapped[list[str]] = mapped_column(default=list)
    label: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    created_by: Mapped[str] = mapped_column(NAME)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime)


class LoginThrottle(Base):
    """Failed logins per (account, address); account `*` counts an address over all accounts."""

    __tablename__ = "login_throttle"
    account_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    address_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    first_failure_at: Mapped[datetime] = mapped_column(DateTime)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime)


class BreakGlass(Base):
    """Emergency access outside one's compartments: a written reason, a time limit, a review."""

    __tablename__ = "break_glass"
    __table_args__ = (Index("ix_break_glass_user_id_expires_at", "user_id", "expires_at"),)
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    user_id: Mapped[str] = mapped_column(ID, ForeignKey("app_user.id"))
    reason: Mapped[str] = mapped_column(Text)
    compartment: Mapped[str | None] = mapped_column(COMPARTMENT)
    kind: Mapped[str | None] = mapped_column(String(30))
    record_id: Mapped[str | None] = mapped_column(ID)
    opened_at: Mapped[datetime] = mapped_column(DateTime)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    reviewed_by: Mapped[str | None] = mapped_column(NAME)
    reviewed_at: Mapped[datetime | None] = mapped_column(DateTime)
