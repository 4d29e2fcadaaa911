"""Writing big files past the page cache (O_DIRECT), with a fallback where it is refused.

Why: on the virtual disk of this machine class, `dd conv=fsync` of 2 GiB of random
bytes ran at ~200-270 MiB/s with ~5 s of kernel CPU (copying into the page cache
and writing it back), `dd oflag=direct conv=fsync` at ~1,400 MiB/s with 0.2-0.4 s
(bench/results/backup.md). A backup or a restore writes every byte once and never
reads it back, so the page cache only costs it: packs and restored files are
written with O_DIRECT, then fsync'ed once (the data is already on the device;
the fsync makes the size and the device cache durable).

O_DIRECT wants the buffer address, the length and the file offset aligned to the
device's logical block. `DirectFile` writes aligned views as they are (a pack the
age worker left in its page-aligned memory slot goes to the disk without a copy),
copies everything else through one page-aligned bounce buffer, and writes the
tail padded with zeros to a whole block, then truncates the file to its length.
Where the file system refuses O_DIRECT (tmpfs before Linux 6.6, some network
file systems, a FUSE mount) the file is written the ordinary way, with the same
calls and the same fsync: durability never depends on O_DIRECT.
"""

from __future__ import annotations

import errno
import mmap
import os
from pathlib import Path

__all__ = ["BLOCK", "DirectFile", "new_bounce"]

BLOCK = 4096
"""Alignment used for O_DIRECT (a multiple of every common logical block size)."""
BOUNCE = 8 * 1024 * 1024
_O_DIRECT = getattr(os, "O_DIRECT", 0)
_write = os.write  # one name for every write of this module (a test makes it fail: a full disk)


def new_bounce() -> mmap.mmap:
    """A page-aligned buffer for `DirectFile` (share one between the files a thread writes)."""
    return mmap.mmap(-1, BOUNCE)


class DirectFile:
    """A new file written sequentially, past the page cache where the file system allows it.

    `write` appends; `finish` writes the tail, fixes the length and fsyncs (after which the
    file's data is durable; its directory entry needs the directory's fsync). `close` closes
    the descriptor (idempotent). Not thread-safe: one writer per file.
    """

    def __init__(
        self, path: Path, mode: int = 0o600, *, direct: bool = True, bounce: mmap.mmap | None = None
    ) -> None:
        self.path = path
        self.size = 0
        self.direct = False
        fd: int | None = None
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC
        if direct and _O_DIRECT:
            try:
                fd = os.open(path, flags | _O_DIRECT, mode)
                self.direct = True
            except OSError as exc:
                if exc.errno != errno.EINVAL:
                    raise
        if fd is None:
            fd = os.open(path, flags, mode)
        self.fd = fd
        self._own = bounce is None
        self._buf: mmap.mmap | None = bounce
        self._fill = 0  # bytes waiting in the bounce buffer

    def _bounce(self) -> mmap.mmap:
        if self._buf is None:
            self._buf = new_bounce()
        return self._buf

    def _write_all(self, view: memoryview) -> None:
        while len(view):
            n = _write(self.fd, view)
            view = view[n:]

    def _flush_bounce(self) -> None:
        """Write the full bounce buffer (BOUNCE is a multiple of BLOCK)."""
        with memoryview(self._bounce()) as view:
            self._write_all(view)
        self._fill = 0

    def _give_up_direct(self) -> None:
        """Switch this descriptor to ordinary writes (the file system refused an O_DIRECT write)."""
        import fcntl

        flags = fcntl.fcntl(self.fd, fcntl.F_GETFL)
        fcntl.fcntl(self.fd, fcntl.F_SETFL, flags & ~_O_DIRECT)
        self.direct = False

    def _write_aligned(self, view: memoryview) -> int:
        """Write the whole blocks of `view` straight from its memory; 0 if its address is not
        aligned (the kernel says EINVAL before writing anything)."""
        whole = len(view) // BLOCK * BLOCK
        done = 0
        while done < whole:
            try:
                done += _write(self.fd, view[done:whole])
            except OSError as exc:
                if exc.errno == errno.EINVAL and done == 0:
                    return 0
                raise
        return done

    def write(self, data: bytes | bytearray | memoryview) -> None:
        with memoryview(data) as whole_view:
            view = whole_view if whole_view.format == "B" and whole_view.ndim == 1 else whole_view.cast("B")
            self.size += len(view)
            if not self.direct:
                self._write_all(view)
                return
            if self._fill == 0 and len(view) >= BLOCK:
                view = view[self._write_aligned(view) :]
            buf = self._bounce()
            while len(view):
                take = min(BOUNCE - self._fill, len(view))
                buf[self._fill : self._fill + take] = view[:take]
                self._fill += take
                view = view[take:]
                if self._fill == BOUNCE:
                    self._flush_bounce()

    def finish(self, *, sync: bool = True) -> None:
        """Write what is left, set the exact length and (unless `sync` is False: the caller
        fsyncs later) fsync: the file's data is then durable."""
        if self._fill:
            buf = self._bounce()
            real = self._fill
            if self.direct:
                whole = (real + BLOCK - 1) // BLOCK * BLOCK
                buf[real:whole] = bytes(whole - real)  # zeros, cut off by the truncate
                try:
                    with memoryview(buf) as view:
                        self._write_all(view[:whole])
                    if whole != real:
                        os.ftruncate(self.fd, self.size)
                except OSError as exc:
                    if exc.errno != errno.EINVAL:
                        raise
                    self._give_up_direct()  # refused (an odd block size): the ordinary way
                    with memoryview(buf) as view:
                        self._write_all(view[:real])
            else:
                with memoryview(buf) as view:
                    self._write_all(view[:real])
            self._fill = 0
        if sync:
            os.fsync(self.fd)

    def detach(self) -> int:
        """Hand the descriptor over (to a syncer thread, which closes it); the buffer is kept."""
        fd, self.fd = self.fd, -1
        return fd

    def close(self) -> None:
        fd, self.fd = self.fd, -1
        if fd >= 0:
            os.close(fd)
        if self._buf is not None and self._own:
            self._buf.close()
        self._buf = None

    def __enter__(self) -> DirectFile:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()
