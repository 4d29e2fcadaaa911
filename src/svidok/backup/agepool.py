"""Age encryption and decryption on worker processes, so that every core runs age.

Why: pyrage holds the GIL for a whole `encrypt` / `decrypt` call (two threads
decrypting 8 MiB packs ran no faster than one), so one process gets one core's
worth of age, and age is the pipeline's serial step. `AgePool` starts one
worker process per core (`ageworker.py`, which imports only pyrage) and hands
each pack to a free one.

Data path: each worker has an anonymous memory file (`memfd_create`: RAM only,
no name in any file system, gone when the last descriptor closes; this machine
class has no swap, and a system with swap pages it like any process memory)
split into page-aligned slots of an input and an output region. `submit`
copies the input into a free slot (one memcpy, ~10 GB/s) and writes a 41-byte
request to the worker's pipe; the worker copies it into `bytes` (age takes
bytes only), runs age and writes the result into the slot's output region; a
thread per worker reads the replies (the read releases the GIL) and completes
the futures in order. The output stays in the slot until the caller releases
it (`Lease`): a directory target writes a pack straight from there with
O_DIRECT (page-aligned, no bounce copy), or the caller copies it out.

Keys: an encryption request carries the repository's public recipient; a
decryption request carries the repository's identity (secret) through the pipe
— never argv, the environment or a file; the worker keeps it in memory until
the pool is closed at the end of the operation, when the workers exit. The
workers do not inherit the parent's environment (it may hold the passphrase or
cloud credentials): only PATH, LD_LIBRARY_PATH, the locale and glibc's malloc thresholds.

Failures: a worker that age refuses (a damaged pack) answers with a status,
and the future raises `AgeRefused` (the caller names the object); a worker
that dies fails its pending futures with `WorkerFailed`. Inputs larger than a
slot, or a pool with no workers (`workers=0`, or no `memfd_create`), run age in
this process instead, with the same interface.
"""

from __future__ import annotations

import importlib
import mmap
import os
import subprocess  # nosec B404 # starts our own age worker file with our own interpreter, no shell
import sys
import threading
import time
from collections import deque
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from svidok.backup import ageworker
from svidok.errors import SvidokError

pyrage: Any = importlib.import_module("pyrage")

__all__ = ["AgePool", "AgeRefused", "Lease", "WorkerFailed", "default_workers"]

PAGE = mmap.PAGESIZE
_MALLOC = {"MALLOC_MMAP_THRESHOLD_": str(64 << 20), "MALLOC_TRIM_THRESHOLD_": str(1 << 30)}
"""For the workers: glibc keeps the 8 MiB input and output buffers on the heap and reuses them
(measured: a fifth of the page faults and ~15 % less CPU per GiB than the default thresholds)."""
AGE_OVERHEAD = 4096
"""Bytes age adds beyond 16 per 64 KiB chunk: the header with one X25519 stanza is ~200."""


class AgeRefused(ValueError):
    """age refused the input (a decryption that does not authenticate)."""


class WorkerFailed(SvidokError):
    """An age worker process ended or could not be started."""


def _worker_env() -> dict[str, str]:
    """The workers' environment: nothing of the parent's (which may hold SVIDOK_PASSPHRASE or
    cloud credentials), only what the interpreter and glibc need."""
    keep = ("PATH", "LD_LIBRARY_PATH", "LANG", "LC_ALL", "TMPDIR")
    env = {k: os.environ[k] for k in keep if k in os.environ}
    return {**env, **_MALLOC}


def default_workers() -> int:
    """One worker per core this process may run on (at least one)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def _round_up(n: int, to: int = PAGE) -> int:
    return (n + to - 1) // to * to


def sealed_size(plain: int) -> int:
    """An upper bound of age's ciphertext size for `plain` bytes."""
    return plain + 16 * (plain // 65536 + 1) + AGE_OVERHEAD


@dataclass
class Lease:
    """The output of one request: `view` stays valid until `release` (idempotent)."""

    view: memoryview
    _slot: _Slot | None = None
    seconds: float = 0.0
    """How long age took (in the worker, or inline)."""

    def release(self) -> None:
        slot, self._slot = self._slot, None
        if slot is not None:
            self.view.release()
            slot.free()

    def bytes(self) -> bytes:
        data = bytes(self.view)
        self.release()
        return data


class _Slot:
    def __init__(self, worker: _Worker, offset: int, in_cap: int, out_cap: int) -> None:
        self.worker = worker
        self.in_off = offset
        self.in_cap = in_cap
        self.out_off = offset + in_cap
        self.out_cap = out_cap

    def free(self) -> None:
        self.worker.pool._give_back(self)


class _Worker:
    def __init__(self, pool: AgePool, slots: int, in_cap: int, out_cap: int) -> None:
        self.pool = pool
        size = slots * (in_cap + out_cap)
        self.fd = os.memfd_create("svidok-age", os.MFD_CLOEXEC)
        try:
            os.ftruncate(self.fd, size)
            self.mem = mmap.mmap(self.fd, size)
            self.proc = subprocess.Popen(  # nosec B603 # argv is our interpreter, our worker file and two numbers
                [sys.executable, "-I", str(Path(ageworker.__file__)), str(self.fd), str(size)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                pass_fds=(self.fd,),
                close_fds=True,
                env=_worker_env(),
            )
        except BaseException:
            os.close(self.fd)
            raise
        if self.proc.stdin is None or self.proc.stdout is None:  # both are PIPE above
            raise WorkerFailed("an age worker has no pipes")
        self._in = self.proc.stdin
        self._out = self.proc.stdout
        self.slots = [_Slot(self, k * (in_cap + out_cap), in_cap, out_cap) for k in range(slots)]
        self.pending: deque[tuple[Future[Lease], _Slot]] = deque()
        self.dead: BaseException | None = None
        self._lock = threading.Lock()
        self._reader = threading.Thread(target=self._replies, name="svidok-age-replies", daemon=True)
        self._reader.start()

    def send(self, op: int, key: bytes, data: bytes | memoryview, slot: _Slot) -> Future[Lease]:
        fut: Future[Lease] = Future()
        n = len(data)
        self.mem[slot.in_off : slot.in_off + n] = data
        with self._lock:
            if self.dead is not None:
                raise WorkerFailed(f"an age worker ended: {self.dead}")
            self.pending.append((fut, slot))
            try:
                self._in.write(
                    ageworker.REQUEST.pack(op, slot.in_off, n, slot.out_off, slot.out_cap, len(key)) + key
                )
                self._in.flush()
            except OSError as exc:
                self.pending.pop()
                raise WorkerFailed(f"an age worker ended: {exc}") from exc
        return fut

    def _replies(self) -> None:
        try:
            while True:
                head = self._out.read(ageworker.REPLY.size)
                if len(head) < ageworker.REPLY.size:
                    raise WorkerFailed(f"age worker {self.proc.pid} ended (status {self.proc.poll()})")
                status, n, took = ageworker.REPLY.unpack(head)
                with self._lock:
                    fut, slot = self.pending.popleft()
                self.pool.age_seconds += took / 1e9
                if status == ageworker.OK:
                    view = memoryview(self.mem)[slot.out_off : slot.out_off + n]
                    fut.set_result(Lease(view, slot, took / 1e9))
                    continue
                slot.free()
                if status == ageworker.REFUSED:
                    fut.set_exception(AgeRefused("age refused the input"))
                else:
                    fut.set_exception(WorkerFailed(f"age output of {n} bytes exceeds its slot"))
        except BaseException as exc:
            with self._lock:
                self.dead = exc
                left = list(self.pending)
                self.pending.clear()
            for fut, slot in left:
                slot.free()
                if not fut.done():
                    fut.set_exception(exc if isinstance(exc, WorkerFailed) else WorkerFailed(str(exc)))

    def close(self) -> None:
        try:
            self._in.close()  # EOF: the worker returns
        except OSError:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._reader.join(timeout=10)
        self._out.close()
        os.close(self.fd)
        try:
            self.mem.close()
        except BufferError:
            pass  # a lease still holds a view; the mapping goes with the last reference


class AgePool:
    """Worker processes running age on inputs of up to `max_input` bytes (larger run inline).

    `submit_encrypt(data, recipient)` / `submit_decrypt(data, identity)` return a
    `Future[Lease]`; each blocks while every slot is taken (at most `workers × slots`
    requests are in flight: memory is bounded). Use as a context manager; `close` ends the
    workers (waiting for requests in flight) and is idempotent.
    """

    def __init__(self, max_input: int, workers: int | None = None, slots: int = 2) -> None:
        self.workers_n = default_workers() if workers is None else workers
        self.in_cap = _round_up(max(max_input, 1))
        self.out_cap = _round_up(sealed_size(self.in_cap))
        self.slots_per_worker = slots
        self._workers: list[_Worker] = []
        self._free: deque[_Slot] = deque()
        self._cond = threading.Condition()
        self._started = False
        self._stopping = False
        self._closed = False
        self.age_seconds = 0.0
        """Seconds age ran, summed over the workers (they overlap) and inline calls."""

    def _start(self) -> None:
        self._started = True
        if self.workers_n <= 0 or not hasattr(os, "memfd_create"):
            return
        try:
            for _ in range(self.workers_n):
                self._workers.append(_Worker(self, self.slots_per_worker, self.in_cap, self.out_cap))
        except OSError:
            for w in self._workers:
                w.close()
            self._workers = []  # age runs in this process instead
            return
        # Interleaved so that consecutive requests go to different workers.
        for k in range(self.slots_per_worker):
            for w in self._workers:
                self._free.append(w.slots[k])

    @property
    def capacity(self) -> int:
        """Requests that can be in flight at once (before `submit` blocks)."""
        return max(1, self.workers_n * self.slots_per_worker)

    @property
    def workers(self) -> int:
        """Worker processes running (0: age runs in this process)."""
        return len(self._workers)

    def __enter__(self) -> AgePool:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def _give_back(self, slot: _Slot) -> None:
        with self._cond:
            self._free.append(slot)
            self._cond.notify()

    def _take(self) -> _Slot:
        with self._cond:
            while not self._free:
                if self._stopping:
                    raise WorkerFailed("the age pool was stopped")
                dead = next((w.dead for w in self._workers if w.dead is not None), None)
                if dead is not None:
                    raise WorkerFailed(f"an age worker ended: {dead}")
                self._cond.wait(timeout=0.5)
            return self._free.popleft()

    def _submit(self, op: int, key: str, data: bytes | memoryview) -> Future[Lease]:
        if self._stopping:
            raise WorkerFailed("the age pool is closed")
        if not self._started:
            self._start()
        if not self._workers or len(data) > self.in_cap:
            fut = _inline(op, key, data)
            if not fut.exception():
                self.age_seconds += fut.result().seconds
            return fut
        slot = self._take()
        try:
            return slot.worker.send(op, key.encode(), data, slot)
        except BaseException:
            slot.free()
            raise

    def submit_encrypt(self, data: bytes | memoryview, recipient: Any) -> Future[Lease]:
        return self._submit(ageworker.ENCRYPT, str(recipient), data)

    def submit_decrypt(self, data: bytes | memoryview, identity: Any) -> Future[Lease]:
        return self._submit(ageworker.DECRYPT, str(identity), data)

    def stop(self) -> None:
        """Refuse new requests and wake a thread waiting for a slot (it raises `WorkerFailed`)."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()

    def close(self) -> None:
        """End the workers once the requests in flight are answered (idempotent)."""
        if self._closed:
            return
        self._closed = True
        self.stop()
        for w in self._workers:
            w.close()


def _inline(op: int, key: str, data: bytes | memoryview) -> Future[Lease]:
    fut: Future[Lease] = Future()
    t0 = time.perf_counter()
    try:
        if op == ageworker.ENCRYPT:
            out = pyrage.encrypt(bytes(data), [pyrage.x25519.Recipient.from_str(key)])
        else:
            out = pyrage.decrypt(bytes(data), [pyrage.x25519.Identity.from_str(key)])
    except Exception:
        fut.set_exception(AgeRefused("age refused the input"))
        return fut
    fut.set_result(Lease(memoryview(out), seconds=time.perf_counter() - t0))
    return fut
