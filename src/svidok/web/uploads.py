"""Files from the public form: type recognised from the bytes, size limits, spooling.

A file's type is read from its first bytes (magic numbers), never from its
name or the browser's claim. Accepted files are copied into a private
directory of the data directory (0700) under their sanitised original name,
handed to the evidence service (which encrypts and hashes them) and removed.
"""

from __future__ import annotations

import secrets
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from svidok.evidence.filenames import MAX_NAME_BYTES, MAX_NAME_CHARS, safe_name
from svidok.services.intake import Upload

__all__ = ["MAX_NAME_BYTES", "MAX_NAME_CHARS", "Refusal", "Spool", "safe_name", "sniff", "take"]

_SIGNATURES: list[tuple[int, bytes, str]] = [
    (0, b"\xff\xd8\xff", "image/jpeg"),
    (0, b"\x89PNG\r\n\x1a\n", "image/png"),
    (0, b"GIF87a", "image/gif"),
    (0, b"GIF89a", "image/gif"),
    (0, b"%PDF-", "application/pdf"),
    (0, b"\x1aE\xdf\xa3", "video/webm"),
    (0, b"OggS", "audio/ogg"),
    (0, b"ID3", "audio/mpeg"),
    (0, b"PK\x03\x04", "application/zip"),
]
_FTYP = {
    b"heic": "image/heic",
    b"heix": "image/heic",
    b"mif1": "image/heic",
    b"qt  ": "video/quicktime",
    b"M4A ": "audio/mp4",
}


def sniff(head: bytes) -> str | None:
    """The media type of a file from its first bytes, or None when unknown."""
    for offset, magic, kind in _SIGNATURES:
        if head[offset : offset + len(magic)] == magic:
            return kind
    if head[:4] == b"RIFF" and head[8:12] in (b"WEBP", b"WAVE"):
        return "image/webp" if head[8:12] == b"WEBP" else "audio/wav"
    if head[4:8] == b"ftyp":
        return _FTYP.get(head[8:12], "video/mp4")
    if len(head) >= 2 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0:
        return "audio/mpeg"
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:  # a character cut at the end of the sample is fine
            return None
        text = head[: exc.start].decode("utf-8")
    if "\x00" in text:
        return None
    return "text/plain"


@dataclass(frozen=True)
class Refusal:
    """Why a file was not taken: 'type' or 'size', with the file's name."""

    reason: str
    name: str


class Spool:
    """A private directory for the files of one request."""

    def __init__(self, root: Path) -> None:
        self.root = root

    @contextmanager
    def open(self) -> Iterator[Path]:
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        where = self.root / secrets.token_hex(8)
        where.mkdir(mode=0o700)
        try:
            yield where
        finally:
            shutil.rmtree(where, ignore_errors=True)


def take(
    where: Path, index: int, name: str, stream: BinaryIO, *, max_bytes: int, accepted: tuple[str, ...]
) -> Upload | Refusal:
    """Copy one uploaded file into `where` if its type and size are acceptable."""
    stream.seek(0)
    head = stream.read(4096)
    kind = sniff(head)
    if kind is None or kind not in accepted:
        return Refusal("type", safe_name(name))
    folder = where / str(index)
    folder.mkdir(mode=0o700)
    target = folder / safe_name(name)
    size = len(head)
    with target.open("wb") as out:
        out.write(head)
        while chunk := stream.read(1 << 20):
            size += len(chunk)
            if size > max_bytes:
                break
            out.write(chunk)
    if size > max_bytes:
        target.unlink()
        return Refusal("size", safe_name(name))
    return Upload(target, kind)
