"""The encrypted blob format: one pass, right digests, constant memory, and no silent damage."""

from __future__ import annotations

import hashlib
import io
import random
import tracemalloc

import blake3
import pytest

from svidok.crypto.errors import EvidenceCorrupt
from svidok.evidence.stream import decrypt_stream, encrypt_stream

KEY = bytes(range(32))
CHUNK = 4096


def lookup(_key_id: str) -> bytes:
    return KEY


def seal(data: bytes, chunk: int = CHUNK) -> bytes:
    out = io.BytesIO()
    digests = encrypt_stream(io.BytesIO(data), out, KEY, "blob", chunk)
    assert digests.sha256 == hashlib.sha256(data).hexdigest()
    assert digests.blake3 == blake3.blake3(data).hexdigest()
    assert digests.size == len(data)
    return out.getvalue()


def unseal(blob: bytes) -> bytes:
    return b"".join(decrypt_stream(io.BytesIO(blob), lookup))


@pytest.mark.parametrize("size", [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK, 3 * CHUNK + 17])
def test_round_trip_at_every_boundary(size: int) -> None:
    data = random.Random(size).randbytes(size)
    blob = seal(data)
    if size >= 16:  # a shorter plaintext may occur in random ciphertext by chance
        assert data[:64] not in blob
    assert unseal(blob) == data


def _chunks(blob: bytes) -> tuple[bytes, list[bytes]]:
    header_len = 8 + 5 + blob[12] + 60
    body = blob[header_len:]
    step = CHUNK + 16
    return blob[:header_len], [body[i : i + step] for i in range(0, len(body), step)]


def test_truncation_reordering_and_bit_flips_fail() -> None:
    data = random.Random(1).randbytes(4 * CHUNK + 100)
    blob = seal(data)
    header, chunks = _chunks(blob)
    damaged = {
        "drop last chunk": header + b"".join(chunks[:-1]),
        "cut at a chunk boundary": header + b"".join(chunks[:2]),
        "cut inside a chunk": blob[:-50],
        "swap two chunks": header + chunks[1] + chunks[0] + b"".join(chunks[2:]),
        "duplicate a chunk": header + chunks[0] + b"".join(chunks),
        "extra bytes after the end": blob + b"\x00" * 20,
    }
    for position in (len(header) + 5, len(blob) // 2, len(blob) - 1, 20):
        flipped = bytearray(blob)
        flipped[position] ^= 0x04
        damaged[f"flip byte {position}"] = bytes(flipped)
    for name, bad in damaged.items():
        with pytest.raises(EvidenceCorrupt):
            unseal(bad)
        assert name


class _Seeded(io.RawIOBase):
    """A large reproducible file produced on the fly (no memory for the whole of it)."""

    def __init__(self, size: int, seed: int) -> None:
        self.left = size
        self.rng = random.Random(seed)

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        n = self.left if n < 0 else min(n, self.left)
        self.left -= n
        return self.rng.randbytes(n)


class _Sink(io.RawIOBase):
    def writable(self) -> bool:
        return True

    def write(self, b) -> int:  # type: ignore[no-untyped-def]
        return len(b)


def test_streaming_memory_stays_flat_and_digest_is_independent() -> None:
    size = 96 * 1024 * 1024
    expected = hashlib.sha256()
    src = _Seeded(size, 42)
    while chunk := src.read(1 << 20):
        expected.update(chunk)
    tracemalloc.start()
    digests = encrypt_stream(_Seeded(size, 42), _Sink(), KEY, "blob", 1 << 20)  # type: ignore[arg-type]
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert digests.sha256 == expected.hexdigest()
    assert peak < 16 * 1024 * 1024


def test_synced_writer_writes_every_byte_in_order_and_raises_write_errors(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import os

    from svidok.evidence.stream import SyncedWriter

    chunks = [os.urandom(n) for n in (1, 4096, 70_000, 3, 1 << 20, 50_000)]
    path = tmp_path / "out.bin"
    writer = SyncedWriter(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600), sync_every=50_000)
    for chunk in chunks:  # crosses several write-back windows
        assert writer.write(memoryview(chunk)) == len(chunk)
    writer.close()
    assert path.read_bytes() == b"".join(chunks)

    broken = SyncedWriter(os.open(path, os.O_RDONLY))  # writes fail with EBADF
    with pytest.raises(OSError):
        broken.write(b"x" * 1000)
    broken.close()


def _reference_open(blob: bytes, key: bytes) -> list[tuple[bool, bytes]]:
    """Decode a blob from the format in the module docstring alone: (last flag, plaintext) per chunk."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    chunk_size, kid_len = int.from_bytes(blob[8:12], "big"), blob[12]
    kid = blob[13 : 13 + kid_len]
    header_len = 13 + kid_len + 60
    wrapped = blob[13 + kid_len : header_len]
    file_key = AESGCM(key).decrypt(wrapped[:12], wrapped[12:], b"svidok-blob/1\x00" + kid)
    body, header, out = blob[header_len:], blob[:header_len], []
    step = chunk_size + 16
    pieces = [body[i : i + step] for i in range(0, len(body), step)] or [b""]
    for i, sealed in enumerate(pieces):
        last = i == len(pieces) - 1
        nonce = i.to_bytes(11, "big") + (b"\x01" if last else b"\x00")
        out.append((last, AESGCM(file_key).decrypt(nonce, sealed, header)))
    return out


@pytest.mark.parametrize("chunks_in_file", [0, 1, 2, 3, 4, 6, 7])
@pytest.mark.parametrize("extra", [0, 1, CHUNK - 1])
def test_frames_do_not_show_in_the_format(monkeypatch, chunks_in_file: int, extra: int) -> None:  # type: ignore[no-untyped-def]
    """Intake reads several chunks per frame; the blob must still be chunk after chunk, one last flag."""
    from svidok.evidence import stream

    monkeypatch.setattr(stream, "FRAME", 3 * CHUNK)
    data = random.Random(chunks_in_file * 7 + extra).randbytes(chunks_in_file * CHUNK + extra)
    decoded = _reference_open(seal(data), KEY)
    assert b"".join(plain for _, plain in decoded) == data
    assert [last for last, _ in decoded] == [False] * (len(decoded) - 1) + [True]
    assert len(decoded) == max(1, -(-len(data) // CHUNK))
    assert all(len(plain) == CHUNK for _, plain in decoded[:-1])


class _Trickle(io.RawIOBase):
    """A network-like reader: `read` only, a few hundred bytes at a time."""

    def __init__(self, data: bytes) -> None:
        self.data, self.at = data, 0

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        piece = self.data[self.at : self.at + min(n, 700)]
        self.at += len(piece)
        return piece

    def readinto(self, b) -> int:  # type: ignore[no-untyped-def]
        raise NotImplementedError


class _Stingy(io.RawIOBase):
    """A raw writer that takes at most 1,000 bytes per call, as `os.write` may."""

    def __init__(self) -> None:
        self.out = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, b) -> int:  # type: ignore[no-untyped-def]
        taken = bytes(b[:1000])
        self.out += taken
        return len(taken)


def test_short_reads_and_partial_writes_lose_nothing() -> None:
    data = random.Random(5).randbytes(5 * CHUNK + 123)
    sink = _Stingy()
    digests = encrypt_stream(_Trickle(data), sink, KEY, "blob", CHUNK)  # type: ignore[arg-type]
    assert digests.sha256 == hashlib.sha256(data).hexdigest() and digests.size == len(data)
    assert unseal(bytes(sink.out)) == data


def test_head_keeps_the_first_bytes_of_the_same_pass(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from svidok.evidence import stream

    monkeypatch.setattr(stream, "FRAME", 2 * CHUNK)
    data = random.Random(6).randbytes(9 * CHUNK + 3)
    for limit in (1, CHUNK + 5, 5 * CHUNK, len(data) + 100):
        head = stream.Head(limit)
        encrypt_stream(io.BytesIO(data), io.BytesIO(), KEY, "blob", CHUNK, head=head)
        assert bytes(head.data) == data[:limit]


def test_intake_through_the_synced_writer_round_trips_and_fails_loudly(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import os
    import threading

    from svidok.evidence import stream

    monkeypatch.setattr(stream, "FRAME", 2 * CHUNK)
    data = random.Random(7).randbytes(40 * CHUNK + 9)
    path = tmp_path / "blob"
    writer = stream.SyncedWriter(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600), sync_every=3 * CHUNK)
    try:
        digests = encrypt_stream(io.BytesIO(data), writer, KEY, "blob", CHUNK)
    finally:
        writer.close()
    assert digests.sha256 == hashlib.sha256(data).hexdigest()
    assert unseal(path.read_bytes()) == data

    threads = threading.active_count()
    fd = os.open(path, os.O_RDONLY)
    with pytest.raises(OSError):  # every write fails with EBADF
        encrypt_stream(io.BytesIO(data), stream.SyncedWriter(fd), KEY, "blob", CHUNK)
    os.close(fd)
    assert threading.active_count() == threads  # no hashing thread left behind


def test_the_metadata_prefilter_accepts_what_pillow_would_parse() -> None:
    from PIL import JpegImagePlugin, TiffImagePlugin

    from svidok.evidence.metadata import might_have_exif

    for prefix in [b"\xff\xd8\xff\xe1", *TiffImagePlugin.PREFIXES]:
        assert might_have_exif(prefix + b"\x00" * 12)
        assert JpegImagePlugin._accept(prefix) or TiffImagePlugin._accept(prefix)
    for other in (b"\x00\x00\x00\x18ftypmp42", b"%PDF-1.7", b"\x89PNG\r\n\x1a\n", b"RIFF\x00\x00WAVE"):
        assert not might_have_exif(other)
        assert not JpegImagePlugin._accept(other) and not TiffImagePlugin._accept(other)


def test_head_is_kept_only_for_files_metadata_can_come_from() -> None:
    from svidok.evidence.metadata import might_have_exif
    from svidok.evidence.stream import Head

    jpeg = b"\xff\xd8\xff\xe1" + random.Random(8).randbytes(3 * CHUNK)
    video = b"\x00\x00\x00\x18ftypmp42" + random.Random(9).randbytes(3 * CHUNK)
    for data, kept in ((jpeg, jpeg[:5000]), (video, b"")):
        head = Head(5000, wanted=might_have_exif)
        encrypt_stream(io.BytesIO(data), io.BytesIO(), KEY, "blob", CHUNK, head=head)
        assert bytes(head.data) == kept


def test_a_failing_hash_thread_fails_the_intake_and_leaves_no_thread(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import threading

    from svidok.evidence import stream

    class _Broken:
        def __init__(self) -> None:
            self.calls = 0

        def update(self, _data: memoryview) -> None:
            self.calls += 1
            if self.calls == 2:
                raise MemoryError("fictional failure on the hashing thread")

        def hexdigest(self) -> str:
            return "0" * 64

    monkeypatch.setattr(stream, "FRAME", 2 * CHUNK)
    monkeypatch.setattr(stream.blake3, "blake3", _Broken)
    threads = threading.active_count()
    with pytest.raises(MemoryError):
        encrypt_stream(io.BytesIO(bytes(40 * CHUNK)), io.BytesIO(), KEY, "blob", CHUNK)
    assert threading.active_count() == threads
