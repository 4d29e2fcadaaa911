"""Encrypted, chunked blob format with hashing in the same pass (EV-01, ENC-03).

Threat: a stolen disk or bucket exposing the originals (videos of torture,
photos of faces), and someone editing, truncating or splicing a stored file so
that what reaches court differs from what was received.

Design (age's STREAM construction, with AES-256-GCM for hardware speed):
every blob gets a fresh random 256-bit file key, wrapped under the register's
`blob` data key. The plaintext is cut into chunks of `chunk_size` bytes (1 MiB
by default); chunk i is sealed with nonce = i as 11 big-endian bytes ‖ last
flag (0x01 on the final chunk, else 0x00) and the header as AAD. Reordering,
dropping, duplicating chunks, cutting the file at a chunk boundary or flipping a
bit all fail authentication; an empty file is one empty final chunk. SHA-256
(the court-familiar digest) and BLAKE3 (fast dedup key) of the *original* bytes
are computed while reading, before anything else sees the file. Memory is a
few chunks whatever the file size.

Format::

    "SVDKBLB1" | chunk_size u32 BE | key-id length u8 | key id (ASCII)
    | wrapped file key: nonce(12) ‖ AES-GCM(blob key, file key, AAD "svidok-blob/1" ‖ key id)
    then per chunk: AES-GCM(file key, nonce_i, chunk, AAD = header) = chunk ‖ tag(16)

Trade-off: the file key is random per blob, so identical originals encrypt
differently; deduplication is by the plaintext SHA-256 (the blob's name), which
reveals equality of two stored files to whoever can list the store.
"""

from __future__ import annotations

import hashlib
import os
import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import BinaryIO

import blake3
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from svidok.crypto.errors import EvidenceCorrupt

__all__ = ["DEFAULT_CHUNK", "Digests", "SyncedWriter", "decrypt_stream", "encrypt_stream"]

MAGIC = b"SVDKBLB1"
DEFAULT_CHUNK = 1 << 20
TAG = 16
_MIN_CHUNK, _MAX_CHUNK = 1 << 12, 1 << 24


@dataclass(frozen=True)
class Digests:
    sha256: str
    blake3: str | None
    size: int


def _nonce(counter: int, last: bool) -> bytes:
    return counter.to_bytes(11, "big") + (b"\x01" if last else b"\x00")


def _wrap_aad(key_id: str) -> bytes:
    return b"svidok-blob/1\x00" + key_id.encode()


def encrypt_stream(
    src: BinaryIO, dst: BinaryIO, blob_key: bytes, key_id: str, chunk_size: int = DEFAULT_CHUNK
) -> Digests:
    """Read `src` once: hash it (SHA-256, BLAKE3) and write its encryption to `dst`."""
    if not _MIN_CHUNK <= chunk_size <= _MAX_CHUNK:
        raise ValueError("chunk size must be between 4 KiB and 16 MiB")
    file_key = AESGCM.generate_key(256)
    nonce = os.urandom(12)
    wrapped = nonce + AESGCM(blob_key).encrypt(nonce, file_key, _wrap_aad(key_id))
    kid = key_id.encode()
    header = MAGIC + struct.pack(">IB", chunk_size, len(kid)) + kid + wrapped
    dst.write(header)
    aead = AESGCM(file_key)
    sha = hashlib.sha256()
    b3 = blake3.blake3()
    size = 0
    counter = 0
    current = src.read(chunk_size)
    while True:
        following = src.read(chunk_size) if len(current) == chunk_size else b""
        last = not following
        sha.update(current)
        b3.update(current)
        size += len(current)
        dst.write(aead.encrypt(_nonce(counter, last), current, header))
        if last:
            break
        counter += 1
        current = following
    return Digests(sha.hexdigest(), b3.hexdigest(), size)


def read_header(src: BinaryIO) -> tuple[bytes, int, str, bytes]:
    """(header bytes, chunk size, key id, wrapped file key) of an encrypted blob."""
    fixed = src.read(len(MAGIC) + 5)
    if len(fixed) < len(MAGIC) + 5 or not fixed.startswith(MAGIC):
        raise EvidenceCorrupt("not a Svidok encrypted blob (bad header)")
    chunk_size, kid_len = struct.unpack(">IB", fixed[len(MAGIC) :])
    rest = src.read(kid_len + 60)
    if len(rest) < kid_len + 60 or not _MIN_CHUNK <= chunk_size <= _MAX_CHUNK:
        raise EvidenceCorrupt("encrypted blob header is damaged")
    return fixed + rest, chunk_size, rest[:kid_len].decode("ascii", "replace"), rest[kid_len:]


def decrypt_stream(src: BinaryIO, key_lookup: Callable[[str], bytes]) -> Iterator[bytes]:
    """Yield the original bytes chunk by chunk; `EvidenceCorrupt` on any damage."""
    header, chunk_size, key_id, wrapped = read_header(src)
    try:
        file_key = AESGCM(key_lookup(key_id)).decrypt(wrapped[:12], wrapped[12:], _wrap_aad(key_id))
    except InvalidTag as exc:
        raise EvidenceCorrupt("the blob's file key does not open (damaged header)") from exc
    aead = AESGCM(file_key)
    counter = 0
    sealed = src.read(chunk_size + TAG)
    while True:
        if len(sealed) < TAG:
            raise EvidenceCorrupt(f"blob truncated at chunk {counter}")
        following = src.read(chunk_size + TAG) if len(sealed) == chunk_size + TAG else b""
        last = not following
        try:
            plain = aead.decrypt(_nonce(counter, last), sealed, header)
        except InvalidTag:
            if last:
                raise EvidenceCorrupt(
                    f"chunk {counter} fails authentication (truncated, reordered or altered)"
                ) from None
            raise EvidenceCorrupt(f"chunk {counter} fails authentication (altered or reordered)") from None
        yield plain
        if last:
            return
        counter += 1
        sealed = following


class SyncedWriter:
    """A write-only file that writes and flushes to disk on a thread of its own.

    `encrypt_stream` hashes and encrypts on the calling thread while this one writes
    the previous chunks and, every `sync_every` bytes, `fdatasync`s them, so the disk
    works while the CPU does: a blob costs about max(CPU, disk) instead of their sum,
    and the final `fsync` in `close` has little left to write. The queue holds at
    most `depth` chunks (memory stays a few chunks). An error on the thread is raised
    by the next `write` or by `close`.
    """

    def __init__(self, fd: int, *, depth: int = 4, sync_every: int = 32 << 20) -> None:
        import queue
        import threading

        self._fd = fd
        self._queue: queue.Queue[bytes | None] = queue.Queue(maxsize=depth)
        self._sync_every = sync_every
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="svidok-blob-writer", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        unsynced = 0
        while (data := self._queue.get()) is not None:
            if self._error is not None:
                continue  # drain, so the producer never blocks on a dead writer
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(self._fd, view) :]
                unsynced += len(data)
                if unsynced >= self._sync_every:
                    os.fdatasync(self._fd)
                    unsynced = 0
            except BaseException as exc:  # noqa: BLE001 - handed to the producer
                self._error = exc

    def write(self, data: bytes) -> int:
        if self._error is not None:
            raise self._error
        self._queue.put(bytes(data))
        return len(data)

    def close(self) -> None:
        """Write what is queued, fsync the file, close it; raise the writer's error if any."""
        self._queue.put(None)
        self._thread.join()
        try:
            if self._error is None:
                os.fsync(self._fd)
        finally:
            os.close(self._fd)
        if self._error is not None:
            raise self._error
