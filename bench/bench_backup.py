"""Backup and restore throughput beside raw age (pyrage) over the same bytes, in the same run (BAK-03).

    .venv/bin/python bench/bench_backup.py [--size-mib 1024] [--scale 400] [--rounds N]
        [--workdir DIR] [--out bench/results/backup.md]

1. builds an encrypted register: a demo register (`--scale` testimonies) plus evidence blobs of
   seeded random bytes (1–8 MiB each) until the data directory holds about `--size-mib` MiB,
   stored exactly as intake stores them (AES-GCM STREAM blobs);
2. raw age: every file of the snapshot (register.db, its WAL, every blob), read into memory
   once, then `pyrage.encrypt` to one X25519 recipient and `pyrage.decrypt` — crypto only,
   no I/O, one core; and the disk's own write + fsync rate over the same bytes;
3. `backup create` into a null target (the CPU pipeline: read, keyed BLAKE3, pack, age, BLAKE3
   of the ciphertext) and into a directory target;
4. interleaved rounds: raw age, backup → null target, restore from the directory target (read,
   age decrypt, keyed BLAKE3 check, write + fsync, new keyring, audit log check); the median
   ratio of the rounds is the headline figure (recorded with `figures.record`);
5. a second backup with nothing changed, then ~1 % of changes (new evidence worth 1 % of the
   bytes, 1 % of the sources edited) and a third backup: the bytes it writes;
6. a restore disk → disk; peak RSS of the process.
Up to 2 GiB the repository and the round restores live on tmpfs (/dev/shm) as well, so the
crypto pipeline and this machine's disk can be told apart; above 2 GiB everything is on the
work disk (`--workdir`; about three times the register's size of scratch) and 2 rounds are run.
Prints a table and writes it, with machine, date, load averages and command, to `--out`.
"""

from __future__ import annotations

import argparse
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
from datetime import UTC, datetime
from pathlib import Path

import pyrage
from figures import record
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


def change_one_percent(p: Protection, blobs: FileBlobStore, size: int, seed: int = 9) -> int:
    """About 1 % of changes: new evidence bytes worth 1 % of the register, 1 % of the sources edited."""
    from sqlalchemy import select, update

    from svidok.store.models import Base

    rng = random.Random(seed)
    added = 0
    while added < size // 100:
        data = rng.randbytes(min(8 * MiB, size // 100 - added))
        store_blob(p, blobs, data)
        added += len(data)
    source = Base.metadata.tables["source"]
    with p.store.begin() as conn:
        ids = [r[0] for r in conn.execute(select(source.c.id).order_by(source.c.id))]
        for source_id in rng.sample(ids, max(1, len(ids) // 100)):
            conn.execute(update(source).where(source.c.id == source_id).values(reliability="B"))
    return added


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size-mib", type=int, default=1024)
    ap.add_argument("--scale", type=int, default=400)
    ap.add_argument("--out", type=Path, default=Path("bench/results/backup.md"))
    ap.add_argument("--workdir", type=Path, default=None)
    ap.add_argument("--rounds", type=int, default=None, help="interleaved rounds (default 3; 2 above 2 GiB)")
    args = ap.parse_args()
    large = args.size_mib > 2048  # tmpfs could not hold the copies: everything on the work disk
    rounds_n = args.rounds or (2 if large else 3)
    work = Path(tempfile.mkdtemp(prefix="svidok-bench-backup-", dir=args.workdir))
    shm = work / "fast" if large else Path(tempfile.mkdtemp(prefix="svidok-bench-", dir="/dev/shm"))
    try:
        mach = machine()
        loads = [os.getloadavg()[0]]
        t0 = time.perf_counter()
        settings, p = build(work / "reg", args.size_mib, args.scale)
        build_s = time.perf_counter() - t0
        with p.store.read() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        files = snapshot_files(settings)
        blobs = FileBlobStore(settings.data_dir / "blobs")
        recipient = new_identity_file(work / "custodian.key")
        ids = load_identities(work / "custodian.key")
        disk = raw_disk(files, work / "disk-probe")
        rows: list[tuple[str, int, float, float]] = []
        cold_line = ""
        if not large:
            # Warm-up (page cache, allocator, first calls into the extensions), reported, not compared.
            _s, cold_enc, cold_dec = raw_age(files)
            cold = service.create(p, settings, [NullTarget()], "bench", blobs, recipients=[recipient])  # type: ignore[list-item]
            cold_line = (
                f"Warm-up round before the table (not compared): raw encrypt {cold_enc:,.0f} MiB/s, raw "
                f"decrypt {cold_dec:,.0f} MiB/s, backup → null target {cold.bytes_read / MiB / cold.seconds:,.0f} "
                "MiB/s."
            )
        size, enc, dec = raw_age(files)
        null = service.create(p, settings, [NullTarget()], "bench", blobs, recipients=[recipient])  # type: ignore[list-item]
        loads.append(os.getloadavg()[0])
        rows += [
            ("raw age encrypt (pyrage, in memory)", size, size / MiB / enc, enc),
            ("raw age decrypt (pyrage, in memory)", size, size / MiB / dec, dec),
            ("raw disk: write + fsync the same bytes (no crypto)", size, size / MiB / disk, enc),
            ("backup → null target (CPU pipeline, no writes)", null.bytes_read, null.seconds, enc),
        ]
        fast = DirTarget(shm / "repo")
        in_fast = service.create(p, settings, [fast], "bench", blobs, recipients=[recipient])
        where = "directory on the disk (write + fsync)" if large else "directory on tmpfs"
        rows.append((f"backup → {where}", in_fast.bytes_read, in_fast.seconds, enc))
        rounds = []  # interleaved, so that the others' load on this shared machine hits both sides alike
        for k in range(rounds_n):
            _s, r_enc, r_dec = raw_age(files)
            r_null = service.create(p, settings, [NullTarget()], "bench", blobs, recipients=[recipient])  # type: ignore[list-item]
            r_rest = service.restore(
                fast, ids, shm / f"round{k}", MasterSecret(passphrase="round passphrase"), params=TEST_ARGON2
            )
            assert r_rest.audit_ok
            shutil.rmtree(shm / f"round{k}")
            loads.append(os.getloadavg()[0])
            rounds.append(
                (
                    r_enc,
                    r_null.bytes_read / MiB / r_null.seconds,
                    r_dec,
                    r_rest.bytes_written / MiB / r_rest.seconds,
                )
            )
        if large:
            target = fast
            first = in_fast
        else:
            target = DirTarget(work / "repo")
            first = service.create(p, settings, [target], "bench", blobs, recipients=[recipient])
            rows.append(
                ("backup → directory on the disk (write + fsync)", first.bytes_read, first.seconds, enc)
            )
        again = service.create(p, settings, [target], "bench", blobs)
        rows.append(("second backup, nothing changed (disk)", again.bytes_read, again.seconds, enc))
        added = change_one_percent(p, blobs, size)
        changed = service.create(p, settings, [target], "bench", blobs)
        rows.append(("third backup after ~1 % of changes (disk)", changed.bytes_read, changed.seconds, enc))
        p.close()
        loads.append(os.getloadavg()[0])
        secret = MasterSecret(passphrase="restored bench passphrase")
        if not large:
            restored_ram = service.restore(fast, ids, shm / "restored", secret, params=TEST_ARGON2)
            assert restored_ram.audit_ok
            rows.append(
                ("restore tmpfs → tmpfs (all steps)", restored_ram.bytes_written, restored_ram.seconds, dec)
            )
            shutil.rmtree(shm / "restored")
            shutil.rmtree(shm / "repo")
        restored = service.restore(target, ids, work / "restored", secret, params=TEST_ARGON2)
        assert restored.audit_ok
        rows.append(("restore disk → disk (all steps, fsync)", restored.bytes_written, restored.seconds, dec))
        peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        loads.append(os.getloadavg()[0])

        backup_x = statistics.median(b / e for e, b, _d, _r in rounds)
        restore_x = statistics.median(r / d for _e, _b, d, r in rounds)
        backup_rate = statistics.median(b for _e, b, _d, _r in rounds)
        restore_rate = statistics.median(r for _e, _b, _d, r in rounds)
        incr = changed.targets[0].bytes_written / changed.bytes_read
        label = f"{size / MiB / 1024:.0f} GiB" if size >= 1024 * MiB else f"{size / MiB:.0f} MiB"
        command = " ".join([".venv/bin/python", *sys.argv])
        load_text = ", ".join(f"{x:.1f}" for x in loads)
        restore_where = "disk → disk" if large else "tmpfs → tmpfs"
        lines = [
            f"# Backup and restore throughput ({label})",
            "",
            f"Machine: {mach}.",
            f"Date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC. Command: `{command}`",
            f"Load average (1 min) at start, after each step group and at the end: {load_text}.",
            "",
            f"Register: {size / MiB:,.0f} MiB in {len(files)} files (SQLCipher register of a demo at scale "
            f"{args.scale} + evidence blobs), built in {build_s:.0f} s. One custodian recipient. "
            f"Peak RSS of the benchmark process (all steps): {peak_rss / MiB:,.0f} MiB.",
            "",
            "| step | bytes | seconds | MiB/s | × raw age (enc for backup, dec for restore) |",
            "| --- | ---: | ---: | ---: | ---: |",
        ]
        for name, nbytes, secs, base in rows:
            rate = nbytes / MiB / secs
            lines.append(f"| {name} | {nbytes:,} | {secs:.1f} | {rate:,.0f} | **{rate / base:.2f}** |")
        lines += [
            "",
            f"Interleaved rounds (raw age, then backup → null target, then restore {restore_where}, "
            f"{rounds_n}×; the ratio within a round is the robust figure on a shared machine):",
            "",
            "| round | raw encrypt MiB/s | backup → null MiB/s | × | raw decrypt MiB/s | restore MiB/s | × |",
            "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
            *[
                f"| {k + 1} | {e:,.0f} | {b:,.0f} | {b / e:.2f} | {d:,.0f} | {r:,.0f} | {r / d:.2f} |"
                for k, (e, b, d, r) in enumerate(rounds)
            ],
            f"| **median** | | {backup_rate:,.0f} | **{backup_x:.2f}** | | {restore_rate:,.0f} | "
            f"**{restore_x:.2f}** |",
            "",
            cold_line,
            "",
            f"First backup wrote {first.targets[0].bytes_written:,} bytes in {first.targets[0].new_packs} packs; "
            f"the unchanged second one wrote {again.targets[0].bytes_written:,} bytes "
            f"({again.targets[0].bytes_written / again.bytes_read:.3%}). After ~1 % of changes (new evidence "
            f"of {added:,} bytes = {added / size:.2%} of the register, and 1 % of the sources edited) the third "
            f"wrote {changed.targets[0].bytes_written:,} bytes = **{incr:.2%}** of the "
            f"{changed.bytes_read:,} bytes read.",
            "",
        ]
        text = "\n".join(lines)
        print(text)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text)
        ratio_goal = ">= 0.6"
        record(
            "backup",
            f"backup × raw age encryption ({label})",
            round(backup_x, 2),
            "×",
            goal=ratio_goal,
            met=backup_x >= 0.6,
            command=command,
            note=f"median of {rounds_n} interleaved rounds, null target; load {load_text}",
        )
        record(
            "backup",
            f"restore × raw age decryption ({label})",
            round(restore_x, 2),
            "×",
            goal=ratio_goal,
            met=restore_x >= 0.6,
            command=command,
            note=f"median of {rounds_n} interleaved rounds, {restore_where}; load {load_text}",
        )
        record(
            "backup",
            f"backup throughput ({label})",
            round(backup_rate),
            "MiB/s",
            command=command,
            note=f"null target, median of rounds; load {load_text}",
        )
        record(
            "backup",
            f"restore throughput ({label})",
            round(restore_rate),
            "MiB/s",
            command=command,
            note=f"{restore_where}, median of rounds; load {load_text}",
        )
        record("backup", f"register size ({label})", round(size / MiB), "MiB", command=command)
        record(
            "backup",
            f"bytes written after ~1 % of changes ({label})",
            round(incr * 100, 2),
            "%",
            goal="about 1",
            met=0.5 <= incr * 100 <= 3,
            command=command,
        )
        record(
            "backup",
            f"peak RSS ({label})",
            round(peak_rss / MiB),
            "MiB",
            command=command,
            note="whole benchmark process, all steps",
        )
        subprocess.run(["du", "-sh", str(target.root)], check=False)
    finally:
        shutil.rmtree(work, ignore_errors=True)
        shutil.rmtree(shm, ignore_errors=True)


if __name__ == "__main__":
    main()
