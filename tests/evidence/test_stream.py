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


def test_synced_writer_writes_every_byte_in_order_and_raises_the_threads_error(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import os

    import pytest

    from svidok.evidence.stream import SyncedWriter

    chunks = [os.urandom(n) for n in (1, 4096, 70_000, 3, 1 << 20)]
    path = tmp_path / "out.bin"
    writer = SyncedWriter(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600), depth=2, sync_every=50_000)
    for chunk in chunks:
        assert writer.write(chunk) == len(chunk)
    writer.close()
    assert path.read_bytes() == b"".join(chunks)

    broken = SyncedWriter(os.open(path, os.O_RDONLY))  # writes fail with EBADF on the thread
    with pytest.raises(OSError):
        for _ in range(20):
            broken.write(b"x" * 1000)
        broken.close()
