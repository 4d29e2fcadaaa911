"""Capture metadata read from a file, never written back (EV-03).

Only JPEG/TIFF EXIF is read for now (Pillow, read-only: the image is opened
lazily and its pixels are never decoded). What is found becomes claims with
basis "metadata" and source "file EXIF", kept beside what people assert
("submitter statement") and what the server knows ("server receive time");
none overrides another.

Files come from anyone, so reading them is bounded: only the first
`MAX_METADATA_BYTES` are looked at (EXIF sits at the start of a JPEG or TIFF;
this also bounds Pillow's time and memory on a file of millions of segments;
intake keeps these bytes during its one pass, so the metadata comes from the
very bytes that were hashed, without a second read of the file),
only the JPEG, MPO and TIFF parsers are tried, and any failure of the parser on
malformed bytes means "no metadata", never a failed intake. Values are checked
before they become claims: coordinates finite and on the globe, times that
exist in UTC, device names without control characters.
"""

from __future__ import annotations

import io
import math
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

__all__ = ["MAX_METADATA_BYTES", "Claim", "exif_claims", "exif_claims_from", "might_have_exif"]

MAX_METADATA_BYTES = 8 << 20
_FORMATS = ("JPEG", "MPO", "TIFF")
# what those parsers accept (PIL.JpegImagePlugin._accept, TiffImagePlugin.PREFIXES)
_PREFIXES = (b"\xff\xd8\xff", b"MM\x00*", b"II*\x00", b"MM*\x00", b"II\x00*", b"MM\x00+", b"II+\x00")
_EXIF_IFD, _GPS_IFD = 0x8769, 0x8825
_MAKE, _MODEL = 0x010F, 0x0110
_DATETIME_ORIGINAL, _OFFSET_ORIGINAL = 0x9003, 0x9011


@dataclass(frozen=True)
class Claim:
    field: str
    value: str
    basis: str
    source: str


def _ratio(value: Any) -> float:
    if isinstance(value, tuple):
        return float(value[0]) / float(value[1])
    return float(value)


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        value = value.decode("latin-1")
    return str(value)


def _degrees(dms: Any, ref: Any, limit: float) -> float:
    d, m, s = (_ratio(x) for x in dms)
    value = d + m / 60 + s / 3600
    if not math.isfinite(value) or not -limit <= value <= limit:
        raise ValueError("not a coordinate")
    return -value if _text(ref).strip("\x00 ").upper() in ("S", "W") else value


def _capture_time(exif_ifd: Any) -> str | None:
    raw = exif_ifd.get(_DATETIME_ORIGINAL)
    if not raw:
        return None
    moment = datetime.strptime(_text(raw).strip("\x00 "), "%Y:%m:%d %H:%M:%S")
    offset = exif_ifd.get(_OFFSET_ORIGINAL)
    if offset:
        text = _text(offset).strip("\x00 ")
        sign = -1 if text.startswith("-") else 1
        hours, minutes = text.lstrip("+-").split(":")
        moment = moment.replace(tzinfo=timezone(sign * timedelta(hours=int(hours), minutes=int(minutes))))
        moment.astimezone(UTC)  # OverflowError for a time before year 1 or after 9999 in UTC
    return moment.isoformat()


def _device(exif: Any) -> str:
    words = (_text(exif.get(t, "")) for t in (_MAKE, _MODEL))
    text = " ".join(words)
    # NUL, escapes and bidi overrides would reach pages, exports and PostgreSQL (which refuses NUL)
    text = "".join(" " if unicodedata.category(c)[0] in "CZ" else c for c in text)
    return " ".join(text.split())[:200]


def exif_claims(path: Path) -> list[Claim]:
    """Claims from a JPEG/TIFF file's EXIF; [] for other files or unreadable metadata."""
    try:
        with path.open("rb") as handle:
            head = handle.read(MAX_METADATA_BYTES)
    except OSError:
        return []
    return exif_claims_from(head)


def might_have_exif(prefix: bytes) -> bool:
    """Whether a file starting with `prefix` is one Pillow's JPEG, MPO or TIFF parser would try."""
    return prefix.startswith(_PREFIXES)


def exif_claims_from(head: bytes | bytearray) -> list[Claim]:
    """Claims from the first bytes of a file (intake keeps them during its one pass)."""
    if not might_have_exif(bytes(head[:4])):
        return []  # most evidence is video or documents: no Pillow, no copy
    from PIL import Image

    try:
        with Image.open(io.BytesIO(head[:MAX_METADATA_BYTES]), formats=_FORMATS) as image:
            exif = image.getexif()
            exif_ifd = exif.get_ifd(_EXIF_IFD)
            gps = exif.get_ifd(_GPS_IFD)
            claims: list[Claim] = []

            def add(field: str, value: str) -> None:
                claims.append(Claim(field, value, "metadata", "file EXIF"))

            try:
                taken = _capture_time(exif_ifd)
            except (ValueError, OverflowError, TypeError):
                taken = None
            if taken:
                add("captured_at", taken)
            if gps.get(2) and gps.get(4):
                try:
                    lat = _degrees(gps[2], gps.get(1, "N"), 90)
                    lon = _degrees(gps[4], gps.get(3, "E"), 180)
                except (TypeError, ValueError, ZeroDivisionError, OverflowError):
                    pass
                else:
                    add("lat", f"{lat:.6f}")
                    add("lon", f"{lon:.6f}")
            device = _device(exif)
            if device:
                add("device", device)
            return claims
    except Exception:  # noqa: BLE001 - Pillow raises many types on hostile bytes; metadata is optional
        return []
