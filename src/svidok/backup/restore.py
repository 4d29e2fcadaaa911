"""The restore data path: fetch packs, decrypt, check chunk ids, write files, on overlapping threads.

Threat: a restore that stops half-way (power cut, kill, full disk) must never be
mistaken for a register, and a damaged or forged pack must never reach a file
that is then taken as good.

Design. A restore writes everything under `<new_dir>/.restore-partial/`; only
when every file is written, checked and fsync'ed (and the service has written
the keyring and checked the audit log there) does `commit` rename the entries
into `new_dir`, `keyring.json` last, and fsync the directory. A data directory
without `keyring.json` cannot be opened by any command, so a directory holding
`.restore-partial` and no keyring is the leftover of an unfinished restore:
`prepare` removes it and the restore starts again (an acknowledged restore is
re-run, never resumed). Inside the staging directory files are written under
their final names; no per-file rename is needed because the staging directory
is the unit of commit.

Threads and processes (pyrage holds the GIL for a whole `decrypt`: two threads
decrypting are no faster than one, measured; so decryption runs on worker
processes, `svidok.backup.agepool`, one per core):

* reader (`ReadAhead`): fetches the packs in the order the restore will need
  them (the LRU of decrypted packs is simulated ahead of time) and hands each
  to a free age worker as soon as it is read (it waits while every worker slot
  is taken: memory stays bounded); file reads and socket receives release the GIL;
* age workers: decrypt packs ahead, several at once;
* the caller's thread: takes the decrypted packs in order (copied out of the
  worker's slot), checks every chunk's keyed BLAKE3 against its id (a mismatch
  stops the restore naming the pack) and cuts the chunks into write batches of
  about 8 MiB (views into the decrypted pack, no copy);
* writer: writes each file past the page cache (`svidok.backup.direct`:
  O_DIRECT where the file system allows it, through one page-aligned bounce
  buffer; on this machine class ~4× faster than through the page cache, with a
  tenth of the kernel CPU) into the staging directory;
* syncer: fsyncs each finished file while the next ones are written (once per
  file: with O_DIRECT the data is already on the device, the fsync makes the
  length and the device cache durable), and fsyncs the directories at the end.

Each thread adds the time it is busy to `UnpackStats.busy` ("decrypt" is age's
own time summed over the workers, which overlap), so a run shows which step
limits it.
"""

from __future__ import annotations

import os
import queue
import shutil
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from svidok.backup.agepool import AgePool, AgeRefused, Lease
from svidok.backup.direct import DirectFile, new_bounce
from svidok.backup.repo import (
    AgeIdentity,
    BackupCorrupt,
    BackupKeys,
    PackRef,
    Repository,
    decode_ids,
    pack_object,
)
from svidok.backup.source import REGISTER_FILE, ReadAhead
from svidok.crypto.keyring import KEYRING_FILE
from svidok.durable import fsync_dir
from svidok.errors import ConfigError

__all__ = ["STAGING", "UnpackStats", "commit", "discard", "prepare", "sync_files", "unpack"]

STAGING = ".restore-partial"
CACHE_PACKS = 8
"""Decrypted packs kept (8 MiB each): chunks of one file are mostly in consecutive packs."""
BATCH = 8 * 1024 * 1024
IOV_MAX = 1024
PREFETCH = 3
"""Packs a directory target is asked to start reading ahead of the one being read."""
QUEUE_BATCHES = 4
"""Write batches waiting for the writer: bounds memory to a few packs beyond the cache."""
SYNC_BACKLOG = 64
"""Written files waiting for fsync (open descriptors)."""

Progress = Callable[[int], None]


@dataclass
class UnpackStats:
    files: int = 0
    bytes: int = 0
    packs: int = 0
    busy: dict[str, float] = field(default_factory=dict)
    """Seconds each step kept its thread busy: fetch wait, decrypt, verify, write, fsync, ..."""

    def add(self, step: str, seconds: float) -> None:
        self.busy[step] = self.busy.get(step, 0.0) + seconds


# -- the staging directory ---------------------------------------------------------------------------


def prepare(new_dir: Path) -> tuple[Path, bool]:
    """The staging directory of a restore into `new_dir`; True if an unfinished one was removed.

    `new_dir` must be missing or empty, or hold only the leftover of an interrupted restore
    (`.restore-partial` and no keyring: see the module docstring), which is removed.
    """
    cleaned = False
    if new_dir.exists():
        if not new_dir.is_dir():
            raise ConfigError(f"{new_dir} is not a directory")
        entries = {e.name for e in new_dir.iterdir()}
        if STAGING in entries and KEYRING_FILE not in entries:
            discard(new_dir)
            cleaned = True
        elif entries:
            raise ConfigError(f"{new_dir} is not empty; restore into a new directory")
    staging = new_dir / STAGING
    staging.mkdir(parents=True, mode=0o700)
    fsync_dir(new_dir)
    return staging, cleaned


def discard(new_dir: Path) -> None:
    """Remove everything an unfinished restore left in `new_dir` (which it found empty)."""
    for entry in sorted(new_dir.iterdir(), key=lambda e: e.name == STAGING):
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()
    fsync_dir(new_dir)


def commit(staging: Path, new_dir: Path) -> None:
    """Move a finished, synced restore into place: every entry, then `keyring.json`, then fsync.

    Until the keyring is renamed the directory cannot be opened; after it, the restore is done
    (the empty staging directory is removed on a best-effort basis).
    """
    names = sorted(e.name for e in staging.iterdir() if e.name != KEYRING_FILE)
    for name in names:
        os.rename(staging / name, new_dir / name)
    fsync_dir(new_dir)
    os.rename(staging / KEYRING_FILE, new_dir / KEYRING_FILE)
    fsync_dir(new_dir)
    try:
        staging.rmdir()
        fsync_dir(new_dir)
    except OSError:
        pass  # the restore is complete; an empty .restore-partial beside the keyring is harmless


def sync_files(directory: Path) -> None:
    """fsync every regular file directly in `directory`, then the directory."""
    for entry in directory.iterdir():
        if entry.is_file() and not entry.is_symlink():
            fd = os.open(entry, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
    fsync_dir(directory)


def destination(root: Path, path: str) -> Path:
    """Where a file of the index goes under `root` (a name from elsewhere is damage)."""
    if path.startswith("blobs/"):
        digest = path.removeprefix("blobs/")
        if len(digest) < 4 or "/" in digest or digest.startswith("."):
            raise BackupCorrupt(f"index: unexpected blob name {path!r}")
        return root / "blobs" / digest[:2] / digest[2:4] / digest
    if path.startswith("files/"):
        rel = Path(path.removeprefix("files/"))
        if rel.is_absolute() or ".." in rel.parts or not rel.parts or rel.parts[0] == STAGING:
            raise BackupCorrupt(f"index: unexpected file name {path!r}")
        return root / rel
    if path.startswith(REGISTER_FILE) and "/" not in path:
        return root / path
    raise BackupCorrupt(f"index: unexpected file name {path!r}")


# -- the pipeline ---------------------------------------------------------------------------------------


_STOP = object()


class _Writer:
    """The writer and syncer threads. `root` None: check chunk ids only, write nothing."""

    def __init__(
        self, root: Path | None, checker: BackupKeys, stats: UnpackStats, *, direct: bool = True
    ) -> None:
        self.root = root
        self.direct = direct
        self._bounce = new_bounce()
        self.checker = checker
        self.stats = stats
        self.error: BaseException | None = None
        self._lock = threading.Lock()
        self._ops: queue.Queue[Any] = queue.Queue(maxsize=QUEUE_BATCHES)
        self._syncs: queue.Queue[int | None] = queue.Queue(maxsize=SYNC_BACKLOG)
        self._dirs: set[Path] = set()
        self._writer = threading.Thread(
            target=self._guard, args=(self._write_loop,), name="svidok-restore-write"
        )
        self._syncer = threading.Thread(
            target=self._guard, args=(self._sync_loop,), name="svidok-restore-sync"
        )

    def start(self) -> None:
        self._writer.start()
        self._syncer.start()

    # Called on the caller's thread ------------------------------------------------------------

    def put(self, op: Any) -> None:
        while not _put(self._ops, op, self):
            pass
        if self.error is not None:
            raise self.error

    def finish(self) -> None:
        """Wait until every file is written and synced (and the directories); re-raise a failure."""
        self.put(_STOP)
        self._writer.join()
        self._syncer.join()
        if self.error is not None:
            raise self.error

    def abandon(self, exc: BaseException) -> None:
        """After a failure: stop both threads; every descriptor they hold is closed."""
        self._fail(exc)
        self._writer.join()
        self._syncer.join()

    # The threads --------------------------------------------------------------------------------

    def _fail(self, exc: BaseException) -> None:
        with self._lock:
            if self.error is None:
                self.error = exc

    def _guard(self, loop: Callable[[], None]) -> None:
        try:
            loop()
        except BaseException as exc:  # handed to the caller's thread, which raises it
            self._fail(exc)

    def _write_loop(self) -> None:
        fd = -1
        out: DirectFile | None = None
        kind = ""
        try:
            while self.error is None:
                try:
                    op = self._ops.get(timeout=0.1)
                except queue.Empty:
                    continue
                if op is _STOP:
                    break
                action, *args = op
                if action == "open" and self.root is not None:
                    dest, kind = args
                    t0 = time.perf_counter()
                    if dest.parent not in self._dirs:
                        dest.parent.mkdir(parents=True, exist_ok=True)
                        self._dirs.add(dest.parent)
                    out = DirectFile(dest, 0o600, direct=self.direct, bounce=self._bounce)
                    fd = out.fd
                    self.stats.add("write", time.perf_counter() - t0)
                elif action == "write":
                    (batch,) = args
                    if out is not None:
                        t0 = time.perf_counter()
                        for view in batch:
                            out.write(view)
                        self.stats.add("write", time.perf_counter() - t0)
                elif action == "close" and out is not None:
                    t0 = time.perf_counter()
                    out.finish(sync=False)  # the syncer fsyncs it while the next file is written
                    fd = out.detach()
                    out = None
                    if kind == "blob":
                        os.fchmod(fd, 0o444)
                    self.stats.add("write", time.perf_counter() - t0)
                    handed, fd = fd, -1
                    while True:
                        if self.error is not None:
                            os.close(handed)
                            return
                        try:
                            self._syncs.put(handed, timeout=0.1)
                            break
                        except queue.Full:
                            continue
        finally:
            if out is not None:
                out.close()
            elif fd >= 0:
                os.close(fd)
            self._bounce.close()
            if self.error is None:
                while not _put(self._syncs, None, self):
                    pass

    def _sync_loop(self) -> None:
        try:
            while self.error is None:
                try:
                    fd = self._syncs.get(timeout=0.1)
                except queue.Empty:
                    if not self._writer.is_alive() and self._syncs.empty():
                        break  # the writer failed without handing over the end
                    continue
                if fd is None:
                    break
                try:
                    t0 = time.perf_counter()
                    os.fsync(fd)
                    # Written back: drop it from the page cache (a restore never reads it again).
                    os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
                    self.stats.add("fsync", time.perf_counter() - t0)
                finally:
                    os.close(fd)
            if self.error is None and self.root is not None:
                t0 = time.perf_counter()
                done: set[Path] = set()
                for d in sorted(self._dirs, key=lambda p: len(p.parts), reverse=True):
                    while d not in done and d != self.root and self.root in d.parents:
                        fsync_dir(d)
                        done.add(d)
                        d = d.parent
                fsync_dir(self.root)
                self.stats.add("fsync", time.perf_counter() - t0)
        finally:
            self._writer.join()  # nothing more can be handed over: close what is left
            while True:
                try:
                    left = self._syncs.get_nowait()
                except queue.Empty:
                    break
                if left is not None:
                    os.close(left)


def _put(q: queue.Queue[Any], item: Any, owner: _Writer) -> bool:
    """Put with a timeout; True when put or when the pipeline failed (the caller stops)."""
    if owner.error is not None:
        return True
    try:
        q.put(item, timeout=0.1)
        return True
    except queue.Full:
        return False


def unpack(
    repo: Repository,
    identity: AgeIdentity,
    sid: str,
    index: dict[str, Any],
    packs: list[PackRef],
    root: Path | None,
    *,
    progress: Progress | None = None,
    workers: int | None = None,
    direct: bool = True,
) -> UnpackStats:
    """Write every file of the snapshot's index under `root` (None: decrypt and check only).

    `workers`: age worker processes decrypting packs ahead (default one per core; 0 decrypts
    on this thread). `direct`: write files past the page cache where the file system allows.

    Every chunk is checked against its keyed id before it is written; a pack that does not
    decrypt, a chunk that does not match, a chunk in no pack or a file of the wrong size stops
    the restore with `BackupCorrupt` naming the pack, chunk or file. Files are fsync'ed.
    """
    stats = UnpackStats()
    checker = BackupKeys(_unb64(index["chunk_key"]), Ed25519PrivateKey.generate())  # ids only
    where: dict[bytes, tuple[PackRef, int, int]] = {}
    for ref in packs:
        for cid, off, length in repo.pack_map(ref):
            where.setdefault(cid, (ref, off, length))
    plan = [
        (f, None if root is None else destination(root, f["path"]), decode_ids(f["chunks"]))
        for f in index["files"]
    ]
    loads = _fetch_order(sid, plan, where)
    stats.packs = len(loads)

    hint = getattr(repo.target, "prefetch", None)

    def fetch() -> Iterator[tuple[PackRef, bytes]]:
        for i, ref in enumerate(loads):
            if hint is not None and i + PREFETCH < len(loads):
                # The disk reads the next packs while this one is read: a deeper queue than
                # one sequential reader gives (most disks, and virtual ones, read faster so).
                for ahead in loads[i + 1 : i + 1 + PREFETCH] if i == 0 else [loads[i + PREFETCH]]:
                    hint(pack_object(ahead.pack))
            yield ref, repo.target.get(pack_object(ref.pack))

    max_pack = max((r.pack_size for r in loads), default=0)
    pool = AgePool(max_pack, workers)

    def decrypting() -> Iterator[tuple[PackRef, Future[Lease]]]:
        # On the reader thread: each pack is handed to a worker as soon as it is read (blocks
        # while every worker slot is taken), so the workers decrypt ahead of the writer.
        for ref, data in fetch():
            yield ref, pool.submit_decrypt(data, identity)
            del data

    cache: OrderedDict[str, bytes] = OrderedDict()
    writer = _Writer(root, checker, stats, direct=direct)
    writer.start()
    try:
        with ExitStack() as stack:
            stack.enter_context(pool)  # ends the workers last
            fetched = stack.enter_context(
                ReadAhead(decrypting(), depth=pool.capacity, name="svidok-restore-read")
            )
            stack.callback(pool.stop)  # first: a reader waiting for a worker slot gives up

            def plain_of(ref: PackRef) -> bytes:
                plain = cache.get(ref.pack)
                if plain is not None:
                    cache.move_to_end(ref.pack)
                    return plain
                t0 = time.perf_counter()
                got, sealed = next(fetched)
                if got.pack != ref.pack:  # the plan and this loop disagree: a bug, not damage
                    raise RuntimeError(f"restore fetched pack {got.pack}, needed {ref.pack}")
                # No BLAKE3 of the ciphertext: age authenticates every 64 KiB (a change fails
                # decryption, naming the pack) and every chunk is checked against its keyed id.
                try:
                    lease = sealed.result()
                except AgeRefused:
                    raise BackupCorrupt(
                        f"{pack_object(ref.pack)}: does not decrypt with the repository key (altered)"
                    ) from None
                t1 = time.perf_counter()
                plain = lease.bytes()  # out of the worker's slot, which is free again
                stats.add("fetch and decrypt wait", t1 - t0)
                stats.add("copy out", time.perf_counter() - t1)
                stats.add("decrypt", lease.seconds)  # age's own time (workers overlap)
                cache[ref.pack] = plain
                if len(cache) > CACHE_PACKS:
                    cache.popitem(last=False)
                return plain

            for f, dest, cids in plan:
                writer.put(("open", dest, f["kind"]))
                batch: list[memoryview] = []
                pending = written = 0
                for cid in cids:
                    ref, off, length = where[cid]
                    view = memoryview(plain_of(ref))[off : off + length]
                    t0 = time.perf_counter()
                    if checker.chunk_id(view) != cid:
                        raise BackupCorrupt(
                            f"pack {ref.pack}: chunk {cid.hex()[:16]} of {f['path']} does not match its id"
                        )
                    stats.add("verify", time.perf_counter() - t0)
                    batch.append(view)
                    pending += length
                    written += length
                    if pending >= BATCH or len(batch) >= IOV_MAX:
                        writer.put(("write", batch))
                        batch, pending = [], 0
                    if progress:
                        progress(length)
                if written != f["size"]:
                    raise BackupCorrupt(
                        f"snapshot {sid}: {f['path']} restored {written} bytes, index says {f['size']}"
                    )
                if batch:
                    writer.put(("write", batch))
                writer.put(("close",))
                stats.files += 1
                stats.bytes += written
        t0 = time.perf_counter()
        writer.finish()
        stats.add("final wait", time.perf_counter() - t0)
    except BaseException as exc:
        writer.abandon(exc)
        raise
    finally:
        cache.clear()
    return stats


def _fetch_order(
    sid: str,
    plan: list[tuple[dict[str, Any], Path | None, list[bytes]]],
    where: dict[bytes, tuple[PackRef, int, int]],
) -> list[PackRef]:
    """The packs to fetch, in the order `unpack` will ask for them (its LRU simulated)."""
    loads: list[PackRef] = []
    simulated: OrderedDict[str, None] = OrderedDict()
    for f, _dest, cids in plan:
        for i, cid in enumerate(cids):
            if cid not in where:
                raise BackupCorrupt(
                    f"snapshot {sid}: chunk {cid.hex()[:16]} of {f['path']} (chunk {i}) is in no pack"
                )
            ref = where[cid][0]
            if ref.pack in simulated:
                simulated.move_to_end(ref.pack)
                continue
            loads.append(ref)
            simulated[ref.pack] = None
            if len(simulated) > CACHE_PACKS:
                simulated.popitem(last=False)
    return loads


def _unb64(text: str) -> bytes:
    import base64

    return base64.b64decode(text.encode(), validate=True)
