"""Evidence ingest throughput against the raw ceiling, measured in the same run (EV-08).

    .venv/bin/python bench/bench_evidence.py [--size-mib 1024] [--chunk-kib 1024]

1. writes a seeded pseudo-random file of `--size-mib` MiB (and hashes it independently);
2. raw ceiling: read it in 1 MiB frames, SHA-256 + AES-256-GCM each frame (no output);
3. `encrypt_stream` into a null sink: SHA-256 + BLAKE3 + STREAM AES-GCM (no disk writes);
4. full `EvidenceService.add`: the above plus the encrypted temp file, fsync, link into the
   blob store and the database transaction (SQLCipher register, audit entry).
Prints MiB/s for each, the ratios to the raw ceiling, and the process's peak RSS.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import os
import random
import resource
import tempfile
import time
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from svidok.crypto.keyring import TEST_ARGON2, MasterSecret
from svidok.evidence.blobs import FileBlobStore
from svidok.evidence.stream import encrypt_stream
from svidok.services.evidence import EvidenceService
from svidok.services.keys import Protection
from svidok.settings import Settings

FRAME = 1 << 20


class _Null(io.RawIOBase):
    def writable(self) -> bool:
        return True

    def write(self, b: bytes) -> int:  # type: ignore[override]
        return len(b)


def make_file(path: Path, size: int, seed: int) -> str:
    rng = random.Random(seed)
    sha = hashlib.sha256()
    with path.open("wb") as fh:
        left = size
        while left:
            block = rng.randbytes(min(FRAME * 8, left))
            sha.update(block)
            fh.write(block)
            left -= len(block)
    return sha.hexdigest()


def raw_ceiling(path: Path) -> tuple[float, str]:
    aead = AESGCM(AESGCM.generate_key(256))
    sha = hashlib.sha256()
    counter = 0
    t0 = time.perf_counter()
    with path.open("rb") as fh:
        while frame := fh.read(FRAME):
            sha.update(frame)
            aead.encrypt(counter.to_bytes(12, "big"), frame, None)
            counter += 1
    return time.perf_counter() - t0, sha.hexdigest()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--chunk-kib", type=int, default=1024)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    size = args.size_mib * FRAME
    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_TMP")) as tmp:
        src = Path(tmp) / "seeded.bin"
        expected = make_file(src, size, 20260810)
        raw_s = min(raw_ceiling(src)[0] for _ in range(args.repeat))
        mib = size / FRAME
        print(f"file: {args.size_mib} MiB seeded, chunk {args.chunk_kib} KiB")
        print(f"raw ceiling (sha256 + AES-256-GCM, 1 MiB frames): {mib / raw_s:,.0f} MiB/s")

        key = os.urandom(32)
        best = float("inf")
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            with src.open("rb") as fh:
                digests = encrypt_stream(fh, _Null(), key, "blob", args.chunk_kib * 1024)  # type: ignore[arg-type]
            best = min(best, time.perf_counter() - t0)
        assert digests.sha256 == expected
        print(f"encrypt_stream (sha256 + blake3 + STREAM, no disk): {mib / best:,.0f} MiB/s "
              f"= {raw_s / best:.2f} x raw")

        settings = Settings(data_dir=Path(tmp) / "data")
        p = Protection.open(settings, MasterSecret(passphrase="bench passphrase"), create=True,
                            params=TEST_ARGON2)
        service = EvidenceService(p, FileBlobStore(settings.data_dir / "blobs"),
                                  chunk_size=args.chunk_kib * 1024)
        t0 = time.perf_counter()
        service.add(src, "bench")
        full = time.perf_counter() - t0
        print(f"EvidenceService.add (+ encrypted file, fsync, store, DB): {mib / full:,.0f} MiB/s "
              f"= {raw_s / full:.2f} x raw")
        p.close()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS of the whole run: {rss:,.0f} MiB")


if __name__ == "__main__":
    main()
