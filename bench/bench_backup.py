"""Backup and restore throughput beside raw age (pyrage) over the same bytes, in the same run (BAK-03).

    .venv/bin/python bench/bench_backup.py [--size-mib 1024] [--scale 400] [--out bench/results/backup.md]

1. builds an encrypted register: a demo register (`--scale` testimonies) plus evidence blobs of
   seeded random bytes (1–8 MiB each) until the data directory holds about `--size-mib` MiB,
   stored exactly as intake stores them (AES-GCM STREAM blobs);
2. raw age: every file of the snapshot (register.db, its WAL, every blob), read into memory
   once, then `pyrage.encrypt` to one X25519 recipient and `pyrage.decrypt` — crypto only,
   no I/O, one core;
3. `backup create` into a null target (the CPU pipeline: read, keyed BLAKE3, pack, age, BLAKE3
   of the ciphertext) and into a directory target (plus writing and fsyncing every pack);
4. a second backup with nothing changed (every byte re-read and re-hashed, nothing sent);
5. `restore` from the directory target into a new data directory (read, age decrypt, keyed
   BLAKE3 check, write + fsync, new keyring, audit log check).
Steps 3 and 5 also run with the repository and the restored data directory on tmpfs
(/dev/shm), and the disk's own write + fsync rate over the same bytes is measured, so that
the crypto pipeline and this machine's disk can be told apart.
Prints a table and writes it, with machine, date and command, to `--out`.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import pyrage
from pyrage import x25519

from svidok.backup.repo import load_identities, new_identity_file
from svidok.backup.targets import DirTarget
from svidok.crypto.keyring import TEST_ARGON2, MasterSecret
from svidok.demo.generator import DemoConfig, generate
from svidok.evidence.blobs import FileBlobStore
from svidok.services import backup as service
from svidok.services.keys import Protection
from svidok.settings import Settings

MiB = 1 << 20


class NullTarget:
    """Accepts and forgets objects (for the CPU pipeline); remembers only the config documents."""

    def __init__(self) -> None:
        self.small: dict[str, bytes] = {}
        self.bytes = 0

    def describe(self) -> str:
        return "null:"

    def put(self, name: str, data: bytes) -> None:
        self.bytes += len(data)
        if not name.startswith("packs/"):
            self.small[name] = data

    def get(self, name: str) -> bytes:
        from svidok.backup.targets import ObjectMissing

        if name not in self.small:
            raise ObjectMissing("null:", name)
        return self.small[name]

    def exists(self, name: str) -> bool:
        return name in self.small

    def list(self, prefix: str) -> list[str]:
        return sorted(n for n in self.small if n.startswith(prefix))

    def delete(self, name: str) -> None:
        self.small.pop(name, None)

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass


def store_blob(p: Protection, blobs: FileBlobStore, data: bytes) -> None:
    """Encrypt `data` into the blob store as intake does (no evidence row: the bench needs bytes)."""
    import io

    from svidok.evidence.stream import encrypt_stream

    spool = blobs.root / ".incoming"
    spool.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=spool)
    try:
        with os.fdopen(fd, "wb") as dst:
            digests = encrypt_stream(io.BytesIO(data), dst, p.keyring.data_key("blob"), "blob", MiB)
        blobs.put(digests.sha256, Path(name))
    finally:
        Path(name).unlink(missing_ok=True)


def build(root: Path, size_mib: int, scale: int) -> tuple[Settings, Protection]:
    settings = Settings(data_dir=root / "data")
    p = Protection.open(
        settings, MasterSecret(passphrase="bench passphrase"), create=True, params=TEST_ARGON2
    )
    generate(p.store, root / "truth", DemoConfig(scale=scale, seed=1))
    blobs = FileBlobStore(settings.data_dir / "blobs")
    rng = random.Random(42)
    total = sum(f.stat().st_size for f in settings.data_dir.rglob("*") if f.is_file())
    while total < size_mib * MiB:
        data = rng.randbytes(rng.randint(1 * MiB, 8 * MiB))
        store_blob(p, blobs, data)
        total += len(data)
    return settings, p


def snapshot_files(settings: Settings) -> list[Path]:
    d = settings.data_dir
    files = [f for f in (d / "register.db", d / "register.db-wal") if f.is_file()]
    return files + sorted(f for f in (d / "blobs").rglob("*") if f.is_file() and ".incoming" not in f.parts)


def raw_age(files: list[Path]) -> tuple[int, float, float]:
    identity = x25519.Identity.generate()
    recipient = identity.to_public()
    size, t_enc, t_dec = 0, 0.0, 0.0
    for f in files:
        data = f.read_bytes()
        size += len(data)
        t0 = time.perf_counter()
        ct = pyrage.encrypt(data, [recipient])
        t1 = time.perf_counter()
        pt = pyrage.decrypt(ct, [identity])
        t2 = time.perf_counter()
        assert len(pt) == len(data)
        t_enc += t1 - t0
        t_dec += t2 - t1
    return size, size / MiB / t_enc, size / MiB / t_dec


def raw_disk(files: list[Path], probe: Path) -> float:
    """MiB/s of writing the same bytes to the work disk and fsyncing them (no crypto)."""
    probe.mkdir()
    t = 0.0
    for i, f in enumerate(files):
        data = f.read_bytes()
        t0 = time.perf_counter()
        with (probe / str(i)).open("wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        t += time.perf_counter() - t0
    shutil.rmtree(probe)
    return sum(f.stat().st_size for f in files) / MiB / t


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = os.getloadavg()
    return (
        f"{cpu}, {os.cpu_count()} vCPU, Linux {platform.release()}, Python {platform.python_version()}, "
        f"pyrage {getattr(pyrage, '__version__', '1.x')}; load average at start {load[0]:.1f}"
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size-mib", type=int, default=1024)
    ap.add_argument("--scale", type=int, default=400)
    ap.add_argument("--out", type=Path, default=Path("bench/results/backup.md"))
    ap.add_argument("--workdir", type=Path, default=None)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="svidok-bench-backup-", dir=args.workdir))
    try:
        mach = machine()
        t0 = time.perf_counter()
        settings, p = build(work / "reg", args.size_mib, args.scale)
        build_s = time.perf_counter() - t0
        with p.store.read() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        files = snapshot_files(settings)
        blobs = FileBlobStore(settings.data_dir / "blobs")
        recipient = new_identity_file(work / "custodian.key")
        # Warm-up (page cache, allocator, first calls into the extensions), reported, not compared.
        _s, cold_enc, cold_dec = raw_age(files)
        cold = service.create(p, settings, [NullTarget()], "bench", blobs, recipients=[recipient])  # type: ignore[list-item]
        size, enc, dec = raw_age(files)

        disk = raw_disk(files, work / "disk-probe")
        null = service.create(p, settings, [NullTarget()], "bench", blobs, recipients=[recipient])  # type: ignore[list-item]
        shm = Path(tempfile.mkdtemp(prefix="svidok-bench-", dir="/dev/shm"))
        try:
            fast = DirTarget(shm / "repo")
            in_ram = service.create(p, settings, [fast], "bench", blobs, recipients=[recipient])
            rounds = []  # interleaved, so that the others' load on this shared machine hits both sides alike
            for k in range(args.rounds):
                _s, r_enc, r_dec = raw_age(files)
                r_null = service.create(p, settings, [NullTarget()], "bench", blobs, recipients=[recipient])  # type: ignore[list-item]
                r_rest = service.restore(
                    fast,
                    load_identities(work / "custodian.key"),
                    shm / f"round{k}",
                    MasterSecret(passphrase="round passphrase"),
                    params=TEST_ARGON2,
                )
                shutil.rmtree(shm / f"round{k}")
                rounds.append(
                    (
                        r_enc,
                        r_null.bytes_read / MiB / r_null.seconds,
                        r_dec,
                        r_rest.bytes_written / MiB / r_rest.seconds,
                    )
                )
            target = DirTarget(work / "repo")
            first = service.create(p, settings, [target], "bench", blobs, recipients=[recipient])
            again = service.create(p, settings, [target], "bench", blobs)
            p.close()
            secret = MasterSecret(passphrase="restored bench passphrase")
            ids = load_identities(work / "custodian.key")
            restored_ram = service.restore(fast, ids, shm / "restored", secret, params=TEST_ARGON2)
            shutil.rmtree(shm / "repo")
            restored = service.restore(target, ids, work / "restored", secret, params=TEST_ARGON2)
        finally:
            shutil.rmtree(shm, ignore_errors=True)
        assert restored.audit_ok and restored_ram.audit_ok
        rows = [
            ("raw age encrypt (pyrage, in memory)", size, size / MiB / enc, enc),
            ("raw age decrypt (pyrage, in memory)", size, size / MiB / dec, dec),
            ("raw disk: write + fsync the same bytes (no crypto)", size, size / MiB / disk, enc),
            ("backup → null target (CPU pipeline, no writes)", null.bytes_read, null.seconds, enc),
            ("backup → directory on tmpfs", in_ram.bytes_read, in_ram.seconds, enc),
            ("backup → directory on the disk (write + fsync)", first.bytes_read, first.seconds, enc),
            ("second backup, nothing changed (disk)", again.bytes_read, again.seconds, enc),
            ("restore tmpfs → tmpfs (all steps)", restored_ram.bytes_written, restored_ram.seconds, dec),
            ("restore disk → disk (all steps, fsync)", restored.bytes_written, restored.seconds, dec),
        ]
        command = " ".join([".venv/bin/python", *sys.argv])
        lines = [
            "# Backup and restore throughput",
            "",
            f"Machine: {mach}.",
            f"Date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC. Command: `{command}`",
            "",
            f"Register: {size / MiB:,.0f} MiB in {len(files)} files (SQLCipher register of a demo at scale "
            f"{args.scale} + evidence blobs), built in {build_s:.0f} s. One custodian recipient; one core.",
            "",
            "| step | bytes | seconds | MiB/s | × raw age (enc for backup, dec for restore) |",
            "| --- | ---: | ---: | ---: | ---: |",
        ]
        for name, nbytes, secs, base in rows:
            rate = nbytes / MiB / secs
            lines.append(f"| {name} | {nbytes:,} | {secs:.1f} | {rate:,.0f} | **{rate / base:.2f}** |")
        lines += [
            "",
            f"Interleaved rounds (raw age, then the pipeline, {args.rounds}×; the ratio within a round is the "
            "robust figure on a shared machine):",
            "",
            "| round | raw encrypt MiB/s | backup → null MiB/s | × | raw decrypt MiB/s | restore tmpfs MiB/s | × |",
            "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
            *[
                f"| {k + 1} | {e:,.0f} | {b:,.0f} | {b / e:.2f} | {d:,.0f} | {r:,.0f} | {r / d:.2f} |"
                for k, (e, b, d, r) in enumerate(rounds)
            ],
            f"| **median** | | | **{statistics.median(b / e for e, b, _d, _r in rounds):.2f}** | | | "
            f"**{statistics.median(r / d for _e, _b, d, r in rounds):.2f}** |",
            "",
            f"Warm-up round before the table (not compared): raw encrypt {cold_enc:,.0f} MiB/s, raw decrypt "
            f"{cold_dec:,.0f} MiB/s, backup → null target {cold.bytes_read / MiB / cold.seconds:,.0f} MiB/s.",
            "",
            f"First backup wrote {first.targets[0].bytes_written:,} bytes in {first.targets[0].new_packs} packs; "
            f"the unchanged second one wrote {again.targets[0].bytes_written:,} bytes "
            f"({again.targets[0].bytes_written / again.bytes_read:.3%}).",
            "",
        ]
        text = "\n".join(lines)
        print(text)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text)
        subprocess.run(["du", "-sh", str(work / "repo")], check=False)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
