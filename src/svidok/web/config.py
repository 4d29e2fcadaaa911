"""Settings of the web application, beside the register's `Settings`."""

from __future__ import annotations

from dataclasses import dataclass

ACCEPTED_TYPES: tuple[str, ...] = (
    "image/jpeg",
    "image/png",
    "image/gif",
    "image/webp",
    "image/heic",
    "video/mp4",
    "video/quicktime",
    "video/webm",
    "audio/mpeg",
    "audio/ogg",
    "audio/wav",
    "audio/mp4",
    "application/pdf",
    "application/zip",
    "text/plain",
)
"""File types the public form takes, recognised from the bytes (never the name or the browser's claim)."""


@dataclass(frozen=True)
class WebSettings:
    """Limits and switches of the web layer; built at the edge, passed to `create_app`."""

    max_file_bytes: int = 100 * 1024 * 1024
    max_files: int = 5
    max_request_bytes: int = 520 * 1024 * 1024
    accepted_types: tuple[str, ...] = ACCEPTED_TYPES
    timezone: str = "Europe/Minsk"
    tls: bool = False
    """Send HSTS on every response (set when served over TLS, directly or behind a proxy)."""
    intake_compartment: str | None = "intake"
    """New public submissions are filed here (created at start if missing); grant it to intake operators."""

    @property
    def max_file_mb(self) -> str:
        """The file size limit in MB, as shown in messages."""
        mb = self.max_file_bytes / (1024 * 1024)
        return f"{mb:.0f}" if mb >= 10 else f"{mb:.2g}"
