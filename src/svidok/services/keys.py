"""Use cases of the key hierarchy: create, unlock, rotate, shred; open the encrypted register.

Every command that touches the register goes through `Protection.open`: it
unlocks the keyring with the operator's secret, opens the embedded register
through SQLCipher with the register key, and builds the audit log with the
register's signing key. Services then write like this::

    with protection.store.begin() as conn:
        conn.execute(...)                                   # the write
        protection.audit.append(conn, actor, "record.update", "person", pid,
                                {"fields": ["primary_name"]})  # same transaction

Sealed identities (protection officer) live here too: `register_officer_key`,
`seal_identity`, `open_identity` (which writes an audit entry, never the value).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, insert, select, update

from svidok.audit import AuditKey, AuditLog
from svidok.audit.entry import utc_naive
from svidok.crypto import sealed
from svidok.crypto.errors import KeyDestroyed
from svidok.crypto.fields import FieldCipher, open_field, seal_field
from svidok.crypto.keyring import OWASP_ARGON2, Argon2Params, Keyring, MasterSecret
from svidok.errors import ConfigError, NotFound
from svidok.services.context import Actor, ServiceContext
from svidok.settings import Settings
from svidok.store import migrate
from svidok.store.db import attach_fields, make_engine
from svidok.store.models import Base
from svidok.store.register import Store

__all__ = [
    "Protection",
    "init_keys",
    "open_identity",
    "register_officer_key",
    "rotate_master",
    "seal_identity",
    "shred_subject",
]

_KEY = Base.metadata.tables["protection_key"]
_SEALED = Base.metadata.tables["sealed_identity"]


def init_keys(settings: Settings, secret: MasterSecret, params: Argon2Params = OWASP_ARGON2) -> Keyring:
    """Create the register's keyring (master, data keys, audit signing key)."""
    return Keyring.create(settings.data_dir, secret, params)


def audit_log_of(keyring: Keyring) -> AuditLog:
    private = keyring.audit_private()
    return AuditLog(AuditKey(keyring.log_origin, private.public_key(), private))


def open_engine_store(settings: Settings, keyring: Keyring, *, create: bool = False) -> Store:
    """The register's Store, schema checked or created: SQLCipher-encrypted when embedded; on
    PostgreSQL its protected columns are sealed with the keyring's field keys; on both, personal
    columns under each record's subject key."""
    key = keyring.db_key() if settings.is_embedded else None
    store = Store(make_engine(settings.effective_database_url, key=key))
    # Both backends: on SQLite the cipher seals personal values under their subject keys only
    # (crypto-shredding reaches copies of the file); on PostgreSQL every protected value.
    attach_fields(store.engine, FieldCipher.from_keyring(keyring, embedded=store.dialect == "sqlite"))
    if create:
        migrate.upgrade(store.engine)
    elif not migrate.is_current(store.engine):
        store.close()
        raise ConfigError(
            "no register here, or its schema is out of date: run `svidok init` "
            f"(data dir {settings.data_dir})"
        )
    return store


@dataclass
class Protection:
    """An unlocked register: its store, keyring and audit log, opened together."""

    store: Store
    keyring: Keyring
    audit: AuditLog

    @classmethod
    def open(
        cls,
        settings: Settings,
        secret: MasterSecret,
        *,
        create: bool = False,
        params: Argon2Params = OWASP_ARGON2,
    ) -> Protection:
        """Unlock (or, with `create`, first create) the keyring and open the register."""
        if create and not Keyring.exists(settings.data_dir):
            keyring = init_keys(settings, secret, params)
        else:
            keyring = Keyring.unlock(settings.data_dir, secret)
        store = open_engine_store(settings, keyring, create=create)
        return cls(store, keyring, audit_log_of(keyring))

    def close(self) -> None:
        self.store.close()
        self.keyring.close()


def rotate_master(
    settings: Settings,
    old: MasterSecret,
    new: MasterSecret,
    params: Argon2Params = OWASP_ARGON2,
    *,
    ctx: ServiceContext | None = None,
) -> int:
    """Re-wrap every data key under a new master (`key.rotate`); the data is not re-encrypted.

    Whoever holds the old master secret may rotate it; with a `ctx` (the web), its role
    must allow `key.rotate` too."""
    if ctx is not None:
        ctx.require("key.rotate")
    keyring = Keyring.unlock(settings.data_dir, old)
    return keyring.rotate(new, params)


def context_of(p: Protection, who: ServiceContext | str) -> ServiceContext:
    """The caller's context; a bare name is the system acting under that name (tools, tests),
    as `services.register.as_context` does for a bare Store. The CLI and the web pass theirs."""
    if isinstance(who, ServiceContext):
        return who
    return ServiceContext(p.store, Actor(who), audit=p.audit)


def _record(
    p: Protection,
    ctx: ServiceContext,
    conn: Connection,
    action: str,
    kind: str | None,
    record_id: str | None,
    details: dict[str, Any],
) -> None:
    """An audit entry in the register's own log, whatever sink `ctx` carries (these actions
    are never unaudited)."""
    p.audit.append(conn, ctx.actor.name, action, kind, record_id, details)


# -- per-subject encryption and crypto-shredding ------------------------------------------------


def seal_subject_field(
    keyring: Keyring, subject_id: str, table: str, column: str, record_id: str, value: str
) -> str:
    """Encrypt one field under the subject's own data key (so it can be shredded)."""
    key_id, key = keyring.subject_key(subject_id)
    return seal_field(key, key_id, table, column, record_id, value)


def open_subject_field(keyring: Keyring, table: str, column: str, record_id: str, token: str) -> str:
    return open_field(keyring.data_key, table, column, record_id, token)


def shred_subject(p: Protection, who: ServiceContext | str, subject_id: str, reason: str) -> bool:
    """Destroy a subject's data key; everything sealed under it becomes unreadable (`key.shred`)."""
    ctx = context_of(p, who)
    ctx.require("key.shred", "subject")
    destroyed = p.keyring.destroy(f"subject:{subject_id}")
    with p.store.begin() as conn:
        _record(
            p,
            ctx,
            conn,
            "key.destroy",
            "subject",
            subject_id,
            {"key_id": f"subject:{subject_id}", "reason_hmac": p.audit.digest(reason), "was_live": destroyed},
        )
    return destroyed


# -- sealed identities (protection officer) ------------------------------------------------------


def register_officer_key(p: Protection, who: ServiceContext | str, officer: str, private_path: Path) -> str:
    """Make the officer's key pair: private key to `private_path`, public key into the register
    (`protect.keygen`)."""
    ctx = context_of(p, who)
    ctx.require("protect.keygen", "protection_key")
    if private_path.exists():
        raise ConfigError(f"{private_path} exists; a key file is never overwritten")
    kid, public = sealed.new_officer_key(private_path)
    with p.store.begin() as conn:
        conn.execute(update(_KEY).values(active=False))
        conn.execute(
            insert(_KEY).values(
                id=kid, public_key=public, officer=officer, created_at=utc_naive(), active=True
            )
        )
        _record(p, ctx, conn, "protect.keygen", "protection_key", kid, {"officer": officer})
    return kid


def seal_identity(
    p: Protection, who: ServiceContext | str, kind: str, record_id: str, identity: dict[str, Any]
) -> int:
    """Seal a source's identity and contacts to the active officer key; the server cannot open it
    (`identity.seal`)."""
    ctx = context_of(p, who)
    ctx.require("identity.seal", kind)
    with p.store.begin() as conn:
        row = conn.execute(select(_KEY.c.id, _KEY.c.public_key).where(_KEY.c.active)).first()
        if row is None:
            raise ConfigError("no protection officer key: run `svidok protect keygen`")
        ciphertext = sealed.seal_payload(bytes(row[1]), identity)
        result = conn.execute(
            insert(_SEALED).values(
                kind=kind,
                record_id=record_id,
                key_id=row[0],
                ciphertext=ciphertext,
                created_at=utc_naive(),
            )
        )
        _record(
            p,
            ctx,
            conn,
            "identity.seal",
            kind,
            record_id,
            {"key_id": row[0], "fields": sorted(identity)},
        )
        return int(result.inserted_primary_key[0]) if result.inserted_primary_key else 0


def open_identity(
    p: Protection, who: ServiceContext | str, record_id: str, private_path: Path, purpose: str
) -> list[dict[str, Any]]:
    """Open the sealed identities of a record with the officer's private key (`identity.open`).
    Audited in the transaction of the read."""
    ctx = context_of(p, who)
    ctx.require("identity.open", "sealed_identity")
    kid, private = sealed.read_private_key(private_path)
    with p.store.begin() as conn:
        rows = conn.execute(
            select(_SEALED.c.id, _SEALED.c.kind, _SEALED.c.ciphertext)
            .where(_SEALED.c.record_id == record_id, _SEALED.c.key_id == kid)
            .order_by(_SEALED.c.id)
        ).all()
        if not rows:
            raise NotFound("sealed identity", record_id)
        opened = [sealed.open_payload(private, bytes(r[2])) for r in rows]
        _record(
            p,
            ctx,
            conn,
            "identity.open",
            str(rows[0][1]),
            record_id,
            {"key_id": kid, "purpose": purpose, "sealed_ids": [int(r[0]) for r in rows]},
        )
    return opened


__all__ += [
    "KeyDestroyed",
    "audit_log_of",
    "context_of",
    "open_engine_store",
    "open_subject_field",
    "seal_subject_field",
]
