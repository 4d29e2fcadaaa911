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

Keys (KEY-02): `keys.db` holds data keys wrapped by a master key derived from
the operator's passphrase, which a custodian abroad never had. So the backup
carries the data keys themselves — unwrapped in memory, written only inside
the age-encrypted key bundle `keys/<snapshot>.age` — with their purposes,
dates and tombstones, and the public parts of `keyring.json` (register id,
audit verifier key). A restore writes a fresh `keyring.json` and `keys.db`
that wrap the same data keys under a new passphrase or key file of the
custodian's choosing. Destroyed (shredded) keys travel as tombstones only, and
key bundles have their own, shorter retention (`backup prune --keep-keys`), so
a shredding reaches every backup once the older key bundles are pruned.
"""

from __future__ import annotations

import base64
import importlib
import os
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from svidok.crypto import keyring as keyring_mod
from svidok.crypto.keyring import KEYRING_FILE, KEYS_FILE, OWASP_ARGON2, Argon2Params, Keyring, MasterSecret
from svidok.errors import ConfigError
from svidok.evidence.blobs import BlobStore

__all__ = ["SourceFile", "blob_files", "database_snapshot", "export_keys", "extra_files", "import_keys"]

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
        if self._conn is not None:
            try:
                self._conn.execute("COMMIT")
            finally:
                self._conn.close()
        for fd in self._fds:  # only after the connection (and its locks) is gone
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


# -- keys --------------------------------------------------------------------------------------------------


def export_keys(ring: Keyring) -> dict[str, Any]:
    """The register's data keys, unwrapped, with tombstones: the body of the key bundle."""
    db = sqlite3.connect(f"file:{ring.data_dir / KEYS_FILE}?mode=ro", uri=True)
    try:
        rows = db.execute(
            "SELECT key_id, purpose, wrapped, created_at, destroyed_at FROM data_key ORDER BY key_id"
        ).fetchall()
    finally:
        db.close()
    master = ring._master  # noqa: SLF001 - the keyring has no export API yet (see docs/backup.md)
    keys = []
    for key_id, purpose, wrapped, created_at, destroyed_at in rows:
        key = None
        if wrapped is not None and destroyed_at is None:
            key = base64.b64encode(keyring_mod._unwrap(master, key_id, bytes(wrapped))).decode()
        keys.append(
            {
                "key_id": key_id,
                "purpose": purpose,
                "created_at": created_at,
                "destroyed_at": destroyed_at,
                "key": key,
            }
        )
    public_meta = {
        k: ring.meta[k] for k in ("format", "version", "register", "audit_verifier_key") if k in ring.meta
    }
    return {"format": "svidok-backup-keys", "version": 1, "keyring": public_meta, "keys": keys}


def import_keys(
    data_dir: Path, bundle: dict[str, Any], secret: MasterSecret, params: Argon2Params = OWASP_ARGON2
) -> Keyring:
    """Write keyring.json and keys.db in `data_dir` holding the bundle's keys under a new master."""
    if Keyring.exists(data_dir) or (data_dir / KEYS_FILE).exists():
        raise ConfigError(f"{data_dir} already holds a keyring; restore into an empty directory")
    data_dir.mkdir(parents=True, exist_ok=True)
    record = keyring_mod._master_record(secret, params)
    master = keyring_mod._derive(secret, record)
    meta = dict(bundle["keyring"])
    meta.update(
        master=record, master_id=keyring_mod._master_id(master), check=keyring_mod._check_value(master)
    )
    ring = Keyring(data_dir, master, meta)
    db = ring._db()  # noqa: SLF001
    try:
        db.execute("BEGIN")
        for item in bundle["keys"]:
            wrapped = None
            if item["key"] is not None:
                wrapped = keyring_mod._wrap(master, item["key_id"], base64.b64decode(item["key"]))
            db.execute(
                "INSERT INTO data_key (key_id, purpose, wrapped, master_id, created_at, destroyed_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (
                    item["key_id"],
                    item["purpose"],
                    wrapped,
                    meta["master_id"],
                    item["created_at"],
                    item["destroyed_at"],
                ),
            )
        db.execute("COMMIT")
    finally:
        db.close()
    os.chmod(data_dir / KEYS_FILE, 0o600)
    Keyring._write_meta(data_dir / KEYRING_FILE, meta)  # noqa: SLF001
    return ring


__all__ += ["OWASP_ARGON2", "read_chunks", "read_segments"]
