"""What a backup reads from the register, and how a restore puts it back.

The snapshot of the embedded register is the SQLCipher ciphertext itself,
read inside one read transaction: a connection opens the database with its
key, tries a TRUNCATE checkpoint (so the WAL is small; skipped if the server is
busy), begins a transaction and reads one row, which pins a WAL read mark. While
that mark is held, SQLite's checkpointer may only copy frames up to it into the
main file, and the WAL cannot restart, so the main file followed by the whole
WAL file is a consistent database: on restore, WAL recovery replays every
complete commit in the copied WAL (the state at the mark, or a later complete
commit) and ignores a torn tail. The server keeps reading and writing
meanwhile. The files are read through descriptors that stay open until the
connection is closed (closing any descriptor of a file drops the process's
POSIX locks on it). Copying ciphertext rather than a re-encrypted copy (backup
API / VACUUM INTO) keeps unchanged pages byte-identical between backups — each
re-encryption draws fresh IVs — so the next backup sends only changed pages,
and no plaintext page ever exists outside SQLite's memory.

Evidence blobs are read through the blob store (`<data_dir>/blobs` or S3) after
the database, so every blob the copied database references is there (blobs are
written before the row that names them). Other files of the data directory
(e.g. the demo's ground truth) are copied as they are.

Keys (KEY-02) are not read here: the key bundle comes from the keyring's own
API (`Keyring.export_bundle`, age-encrypted to the repository key inside the
keyring; `KeyBundle.open` and `Keyring.restore` on the way back), so the
register's data keys never pass through the backup's code unencrypted.

Reading runs on a thread of its own (`ReadAhead` over `segments`): reads
release the GIL and overlap the age encryption, which does not.
"""

from __future__ import annotations

import importlib
import os
import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

from svidok.crypto.keyring import KEYRING_FILE, KEYS_FILE
from svidok.errors import ConfigError
from svidok.evidence.blobs import BlobStore

__all__ = ["SourceFile", "blob_files", "database_snapshot", "extra_files"]

REGISTER_FILE = "register.db"
_SKIP_TOP = {KEYRING_FILE, KEYS_FILE, "blobs"}


@dataclass
class SourceFile:
    """One file of the snapshot: its name in the backup, kind, chunk size and a reader."""

    path: str
    kind: str
    chunk_size: int
    open: Callable[[], AbstractContextManager[Any]]


def read_chunks(fh: Any, size: int) -> Iterator[memoryview]:
    """Fixed-size chunks of a stream (the last may be short), as views into one reused buffer.

    A consumer that keeps a chunk must copy it before asking for the next one. Files and
    descriptors are read with `readinto` (no allocation per chunk); other streams (S3 bodies)
    with `read`, short reads being joined.
    """
    buf = bytearray(size)
    view = memoryview(buf)
    readinto = getattr(fh, "readinto", None)
    while True:
        filled = 0
        while filled < size:
            if readinto is not None:
                n = readinto(view[filled:])
            else:
                data = fh.read(size - filled)
                n = len(data)
                view[filled : filled + n] = data
            if not n:
                break
            filled += n
        if not filled:
            return
        yield view[:filled]
        if filled < size:
            return


def read_segments(fh: Any, chunk_size: int, segment: int) -> Iterator[bytes]:
    """Segments of a stream as `bytes`, each a whole number of chunks (the last may be short).

    Reading a segment is the pipeline's one copy: its chunks are hashed through views, and a
    segment of new chunks is encrypted as it is, as one pack.
    """
    size = max(chunk_size, segment // chunk_size * chunk_size)
    while True:
        data = fh.read(size)
        if not data:
            return
        if len(data) < size:  # a stream may return short reads before its end
            parts = [data]
            got = len(data)
            while got < size:
                more = fh.read(size - got)
                if not more:
                    break
                parts.append(more)
                got += len(more)
            data = b"".join(parts)
        yield bytes(data)
        if len(data) < size:
            return


_END = object()
T = TypeVar("T")


class ReadAhead(Generic[T]):
    """Runs an iterator on a thread of its own, up to `depth` items ahead of the consumer.

    For readers whose work releases the GIL (pread, read, socket receive): it then overlaps
    the consumer's age encryption or decryption, which holds the GIL. An error raised by the
    iterator is raised to the consumer as it was. Leaving the `with` block stops the thread
    (after the item it is producing).
    """

    def __init__(self, items: Iterable[T], depth: int = 2, name: str = "svidok-read-ahead") -> None:
        self._items = items
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def __enter__(self) -> ReadAhead[T]:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        while self._thread.is_alive():
            try:
                self._queue.get(timeout=0.05)
            except queue.Empty:
                pass
        self._thread.join()

    def __iter__(self) -> Iterator[T]:
        return self

    def __next__(self) -> T:
        item = self._queue.get()
        if item is _END:
            self._queue.put(_END)  # stays exhausted
            raise StopIteration
        if isinstance(item, BaseException):
            raise item
        return item  # type: ignore[no-any-return]

    def _put(self, item: Any) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _run(self) -> None:
        items = iter(self._items)
        try:
            for item in items:
                if not self._put(item):
                    return
            self._put(_END)
        except BaseException as exc:  # handed to the consumer, which raises it
            self._put(exc)
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()  # a generator stopped early closes the file it was reading


def segments(sources: Iterable[SourceFile], segment: int) -> Iterator[tuple[SourceFile, bytes | None]]:
    """`(source, segment)` for every segment of every source in order, then `(source, None)`."""
    for source in sources:
        with source.open() as fh:
            for data in read_segments(fh, source.chunk_size, segment):
                yield source, data
        yield source, None


class _FdReader:
    """A reader over an already open descriptor (never closes it: see the module docstring)."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.pos = 0

    def read(self, size: int = -1) -> bytes:
        data = os.pread(self.fd, size if size >= 0 else 1 << 30, self.pos)
        self.pos += len(data)
        return data

    def readinto(self, view: memoryview) -> int:
        n = os.preadv(self.fd, [view], self.pos)
        self.pos += n
        return n

    def __enter__(self) -> _FdReader:
        self.pos = 0
        return self

    def __exit__(self, *_exc: object) -> None:
        return None


class database_snapshot:  # noqa: N801 - used as a context manager, like open()
    """Hold a read transaction on the SQLCipher register and expose its files as SourceFiles."""

    def __init__(self, db_path: Path, key: bytes, chunk_size: int) -> None:
        self.db_path = db_path
        self.key = key
        self.chunk_size = chunk_size
        self._conn: Any = None
        self._fds: list[int] = []
        self.files: list[SourceFile] = []
        self.checkpointed = False

    def __enter__(self) -> database_snapshot:
        sqlcipher: Any = importlib.import_module("sqlcipher3.dbapi2")

        if not self.db_path.is_file():
            raise ConfigError(f"no register database at {self.db_path}")
        conn = sqlcipher.connect(str(self.db_path), isolation_level=None)
        self._conn = conn
        conn.execute(f"PRAGMA key = \"x'{self.key.hex()}'\"")
        conn.execute("PRAGMA busy_timeout = 10000")
        busy, _log, _done = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        self.checkpointed = busy == 0
        conn.execute("BEGIN")
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()  # pins the WAL read mark
        for suffix in ("", "-wal"):
            path = self.db_path.with_name(self.db_path.name + suffix)
            try:
                fd = os.open(path, os.O_RDONLY)
            except FileNotFoundError:
                continue
            self._fds.append(fd)
            self.files.append(
                SourceFile(REGISTER_FILE + suffix, "database", self.chunk_size, lambda fd=fd: _FdReader(fd))  # type: ignore[misc]
            )
        return self

    def __exit__(self, *_exc: object) -> None:
        self.release()

    def release(self) -> None:
        """End the read transaction once the database files have been read (idempotent)."""
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.execute("COMMIT")
            finally:
                conn.close()
        fds, self._fds = self._fds, []
        for fd in fds:  # only after the connection (and its locks) is gone
            os.close(fd)


def blob_files(blobs: BlobStore, chunk_size: int) -> Iterator[SourceFile]:
    for digest in blobs.digests():
        yield SourceFile(f"blobs/{digest}", "blob", chunk_size, lambda d=digest: blobs.open(d))  # type: ignore[misc]


def extra_files(data_dir: Path, chunk_size: int) -> Iterator[SourceFile]:
    """Other files of the data directory (not the register, keys or blobs; no temporaries)."""
    for dirpath, dirs, files in os.walk(data_dir):
        rel_dir = Path(dirpath).relative_to(data_dir)
        if rel_dir == Path("."):
            dirs[:] = [d for d in dirs if d not in _SKIP_TOP and not d.startswith(".")]
        else:
            dirs[:] = [d for d in dirs if not d.startswith(".")]
        dirs.sort()
        for name in sorted(files):
            rel = (rel_dir / name).as_posix()
            if rel_dir == Path(".") and (
                name.startswith(REGISTER_FILE) or name.startswith(KEYS_FILE) or name.startswith(KEYRING_FILE)
            ):
                continue
            if name.startswith(".") or name.endswith((".tmp", ".part")):
                continue
            path = Path(dirpath, name)
            if path.is_file() and not path.is_symlink():
                yield SourceFile(f"files/{rel}", "file", chunk_size, lambda p=path: p.open("rb"))  # type: ignore[misc]


__all__ += ["ReadAhead", "read_chunks", "read_segments", "segments"]
