from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from svidok.crypto.keyring import TEST_ARGON2, MasterSecret
from svidok.services.keys import Protection, register_officer_key
from svidok.settings import Settings
from svidok.web import create_app
from svidok.web.config import WebSettings

OPERATOR_TOKEN = "operator-test-token"


@pytest.fixture
def protection(tmp_path: Path) -> Iterator[Protection]:
    settings = Settings(data_dir=tmp_path / "data")
    p = Protection.open(settings, MasterSecret(passphrase="web tests"), create=True, params=TEST_ARGON2)
    yield p
    p.close()


@pytest.fixture
def web_settings() -> WebSettings:
    return WebSettings(
        max_file_bytes=64 * 1024,
        max_files=3,
        operator_tokens={OPERATOR_TOKEN: ("op-anna", "intake_operator")},
    )


@pytest.fixture
def client(protection: Protection, web_settings: WebSettings) -> Iterator[TestClient]:
    app = create_app(Settings(data_dir=protection.keyring.data_dir), protection=protection, web=web_settings)
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def officer_key(protection: Protection, tmp_path: Path) -> Path:
    path = tmp_path / "officer.key"
    register_officer_key(protection, "test", "officer", path)
    return path
