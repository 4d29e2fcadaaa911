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
few frames whatever the file size.

Format::

    "SVDKBLB1" | chunk_size u32 BE | key-id length u8 | key id (ASCII)
    | wrapped file key: nonce(12) ‖ AES-GCM(blob key, file key, AAD "svidok-blob/1" ‖ key id)
    then per chunk: AES-GCM(file key, nonce_i, chunk, AAD = header) = chunk ‖ tag(16)

Speed: SHA-256 is six times slower than AES-GCM here and is the critical path.
It runs on a thread of its own and BLAKE3 on another (hashlib, blake3 and
AES-GCM all release the GIL on large buffers), while the calling thread reads
the next frame, encrypts and writes. Frames (1 MiB: one chunk) are read with
`readinto` into a ring of eight reused buffers, so the hashing threads always
have work queued, and sealed with `encrypt_into` into one reused output
buffer: nothing is allocated per chunk and memory stays flat. With a free core
per thread a blob should cost about what its busiest thread does (SHA-256: 0.6 ms
of CPU per MiB here, against 0.7 for SHA-256 + AES-GCM on one thread); on a busy
machine the threads share the process's slice and the total work counts, about
1.3 ms per MiB with BLAKE3 and the write (`bench/results/evidence.md`).

Trade-off: the file key is random per blob, so identical originals encrypt
differently; deduplication is by the plaintext SHA-256 (the blob's name), which
reveals equality of two stored files to whoever can list the store.
"""

from __future__ import annotations

import hashlib
import os
import queue
import struct
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import BinaryIO, Protocol

import blake3
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from svidok.crypto.errors import EvidenceCorrupt

__all__ = ["DEFAULT_CHUNK", "Digests", "Head", "SyncedWriter", "decrypt_stream", "encrypt_stream"]

MAGIC = b"SVDKBLB1"
DEFAULT_CHUNK = 1 << 20
TAG = 16
_MIN_CHUNK, _MAX_CHUNK = 1 << 12, 1 << 24
FRAME = 1 << 20  # bytes read, hashed and written per step (whole chunks; one chunk if larger)
_RING = 8 << 20  # input frames in flight, in bytes: in SHA-256, in BLAKE3, being encrypted, read ahead
_HASH_THREAD = True


@dataclass(frozen=True)
class Digests:
    sha256: str
    blake3: str | None
    size: int


@dataclass
class Head:
    """The first `limit` bytes of the original, kept during the one pass (for metadata).

    Metadata is then read from the very bytes that were hashed, not from a second
    read of a file that may have changed in between. `wanted` looks at the first
    16 bytes: a file it refuses keeps nothing (no copy of a video's first megabytes).
    """

    limit: int
    wanted: Callable[[bytes], bool] | None = None
    data: bytearray = field(default_factory=bytearray)

    def keep(self, view: memoryview) -> None:
        if not self.data and self.wanted is not None and not self.wanted(bytes(view[:16])):
            self.limit = 0
        if len(self.data) < self.limit:
            self.data += view[: self.limit - len(self.data)]


class _Writable(Protocol):
    def write(self, data: bytes | memoryview, /) -> int | None: ...


def _nonce(counter: int, last: bool) -> bytes:
    return counter.to_bytes(11, "big") + (b"\x01" if last else b"\x00")


def _wrap_aad(key_id: str) -> bytes:
    return b"svidok-blob/1\x00" + key_id.encode()


def _fill(src: BinaryIO, buf: bytearray) -> int:
    """Read into `buf` until it is full or the source ends; the number of bytes read."""
    view = memoryview(buf)
    got = 0
    while got < len(buf):
        try:
            n = src.readinto(view[got:])  # type: ignore[attr-defined]
        except (AttributeError, NotImplementedError):  # a reader with `read` only: one copy
            piece = src.read(len(buf) - got)
            n = len(piece)
            view[got : got + n] = piece
        if not n:
            break
        got += n
    return got


def _write_all(dst: _Writable, data: memoryview) -> None:
    while data:
        n = dst.write(data)
        if n is None or n >= len(data):  # buffered writers take everything
            return
        data = data[n:]


_Frame = tuple[bytearray, int]  # a buffer and how many of its bytes are the file's


class _Hasher:
    """SHA-256 and BLAKE3 over frames, in order, each on a thread of its own.

    A frame goes to the SHA-256 thread, then to the BLAKE3 thread, then back to
    `free`: both digests advance in parallel on consecutive frames, and a frame is
    reused only when both are done with it. With `threaded=False` (a file of one
    frame: threads would cost more than they save) it hashes on the caller's thread.
    """

    def __init__(self, free: queue.Queue[bytearray], *, threaded: bool) -> None:
        self.sha = hashlib.sha256()
        self.b3 = blake3.blake3()
        self._free = free
        self._to_sha: queue.Queue[_Frame | None] = queue.Queue()
        self._to_b3: queue.Queue[_Frame | None] = queue.Queue()
        self._error: BaseException | None = None
        self._threads: list[threading.Thread] = []
        if threaded:
            stages = (
                (self._to_sha, self.sha.update, self._to_b3.put, "svidok-sha256"),
                (self._to_b3, self.b3.update, self._release, "svidok-blake3"),
            )
            for todo, update, done, name in stages:
                thread = threading.Thread(
                    target=self._stage, args=(todo, update, done), name=name, daemon=True
                )
                thread.start()
                self._threads.append(thread)

    def _release(self, frame: _Frame | None) -> None:
        if frame is not None:
            self._free.put(frame[0])

    def _stage(
        self,
        todo: queue.Queue[_Frame | None],
        update: Callable[[memoryview], object],
        done: Callable[[_Frame | None], None],
    ) -> None:
        while (frame := todo.get()) is not None:
            try:
                if self._error is None:
                    update(memoryview(frame[0])[: frame[1]])
            except BaseException as exc:  # noqa: BLE001 - raised by `finish`
                self._error = exc
            done(frame)
        done(None)

    def add(self, buf: bytearray, n: int) -> None:
        if self._error is not None:  # stop reading a file whose digests can no longer be had
            raise self._error
        if self._threads:
            self._to_sha.put((buf, n))
        else:
            view = memoryview(buf)[:n]
            self.sha.update(view)
            self.b3.update(view)
            self._free.put(buf)

    def finish(self) -> tuple[str, str]:
        """(SHA-256, BLAKE3) of everything added, once the threads have hashed it all."""
        if self._threads:
            self._to_sha.put(None)
            for thread in self._threads:
                thread.join()
        if self._error is not None:
            raise self._error
        return self.sha.hexdigest(), self.b3.hexdigest()


def _header(blob_key: bytes, key_id: str, chunk_size: int, file_key: bytes) -> bytes:
    nonce = os.urandom(12)
    wrapped = nonce + AESGCM(blob_key).encrypt(nonce, file_key, _wrap_aad(key_id))
    kid = key_id.encode()
    return MAGIC + struct.pack(">IB", chunk_size, len(kid)) + kid + wrapped


def encrypt_stream(
    src: BinaryIO,
    dst: _Writable,
    blob_key: bytes,
    key_id: str,
    chunk_size: int = DEFAULT_CHUNK,
    *,
    head: Head | None = None,
) -> Digests:
    """Read `src` once: hash it (SHA-256, BLAKE3) and write its encryption to `dst`.

    `dst.write` must be done with the buffer it is given when it returns (the buffer is
    reused for the next frame); `SyncedWriter` is the one intake uses.
    """
    if not _MIN_CHUNK <= chunk_size <= _MAX_CHUNK:
        raise ValueError("chunk size must be between 4 KiB and 16 MiB")
    file_key = AESGCM.generate_key(256)
    header = _header(blob_key, key_id, chunk_size, file_key)
    dst.write(header)
    aead = AESGCM(file_key)
    frame = max(1, FRAME // chunk_size) * chunk_size
    sealed_frame = frame + (frame // chunk_size) * TAG
    sealed = memoryview(bytearray(sealed_frame))
    free: queue.Queue[bytearray] = queue.Queue()
    for _ in range(min(8, max(3, _RING // frame))):  # 8 frames; fewer if chunks are large
        free.put(bytearray(frame))
    cur = free.get()
    n = _fill(src, cur)
    hasher = _Hasher(free, threaded=_HASH_THREAD and n == frame)
    size = counter = 0
    try:
        while True:
            hasher.add(cur, n)
            # The frame read ahead comes from `free`, which is first-in first-out: the
            # other frames were queued before `cur`, so `cur` (still being encrypted
            # below) is never handed back here while this thread is using it.
            ahead, m = None, 0
            if n == frame:
                ahead = free.get()
                m = _fill(src, ahead)
            last_frame = m == 0
            view = memoryview(cur)[:n]
            if head is not None:
                head.keep(view)
            pos = 0
            for start in range(0, max(n, 1), chunk_size):
                piece = view[start : start + chunk_size]
                last = last_frame and start + chunk_size >= n
                aead.encrypt_into(_nonce(counter, last), piece, header, sealed[pos : pos + len(piece) + TAG])
                pos += len(piece) + TAG
                counter += 1
            _write_all(dst, sealed[:pos])
            size += n
            if last_frame:
                if ahead is not None:
                    free.put(ahead)
                break
            assert ahead is not None  # nosec B101 # type narrowing: a frame was read ahead
            cur, n = ahead, m
    finally:
        sha256, b3 = hasher.finish()
    return Digests(sha256, b3, size)


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
    """A write-only file that starts write-back as it goes and is fsynced by `close`.

    Every `sync_every` bytes it asks the kernel to start writing back what it has
    (`posix_fadvise(DONTNEED)` starts write-back without waiting, and drops from the
    cache the pages of the window before, written by then: nobody reads a blob back
    soon), so the disk works while the CPU hashes and encrypts and the final `fsync`
    has little left. Writes happen on the caller's thread: a writer thread of its own
    (with `fdatasync` every 32 MiB) cost more than it saved, in GIL hand-offs on a busy
    machine and in stalls while the disk flushed.
    """

    def __init__(self, fd: int, *, sync_every: int = 16 << 20) -> None:
        self._fd = fd
        self._sync_every = sync_every
        self._written = self._window = self._previous = 0
        self._advise = getattr(os, "posix_fadvise", None)

    def write(self, data: bytes | memoryview) -> int:
        view = memoryview(data)
        while view:
            view = view[os.write(self._fd, view) :]
        self._written += len(data)
        if self._advise is not None and self._written - self._window >= self._sync_every:
            # from the previous window on: start this one's write-back, drop the older one
            try:
                self._advise(self._fd, self._previous, self._written - self._previous, os.POSIX_FADV_DONTNEED)
            except OSError:  # a hint only: `close` still fsyncs everything
                self._advise = None
            self._previous, self._window = self._window, self._written
        return len(data)

    def close(self) -> None:
        """fsync the file and close it (the descriptor is closed even if fsync fails)."""
        try:
            os.fsync(self._fd)
        finally:
            os.close(self._fd)
