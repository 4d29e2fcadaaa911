from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from svidok.crypto.keyring import TEST_ARGON2, MasterSecret
from svidok.evidence.blobs import FileBlobStore
from svidok.services.evidence import EvidenceService
from svidok.services.keys import Protection
from svidok.settings import Settings


@pytest.fixture
def protection(tmp_path: Path) -> Iterator[Protection]:
    settings = Settings(data_dir=tmp_path / "data")
    p = Protection.open(settings, MasterSecret(passphrase="evidence tests"), create=True, params=TEST_ARGON2)
    yield p
    p.close()


@pytest.fixture
def service(protection: Protection) -> EvidenceService:
    blobs = FileBlobStore(protection.keyring.data_dir / "blobs")
    return EvidenceService(protection, blobs, chunk_size=64 * 1024)


