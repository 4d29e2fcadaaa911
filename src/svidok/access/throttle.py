"""Login throttling per (account, address), so an attacker cannot lock the owner out.

Failures are counted per pair of (submitted account name, client address): the
first `free_failures` cost nothing, then each failure doubles a waiting time
(30 s, 60 s, ... up to an hour) during which that pair is refused even with the
right password. The owner logging in from another address has a pair of their
own and is not slowed at all. An address that fails on many accounts (password
spraying) is locked as a whole. Rows are keyed by digests, so the table holds
neither the names tried (a password typed into the name field) nor addresses.
Two factors bound what a distributed attacker gains from many addresses.
"""

from __future__ import annotations

import hashlib
import ipaddress
from datetime import datetime, timedelta

from sqlalchemy import Connection, delete, insert, select, update

from svidok.access.policy import Policy
from svidok.store.models import Base

__all__ = ["ANY_ACCOUNT", "account_key", "address_key", "locked_for", "record_failure", "record_success"]

ANY_ACCOUNT = "*"
_THROTTLE = Base.metadata.tables["login_throttle"]


def account_key(name: str) -> str:
    return hashlib.sha256(b"account\x00" + name.strip().casefold().encode("utf-8")).hexdigest()


def address_key(address: str | None) -> str:
    """A digest of the address; IPv6 addresses count by their /64 network (one host's range)."""
    text = (address or "").strip()
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        normal = text.casefold() or "unknown"
    else:
        if ip.version == 6 and ip.ipv4_mapped is None:
            normal = str(ipaddress.ip_network(f"{ip}/64", strict=False))
        else:
            normal = str(ip.ipv4_mapped or ip) if ip.version == 6 else str(ip)
    return hashlib.sha256(b"address\x00" + normal.encode("utf-8")).hexdigest()


def locked_for(conn: Connection, account: str, address: str, now: datetime) -> float:
    """Seconds the pair (or the whole address) must still wait; 0 when a try is allowed."""
    rows = conn.execute(
        select(_THROTTLE.c.locked_until).where(
            _THROTTLE.c.address_key == address,
            _THROTTLE.c.account_key.in_([account, ANY_ACCOUNT]),
        )
    ).scalars()
    waits = [(until - now).total_seconds() for until in rows if until is not None and until > now]
    return max(waits, default=0.0)


def _bump(conn: Connection, policy: Policy, account: str, address: str, now: datetime) -> None:
    window = timedelta(minutes=policy.throttle_window_minutes)
    row = conn.execute(
        select(_THROTTLE.c.failures, _THROTTLE.c.first_failure_at).where(
            _THROTTLE.c.account_key == account, _THROTTLE.c.address_key == address
        )
    ).first()
    if row is None or row.first_failure_at + window < now:
        failures, first = 1, now
    else:
        failures, first = int(row.failures) + 1, row.first_failure_at
    if account == ANY_ACCOUNT:
        locked = (
            now + timedelta(seconds=policy.throttle_max_seconds)
            if failures >= policy.throttle_address_failures
            else None
        )
    else:
        over = failures - policy.throttle_free_failures
        locked = (
            now
            + timedelta(
                seconds=min(
                    policy.throttle_max_seconds, policy.throttle_base_seconds * 2 ** min(over - 1, 30)
                )
            )
            if over > 0
            else None
        )
    values = {"failures": failures, "first_failure_at": first, "locked_until": locked}
    if row is None:
        conn.execute(insert(_THROTTLE).values(account_key=account, address_key=address, **values))
    else:
        conn.execute(
            update(_THROTTLE)
            .where(_THROTTLE.c.account_key == account, _THROTTLE.c.address_key == address)
            .values(**values)
        )


def record_failure(conn: Connection, policy: Policy, account: str, address: str, now: datetime) -> None:
    _bump(conn, policy, account, address, now)
    _bump(conn, policy, ANY_ACCOUNT, address, now)


def record_success(conn: Connection, account: str, address: str) -> None:
    conn.execute(
        delete(_THROTTLE).where(_THROTTLE.c.account_key == account, _THROTTLE.c.address_key == address)
    )
