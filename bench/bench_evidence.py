"""Evidence ingest throughput against the raw ceiling and the disk, measured in the same run (EV-08).

    .venv/bin/python bench/bench_evidence.py [--size-mib 512] [--rounds 3] [--disk-dir DIR] [--tmpfs-dir DIR]

One seeded pseudo-random file (held in the page cache) is taken in, round after round,
the measures interleaved so that the ratios hold on a shared, loaded machine:

1. raw ceiling: SHA-256 + AES-256-GCM of each 1 MiB frame, no output (the CPU limit);
2. `encrypt_stream` into a null sink: SHA-256 + BLAKE3 + STREAM AES-GCM (no disk);
3. plain `write` + `fsync` of as many bytes as a blob holds, on tmpfs and on disk
   (the storage limit, no CPU work);
4. the full `EvidenceService.add` with the data directory on tmpfs and on disk: hash,
   encrypt, write the blob once (fsynced on a writer thread while the CPU works), link
   it into the store, the SQLCipher transaction with its rows and audit entry.

The best round of each is reported (the least disturbed by other work), with `uptime`'s
load average before and after. Results: `bench/results/security.md` (section rewritten)
and `bench/results/evidence.json` (figures).
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
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from figures import record

from svidok.crypto.keyring import TEST_ARGON2, MasterSecret
from svidok.evidence.blobs import FileBlobStore
from svidok.evidence.stream import encrypt_stream
from svidok.services.evidence import EvidenceService
from svidok.services.keys import Protection
from svidok.settings import Settings

FRAME = 1 << 20
RESULTS = Path(__file__).resolve().parent / "results" / "security.md"
START, END = "<!-- bench_evidence:start -->", "<!-- bench_evidence:end -->"


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


def raw_ceiling(path: Path) -> float:
    aead = AESGCM(AESGCM.generate_key(256))
    sha = hashlib.sha256()
    counter = 0
    t0 = time.perf_counter()
    with path.open("rb") as fh:
        while frame := fh.read(FRAME):
            sha.update(frame)
            aead.encrypt(counter.to_bytes(12, "big"), frame, None)
            counter += 1
    return time.perf_counter() - t0


def null_pipeline(path: Path, chunk: int, expected: str) -> float:
    t0 = time.perf_counter()
    with path.open("rb") as fh:
        digests = encrypt_stream(fh, _Null(), os.urandom(32), "blob", chunk)  # type: ignore[arg-type]
    took = time.perf_counter() - t0
    assert digests.sha256 == expected
    return took


def plain_write(directory: Path, size: int) -> float:
    """write + fsync of `size` bytes in 1 MiB writes: what the storage allows, no CPU work."""
    block = os.urandom(FRAME)
    target = directory / "plain.bin"
    t0 = time.perf_counter()
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        left = size
        while left > 0:
            left -= os.write(fd, block[: min(FRAME, left)])
        os.fsync(fd)
    finally:
        os.close(fd)
    took = time.perf_counter() - t0
    target.unlink()
    return took


def full_add(directory: Path, src: Path, chunk: int, expected: str) -> float:
    data = directory / "data"
    shutil.rmtree(data, ignore_errors=True)
    settings = Settings(data_dir=data)
    p = Protection.open(
        settings, MasterSecret(passphrase="bench passphrase"), create=True, params=TEST_ARGON2
    )
    try:
        service = EvidenceService(p, FileBlobStore(data / "blobs"), chunk_size=chunk)
        t0 = time.perf_counter()
        service.add(src, "bench")
        took = time.perf_counter() - t0
        assert FileBlobStore(data / "blobs").exists(expected)
    finally:
        p.close()
    shutil.rmtree(data, ignore_errors=True)
    return took


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size-mib", type=int, default=512)
    parser.add_argument("--chunk-kib", type=int, default=1024)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--disk-dir", type=Path, default=Path(tempfile.gettempdir()))
    parser.add_argument("--tmpfs-dir", type=Path, default=Path("/dev/shm"))
    parser.add_argument("--no-write", action="store_true", help="Print only; do not write results.")
    args = parser.parse_args()
    size = args.size_mib * FRAME
    chunk = args.chunk_kib * 1024
    blob_size = size + (size // chunk + 1) * 16 + 100  # ciphertext: a tag per chunk and a header
    mib = size / FRAME
    command = "bench/bench_evidence.py " + " ".join(sys.argv[1:])
    load_before = loadavg()
    best: dict[str, float] = {}
    rounds: dict[str, list[float]] = {}
    with (
        tempfile.TemporaryDirectory(dir=args.disk_dir) as disk_tmp,
        tempfile.TemporaryDirectory(dir=args.tmpfs_dir) as shm_tmp,
    ):
        disk, shm = Path(disk_tmp), Path(shm_tmp)
        src = disk / "seeded.bin"
        expected = make_file(src, size, 20260810)
        measures: dict[str, Callable[[], float]] = {
            "raw": lambda: raw_ceiling(src),
            "pipeline": lambda: null_pipeline(src, chunk, expected),
            "write_tmpfs": lambda: plain_write(shm, blob_size),
            "add_tmpfs": lambda: full_add(shm, src, chunk, expected),
            "write_disk": lambda: plain_write(disk, blob_size),
            "add_disk": lambda: full_add(disk, src, chunk, expected),
        }
        for n in range(args.rounds):
            for name, measure in measures.items():
                took = measure()
                best[name] = min(best.get(name, float("inf")), took)
                rounds.setdefault(name, []).append(took)
                print(f"round {n + 1} {name:12} {mib / took:8,.0f} MiB/s  (load {loadavg()})", flush=True)
    load_after = loadavg()
    rate = {name: mib / took for name, took in best.items()}
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    def per_round(name: str, reference: str) -> float:
        """The median over rounds of (reference time / time): both measured minutes apart at most."""
        return statistics.median(r / t for r, t in zip(rounds[reference], rounds[name], strict=True))

    ratio_tmpfs = per_round("add_tmpfs", "raw")
    ratio_disk = per_round("add_disk", "raw")
    disk_vs_write = per_round("add_disk", "write_disk")
    tmpfs_vs_write = per_round("add_tmpfs", "write_tmpfs")
    pipeline_ratio = per_round("pipeline", "raw")
    rows = [
        ("raw ceiling: SHA-256 + AES-256-GCM per 1 MiB frame, no output", rate["raw"], 1.0, ""),
        (
            "`encrypt_stream`: SHA-256 + BLAKE3 + STREAM AES-GCM, null sink",
            rate["pipeline"],
            pipeline_ratio,
            "",
        ),
        ("plain `write` + `fsync` of the blob's bytes, tmpfs", rate["write_tmpfs"], None, ""),
        (
            "**`EvidenceService.add`, data directory on tmpfs**",
            rate["add_tmpfs"],
            ratio_tmpfs,
            f"{tmpfs_vs_write:.2f}× plain write",
        ),
        ("plain `write` + `fsync` of the blob's bytes, disk", rate["write_disk"], None, ""),
        (
            "**`EvidenceService.add`, data directory on disk**",
            rate["add_disk"],
            ratio_disk,
            f"{disk_vs_write:.2f}× plain write",
        ),
    ]
    table = [
        "| measure | MiB/s (best round) | × raw (median of per-round ratios) | note |",
        "| --- | ---: | ---: | --- |",
    ]
    for label, value, ratio, note in rows:
        table.append(f"| {label} | {value:,.0f} | {'' if ratio is None else f'{ratio:.2f}'} | {note} |")
    text = "\n".join(table)
    print(text)
    print(f"peak RSS {rss:,.0f} MiB; load average before {load_before}, after {load_after}")
    if args.no_write:
        return
    cpu = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
    section = "\n".join(
        [
            START,
            "## Evidence ingest (`bench/bench_evidence.py`)",
            "",
            f"    .venv/bin/python {command}",
            "",
            f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC; {platform.machine()}, {cpu} CPUs, Python "
            f"{platform.python_version()}; disk = `{args.disk_dir}` (virtio), tmpfs = `{args.tmpfs_dir}`. "
            f"{args.size_mib} MiB seeded file in the page cache, {args.chunk_kib} KiB chunks, "
            f"{args.rounds} interleaved rounds. **Load average {load_before} before, {load_after} after** "
            "(the 2 cores are shared with other engineers' jobs).",
            "",
            text,
            "",
            f"Peak RSS of the whole run: {rss:,.0f} MiB (the process with SQLAlchemy, cryptography and "
            "Pillow loaded; the pipeline holds a few chunks).",
            "",
            "Reading: on tmpfs the full intake is compared with the CPU ceiling (goal ≥ 0.8×); on disk "
            "it is bounded by the storage, so it is compared with a plain write + fsync of the same "
            "bytes measured in the same rounds. The blob is written once (temporary file beside the "
            "store, hard-linked into place, directory fsynced); a writer thread writes and "
            "`fdatasync`s while the CPU hashes and encrypts.",
            END,
        ]
    )
    current = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else "# Protection layer benchmarks\n"
    if START in current:
        head, rest = current.split(START, 1)
        current = head + section + rest.split(END, 1)[1]
    else:
        current = current.rstrip() + "\n\n" + section + "\n"
    RESULTS.write_text(current, encoding="utf-8")
    goal = ">= 0.8 x raw SHA-256 + AES-256-GCM"
    record(
        "evidence",
        "EvidenceService.add on tmpfs / raw ceiling",
        round(ratio_tmpfs, 2),
        "x",
        goal=goal,
        met=ratio_tmpfs >= 0.8,
        command=command,
        note=f"load {load_before} -> {load_after}",
    )
    record(
        "evidence",
        "EvidenceService.add on disk / raw ceiling",
        round(ratio_disk, 2),
        "x",
        goal=goal,
        met=ratio_disk >= 0.8,
        command=command,
        note=f"disk-bound: {disk_vs_write:.2f} x plain write+fsync; load {load_before} -> {load_after}",
    )
    record(
        "evidence",
        "EvidenceService.add on disk / plain write+fsync",
        round(disk_vs_write, 2),
        "x",
        command=command,
        note=f"load {load_before} -> {load_after}",
    )
    record(
        "evidence",
        "raw ceiling",
        round(rate["raw"]),
        "MiB/s",
        command=command,
        note=f"load {load_before} -> {load_after}",
    )


if __name__ == "__main__":
    main()
