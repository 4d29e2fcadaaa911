"""Fixtures for backup tests: an encrypted demo register with real evidence blobs, custodians, S3.

The demo generator writes evidence rows whose digests point at no stored file;
`attach_blobs` gives each of them real (random) bytes, encrypted into the blob
store exactly as intake does, so that `svidok evidence verify` passes on the
original — and must pass on the restored copy.
"""

from __future__ import annotations

import os
import random
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select, update

from svidok.audit.entry import utc_naive
from svidok.backup.repo import new_identity_file
from svidok.crypto.keyring import TEST_ARGON2, MasterSecret
from svidok.demo.generator import DemoConfig, generate
from svidok.evidence.blobs import FileBlobStore
from svidok.evidence.stream import encrypt_stream
from svidok.services.keys import Protection
from svidok.settings import Settings
from svidok.store.models import Base

PASSPHRASE = "backup tests passphrase"
_EVIDENCE = Base.metadata.tables["evidence"]
_BLOB = Base.metadata.tables["evidence_blob"]


@dataclass
class Register:
    root: Path
    settings: Settings
    protection: Protection

    @property
    def data_dir(self) -> Path:
        return self.settings.data_dir

    @property
    def blobs(self) -> FileBlobStore:
        return FileBlobStore(self.data_dir / "blobs")

    def reopen(self) -> Protection:
        self.protection = Protection.open(self.settings, MasterSecret(passphrase=PASSPHRASE))
        return self.protection


def store_blob(p: Protection, blobs: FileBlobStore, data: bytes) -> tuple[str, str]:
    """Encrypt `data` into the blob store as intake does; return (sha256, blake3)."""
    spool = blobs.root / ".incoming"
    spool.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=spool)
    tmp = Path(name)
    try:
        with os.fdopen(fd, "wb") as dst:
            import io

            digests = encrypt_stream(io.BytesIO(data), dst, p.keyring.data_key("blob"), "blob", 64 * 1024)
        blobs.put(digests.sha256, tmp)
    finally:
        tmp.unlink(missing_ok=True)
    return digests.sha256, digests.blake3


def attach_blobs(reg: Register, rng: random.Random, size: tuple[int, int]) -> int:
    """Give every demo evidence row real stored bytes; return the number of bytes stored."""
    p = reg.protection
    with p.store.read() as conn:
        ids = [r[0] for r in conn.execute(select(_EVIDENCE.c.id).order_by(_EVIDENCE.c.id))]
    total = 0
    for evidence_id in ids:
        data = rng.randbytes(rng.randint(*size))
        sha, b3 = store_blob(p, reg.blobs, data)
        with p.store.begin() as conn:
            conn.execute(
                update(_EVIDENCE)
                .where(_EVIDENCE.c.id == evidence_id)
                .values(sha256=sha, size_bytes=len(data))
            )
            conn.execute(
                _BLOB.insert().values(
                    sha256=sha, blake3=b3, size_bytes=len(data), key_id="blob", stored_at=utc_naive()
                )
            )
        total += len(data)
    return total


def make_register(root: Path, *, scale: int = 60, blob_size: tuple[int, int] = (20_000, 120_000)) -> Register:
    settings = Settings(data_dir=root / "data")
    p = Protection.open(settings, MasterSecret(passphrase=PASSPHRASE), create=True, params=TEST_ARGON2)
    generate(p.store, root / "truth", DemoConfig(scale=scale, seed=13))  # 6 evidence rows at scale 60
    reg = Register(root, settings, p)
    attach_blobs(reg, random.Random(5), blob_size)
    return reg


@pytest.fixture
def register(tmp_path: Path) -> Iterator[Register]:
    reg = make_register(tmp_path / "reg")
    yield reg
    reg.protection.close()


@dataclass
class Custodian:
    identity: Path
    recipient: str


@pytest.fixture(scope="session")
def custodians(tmp_path_factory: pytest.TempPathFactory) -> list[Custodian]:
    root = tmp_path_factory.mktemp("custodians")
    out = []
    for name in ("kyiv", "vilnius", "stranger"):
        path = root / f"{name}.key"
        out.append(Custodian(path, new_identity_file(path)))
    return out


def new_bucket(endpoint: str) -> str:
    import boto3

    bucket = f"svidok-backup-{random.randrange(10**9)}"
    boto3.client("s3", endpoint_url=endpoint).create_bucket(Bucket=bucket)
    return bucket
