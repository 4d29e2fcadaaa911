"""Backup and restore throughput beside raw age (pyrage) over the same bytes, in the same run (BAK-03).

    .venv/bin/python bench/bench_backup.py [--size-mib 1024] [--scale 400] [--rounds N]
        [--place disk|tmpfs] [--workdir DIR] [--out bench/results/backup.md]

1. builds an encrypted register: a demo register (`--scale` testimonies) plus evidence blobs of
   seeded random bytes (1–8 MiB each) until the data directory holds about `--size-mib` MiB,
   stored exactly as intake stores them (AES-GCM STREAM blobs);
2. makes the repository (a first backup into a directory on `--place`);
3. interleaved rounds, each measuring, over the same bytes:
   backup side — raw age encryption (`pyrage.encrypt` of every file in memory, one core); a
   write + fsync baseline (the same bytes written into a new directory, one fsync sweep: what
   any backup must at least do); `backup create` → a null target (the CPU pipeline); `backup
   create` → a new directory;
   restore side — raw age decryption; a copy baseline (every pack of the repository read and
   written + fsync'ed into a new directory: what any restore must at least do); the restore
   pipeline → a null sink (read, decrypt, check every chunk id, no writes:
   `service.check_restore`); `restore` → a new directory (all steps: files fsync'ed, new
   keyring, audit log check, moved into place). Every timed read of the repository starts with
   its pages dropped from the page cache. The ratios within a round are the headline figures
   (median of the rounds, recorded with `figures.record`), and the restore's busy time per
   step (fetch wait, decrypt, verify, write, fsync, ...) says where the limit is;
4. a backup with nothing changed, then ~1 % of changes (new evidence worth 1 % of the bytes,
   1 % of the sources edited) and another backup: the bytes it writes; peak RSS.
`--place tmpfs` (default up to 2 GiB) puts the repository, round backups, copies and restores on
/dev/shm, which separates the pipeline from this machine's disk; `--place disk` (default above
2 GiB) puts them on the work disk (`--workdir`; about three times the register's size of scratch).
Prints the tables and writes them, with machine, date, load averages and command, to `--out`.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import resource
import shutil
import statistics
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


def _sync_and_drop(paths: list[Path], dirs: set[Path]) -> None:
    for path in paths:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)
    for d in dirs:
        fd = os.open(d, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def write_baseline(files: list[Path], probe: Path) -> float:
    """MiB/s of what any backup must at least do: write the same bytes into a new directory
    (one write per file) and fsync them all at the end; no crypto, no reading (timed part)."""
    probe.mkdir()
    t = 0.0
    written = []
    for i, f in enumerate(files):
        data = f.read_bytes()
        t0 = time.perf_counter()
        with (probe / str(i)).open("wb") as out:
            out.write(data)
        t += time.perf_counter() - t0
        written.append(probe / str(i))
    t0 = time.perf_counter()
    _sync_and_drop(written, {probe})
    t += time.perf_counter() - t0
    shutil.rmtree(probe)
    return sum(f.stat().st_size for f in files) / MiB / t


def evict(root: Path) -> None:
    """Drop a directory's files from the page cache (no-op on tmpfs) so every timed read of
    the repository starts from the same state: what a restore from a cold disk sees."""
    for f in root.rglob("*"):
        if f.is_file():
            fd = os.open(f, os.O_RDONLY)
            try:
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            finally:
                os.close(fd)


def copy_baseline(repo: Path, dest: Path) -> tuple[int, float]:
    """What any restore must at least do: read every pack of the repository and write + fsync
    it into a new directory on the same disk (in-kernel copy per file, one fsync sweep)."""
    evict(repo)
    t0 = time.perf_counter()
    copied: list[Path] = []
    dirs: set[Path] = set()
    size = 0
    for f in sorted(repo.rglob("*.age")):
        out = dest / f.relative_to(repo)
        if out.parent not in dirs:
            out.parent.mkdir(parents=True, exist_ok=True)
            dirs.add(out.parent)
        shutil.copyfile(f, out)
        size += f.stat().st_size
        copied.append(out)
    _sync_and_drop(copied, dirs | {dest})
    seconds = time.perf_counter() - t0
    shutil.rmtree(dest)
    return size, seconds


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


def rate(nbytes: int, seconds: float) -> float:
    return nbytes / MiB / seconds


def busy_line(busy: dict[str, float]) -> str:
    return ", ".join(f"{k} {v:.1f} s" for k, v in sorted(busy.items(), key=lambda kv: -kv[1]))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size-mib", type=int, default=1024)
    ap.add_argument("--scale", type=int, default=400)
    ap.add_argument("--out", type=Path, default=Path("bench/results/backup.md"))
    ap.add_argument("--workdir", type=Path, default=None)
    ap.add_argument("--rounds", type=int, default=None, help="interleaved rounds (default 3; 2 above 2 GiB)")
    ap.add_argument(
        "--place",
        choices=("disk", "tmpfs"),
        default=None,
        help="where the repository, the backups and the restores of the rounds go "
        "(default: tmpfs up to 2 GiB, the work disk above)",
    )
    args = ap.parse_args()
    large = args.size_mib > 2048
    place = args.place or ("disk" if large else "tmpfs")
    rounds_n = args.rounds or (2 if large else 3)
    work = Path(tempfile.mkdtemp(prefix="svidok-bench-backup-", dir=args.workdir))
    fast = (
        work / "place" if place == "disk" else Path(tempfile.mkdtemp(prefix="svidok-bench-", dir="/dev/shm"))
    )
    fast.mkdir(exist_ok=True)
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
        cold_line = ""
        if not large:
            # Warm-up (page cache, allocator, first calls into the extensions), reported, not compared.
            _s, cold_enc, cold_dec = raw_age(files)
            cold = service.create(p, settings, [NullTarget()], "bench", blobs, recipients=[recipient])  # type: ignore[list-item]
            cold_line = (
                f"Warm-up before the rounds (not compared): raw encrypt {cold_enc:,.0f} MiB/s, raw "
                f"decrypt {cold_dec:,.0f} MiB/s, backup → null target {rate(cold.bytes_read, cold.seconds):,.0f} "
                "MiB/s."
            )
        repo = DirTarget(fast / "repo")
        first = service.create(p, settings, [repo], "bench", blobs, recipients=[recipient])
        loads.append(os.getloadavg()[0])
        # Interleaved rounds, so that the others' load on this shared machine hits every step alike.
        # Backup: raw age encrypt | write + fsync baseline | backup → null | backup → a new directory.
        # Restore: raw age decrypt | copy baseline | restore → null sink | restore → a new directory.
        b_rounds: list[tuple[float, float, float, float]] = []
        r_rounds: list[tuple[float, float, float, float]] = []
        last_null: service.RestoreReport | None = None
        last_rest: service.RestoreReport | None = None
        size = 0
        for k in range(rounds_n):
            size, r_enc, r_dec = raw_age(files)
            r_write = write_baseline(files, fast / "write-probe")
            r_null = service.create(p, settings, [NullTarget()], "bench", blobs, recipients=[recipient])  # type: ignore[list-item]
            r_dir = service.create(
                p, settings, [DirTarget(fast / "backup")], "bench", blobs, recipients=[recipient]
            )
            shutil.rmtree(fast / "backup")
            b_rounds.append(
                (
                    r_enc,
                    r_write,
                    rate(r_null.bytes_read, r_null.seconds),
                    rate(r_dir.bytes_read, r_dir.seconds),
                )
            )
            copied, copy_s = copy_baseline(fast / "repo", fast / "copy")
            evict(fast / "repo")
            last_null = service.check_restore(repo, ids)
            evict(fast / "repo")
            last_rest = service.restore(
                repo, ids, fast / f"round{k}", MasterSecret(passphrase="round passphrase"), params=TEST_ARGON2
            )
            assert last_rest.audit_ok
            shutil.rmtree(fast / f"round{k}")
            r_rounds.append(
                (
                    r_dec,
                    rate(copied, copy_s),
                    rate(last_null.bytes_written, last_null.seconds),
                    rate(last_rest.bytes_written, last_rest.seconds),
                )
            )
            loads.append(os.getloadavg()[0])
        assert last_null is not None and last_rest is not None
        again = service.create(p, settings, [repo], "bench", blobs)
        added = change_one_percent(p, blobs, size)
        changed = service.create(p, settings, [repo], "bench", blobs)
        p.close()
        peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        loads.append(os.getloadavg()[0])

        def med(rounds: list[tuple[float, float, float, float]], i: int, j: int | None = None) -> float:
            return statistics.median(r[i] / r[j] if j is not None else r[i] for r in rounds)

        backup_null_x, backup_dir_x, backup_write_x = (
            med(b_rounds, 2, 0),
            med(b_rounds, 3, 0),
            med(b_rounds, 3, 1),
        )
        rest_null_x, restore_x, restore_copy_x = med(r_rounds, 2, 0), med(r_rounds, 3, 0), med(r_rounds, 3, 1)
        incr = changed.targets[0].bytes_written / changed.bytes_read
        label = f"{size / MiB / 1024:.0f} GiB" if size >= 1024 * MiB else f"{size / MiB:.0f} MiB"
        command = " ".join([".venv/bin/python", *sys.argv])
        load_text = ", ".join(f"{x:.1f}" for x in loads)
        where = "the work disk" if place == "disk" else "tmpfs (/dev/shm)"
        lines = [
            f"# Backup and restore throughput ({label})",
            "",
            f"Machine: {mach}.",
            f"Date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC. Command: `{command}`",
            f"Load average (1 min) at start, after the first backup, after each round and at the end: {load_text}.",
            "",
            f"Register: {size / MiB:,.0f} MiB in {len(files)} files (SQLCipher register of a demo at scale "
            f"{args.scale} + evidence blobs) on the work disk, built in {build_s:.0f} s. One custodian recipient. "
            f"Repository, round backups, copies and restores on {where}; every timed read of the repository "
            "starts with its pages dropped from the page cache. "
            f"Peak RSS of the benchmark process (all steps): {peak_rss / MiB:,.0f} MiB.",
            "",
            f"Backup, {rounds_n} interleaved rounds (MiB/s; × = ratio within the round):",
            "",
            "| round | raw age encrypt | write + fsync baseline | backup → null | × enc | backup → directory "
            "| × enc | × baseline |",
            "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
            *[
                f"| {k + 1} | {e:,.0f} | {w:,.0f} | {n:,.0f} | {n / e:.2f} | {d:,.0f} | {d / e:.2f} | {d / w:.2f} |"
                for k, (e, w, n, d) in enumerate(b_rounds)
            ],
            f"| **median** | {med(b_rounds, 0):,.0f} | {med(b_rounds, 1):,.0f} | {med(b_rounds, 2):,.0f} "
            f"| **{backup_null_x:.2f}** | {med(b_rounds, 3):,.0f} | **{backup_dir_x:.2f}** | **{backup_write_x:.2f}** |",
            "",
            "Restore, same rounds (MiB/s; restore bytes are the files written, copy bytes the packs read):",
            "",
            "| round | raw age decrypt | copy baseline | restore → null sink | × dec | restore → directory "
            "| × dec | × copy |",
            "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
            *[
                f"| {k + 1} | {d:,.0f} | {c:,.0f} | {n:,.0f} | {n / d:.2f} | {r:,.0f} | {r / d:.2f} | {r / c:.2f} |"
                for k, (d, c, n, r) in enumerate(r_rounds)
            ],
            f"| **median** | {med(r_rounds, 0):,.0f} | {med(r_rounds, 1):,.0f} | {med(r_rounds, 2):,.0f} "
            f"| **{rest_null_x:.2f}** | {med(r_rounds, 3):,.0f} | **{restore_x:.2f}** | **{restore_copy_x:.2f}** |",
            "",
            f"Where the last round's restore spent its time ({last_rest.seconds:.1f} s wall; busy seconds of "
            f"each step's thread, the steps overlap): {busy_line(last_rest.busy)}. "
            f"Restore → null sink ({last_null.seconds:.1f} s wall): {busy_line(last_null.busy)}.",
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
        goal = ">= 0.6"
        note = f"median of {rounds_n} interleaved rounds on {where}; load {load_text}"
        for figure, value, unit, fgoal in (
            (f"backup × raw age encryption ({label})", backup_null_x, "×", goal),
            (f"backup to a directory × raw age encryption ({label})", backup_dir_x, "×", goal),
            (f"backup to a directory × write + fsync baseline ({label})", backup_write_x, "×", None),
            (f"restore × raw age decryption ({label})", restore_x, "×", goal),
            (f"restore to a null sink × raw age decryption ({label})", rest_null_x, "×", goal),
            (f"restore × copy baseline ({label})", restore_copy_x, "×", None),
        ):
            record(
                "backup",
                figure,
                round(value, 2),
                unit,
                goal=fgoal,
                met=None if fgoal is None else value >= 0.6,
                command=command,
                note=("null target; " if figure.startswith("backup ×") else "") + note,
            )
        record(
            "backup",
            f"backup throughput ({label})",
            round(med(b_rounds, 2)),
            "MiB/s",
            command=command,
            note=f"null target; {note}",
        )
        record(
            "backup",
            f"restore throughput ({label})",
            round(med(r_rounds, 3)),
            "MiB/s",
            command=command,
            note=note,
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
    finally:
        shutil.rmtree(work, ignore_errors=True)
        shutil.rmtree(fast, ignore_errors=True)


if __name__ == "__main__":
    main()
