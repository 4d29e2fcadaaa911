from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
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


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """A throwaway S3-compatible server (moto) on a free local port."""
    port = _free_port()
    exe = Path(sys.executable).with_name("moto_server")
    proc = subprocess.Popen(
        [str(exe), "-H", "127.0.0.1", "-p", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 20
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.1)
    else:
        proc.kill()
        pytest.skip("moto_server did not start")
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    yield url
    proc.terminate()
    proc.wait(timeout=10)
