"""`pg_dump` of one test schema: what a copy of the PostgreSQL database would hand an adversary."""

from __future__ import annotations

import os
import subprocess

from sqlalchemy.engine import make_url


def dump_schema(url_text: str) -> str:
    """The plain-SQL dump of the schema that `url_text` selects (`options=-csearch_path=...`)."""
    url = make_url(url_text)
    schema = str(url.query["options"]).split("=", 1)[1]
    command = [
        "pg_dump",
        "--no-owner",
        f"--host={url.host or '127.0.0.1'}",
        f"--port={url.port or 5432}",
        f"--username={url.username or 'postgres'}",
        f"--schema={schema}",
        str(url.database),
    ]
    done = subprocess.run(
        command, capture_output=True, check=True, env={**os.environ, "PGCONNECT_TIMEOUT": "10"}
    )
    return done.stdout.decode("utf-8")
