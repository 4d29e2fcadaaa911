"""Accounts and access: users, logins, sessions, API tokens, compartments, break-glass.

Threat: insiders and stolen accounts. So: Argon2id passwords and TOTP for every
role that sees identities or contents; sessions and tokens stored only as
digests, expiring and revocable, checked against the user's row on every use
(disabling a user stops them at once); login failures throttled per account and
address so an attacker cannot lock the owner out from elsewhere; every login,
failure, grant, token and break-glass an audit entry (ids, codes and digests,
never a secret). The rules themselves are in `svidok/access/policy.yaml`.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, NoReturn

from sqlalchemy import Connection, Row, and_, delete, exists, func, insert, literal, or_, select, update

from svidok.access import throttle, totp
from svidok.access.credentials import (
    csrf_token,
    digest,
    new_api_token,
    new_session_token,
    split_api_token,
)
from svidok.access.errors import AuthenticationFailed
from svidok.access.passwords import Passwords, generate_password
from svidok.access.principal import ALL_COMPARTMENTS, Principal, scope_matches
from svidok.errors import ConflictError, InputError, NotFound
from svidok.services.context import Actor, ServiceContext
from svidok.store.models import RECORD_TABLES, Base
from svidok.store.register import table_of

__all__ = [
    "Enrolment",
    "IssuedToken",
    "Login",
    "assign_records",
    "authenticate_session",
    "authenticate_token",
    "change_password",
    "context_for",
    "create_compartment",
    "create_token",
    "create_user",
    "disable_user",
    "file_records",
    "filing_compartments",
    "grant_compartment",
    "list_break_glass",
    "list_compartments",
    "list_tokens",
    "list_users",
    "login",
    "logout",
    "open_break_glass",
    "review_break_glass",
    "revoke_sessions",
    "revoke_token",
    "unassign_records",
    "withdraw_compartment",
]

_USER = Base.metadata.tables["app_user"]
_COMPARTMENT = Base.metadata.tables["compartment"]
_GRANT = Base.metadata.tables["user_compartment"]
_RECORD = Base.metadata.tables["record_compartment"]
_SESSION = Base.metadata.tables["user_session"]
_TOKEN = Base.metadata.tables["api_token"]
_GLASS = Base.metadata.tables["break_glass"]

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,99}$")
_COMPARTMENT_NAME = re.compile(r"^[a-z0-9][a-z0-9_.:-]{0,79}$")
_FIRST_LOGIN_SCOPES = frozenset({"account.password", "account.sessions"})
_TOUCH_EVERY = timedelta(seconds=60)
_IDS_IN_AUDIT = 1000
DEFAULT_PASSWORDS = Passwords()
"""Argon2id with argon2-cffi's defaults (RFC 9106 low memory: m = 64 MiB, t = 3, p = 4)."""


@dataclass(frozen=True)
class Enrolment:
    """What a new user is given once: an initial password and the TOTP secret to enrol."""

    user_id: str
    name: str
    role: str
    password: str
    totp_secret: str | None
    totp_uri: str | None


@dataclass(frozen=True)
class Login:
    """A successful login: the session token for the cookie, its CSRF token, who logged in."""

    session_token: str
    csrf_token: str
    principal: Principal
    expires_at: datetime
    must_change_password: bool


@dataclass(frozen=True)
class IssuedToken:
    token_id: str
    token: str
    expires_at: datetime


def context_for(ctx: ServiceContext, principal: Principal) -> ServiceContext:
    """A context acting as `principal` on the same register, audit log and clock."""
    return ServiceContext(ctx.store, Actor(principal.name, principal.role), ctx.audit, principal, ctx.clock)


# -- users ----------------------------------------------------------------------------------------


def create_user(
    ctx: ServiceContext,
    name: str,
    role: str,
    *,
    compartments: Sequence[str] = (),
    identity_compartments: Sequence[str] = (),
    passwords: Passwords = DEFAULT_PASSWORDS,
) -> Enrolment:
    """Add a user; the returned enrolment (password, TOTP secret) is shown once and never stored."""
    ctx.require("user.create", "app_user")
    if not _NAME.match(name):
        raise InputError("a user name is 1-100 letters, digits and . _ @ - (starting with a letter or digit)")
    spec = ctx.policy.role(role)
    if not spec.account:
        raise InputError(f"role {role} has no account")
    password = generate_password()
    secret = totp.new_secret() if spec.mfa else None
    user_id = _random_id("us")
    now = ctx.clock()
    with ctx.store.begin() as conn:
        if conn.execute(select(_USER.c.id).where(func.lower(_USER.c.name) == name.lower())).first():
            raise ConflictError(f"user {name} exists")
        conn.execute(
            insert(_USER).values(
                id=user_id,
                name=name,
                role=role,
                password_hash=passwords.hash(password),
                must_change_password=True,
                totp_secret=secret,
                created_at=now,
                created_by=ctx.actor.name,
            )
        )
        identity = set(identity_compartments)
        for compartment in dict.fromkeys([*compartments, *identity_compartments]):
            _grant(ctx, conn, user_id, compartment, compartment in identity, now)
        ctx.record(
            conn,
            "user.create",
            "app_user",
            user_id,
            {
                "name": name,
                "role": role,
                "compartments": sorted(set(compartments) | identity),
                "identity": sorted(identity),
                "mfa": secret is not None,
            },
        )
    uri = totp.provisioning_uri(secret, name) if secret else None
    return Enrolment(user_id, name, role, password, secret, uri)


def list_users(ctx: ServiceContext) -> list[dict[str, Any]]:
    """Users with role, state and grants (never hashes or secrets)."""
    ctx.require("user.list", "app_user")
    with ctx.store.read() as conn:
        users = conn.execute(select(_USER).order_by(_USER.c.name)).mappings().all()
        grants: dict[str, list[str]] = {}
        for row in conn.execute(select(_GRANT).order_by(_GRANT.c.compartment)).mappings():
            grants.setdefault(row["user_id"], []).append(
                f"{row['compartment']}+identity" if row["identity"] else row["compartment"]
            )
    return [
        {
            "id": u["id"],
            "name": u["name"],
            "role": u["role"],
            "disabled": u["disabled_at"] is not None,
            "mfa": u["totp_secret"] is not None,
            "must_change_password": bool(u["must_change_password"]),
            "compartments": grants.get(u["id"], []),
            "created_at": u["created_at"].isoformat(),
            "last_login_at": u["last_login_at"].isoformat() if u["last_login_at"] else None,
        }
        for u in users
    ]


def disable_user(ctx: ServiceContext, name: str) -> None:
    """Disable a user: every session and API token stops working at once (AUTH-06)."""
    ctx.require("user.disable", "app_user")
    now = ctx.clock()
    with ctx.store.begin() as conn:
        user = _user(conn, name)
        conn.execute(update(_USER).where(_USER.c.id == user.id).values(disabled_at=now))
        sessions = _revoke_user_sessions(conn, user.id, now)
        tokens = conn.execute(
            update(_TOKEN)
            .where(_TOKEN.c.user_id == user.id, _TOKEN.c.revoked_at.is_(None))
            .values(revoked_at=now)
        ).rowcount
        ctx.record(
            conn,
            "user.disable",
            "app_user",
            user.id,
            {"name": user.name, "sessions": sessions, "tokens": tokens},
        )


def grant_compartment(ctx: ServiceContext, name: str, compartment: str, *, identity: bool = False) -> None:
    """Grant `compartment` to a user (with `identity`, also the identity fields of its records)."""
    ctx.require("user.grant", "app_user")
    with ctx.store.begin() as conn:
        user = _user(conn, name)
        conn.execute(delete(_GRANT).where(_GRANT.c.user_id == user.id, _GRANT.c.compartment == compartment))
        _grant(ctx, conn, user.id, compartment, identity, ctx.clock())
        ctx.record(
            conn,
            "user.grant",
            "app_user",
            user.id,
            {"name": user.name, "compartment": compartment, "identity": identity},
        )


def withdraw_compartment(ctx: ServiceContext, name: str, compartment: str) -> bool:
    """Withdraw a grant; it stops at the user's next request."""
    ctx.require("user.grant", "app_user")
    with ctx.store.begin() as conn:
        user = _user(conn, name)
        removed = conn.execute(
            delete(_GRANT).where(_GRANT.c.user_id == user.id, _GRANT.c.compartment == compartment)
        ).rowcount
        ctx.record(
            conn, "user.withdraw", "app_user", user.id, {"name": user.name, "compartment": compartment}
        )
    return bool(removed)


def change_password(
    ctx: ServiceContext, old: str, new: str, *, passwords: Passwords = DEFAULT_PASSWORDS
) -> None:
    """The principal changes their own password; their other sessions end."""
    ctx.require("account.password", "app_user")
    principal = _user_principal(ctx)
    if len(new) < ctx.policy.password_min_length:
        raise InputError(f"a password has at least {ctx.policy.password_min_length} characters")
    if new == old or new.casefold() == principal.name.casefold():
        raise InputError("choose a new password, different from the old one and from the user name")
    with ctx.store.read() as conn:
        stored = conn.execute(
            select(_USER.c.password_hash).where(_USER.c.id == principal.user_id)
        ).scalar_one()
    if not passwords.verify(stored, old):
        raise AuthenticationFailed()
    now = ctx.clock()
    with ctx.store.begin() as conn:
        conn.execute(
            update(_USER)
            .where(_USER.c.id == principal.user_id)
            .values(password_hash=passwords.hash(new), must_change_password=False)
        )
        ended = conn.execute(
            update(_SESSION)
            .where(
                _SESSION.c.user_id == principal.user_id,
                _SESSION.c.revoked_at.is_(None),
                _SESSION.c.id != (principal.credential_id if principal.via == "session" else ""),
            )
            .values(revoked_at=now)
        ).rowcount
        ctx.record(conn, "user.password", "app_user", principal.user_id, {"sessions_ended": ended})


# -- login and sessions ---------------------------------------------------------------------------


def login(
    ctx: ServiceContext,
    name: str,
    password: str,
    code: str | None,
    address: str | None,
    *,
    passwords: Passwords = DEFAULT_PASSWORDS,
) -> Login:
    """Password and (for every role that needs it) a TOTP code; one error for every failure.

    Unknown names cost a dummy Argon2id verification (no user enumeration by timing).
    Throttled per (account, address): see `svidok.access.throttle`.
    """
    now = ctx.clock()
    policy = ctx.policy
    account, place = throttle.account_key(name), throttle.address_key(address)
    with ctx.store.read() as conn:
        wait = throttle.locked_for(conn, account, place, now)
        user = conn.execute(select(_USER).where(_USER.c.name == name)).first()
    if wait > 0:
        _login_failed(ctx, user, account, place, address, "throttled", now, count=False)
    if user is None:
        passwords.dummy_verify(password)
        _login_failed(ctx, None, account, place, address, "unknown_account", now)
    if not passwords.verify(user.password_hash, password):
        _login_failed(ctx, user, account, place, address, "password", now)
    if user.disabled_at is not None:
        _login_failed(ctx, user, account, place, address, "disabled", now)
    role = policy.roles.get(user.role)
    if role is None or not role.account:
        _login_failed(ctx, user, account, place, address, "role", now)
    step: int | None = None
    if role.mfa:
        if not user.totp_secret:
            _login_failed(ctx, user, account, place, address, "second_factor", now)
        step = totp.verify(
            user.totp_secret, code or "", now.replace(tzinfo=UTC).timestamp(), user.totp_last_step
        )
        if step is None:
            _login_failed(ctx, user, account, place, address, "second_factor", now)
    token = new_session_token()
    session_id = digest(token)
    expires = now + timedelta(hours=policy.session_absolute_hours)
    with ctx.store.begin() as conn:
        values: dict[str, Any] = {"last_login_at": now}
        condition = _USER.c.id == user.id
        if step is not None:
            values["totp_last_step"] = step
            condition = and_(condition, or_(_USER.c.totp_last_step.is_(None), _USER.c.totp_last_step < step))
        if passwords.needs_rehash(user.password_hash):
            values["password_hash"] = passwords.hash(password)
        if conn.execute(update(_USER).where(condition).values(**values)).rowcount != 1:
            replayed = True  # a concurrent login used the same code first
        else:
            replayed = False
            throttle.record_success(conn, account, place)
            conn.execute(
                insert(_SESSION).values(
                    id=session_id,
                    user_id=user.id,
                    created_at=now,
                    last_seen_at=now,
                    expires_at=expires,
                    address=(address or "")[:64] or None,
                )
            )
            _audit(
                ctx,
                conn,
                user.name,
                "login.ok",
                "app_user",
                user.id,
                {
                    "address": (address or "")[:64],
                    "mfa": step is not None,
                    "rehashed": "password_hash" in values,
                    "session": session_id[:16],
                },
            )
        principal = _principal(conn, user, via="session", credential_id=session_id)
    if replayed:
        _login_failed(ctx, user, account, place, address, "second_factor_replay", now)
    return Login(token, csrf_token(token), principal, expires, bool(user.must_change_password))


def authenticate_session(ctx: ServiceContext, token: str | None) -> Principal:
    """The principal of a session cookie, or `AuthenticationFailed` (expired, idle, revoked, disabled)."""
    if not token:
        raise AuthenticationFailed("not logged in")
    now = ctx.clock()
    session_id = digest(token)
    idle = timedelta(minutes=ctx.policy.session_idle_minutes)
    with ctx.store.read() as conn:
        row = conn.execute(
            select(_SESSION, _USER.c.disabled_at)
            .join(_USER, _USER.c.id == _SESSION.c.user_id)
            .where(_SESSION.c.id == session_id)
        ).first()
        if (
            row is None
            or row.revoked_at is not None
            or row.disabled_at is not None
            or row.expires_at <= now
            or row.last_seen_at + idle <= now
        ):
            raise AuthenticationFailed("session expired; log in again")
        user = conn.execute(select(_USER).where(_USER.c.id == row.user_id)).one()
        principal = _principal(conn, user, via="session", credential_id=session_id)
    if now - row.last_seen_at >= _TOUCH_EVERY:
        with ctx.store.begin() as conn:
            conn.execute(update(_SESSION).where(_SESSION.c.id == session_id).values(last_seen_at=now))
    return principal


def logout(ctx: ServiceContext, token: str) -> None:
    session_id = digest(token)
    with ctx.store.begin() as conn:
        row = conn.execute(
            select(_SESSION.c.user_id, _USER.c.name)
            .join(_USER, _USER.c.id == _SESSION.c.user_id)
            .where(_SESSION.c.id == session_id, _SESSION.c.revoked_at.is_(None))
        ).first()
        if row is None:
            return
        conn.execute(update(_SESSION).where(_SESSION.c.id == session_id).values(revoked_at=ctx.clock()))
        if ctx.audit is not None:
            ctx.audit.append(conn, row.name, "logout", "app_user", row.user_id, {"session": session_id[:16]})


def revoke_sessions(ctx: ServiceContext, name: str) -> int:
    """End every session of a user (admin, or the user themself)."""
    own = ctx.principal is not None and ctx.principal.name == name
    ctx.require("account.sessions" if own else "session.revoke", "app_user")
    with ctx.store.begin() as conn:
        user = _user(conn, name)
        ended = _revoke_user_sessions(conn, user.id, ctx.clock())
        ctx.record(conn, "session.revoke", "app_user", user.id, {"name": user.name, "sessions": ended})
    return ended


# -- API tokens -----------------------------------------------------------------------------------


def create_token(
    ctx: ServiceContext,
    name: str,
    scopes: Sequence[str],
    *,
    expires_in: timedelta | None = None,
    label: str | None = None,
) -> IssuedToken:
    """Issue a token to user `name`, limited to `scopes` (operations or `prefix.*`); shown once."""
    ctx.require("token.create", "api_token")
    policy = ctx.policy
    max_age = timedelta(days=policy.token_max_days)
    age = expires_in if expires_in is not None else timedelta(days=policy.token_default_days)
    if age <= timedelta(0) or age > max_age:
        raise InputError(f"a token expires within {policy.token_max_days:g} days")
    if not scopes:
        raise InputError("name at least one --scope (an operation, or a prefix such as record.*)")
    now = ctx.clock()
    token_id, token = new_api_token()
    with ctx.store.begin() as conn:
        user = _user(conn, name)
        for scope in scopes:
            reachable = [
                op
                for op in policy.operations
                if scope_matches(frozenset([scope]), op) and policy.allows(user.role, op)
            ]
            if not reachable:
                raise InputError(f"scope {scope!r} names no operation role {user.role} may perform")
        expires = now + age
        conn.execute(
            insert(_TOKEN).values(
                id=token_id,
                user_id=user.id,
                token_hash=digest(token),
                scopes=sorted(set(scopes)),
                label=label,
                created_at=now,
                created_by=ctx.actor.name,
                expires_at=expires,
            )
        )
        ctx.record(
            conn,
            "token.create",
            "api_token",
            token_id,
            {"user": user.name, "scopes": sorted(set(scopes)), "expires_at": expires.isoformat()},
        )
    return IssuedToken(token_id, token, expires)


def authenticate_token(ctx: ServiceContext, token: str | None) -> Principal:
    """The principal of an API token (`Authorization: Bearer`); failures are audited."""
    parsed = split_api_token(token or "")
    now = ctx.clock()
    if parsed is None:
        _token_rejected(ctx, None, None, "malformed")
    token_id, token_hash = parsed
    with ctx.store.read() as conn:
        row = conn.execute(select(_TOKEN).where(_TOKEN.c.id == token_id)).first()
        user = conn.execute(select(_USER).where(_USER.c.id == row.user_id)).first() if row else None
        principal = None
        if row is None or user is None or not hmac.compare_digest(row.token_hash, token_hash):
            reason = "unknown"
        elif row.revoked_at is not None:
            reason = "revoked"
        elif row.expires_at <= now:
            reason = "expired"
        elif user.disabled_at is not None:
            reason = "disabled"
        else:
            reason = ""
            principal = _principal(
                conn, user, via="token", credential_id=token_id, scopes=frozenset(row.scopes)
            )
    if principal is None or row is None:
        _token_rejected(ctx, token_id, user if reason != "unknown" else None, reason)
    if row.last_used_at is None or now - row.last_used_at >= _TOUCH_EVERY:
        with ctx.store.begin() as conn:
            conn.execute(update(_TOKEN).where(_TOKEN.c.id == token_id).values(last_used_at=now))
    return principal


def list_tokens(ctx: ServiceContext, name: str | None = None) -> list[dict[str, Any]]:
    ctx.require("token.list", "api_token")
    query = (
        select(_TOKEN, _USER.c.name).join(_USER, _USER.c.id == _TOKEN.c.user_id).order_by(_TOKEN.c.created_at)
    )
    if name is not None:
        query = query.where(_USER.c.name == name)
    now = ctx.clock()
    with ctx.store.read() as conn:
        rows = conn.execute(query).all()
    return [
        {
            "id": r.id,
            "user": r.name,
            "scopes": list(r.scopes),
            "label": r.label,
            "created_at": r.created_at.isoformat(),
            "expires_at": r.expires_at.isoformat(),
            "state": "revoked" if r.revoked_at else "expired" if r.expires_at <= now else "active",
            "last_used_at": r.last_used_at.isoformat() if r.last_used_at else None,
        }
        for r in rows
    ]


def revoke_token(ctx: ServiceContext, token_id: str) -> None:
    """Revoke a token (admin, or its owner); it stops at once."""
    with ctx.store.read() as conn:
        row = conn.execute(select(_TOKEN.c.user_id).where(_TOKEN.c.id == token_id)).first()
    own = row is not None and ctx.principal is not None and ctx.principal.user_id == row.user_id
    ctx.require("account.sessions" if own else "token.revoke", "api_token")
    if row is None:
        raise NotFound("api_token", token_id)
    with ctx.store.begin() as conn:
        conn.execute(
            update(_TOKEN)
            .where(_TOKEN.c.id == token_id, _TOKEN.c.revoked_at.is_(None))
            .values(revoked_at=ctx.clock())
        )
        ctx.record(conn, "token.revoke", "api_token", token_id, {})


# -- compartments ---------------------------------------------------------------------------------


def create_compartment(ctx: ServiceContext, name: str, description: str | None = None) -> None:
    ctx.require("compartment.create", "compartment")
    if name != ALL_COMPARTMENTS and not _COMPARTMENT_NAME.match(name):
        raise InputError("a compartment name is 1-80 lower-case letters, digits and _ . : - ")
    with ctx.store.begin() as conn:
        if conn.execute(select(_COMPARTMENT.c.name).where(_COMPARTMENT.c.name == name)).first():
            raise ConflictError(f"compartment {name} exists")
        conn.execute(insert(_COMPARTMENT).values(name=name, description=description, created_at=ctx.clock()))
        ctx.record(conn, "compartment.create", "compartment", name, {})


def list_compartments(ctx: ServiceContext) -> list[dict[str, Any]]:
    ctx.require("compartment.list", "compartment")
    with ctx.store.read() as conn:
        records: dict[str, int] = dict(
            conn.execute(select(_RECORD.c.compartment, func.count()).group_by(_RECORD.c.compartment)).all()
        )
        users: dict[str, int] = dict(
            conn.execute(select(_GRANT.c.compartment, func.count()).group_by(_GRANT.c.compartment)).all()
        )
        rows = conn.execute(select(_COMPARTMENT).order_by(_COMPARTMENT.c.name)).all()
    return [
        {
            "name": r.name,
            "description": r.description,
            "records": int(records.get(r.name, 0)),
            "users": int(users.get(r.name, 0)),
        }
        for r in rows
    ]


def assign_records(
    ctx: ServiceContext, compartment: str, kind: str, ids: Iterable[str] = (), *, unassigned: bool = False
) -> int:
    """Put records of `kind` into `compartment` (the given ids, or with `unassigned` every record
    of that kind in no compartment yet); returns how many were added."""
    ctx.require("compartment.assign", "compartment")
    wanted = sorted(set(ids))
    if kind not in RECORD_TABLES:
        raise InputError(f"unknown record kind {kind!r}; kinds: {', '.join(RECORD_TABLES)}")
    if not wanted and not unassigned:
        raise InputError("name record ids, or give --unassigned")
    table = table_of(kind)
    with ctx.store.begin() as conn:
        _compartment(conn, compartment)
        added = 0
        if wanted:
            found: set[str] = set()
            for chunk in _chunks(wanted):
                found.update(conn.execute(select(table.c.id).where(table.c.id.in_(chunk))).scalars())
            missing = [i for i in wanted if i not in found]
            if missing:
                raise InputError(f"no {kind} with id {', '.join(missing[:20])}")
            present: set[str] = set()
            for chunk in _chunks(wanted):
                present.update(
                    conn.execute(
                        select(_RECORD.c.record_id).where(
                            _RECORD.c.kind == kind,
                            _RECORD.c.compartment == compartment,
                            _RECORD.c.record_id.in_(chunk),
                        )
                    ).scalars()
                )
            new = [
                {"kind": kind, "record_id": i, "compartment": compartment} for i in wanted if i not in present
            ]
            if new:
                conn.execute(insert(_RECORD), new)
            added += len(new)
        if unassigned:
            rc = _RECORD.alias()
            source = select(table.c.id).where(
                ~exists(select(rc.c.record_id).where(rc.c.kind == kind, rc.c.record_id == table.c.id))
            )
            if wanted:
                source = source.where(table.c.id.not_in(wanted))
            in_compartment = select(func.count()).where(
                _RECORD.c.kind == kind, _RECORD.c.compartment == compartment
            )
            before = int(conn.execute(in_compartment).scalar_one())
            conn.execute(
                insert(_RECORD).from_select(
                    ["kind", "record_id", "compartment"],
                    select(literal(kind), source.subquery().c.id, literal(compartment)),
                )
            )
            added += int(conn.execute(in_compartment).scalar_one()) - before  # rowcount differs by driver
        ctx.record(
            conn, "compartment.assign", kind, None, _ids_detail(compartment, wanted, added, unassigned)
        )
    return added


def unassign_records(ctx: ServiceContext, compartment: str, kind: str, ids: Iterable[str]) -> int:
    ctx.require("compartment.assign", "compartment")
    wanted = sorted(set(ids))
    removed = 0
    with ctx.store.begin() as conn:
        for chunk in _chunks(wanted):
            removed += conn.execute(
                delete(_RECORD).where(
                    _RECORD.c.kind == kind,
                    _RECORD.c.compartment == compartment,
                    _RECORD.c.record_id.in_(chunk),
                )
            ).rowcount
        ctx.record(conn, "compartment.unassign", kind, None, _ids_detail(compartment, wanted, removed, False))
    return removed


def filing_compartments(
    ctx: ServiceContext, kind: str, compartments: Sequence[str] | None = None
) -> list[str]:
    """The compartments new records of `kind` go into; call it before the creating transaction.

    A user files into their own compartments: by default their only one (with several,
    they must name them); a compartment they do not hold needs `compartment.assign`
    (the records would otherwise vanish from their own sight). The system files where
    it is told, or nowhere (the records then wait for `svidok compartment assign`).
    """
    chosen = list(dict.fromkeys(compartments or []))
    principal = ctx.principal
    if principal is not None:
        held = sorted(principal.compartments - {ALL_COMPARTMENTS})
        if not chosen:
            if len(held) != 1:
                raise InputError(
                    f"name the compartment for the new {kind} records (one of: {', '.join(held)})"
                )
            chosen = held
        if not principal.all_compartments and set(chosen) - principal.compartments:
            ctx.require("compartment.assign", kind)
    return chosen


def file_records(conn: Connection, kind: str, ids: Sequence[str], compartments: Sequence[str]) -> None:
    """Put records just created into `compartments` (from `filing_compartments`), in the same transaction."""
    if not compartments or not ids:
        return
    for compartment in compartments:
        _compartment(conn, compartment)
    conn.execute(
        insert(_RECORD), [{"kind": kind, "record_id": i, "compartment": c} for i in ids for c in compartments]
    )


# -- break-glass ----------------------------------------------------------------------------------


def open_break_glass(
    ctx: ServiceContext,
    reason: str,
    *,
    hours: float,
    compartment: str | None = None,
    kind: str | None = None,
    record_id: str | None = None,
) -> dict[str, Any]:
    """Open a compartment or one record outside one's grants, for at most a few hours (AUTH-07).

    The reason is stored for the auditor (the audit entry holds its digest); the opening
    is listed by `list_break_glass` until an auditor reviews it. Whether the record or
    compartment exists is not checked, so break-glass cannot be used to probe for them.
    """
    ctx.require("break_glass.open", kind or "compartment")
    principal = _user_principal(ctx)
    policy = ctx.policy
    text = reason.strip()
    if len(text) < policy.break_glass_min_reason:
        raise InputError(
            f"break-glass needs a written reason of at least {policy.break_glass_min_reason} characters"
        )
    if not 0 < hours <= policy.break_glass_max_hours:
        raise InputError(f"break-glass lasts more than 0 and at most {policy.break_glass_max_hours:g} hours")
    if (compartment is None) == (record_id is None) or (record_id is not None and kind not in RECORD_TABLES):
        raise InputError("break-glass names one compartment, or one record (kind and id)")
    now = ctx.clock()
    glass_id = _random_id("bg")
    expires = now + timedelta(hours=hours)
    with ctx.store.begin() as conn:
        conn.execute(
            insert(_GLASS).values(
                id=glass_id,
                user_id=principal.user_id,
                reason=text,
                compartment=compartment,
                kind=kind if record_id else None,
                record_id=record_id,
                opened_at=now,
                expires_at=expires,
            )
        )
        ctx.record(
            conn,
            "break_glass.open",
            kind if record_id else "compartment",
            record_id or compartment,
            {
                "break_glass": glass_id,
                "minutes": int(hours * 60),
                "expires_at": expires.isoformat(),
                "reason_hmac": ctx.digest(text),
                "reason_chars": len(text),
            },
        )
    return {
        "id": glass_id,
        "expires_at": expires,
        "compartment": compartment,
        "kind": kind,
        "record_id": record_id,
    }


def list_break_glass(ctx: ServiceContext, *, unreviewed: bool = False) -> list[dict[str, Any]]:
    """Every break-glass opening, newest first, with whether its review is overdue."""
    ctx.require("break_glass.list", "break_glass")
    now = ctx.clock()
    review = timedelta(hours=ctx.policy.break_glass_review_hours)
    query = select(_GLASS, _USER.c.name).join(_USER, _USER.c.id == _GLASS.c.user_id)
    if unreviewed:
        query = query.where(_GLASS.c.reviewed_at.is_(None))
    with ctx.store.read() as conn:
        rows = conn.execute(query.order_by(_GLASS.c.opened_at.desc(), _GLASS.c.id)).all()
    return [
        {
            "id": r.id,
            "user": r.name,
            "reason": r.reason,
            "compartment": r.compartment,
            "kind": r.kind,
            "record_id": r.record_id,
            "opened_at": r.opened_at.isoformat(),
            "expires_at": r.expires_at.isoformat(),
            "active": r.expires_at > now,
            "reviewed_by": r.reviewed_by,
            "overdue": r.reviewed_at is None and r.opened_at + review < now,
        }
        for r in rows
    ]


def review_break_glass(ctx: ServiceContext, glass_id: str) -> None:
    """An auditor (never the one who opened it) marks a break-glass opening as reviewed."""
    ctx.require("break_glass.review", "break_glass")
    with ctx.store.begin() as conn:
        row = conn.execute(select(_GLASS.c.user_id).where(_GLASS.c.id == glass_id)).first()
        if row is None:
            raise NotFound("break_glass", glass_id)
        if ctx.principal is not None and ctx.principal.user_id == row.user_id:
            raise InputError("a break-glass opening is reviewed by someone else")
        conn.execute(
            update(_GLASS)
            .where(_GLASS.c.id == glass_id)
            .values(reviewed_by=ctx.actor.name, reviewed_at=ctx.clock())
        )
        ctx.record(conn, "break_glass.review", "break_glass", glass_id, {})


# -- helpers --------------------------------------------------------------------------------------


def _principal(
    conn: Connection,
    user: Row[Any],
    *,
    via: str,
    credential_id: str | None,
    scopes: frozenset[str] | None = None,
) -> Principal:
    grants = conn.execute(
        select(_GRANT.c.compartment, _GRANT.c.identity).where(_GRANT.c.user_id == user.id)
    ).all()
    if user.must_change_password and via == "session":
        scopes = _FIRST_LOGIN_SCOPES if scopes is None else scopes & _FIRST_LOGIN_SCOPES
    return Principal(
        name=user.name,
        role=user.role,
        user_id=user.id,
        compartments=frozenset(g.compartment for g in grants),
        identity_compartments=frozenset(g.compartment for g in grants if g.identity),
        scopes=scopes,
        via=via,
        credential_id=credential_id,
    )


def _user_principal(ctx: ServiceContext) -> Principal:
    if ctx.principal is None or ctx.principal.user_id is None:
        raise InputError("this needs a logged-in user")
    return ctx.principal


def _user(conn: Connection, name: str) -> Row[Any]:
    row = conn.execute(select(_USER).where(_USER.c.name == name)).first()
    if row is None:
        raise NotFound("user", name)
    return row


def _compartment(conn: Connection, name: str) -> None:
    if conn.execute(select(_COMPARTMENT.c.name).where(_COMPARTMENT.c.name == name)).first() is None:
        raise NotFound("compartment", name)


def _grant(
    ctx: ServiceContext, conn: Connection, user_id: str, compartment: str, identity: bool, now: datetime
) -> None:
    _compartment(conn, compartment)
    conn.execute(
        insert(_GRANT).values(
            user_id=user_id,
            compartment=compartment,
            identity=identity,
            granted_at=now,
            granted_by=ctx.actor.name,
        )
    )


def _revoke_user_sessions(conn: Connection, user_id: str, now: datetime) -> int:
    return int(
        conn.execute(
            update(_SESSION)
            .where(_SESSION.c.user_id == user_id, _SESSION.c.revoked_at.is_(None))
            .values(revoked_at=now)
        ).rowcount
    )


def _login_failed(
    ctx: ServiceContext,
    user: Row[Any] | None,
    account: str,
    place: str,
    address: str | None,
    reason: str,
    now: datetime,
    *,
    count: bool = True,
) -> NoReturn:
    """Count the failure, audit it (reason code, no secret), raise the one generic error."""
    with ctx.store.begin() as conn:
        if count:
            throttle.record_failure(conn, ctx.policy, account, place, now)
        if ctx.audit is not None:
            ctx.audit.append(
                conn,
                user.name if user is not None else "anonymous",
                "login.fail",
                "app_user",
                user.id if user is not None else None,
                {"reason": reason, "address": (address or "")[:64], "account": account[:16]},
            )
    raise AuthenticationFailed("login failed")


def _audit(
    ctx: ServiceContext,
    conn: Connection,
    actor: str,
    action: str,
    kind: str | None,
    record_id: str | None,
    details: dict[str, Any],
) -> None:
    """An audit entry in the name of `actor` (a user logging in), not of the context's actor."""
    if ctx.audit is not None:
        ctx.audit.append(conn, actor, action, kind, record_id, details)


def _token_rejected(
    ctx: ServiceContext, token_id: str | None, user: Row[Any] | None, reason: str
) -> NoReturn:
    if ctx.audit is not None:
        with ctx.store.begin() as conn:
            ctx.audit.append(
                conn,
                user.name if user is not None else "anonymous",
                "token.reject",
                "api_token",
                token_id,
                {"reason": reason},
            )
    raise AuthenticationFailed("invalid or expired token")


def _ids_detail(compartment: str, ids: list[str], count: int, unassigned: bool) -> dict[str, Any]:
    detail: dict[str, Any] = {"compartment": compartment, "count": count, "unassigned": unassigned}
    if len(ids) <= _IDS_IN_AUDIT:
        detail["ids"] = ids
    else:
        detail["ids_sha256"] = hashlib.sha256("\n".join(ids).encode()).hexdigest()
    return detail


def _chunks(items: list[str], size: int = 500) -> Iterable[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _random_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(12)}"
