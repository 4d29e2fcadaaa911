from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from svidok.crypto.keyring import TEST_ARGON2, MasterSecret
from svidok.services.keys import Protection
from svidok.settings import Settings

PASSPHRASE = "correct horse battery staple"
CANARY_NAME = "Zmitser Kanarejka"
CANARY_PHONE = "+375 29 765 43 21"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", passphrase=PASSPHRASE)


@pytest.fixture
def secret() -> MasterSecret:
    return MasterSecret(passphrase=PASSPHRASE)


@pytest.fixture
def protection(settings: Settings, secret: MasterSecret) -> Iterator[Protection]:
    p = Protection.open(settings, secret, create=True, params=TEST_ARGON2)
    yield p
    p.close()
