"""One settings object, built at the edge (CLI options, environment) and passed in.

Nothing reads the environment at import time; `Settings.from_env` is called by
the CLI and the web app factory only.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_DATA_DIR = Path("svidok-data")


@dataclass(frozen=True)
class Settings:
    """Where the register lives and how to reach its database."""

    data_dir: Path = DEFAULT_DATA_DIR
    database_url: str | None = None
    passphrase: str | None = field(default=None, repr=False)

    @property
    def effective_database_url(self) -> str:
        """The configured URL, or the embedded SQLite file in the data directory."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'register.db').resolve()}"

    @property
    def is_embedded(self) -> bool:
        return self.effective_database_url.startswith("sqlite")

    @classmethod
    def from_env(
        cls,
        data_dir: Path | None = None,
        database_url: str | None = None,
        env: dict[str, str] | None = None,
    ) -> Settings:
        environ = os.environ if env is None else env
        return cls(
            data_dir=data_dir or Path(environ.get("SVIDOK_DATA_DIR", DEFAULT_DATA_DIR)),
            database_url=database_url or environ.get("SVIDOK_DATABASE_URL") or None,
            passphrase=environ.get("SVIDOK_PASSPHRASE") or None,
        )
