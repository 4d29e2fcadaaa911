"""Evidence ingest throughput against the raw ceiling and the disk, measured in the same run (EV-08).

    .venv/bin/python bench/bench_evidence.py [--size-mib 512] [--rounds 3] [--disk-dir DIR] [--tmpfs-dir DIR]
        [--measures raw,pipeline,write_tmpfs,add_tmpfs,write_disk,add_disk]

One seeded pseudo-random file (held in the page cache) is taken in, round after round,
the measures interleaved so that the ratios hold on a shared, loaded machine:

1. `raw`: SHA-256 + AES-256-GCM of each 1 MiB frame on one thread, no output (the issue's
   raw limit);
2. `pipeline`: `encrypt_stream` into a null sink: SHA-256 + BLAKE3 + STREAM AES-GCM (no disk);
3. `write_tmpfs`, `write_disk`: plain `write` + `fsync` of as many bytes as a blob holds
   (the storage limit, no CPU work);
4. `add_tmpfs`, `add_disk`: the full `EvidenceService.add` with the data directory on
   tmpfs and on disk: read, hash, encrypt, write the blob once, fsync, link it into the
   store, the SQLCipher transaction with its rows, custody event and audit entry.

The best round of each is reported (the least disturbed by other work) and the median of
the per-round ratios, with `uptime`'s load average before and after and the peak RSS of
the process (`--size-mib 10240 --measures raw,add_disk` is the constant-memory check).
Results: `bench/results/evidence.md` (one section per size, rewritten) and
`bench/results/evidence.json` (figures).
"""

from __future__ import annotations

import argparse
import hashlib
import io
import os
import platform
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import blake3
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from figures import record

from svidok.crypto.keyring import TEST_ARGON2, MasterSecret
from svidok.evidence import stream
from svidok.evidence.blobs import FileBlobStore
from svidok.evidence.stream import encrypt_stream
from svidok.services.evidence import EvidenceService
from svidok.services.keys import Protection
from svidok.settings import Settings

FRAME = 1 << 20
RESULTS = Path(__file__).resolve().parent / "results" / "evidence.md"
MEASURES = ("raw", "pipeline", "write_tmpfs", "add_tmpfs", "write_disk", "add_disk")


class _Null(io.RawIOBase):
    def writable(self) -> bool:
        return True

    def write(self, b: bytes) -> int:  # type: ignore[override]
        return len(b)


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def make_file(path: Path, size: int, seed: int) -> str:
    rng = random.Random(seed)  # nosec B311 - benchmark data
    sha = hashlib.sha256()
    with path.open("wb") as fh:
        left = size
        while left:
            block = rng.randbytes(min(FRAME * 8, left))
            sha.update(block)
            fh.write(block)
            left -= len(block)
    return sha.hexdigest()


Timing = tuple[float, float, float]
"""(wall seconds, CPU seconds of the whole process, CPU seconds of its busiest thread)."""

THREAD_CPU: dict[str, float] = {}
_stage = stream._Hasher._stage


def _timed_stage(self: stream._Hasher, *args: Any) -> None:
    """The hashing threads' own CPU time (measurement only; the work is the library's)."""
    t0 = time.thread_time()
    try:
        _stage(self, *args)
    finally:
        name = threading.current_thread().name
        THREAD_CPU[name] = THREAD_CPU.get(name, 0.0) + time.thread_time() - t0


stream._Hasher._stage = _timed_stage  # type: ignore[method-assign, assignment]


class _Clock:
    def __init__(self) -> None:
        THREAD_CPU.clear()
        self.wall, self.cpu = time.perf_counter(), time.process_time()

    def stop(self) -> Timing:
        wall, cpu = time.perf_counter() - self.wall, time.process_time() - self.cpu
        hashing = list(THREAD_CPU.values())
        return wall, cpu, max([cpu - sum(hashing), *hashing])  # the calling thread does the rest


def raw_ceiling(path: Path) -> Timing:
    aead = AESGCM(AESGCM.generate_key(256))
    sha = hashlib.sha256()
    counter = 0
    clock = _Clock()
    with path.open("rb") as fh:
        while frame := fh.read(FRAME):
            sha.update(frame)
            aead.encrypt(counter.to_bytes(12, "big"), frame, None)
            counter += 1
    return clock.stop()


def null_pipeline(path: Path, chunk: int, expected: str) -> Timing:
    clock = _Clock()
    with path.open("rb", buffering=0) as fh:
        digests = encrypt_stream(fh, _Null(), os.urandom(32), "blob", chunk)  # type: ignore[arg-type]
    took = clock.stop()
    assert digests.sha256 == expected
    return took


def plain_write(directory: Path, size: int) -> Timing:
    """write + fsync of `size` bytes in 1 MiB writes: what the storage allows, no CPU work."""
    block = memoryview(os.urandom(FRAME))
    target = directory / "plain.bin"
    clock = _Clock()
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        left = size
        while left > 0:
            left -= os.write(fd, block[: min(FRAME, left)])
        os.fsync(fd)
    finally:
        os.close(fd)
    took = clock.stop()
    target.unlink()
    return took


def full_add(directory: Path, src: Path, chunk: int, expected: str) -> Timing:
    data = directory / "data"
    shutil.rmtree(data, ignore_errors=True)
    settings = Settings(data_dir=data)
    p = Protection.open(
        settings, MasterSecret(passphrase="bench passphrase"), create=True, params=TEST_ARGON2
    )
    try:
        service = EvidenceService(p, FileBlobStore(data / "blobs"), chunk_size=chunk)
        clock = _Clock()
        service.add(src, "bench")
        took = clock.stop()
        assert FileBlobStore(data / "blobs").exists(expected)
    finally:
        p.close()
    shutil.rmtree(data, ignore_errors=True)
    return took


def parts(src: Path, shm: Path, disk: Path) -> dict[str, float]:
    """CPU seconds of each step of intake alone, on one thread, over the whole file (least of 3).

    Where the time goes, in the units of the table: what the threads of the pipeline
    share out, and what no arrangement of threads removes from the total.
    """
    block = FRAME
    buf = bytearray(block)
    out = bytearray(block + 16)
    view, sealed = memoryview(buf), memoryview(out)
    aead = AESGCM(AESGCM.generate_key(256))
    nonce = bytes(12)

    def over_file(step: Callable[[memoryview], object]) -> float:
        clock = _Clock()
        with src.open("rb", buffering=0) as fh:
            while n := fh.readinto(buf):
                step(view[:n])
        return clock.stop()[1]

    def write_to(directory: Path) -> float:
        target = directory / "parts.bin"
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        clock = _Clock()
        try:
            for _ in range(src.stat().st_size // block):
                os.write(fd, sealed)
            os.fsync(fd)
        finally:
            os.close(fd)
        took = clock.stop()[1]
        target.unlink()
        return took

    read = min(over_file(lambda _view: None) for _ in range(3))
    sha, b3 = hashlib.sha256(), blake3.blake3()
    found = {
        "read (`readinto`, page cache)": read,
        "SHA-256": min(over_file(sha.update) for _ in range(3)) - read,
        "BLAKE3": min(over_file(b3.update) for _ in range(3)) - read,
        "AES-256-GCM (`encrypt_into`)": min(
            over_file(lambda v: aead.encrypt_into(nonce, v, b"", sealed[: len(v) + 16])) for _ in range(3)
        )
        - read,
        "write + fsync, tmpfs": min(write_to(shm) for _ in range(3)),
        "write + fsync, disk": min(write_to(disk) for _ in range(3)),
    }
    return found


def _size_label(mib: int) -> str:
    return f"{mib // 1024} GiB" if mib % 1024 == 0 else f"{mib} MiB"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size-mib", type=int, default=512)
    parser.add_argument("--chunk-kib", type=int, default=1024)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--disk-dir", type=Path, default=Path(tempfile.gettempdir()))
    parser.add_argument("--tmpfs-dir", type=Path, default=Path("/dev/shm"))
    parser.add_argument("--measures", default=",".join(MEASURES), help="comma-separated subset")
    parser.add_argument("--parts", action="store_true", help="Also time each step alone (CPU).")
    parser.add_argument("--no-write", action="store_true", help="Print only; do not write results.")
    args = parser.parse_args()
    chosen = [m for m in MEASURES if m in args.measures.split(",")]
    size = args.size_mib * FRAME
    chunk = args.chunk_kib * 1024
    blob_size = size + (size // chunk + 1) * 16 + 100  # ciphertext: a tag per chunk and a header
    mib = size / FRAME
    label = _size_label(args.size_mib)
    command = "bench/bench_evidence.py " + " ".join(sys.argv[1:])
    load_before = loadavg()
    started = time.perf_counter()
    best: dict[str, float] = {}
    rounds: dict[str, list[float]] = {}
    cpu_best: dict[str, float] = {}
    busiest: dict[str, float] = {}
    with (
        tempfile.TemporaryDirectory(dir=args.disk_dir) as disk_tmp,
        tempfile.TemporaryDirectory(dir=args.tmpfs_dir) as shm_tmp,
    ):
        disk, shm = Path(disk_tmp), Path(shm_tmp)
        src = disk / "seeded.bin"
        expected = make_file(src, size, 20260810)
        every: dict[str, Callable[[], Timing]] = {
            "raw": lambda: raw_ceiling(src),
            "pipeline": lambda: null_pipeline(src, chunk, expected),
            "write_tmpfs": lambda: plain_write(shm, blob_size),
            "add_tmpfs": lambda: full_add(shm, src, chunk, expected),
            "write_disk": lambda: plain_write(disk, blob_size),
            "add_disk": lambda: full_add(disk, src, chunk, expected),
        }
        for n in range(args.rounds):
            for name in chosen:
                took, cpu_took, busiest_took = every[name]()
                busiest[name] = min(busiest.get(name, float("inf")), busiest_took)
                best[name] = min(best.get(name, float("inf")), took)
                cpu_best[name] = min(cpu_best.get(name, float("inf")), cpu_took)
                rounds.setdefault(name, []).append(took)
                print(f"round {n + 1} {name:12} {mib / took:8,.0f} MiB/s  (load {loadavg()})", flush=True)
        steps = parts(src, shm, disk) if args.parts else {}
    load_after = loadavg()
    minutes = (time.perf_counter() - started) / 60
    rate = {name: mib / took for name, took in best.items()}
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    def per_round(name: str, reference: str) -> float | None:
        """The median over rounds of (reference time / time): both measured minutes apart at most."""
        if name not in rounds or reference not in rounds:
            return None
        return statistics.median(r / t for r, t in zip(rounds[reference], rounds[name], strict=True))

    def cell(value: float | None, suffix: str = "") -> str:
        return "" if value is None else f"{value:.2f}{suffix}"

    described = {
        "raw": "raw limit: SHA-256 + AES-256-GCM per 1 MiB frame, one thread, no output",
        "pipeline": "`encrypt_stream`: SHA-256 + BLAKE3 + STREAM AES-GCM, null sink",
        "write_tmpfs": "plain `write` + `fsync` of the blob's bytes, tmpfs",
        "add_tmpfs": "**`EvidenceService.add`, data directory on tmpfs**",
        "write_disk": "plain `write` + `fsync` of the blob's bytes, disk",
        "add_disk": "**`EvidenceService.add`, data directory on disk**",
    }
    table = [
        "| measure | MiB/s (best round) | × raw (median of per-round ratios) | × plain write (same) "
        "| CPU ms per MiB, all threads (least) | CPU ms per MiB, busiest thread (least) |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name in chosen:
        versus_write = None
        if name.startswith("add_"):
            versus_write = per_round(name, name.replace("add_", "write_"))
        ratio = per_round(name, "raw") if name not in ("write_tmpfs", "write_disk") else None
        table.append(
            f"| {described[name]} | {rate[name]:,.0f} | {cell(ratio)} | {cell(versus_write)} "
            f"| {1000 * cpu_best[name] / mib:.2f} | {1000 * busiest[name] / mib:.2f} |"
        )
    if steps:
        table += [
            "",
            "Each step alone, one thread, over the same file (CPU ms per MiB, least of 3):",
            "",
            "| step | CPU ms per MiB |",
            "| --- | ---: |",
            *(f"| {step} | {1000 * cpu_s / mib:.2f} |" for step, cpu_s in steps.items()),
        ]
    text = "\n".join(table)
    print(text)
    print(f"peak RSS {rss:,.0f} MiB; load average before {load_before}, after {load_after}")
    if args.no_write:
        return
    cpu = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
    start, end = f"<!-- bench_evidence:{label}:start -->", f"<!-- bench_evidence:{label}:end -->"
    section = "\n".join(
        [
            start,
            f"## {label}",
            "",
            f"    .venv/bin/python {command}",
            "",
            f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {minutes:.1f} min; {platform.machine()}, {cpu} CPUs, "
            f"Python {platform.python_version()}; disk = `{args.disk_dir}` (virtio), tmpfs = "
            f"`{args.tmpfs_dir}`. {label} seeded file in the page cache, {args.chunk_kib} KiB chunks, "
            f"{args.rounds} interleaved rounds. **Load average {load_before} before, {load_after} after** "
            "(the 2 cores are shared with other engineers' jobs).",
            "",
            text,
            "",
            f"Peak RSS of the whole run: {rss:,.0f} MiB (the process with SQLAlchemy, cryptography and "
            "Pillow loaded, the seeded file written in 8 MiB blocks).",
            "",
            "Per round (MiB/s):",
            "",
            "| round | " + " | ".join(chosen) + " |",
            "| ---: | " + " | ".join("---:" for _ in chosen) + " |",
            *(
                f"| {i + 1} | " + " | ".join(f"{mib / rounds[m][i]:,.0f}" for m in chosen) + " |"
                for i in range(args.rounds)
            ),
            end,
        ]
    )
    intro = (
        "# Evidence ingest (`bench/bench_evidence.py`)\n\n"
        "What the measures are: the script's docstring. Where the time goes and what changed: the end "
        "of this page.\n"
    )
    current = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else intro
    if start in current:
        head, rest = current.split(start, 1)
        current = head + section + rest.split(end, 1)[1]
    else:
        marker = "\n## Where the time goes"
        at = current.find(marker)
        at = len(current.rstrip()) if at < 0 else at
        current = current[:at].rstrip() + "\n\n" + section + "\n" + current[at:]
    RESULTS.write_text(current, encoding="utf-8")
    note = f"load {load_before} -> {load_after}"
    goal = ">= 0.8 x raw SHA-256 + AES-256-GCM"
    for where in ("tmpfs", "disk"):
        ratio = per_round(f"add_{where}", "raw")
        if ratio is not None:
            record(
                "evidence",
                f"EvidenceService.add on {where} / raw limit, {label}",
                round(ratio, 2),
                "x",
                goal=goal,
                met=ratio >= 0.8,
                command=command,
                note=note,
            )
        versus_write = per_round(f"add_{where}", f"write_{where}")
        if versus_write is not None:
            record(
                "evidence",
                f"EvidenceService.add on {where} / plain write+fsync, {label}",
                round(versus_write, 2),
                "x",
                command=command,
                note=note,
            )
        if f"add_{where}" in busiest and "raw" in cpu_best:
            record(
                "evidence",
                f"EvidenceService.add on {where}: raw CPU / CPU of its busiest thread "
                f"(estimate with a free core per thread), {label}",
                round(cpu_best["raw"] / busiest[f"add_{where}"], 2),
                "x",
                command=command,
                note=note,
            )
    if "raw" in rate:
        record("evidence", f"raw limit, {label}", round(rate["raw"]), "MiB/s", command=command, note=note)
    record(
        "evidence",
        f"peak RSS, {label}",
        round(rss),
        "MiB",
        goal="< 200",
        met=rss < 200,
        command=command,
        note=note,
    )


if __name__ == "__main__":
    main()
