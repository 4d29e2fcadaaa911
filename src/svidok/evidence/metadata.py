"""Capture metadata read from a file, never written back (EV-03).

Only JPEG/TIFF EXIF is read for now (Pillow, read-only: the image is opened
lazily and its pixels are never decoded). What is found becomes claims with
basis "metadata" and source "file EXIF", kept beside what people assert
("submitter statement") and what the server knows ("server receive time");
none overrides another.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

__all__ = ["Claim", "exif_claims"]

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


def _degrees(dms: Any, ref: str) -> float:
    d, m, s = (_ratio(x) for x in dms)
    value = d + m / 60 + s / 3600
    return -value if ref.upper() in ("S", "W") else value


def _capture_time(exif_ifd: Any) -> str | None:
    raw = exif_ifd.get(_DATETIME_ORIGINAL)
    if not raw:
        return None
    moment = datetime.strptime(str(raw).strip("\x00 "), "%Y:%m:%d %H:%M:%S")
    offset = exif_ifd.get(_OFFSET_ORIGINAL)
    if offset:
        sign = -1 if str(offset).startswith("-") else 1
        hours, minutes = str(offset).strip("+-\x00 ").split(":")
        moment = moment.replace(tzinfo=timezone(sign * timedelta(hours=int(hours), minutes=int(minutes))))
    return moment.isoformat()


def exif_claims(path: Path) -> list[Claim]:
    """Claims from a JPEG/TIFF's EXIF; [] for other files or unreadable metadata."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            if image.format not in ("JPEG", "TIFF", "MPO"):
                return []
            exif = image.getexif()
            exif_ifd = exif.get_ifd(_EXIF_IFD)
            gps = exif.get_ifd(_GPS_IFD)
    except (UnidentifiedImageError, OSError, ValueError):
        return []
    claims: list[Claim] = []

    def add(field: str, value: str) -> None:
        claims.append(Claim(field, value, "metadata", "file EXIF"))

    try:
        taken = _capture_time(exif_ifd)
    except ValueError:
        taken = None
    if taken:
        add("captured_at", taken)
    if gps.get(2) and gps.get(4):
        try:
            add("lat", f"{_degrees(gps[2], str(gps.get(1, 'N'))):.6f}")
            add("lon", f"{_degrees(gps[4], str(gps.get(3, 'E'))):.6f}")
        except (TypeError, ValueError, ZeroDivisionError):
            pass
    device = " ".join(str(exif.get(t, "")).strip("\x00 ") for t in (_MAKE, _MODEL)).strip()
    if device:
        add("device", device[:200])
    return claims
