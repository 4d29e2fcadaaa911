from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine

from svidok.audit import AuditKey, AuditLog
from svidok.store.db import make_engine
from svidok.store.models import Base


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'register.db'}")
    Base.metadata.create_all(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def audit_key() -> AuditKey:
    private = Ed25519PrivateKey.generate()
    return AuditKey("svidok.test/log", private.public_key(), private)


@pytest.fixture
def log(audit_key: AuditKey) -> AuditLog:
    return AuditLog(audit_key)
