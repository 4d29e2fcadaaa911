"""Hostile files, made in memory: zip bombs, polyglots, liars, malformed images with EXIF."""

from __future__ import annotations

import io
import struct
import zipfile
from functools import cache
from typing import Any

from PIL import Image, TiffImagePlugin

MIB = 1 << 20


@cache
def zip_bomb(expands_to: int = 256 * MIB) -> bytes:
    """A few hundred KB that expand to `expands_to` bytes of zeros."""
    out = io.BytesIO()
    with (
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z,
        z.open("zeros.bin", "w") as member,
    ):
        block = bytes(MIB)
        for _ in range(expands_to // MIB):
            member.write(block)
    return out.getvalue()


@cache
def zip_with_lying_sizes() -> bytes:
    """A small zip whose headers claim a 4 GiB member, with a traversal path inside."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as z:
        z.writestr("../../../../etc/cron.d/x", b"* * * * * root true\n")
    data = bytearray(out.getvalue())
    local = data.find(b"PK\x03\x04")
    data[local + 18 : local + 26] = struct.pack("<II", 0xFFFFFFFE, 0xFFFFFFFE)
    central = data.find(b"PK\x01\x02")
    data[central + 20 : central + 28] = struct.pack("<II", 0xFFFFFFFE, 0xFFFFFFFE)
    return bytes(data)


@cache
def zip_of_many_entries(count: int = 20_000) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as z:
        for i in range(count):
            z.writestr(f"../{i}", b"")
    return out.getvalue()


def jpeg(exif: Image.Exif | None = None, size: tuple[int, int] = (8, 8)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(out, "JPEG", exif=exif or Image.Exif())
    return out.getvalue()


def exif_with(**tags: Any) -> Image.Exif:
    """EXIF with Make/Model, DateTimeOriginal/OffsetTimeOriginal and GPS as given."""
    exif = Image.Exif()
    if "make" in tags:
        exif[0x010F] = tags["make"]
    if "model" in tags:
        exif[0x0110] = tags["model"]
    sub = exif.get_ifd(0x8769)
    if "taken" in tags:
        sub[0x9003] = tags["taken"]
    if "offset" in tags:
        sub[0x9011] = tags["offset"]
    if "gps" in tags:
        lat, lon = tags["gps"]
        gps = exif.get_ifd(0x8825)
        gps[1], gps[2], gps[3], gps[4] = "N", lat, "E", lon
    return exif


def sane_exif_jpeg() -> bytes:
    r = TiffImagePlugin.IFDRational
    return jpeg(
        exif_with(
            make="Fictional",
            model="Phone 1",
            taken="2020:08:10 21:35:12",
            offset="+03:00",
            gps=((r(53), r(54), r(1227, 100)), (r(27), r(33), r(2, 1))),
        )
    )


def jpeg_with_huge_dimensions() -> bytes:
    """A JPEG whose frame header claims 65,535 x 65,535 pixels (a decompression bomb if decoded)."""
    data = bytearray(jpeg())
    sof = data.find(b"\xff\xc0")
    data[sof + 5 : sof + 9] = struct.pack(">HH", 0xFFFF, 0xFFFF)
    return bytes(data)


def jpeg_of_many_segments(segments: int = 4000) -> bytes:
    """SOI, then thousands of 64 KB comment segments (about `segments` x 64 KB), then nothing."""
    body = b"\xff\xfe" + struct.pack(">H", 0xFFFF) + b"x" * 0xFFFD
    return b"\xff\xd8" + body * segments


def tiff_with_an_ifd_loop() -> bytes:
    """A little-endian TIFF whose first IFD points to itself as the next IFD."""
    entries = [(256, 3, 1, 1), (257, 3, 1, 1), (0x8769, 4, 1, 8)]  # width, height, EXIF IFD -> itself
    ifd = struct.pack("<H", len(entries))
    for tag, kind, count, value in entries:
        ifd += struct.pack("<HHII", tag, kind, count, value)
    ifd += struct.pack("<I", 8)  # next IFD: this one again
    return b"II*\x00" + struct.pack("<I", 8) + ifd


POLYGLOT_HTML = b"<html><script>alert(document.cookie)</script></html>"


def jpeg_html_polyglot() -> bytes:
    """A JPEG whose comment segment is an HTML page with script."""
    data = jpeg()
    comment = b"\xff\xfe" + struct.pack(">H", len(POLYGLOT_HTML) + 2) + POLYGLOT_HTML
    return data[:2] + comment + data[2:]


def jpeg_zip_polyglot() -> bytes:
    """A JPEG with a zip appended: valid as both."""
    return jpeg() + zip_with_lying_sizes()
