"""Free text an audit entry must not carry (a search query, a reason) is recorded as a keyed digest.

A plain SHA-256 of a query would let anyone holding an audit export test guesses ("was the name
of this witness searched for?"); the keyed digest can be recomputed only with the register's key.
"""

from __future__ import annotations

import hashlib
import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select

from svidok.audit.log import AuditKey, AuditLog
from svidok.errors import ConfigError
from svidok.services.context import Actor, ServiceContext
from svidok.services.search import search
from svidok.store.models import Base
from svidok.store.register import Store


def _log() -> AuditLog:
    private = Ed25519PrivateKey.generate()
    return AuditLog(AuditKey("svidok.test/log", private.public_key(), private))


def test_the_digest_is_keyed_stable_and_not_a_plain_hash() -> None:
    log, other = _log(), _log()
    assert log.digest("Тихановская") == log.digest("Тихановская")
    assert log.digest("Тихановская") != other.digest("Тихановская")
    assert log.digest("Тихановская") != hashlib.sha256("Тихановская".encode()).hexdigest()
    with pytest.raises(ConfigError):
        AuditLog(AuditKey("svidok.test/log", Ed25519PrivateKey.generate().public_key())).digest("x")


def test_a_search_is_audited_without_a_guessable_hash_of_its_query(store: Store) -> None:
    log = _log()
    search(ServiceContext(store, Actor("ana", "investigator"), audit=log), "Kavaliou")
    entries = Base.metadata.tables["audit_entry"]
    with store.read() as conn:
        [details] = conn.execute(
            select(entries.c.details).where(entries.c.action == "record.search")
        ).scalars()
    details = details if isinstance(details, dict) else json.loads(details)
    assert details["query_hmac"] == log.digest("Kavaliou")
    assert hashlib.sha256(b"Kavaliou").hexdigest() not in json.dumps(details)
