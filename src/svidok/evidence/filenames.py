"""File names as the register keeps them (`evidence.original_name`, upload spooling).

A name comes from a stranger's browser or a file system and is shown on pages, in exports and in
court packages, so it is cleaned once, here, for every way a file arrives.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["MAX_NAME_BYTES", "MAX_NAME_CHARS", "safe_name"]

MAX_NAME_CHARS = 120
MAX_NAME_BYTES = 200
"""Below every file system's 255-byte limit: 120 Cyrillic or emoji characters are 240 to 480 bytes."""
_WINDOWS_RESERVED = re.compile(r"(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³]|conin\$|conout\$)(\..*)?", re.I)
_UNSAFE = re.compile(r'[/\\:*?"<>|]')


def safe_name(name: str) -> str:
    """A file name safe to store and to show: no directories, no control, format (bidi override,
    zero-width) or unassigned characters, no characters Windows refuses, not a Windows device
    name, at most 120 characters and 200 UTF-8 bytes (the extension kept)."""
    text = unicodedata.normalize("NFC", _decoded(name)).replace("\\", "/").rsplit("/", 1)[-1]
    kept = []
    for char in text:
        category = unicodedata.category(char)
        if category in ("Cf", "Cs", "Co", "Cn"):
            continue  # invisible or not a character: "gpj.exe" shown as "exe.jpg" by U+202E
        kept.append("_" if category in ("Cc", "Zl", "Zp") or _UNSAFE.match(char) else char)
    base = re.sub(r"_{2,}", "_", "".join(kept)).strip(". ")
    if _WINDOWS_RESERVED.fullmatch(base):
        base = "_" + base
    return _shorten(base) or "file"


def _shorten(name: str) -> str:
    stem, dot, extension = name.rpartition(".")
    if not dot or not stem or len(extension) > 16:
        stem, dot, extension = name, "", ""
    tail = dot + extension
    room_chars = MAX_NAME_CHARS - len(tail)
    room_bytes = MAX_NAME_BYTES - len(tail.encode())
    stem = stem[:room_chars]
    while len(stem.encode()) > room_bytes:
        stem = stem[: -max(1, (len(stem.encode()) - room_bytes) // 4)]
    return (stem.rstrip(". ") + tail) if stem.strip(". ") else tail.lstrip(".")


def _decoded(name: str) -> str:
    """A name whose undecodable bytes (surrogate escapes from the file system) show as U+FFFD."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        try:
            return name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
        except UnicodeEncodeError:
            return name.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
    return name
