"""Hostile files as evidence, through the public form and through `EvidenceService.add` (what
`svidok evidence add` calls): zip bombs are stored, never expanded; polyglots and liars get the type
their bytes say; hostile names become safe names; empty files are kept as what they are; oversized
files get a clear message; metadata extraction is bounded and total; the original bytes are kept
exactly."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import text

from svidok.evidence.blobs import FileBlobStore
from svidok.evidence.metadata import Claim, exif_claims
from svidok.evidence.stream import decrypt_stream
from svidok.services.evidence import EvidenceService
from svidok.services.keys import Protection
from svidok.web.config import WebSettings
from svidok.web.uploads import MAX_NAME_BYTES, MAX_NAME_CHARS, safe_name
from tests.hostile import files
from tests.hostile.bounds import MIB, bounded
from tests.hostile.conftest import HOSTILE

MAX_FILE = 2 * MIB


@pytest.fixture
def web_settings() -> WebSettings:
    return WebSettings(max_file_bytes=MAX_FILE, max_files=5)


@pytest.fixture
def service(protection: Protection) -> EvidenceService:
    return EvidenceService(
        protection, FileBlobStore(protection.keyring.data_dir / "blobs"), chunk_size=64 * 1024
    )


def _original(p: Protection, sha256: str) -> bytes:
    with FileBlobStore(p.keyring.data_dir / "blobs").open(sha256) as fh:
        return b"".join(decrypt_stream(fh, p.keyring.data_key))


def _evidence(p: Protection) -> list[dict[str, object]]:
    with p.store.read() as conn:
        return [dict(r) for r in conn.execute(text("SELECT * FROM evidence ORDER BY received_at")).mappings()]


def _submit(c: TestClient, *uploads: tuple[str, bytes, str]) -> httpx.Response:
    response: httpx.Response = c.post(
        "/submit",
        data={"lang": "en", "what_happened": "files attached"},
        files=[("files", upload) for upload in uploads],
    )
    return response


def _assert_safe(name: str) -> None:
    assert name and len(name) <= MAX_NAME_CHARS and len(name.encode()) <= MAX_NAME_BYTES
    assert not set(name) & set('/\\:*?"<>|'), name
    assert all(unicodedata.category(c) not in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp") for c in name), repr(
        name
    )
    assert name not in (".", "..") and not name.startswith((".", " ")) and not name.endswith((".", " "))
    assert not re.fullmatch(r"(con|prn|aux|nul|com\d|lpt\d)(\..*)?", name, re.I), name


# -- what is stored and with which type ------------------------------------------------------------

CASES: dict[str, tuple[str, bytes, str, str]] = {
    # label: (name sent, bytes, type the browser claims, type the register must record)
    "zip bomb (256 MiB of zeros)": ("photos.zip", files.zip_bomb(), "application/zip", "application/zip"),
    "zip with lying sizes and a traversal entry": ("a.zip", files.zip_with_lying_sizes(), "image/jpeg", "application/zip"),
    "zip of 20,000 entries": ("many.zip", files.zip_of_many_entries(), "application/zip", "application/zip"),
    "JPEG + ZIP polyglot": ("both.jpg", files.jpeg_zip_polyglot(), "application/zip", "image/jpeg"),
    "JPEG + HTML polyglot": ("page.html", files.jpeg_html_polyglot(), "text/html", "image/jpeg"),
    "HTML named .jpg": ("photo.jpg", files.POLYGLOT_HTML, "image/jpeg", "text/plain"),
    "SVG with script named .png": ("x.png", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "image/png", "text/plain"),
    "empty file": ("empty.jpg", b"", "image/jpeg", "text/plain"),
    "JPEG claiming 65535x65535": ("bomb.jpg", files.jpeg_with_huge_dimensions(), "image/jpeg", "image/jpeg"),
}  # fmt: skip
REFUSED: dict[str, tuple[str, bytes, str]] = {
    "Windows executable named .jpg": ("photo.jpg", b"MZ\x90\x00" + bytes(200), "image/jpeg"),
    "ELF named .txt": ("notes.txt", b"\x7fELF\x02\x01\x01" + bytes(200), "text/plain"),
    "NUL bytes named .txt": ("a.txt", bytes(100), "text/plain"),
    "TIFF named .pdf (TIFF is not accepted)": ("loop.pdf", files.tiff_with_an_ifd_loop(), "application/pdf"),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(CASES))
def test_hostile_files_are_kept_exactly_typed_by_their_bytes_and_never_expanded(
    client: TestClient,
    protection: Protection,
    case: str,
) -> None:
    name, content, claimed, expected = CASES[case]
    with bounded(seconds=30, rss_bytes=48 * MIB, label=f"web upload: {case}"):
        response = _submit(client, (name, content, claimed))
    assert response.status_code == 201, response.text[:300]
    (row,) = _evidence(protection)
    assert row["media_type"] == expected
    assert row["size_bytes"] == len(content) and row["sha256"] == hashlib.sha256(content).hexdigest()
    assert _original(protection, str(row["sha256"])) == content
    _assert_safe(str(row["original_name"]))
    # nothing was unpacked into the data directory
    data_files = [p for p in protection.keyring.data_dir.rglob("*") if p.is_file()]
    assert sum(p.stat().st_size for p in data_files) < 64 * MIB


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_files_whose_bytes_are_not_an_accepted_type_are_refused_by_name(
    client: TestClient,
    protection: Protection,
    case: str,
) -> None:
    name, content, claimed = REFUSED[case]
    response = _submit(client, (name, content, claimed))
    assert response.status_code == 422
    assert f"{name}: this type of file is not accepted" in response.text
    assert _evidence(protection) == []


def test_an_oversized_file_gets_a_clear_message_and_nothing_is_stored(
    client: TestClient,
    protection: Protection,
) -> None:
    content = files.jpeg() + bytes(MAX_FILE)
    with bounded(seconds=30, rss_bytes=48 * MIB, label="web upload: 2 MiB + 1 file over the limit"):
        response = _submit(client, ("big.jpg", content, "image/jpeg"))
    assert response.status_code == 422 and "big.jpg: the file is larger than 2 MB." in response.text
    assert _evidence(protection) == []
    assert not [p for p in (protection.keyring.data_dir / "blobs").rglob("*") if p.is_file()]


def test_a_request_above_the_body_limit_is_refused_before_parsing(protection: Protection) -> None:
    from svidok.settings import Settings
    from svidok.web import create_app
    from tests.web.conftest import BASE_URL, FAST

    small = WebSettings(max_file_bytes=MIB, max_request_bytes=2 * MIB)
    app = create_app(
        Settings(data_dir=protection.keyring.data_dir), protection=protection, web=small, passwords=FAST
    )
    with TestClient(app, base_url=BASE_URL, raise_server_exceptions=False) as c:
        response = _submit(c, ("huge.jpg", files.jpeg() + bytes(3 * MIB), "image/jpeg"))
    assert response.status_code == 413


# -- names ---------------------------------------------------------------------------------------

NAMES = [
    "../../etc/passwd", "/etc/shadow", "..\\..\\windows\\win.ini", "C:\\boot.ini", "\\\\server\\share\\x.jpg",
    "photo\u202egpj.exe", "\u202e", "a\u200bb.jpg", "CON", "nul.txt", "LPT1.jpg", "com1", "aux.tar.gz",
    ".", "..", "...", " . ", ".htaccess", "x" * 10_000, "я" * 10_000 + ".jpg", "😀" * 3_000 + ".png",
    "a:b*c?d<e>f|g\".jpg", "line\nbreak.jpg", "tab\there.jpg", "\x7f\x80\x9f.jpg", "\ufeffbom.jpg",
    "x." + "e" * 200, "%2e%2e%2fetc%2fpasswd", "\udc80\udcff.jpg",
]  # fmt: skip


@HOSTILE
@given(
    name=st.one_of(
        st.sampled_from(NAMES), st.text(alphabet=st.characters(exclude_categories=()), max_size=300)
    )
)
def test_safe_name_is_always_safe(name: str) -> None:
    _assert_safe(safe_name(name))
    assert safe_name(safe_name(name)) == safe_name(name)


@pytest.mark.parametrize("name", [n for n in NAMES if "\n" not in n and "\udc80" not in n])
def test_hostile_names_through_the_form_are_stored_safe(
    client: TestClient,
    protection: Protection,
    name: str,
) -> None:
    response = _submit(client, (name, files.jpeg(), "image/jpeg"))
    # a header of tens of KB (the 10,000-character names) is refused by the multipart parser
    assert response.status_code == 201 or (response.status_code == 400 and len(name.encode()) > 8000)
    for row in _evidence(protection):
        _assert_safe(str(row["original_name"]))
    assert not list((protection.keyring.data_dir / "blobs" / ".uploads").rglob("*"))


def test_control_characters_in_a_raw_multipart_name(client: TestClient, protection: Protection) -> None:
    """Names the HTTP client would escape, sent raw: NUL, CR LF, a quote, bytes that are not UTF-8."""
    for raw_name in (b"a\x00b.jpg", b"../\r\nX-Injected: 1\r\n.jpg", b'a"b.jpg', b"\xff\xfe.jpg"):
        boundary = b"----hostile"
        body = (
            b"--" + boundary + b'\r\nContent-Disposition: form-data; name="what_happened"\r\n\r\nx\r\n'
            b"--"
            + boundary
            + b'\r\nContent-Disposition: form-data; name="files"; filename="'
            + raw_name
            + b'"\r\n'
            b"Content-Type: image/jpeg\r\n\r\n" + files.jpeg() + b"\r\n--" + boundary + b"--\r\n"
        )
        response = client.post(
            "/submit", content=body, headers={"content-type": "multipart/form-data; boundary=----hostile"}
        )
        assert response.status_code in (201, 400, 422), (raw_name, response.status_code)
    for row in _evidence(protection):
        _assert_safe(str(row["original_name"]))


# -- metadata --------------------------------------------------------------------------------------


def test_sane_exif_still_becomes_claims(tmp_path: Path) -> None:
    path = tmp_path / "ok.jpg"
    path.write_bytes(files.sane_exif_jpeg())
    claims = {c.field: c.value for c in exif_claims(path)}
    assert claims["captured_at"] == "2020-08-10T21:35:12+03:00"
    assert claims["lat"] == "53.903408" and claims["lon"] == "27.550556"
    assert claims["device"] == "Fictional Phone 1"


def _hostile_exif() -> Iterator[tuple[str, bytes]]:
    from PIL import TiffImagePlugin

    r = TiffImagePlugin.IFDRational
    yield "GPS 0/0", files.jpeg(files.exif_with(gps=((r(0, 0), r(0), r(0)), (r(1, 0), r(0), r(0)))))
    yield "GPS off the globe", files.jpeg(files.exif_with(gps=((r(400), r(0), r(0)), (r(10**9), r(0), r(0)))))
    yield "GPS wrong shape", files.jpeg(files.exif_with(gps=(r(1), r(2))))
    yield (
        "time before year 1 in UTC",
        files.jpeg(files.exif_with(taken="0001:01:01 00:00:00", offset="+14:00")),
    )
    yield "time after 9999 in UTC", files.jpeg(files.exif_with(taken="9999:12:31 23:59:59", offset="-12:00"))
    yield "offset nonsense", files.jpeg(files.exif_with(taken="2020:08:10 21:35:12", offset="+99:99"))
    yield "time nonsense", files.jpeg(files.exif_with(taken="\x00\x00\u202e", offset="+03:00:00"))
    yield (
        "device with NUL, escape and bidi",
        files.jpeg(files.exif_with(make="A\x00B\x1b[31m\u202eC", model="x" * 5000)),
    )
    yield "huge dimensions", files.jpeg_with_huge_dimensions()
    yield "IFD loop", files.tiff_with_an_ifd_loop()
    yield "JPEG + ZIP", files.jpeg_zip_polyglot()
    yield "truncated", files.sane_exif_jpeg()[:300]


def _check_claims(claims: list[Claim]) -> None:
    from datetime import UTC, datetime

    for claim in claims:
        field, value = claim.field, claim.value
        assert "\x00" not in value and all(unicodedata.category(c)[0] != "C" for c in value), repr(value)
        if field == "captured_at":
            datetime.fromisoformat(value).astimezone(UTC)
        elif field in ("lat", "lon"):
            limit = 90 if field == "lat" else 180
            assert -limit <= float(value) <= limit
        else:
            assert field == "device" and len(value) <= 200


@pytest.mark.parametrize("case", [label for label, _ in _hostile_exif()])
def test_hostile_exif_gives_sane_claims_or_none_and_intake_succeeds(
    service: EvidenceService,
    protection: Protection,
    tmp_path: Path,
    case: str,
) -> None:
    content = dict(_hostile_exif())[case]
    path = tmp_path / "x.jpg"
    path.write_bytes(content)
    with bounded(seconds=10, rss_bytes=48 * MIB):
        claims = exif_claims(path)
        evidence_id = service.add(path, "cli:tester")
    _check_claims(claims)
    (row,) = _evidence(protection)
    assert row["id"] == evidence_id and _original(protection, str(row["sha256"])) == content


@st.composite
def mutated_images(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from([files.sane_exif_jpeg(), files.tiff_with_an_ifd_loop()])))
    for _ in range(draw(st.integers(1, 12))):
        how = draw(st.sampled_from(["flip", "insert", "cut", "splice"]))
        at = draw(st.integers(0, max(0, len(data) - 1)))
        if how == "flip" and data:
            data[at] = draw(st.integers(0, 255))
        elif how == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=16))
        elif how == "cut":
            del data[at : at + draw(st.integers(1, 64))]
        else:
            data[at : at + 4] = draw(
                st.sampled_from([b"\xff\xff\xff\xff", b"\x00\x00\x00\x00", b"\x7f\xff\xff\xff"])
            )
    return bytes(data)


@HOSTILE
@given(content=mutated_images())
def test_metadata_of_mutated_images_is_total_and_bounded(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "m.jpg"
    path.write_bytes(content)
    with bounded(seconds=5, rss_bytes=64 * MIB):
        claims = exif_claims(path)
    _check_claims(claims)


def test_metadata_reads_a_bounded_prefix_of_a_file_of_many_segments(tmp_path: Path) -> None:
    path = tmp_path / "segments.jpg"
    path.write_bytes(files.jpeg_of_many_segments(4000))  # 256 MB of 64 KB comment segments
    with bounded(seconds=20, rss_bytes=48 * MIB, label="metadata: 256 MB JPEG of 64 KB segments"):
        assert exif_claims(path) == []


def test_evidence_add_stores_a_zip_bomb_without_expanding_it(
    service: EvidenceService,
    protection: Protection,
    tmp_path: Path,
) -> None:
    path = tmp_path / "bomb.zip"
    path.write_bytes(files.zip_bomb())
    with bounded(seconds=30, rss_bytes=32 * MIB, label="evidence add: zip bomb (expands to 256 MiB)"):
        service.add(path, "cli:tester")
    (row,) = _evidence(protection)
    assert (
        row["size_bytes"] == path.stat().st_size
        and _original(protection, str(row["sha256"])) == path.read_bytes()
    )


def test_evidence_add_of_a_large_file_streams(
    service: EvidenceService, protection: Protection, tmp_path: Path
) -> None:
    path = tmp_path / "big.jpg"
    with path.open("wb") as out:
        out.write(files.jpeg_of_many_segments(3200))  # 200 MB
    with bounded(seconds=120, rss_bytes=48 * MIB, label="evidence add: 200 MB file"):
        service.add(path, "cli:tester")
    (row,) = _evidence(protection)
    assert row["size_bytes"] == path.stat().st_size


@pytest.mark.parametrize(
    "raw_name",
    [
        b"\xff\xfe.jpg",
        "photo\u202egpj.exe".encode(),
        b"a\x01\x1b[31m.jpg",
        "я".encode() * 120 + b".jpg",
        b"CON",
    ],
)
def test_evidence_add_keeps_a_safe_name_whatever_the_file_system_gave(
    service: EvidenceService, protection: Protection, tmp_path: Path, raw_name: bytes
) -> None:
    """`svidok evidence add` of a file named with bytes that are not UTF-8 crashed after the blob
    was stored (UnicodeEncodeError on insert); bidi overrides and escapes were kept."""
    import os

    path = Path(os.fsdecode(tmp_path)) / os.fsdecode(raw_name)
    path.write_bytes(files.jpeg())
    service.add(path, "cli:tester")
    (row,) = _evidence(protection)
    _assert_safe(str(row["original_name"]))
