"""Backup and restore throughput beside raw age (pyrage) over the same bytes, in the same run (BAK-03).

    .venv/bin/python bench/bench_backup.py [--size-mib 1024] [--scale 400] [--rounds N]
        [--place disk|tmpfs] [--workers N] [--label TEXT] [--workdir DIR] [--out bench/results/backup.md]

1. builds an encrypted register: a demo register (`--scale` testimonies) plus evidence blobs of
   seeded random bytes (1–8 MiB each) until the data directory holds about `--size-mib` MiB,
   stored exactly as intake stores them (AES-GCM STREAM blobs), on `--place`;
2. makes the repository (a first backup into a directory on `--place`);
3. rounds, each measuring over the same bytes, with CPU seconds (this process + its age
   workers) and the load average beside every pipeline figure:
   backup side — raw age encryption (`pyrage.encrypt` of every file in memory, one core);
   two disk ceilings: the same bytes written + fsync'ed through the page cache, and past it
   (O_DIRECT, as the directory target writes packs); `backup create` → a null target (the
   pipeline without a disk); `backup create` → a new directory;
   restore side — raw age decryption; the disk's read ceiling (every pack of the repository
   read cold) and the restore's disk ceiling 1 / (1/read + 1/O_DIRECT write) (read it all and
   write it all on one disk); the restore pipeline → a null sink (read, decrypt, check every
   chunk id, no writes: `service.check_restore`); `restore` → a new directory (all steps:
   files fsync'ed, new keyring, audit log check, moved into place). Every timed read of the
   repository starts with its pages dropped from the page cache. The ratios within a round are
   the headline figures (median of the rounds, recorded with `figures.record`);
4. a backup with nothing changed, then ~1 % of changes (new evidence worth 1 % of the bytes,
   1 % of the sources edited) and another backup: the bytes it writes; peak RSS of the process
   and its age workers (sampled).
`--place tmpfs` (default up to 2 GiB) puts register, repository, backups, probes and restores on
/dev/shm, which separates the software from this machine's disk. Above 2 GiB on tmpfs register +
repository nearly fill RAM: one round, whose backup → directory is the repository itself, the
register deleted before the restores, no step 4 (keep `--size-mib` × 2 well below free RAM).
`--place disk` (default above 2 GiB) uses the work disk (`--workdir`; ~3× the register's size).
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


def direct_write_baseline(files: list[Path], probe: Path) -> float:
    """MiB/s of the same bytes written past the page cache (O_DIRECT, as the directory target
    writes packs and the restore writes files), each file fsync'ed, the directory too."""
    from svidok.backup.direct import DirectFile, new_bounce

    probe.mkdir()
    bounce = new_bounce()
    t = 0.0
    for i, f in enumerate(files):
        data = f.read_bytes()
        t0 = time.perf_counter()
        with DirectFile(probe / str(i), bounce=bounce) as out:
            out.write(data)
            out.finish()
        t += time.perf_counter() - t0
    t0 = time.perf_counter()
    _sync_and_drop([], {probe})
    t += time.perf_counter() - t0
    bounce.close()
    shutil.rmtree(probe)
    return sum(f.stat().st_size for f in files) / MiB / t


def read_baseline(repo: Path) -> float:
    """MiB/s of reading every pack of the repository cold (its pages dropped first): the most
    a restore can fetch from this disk."""
    evict(repo)
    packs = sorted(repo.rglob("*.age"))
    size = 0
    t0 = time.perf_counter()
    for f in packs:
        with f.open("rb", buffering=0) as fh:
            size += len(fh.read())
    seconds = time.perf_counter() - t0
    evict(repo)
    return size / MiB / seconds


class RssSampler:
    """Peak resident memory of this process plus its children (the age workers), sampled every
    0.2 s from /proc. Shared memory slots are counted in both the parent and the worker."""

    def __init__(self) -> None:
        import threading

        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    @staticmethod
    def _rss(pid: str) -> int:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
        except OSError:
            pass
        return 0

    def _children(self) -> list[str]:
        out: list[str] = []
        for task in Path("/proc/self/task").iterdir():
            try:
                out += (task / "children").read_text().split()
            except OSError:
                continue
        return out

    def _run(self) -> None:
        while not self._stop.wait(0.2):
            total = self._rss("self") + sum(self._rss(c) for c in self._children())
            self.peak = max(self.peak, total)

    def close(self) -> int:
        self._stop.set()
        self._thread.join()
        return self.peak


def cpu_seconds() -> float:
    """CPU time of this process and of its ended children (the age workers), user + system."""
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


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


def timed(fn, *args, **kwargs):  # type: ignore[no-untyped-def]
    """(result, CPU seconds of this process and its children, 1-min load average after)."""
    c0 = cpu_seconds()
    out = fn(*args, **kwargs)
    return out, cpu_seconds() - c0, os.getloadavg()[0]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size-mib", type=int, default=1024)
    ap.add_argument("--scale", type=int, default=400)
    ap.add_argument("--out", type=Path, default=Path("bench/results/backup.md"))
    ap.add_argument("--workdir", type=Path, default=None)
    ap.add_argument("--rounds", type=int, default=None, help="interleaved rounds (default 3; 1 above 2 GiB)")
    ap.add_argument("--workers", type=int, default=None, help="age worker processes (default: one per core)")
    ap.add_argument("--label", default="", help="added to the figures' names (e.g. 'tmpfs')")
    ap.add_argument(
        "--place",
        choices=("disk", "tmpfs"),
        default=None,
        help="where the register, the repository, the backups and the restores go "
        "(default: tmpfs up to 2 GiB, the work disk above)",
    )
    args = ap.parse_args()
    large = args.size_mib > 2048
    place = args.place or ("disk" if large else "tmpfs")
    rounds_n = args.rounds or (1 if large else 3)
    # Above 2 GiB on tmpfs, register + repository fill RAM: the one backup of each round is the
    # repository itself, and the register is deleted before the restore (no incremental step).
    tight = place == "tmpfs" and large
    if tight:
        rounds_n = 1
    work = Path(tempfile.mkdtemp(prefix="svidok-bench-backup-", dir=args.workdir))
    fast = (
        work / "place" if place == "disk" else Path(tempfile.mkdtemp(prefix="svidok-bench-", dir="/dev/shm"))
    )
    fast.mkdir(exist_ok=True)
    reg_root = fast / "reg" if place == "tmpfs" else work / "reg"
    rss = RssSampler()
    try:
        mach = machine()
        loads = [os.getloadavg()[0]]
        t0 = time.perf_counter()
        settings, p = build(reg_root, args.size_mib, args.scale)
        build_s = time.perf_counter() - t0
        with p.store.read() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        files = snapshot_files(settings)
        blobs = FileBlobStore(settings.data_dir / "blobs")
        recipient = new_identity_file(work / "custodian.key")
        ids = load_identities(work / "custodian.key")
        w = args.workers
        repo = DirTarget(fast / "repo")
        first = None
        if not tight:
            first = service.create(p, settings, [repo], "bench", blobs, recipients=[recipient], workers=w)
        loads.append(os.getloadavg()[0])
        # Interleaved rounds, so that the others' load on this shared machine hits every step alike.
        b_rounds: list[dict[str, float]] = []
        r_rounds: list[dict[str, float]] = []
        last_null: service.RestoreReport | None = None
        last_rest: service.RestoreReport | None = None
        size = 0
        for k in range(rounds_n):
            b: dict[str, float] = {}
            r: dict[str, float] = {}
            size, b["enc"], r["dec"] = raw_age(files)
            b["write"] = write_baseline(files, fast / "write-probe")
            b["direct"] = direct_write_baseline(files, fast / "write-probe")
            null, b["null cpu"], b["null load"] = timed(
                service.create, p, settings, [NullTarget()], "bench", blobs, recipients=[recipient], workers=w
            )
            b["null"] = rate(null.bytes_read, null.seconds)
            into = fast / "repo" if tight else fast / "backup"
            made, b["dir cpu"], b["dir load"] = timed(
                service.create,
                p,
                settings,
                [DirTarget(into)],
                "bench",
                blobs,
                recipients=[recipient],
                workers=w,
            )
            b["dir"] = rate(made.bytes_read, made.seconds)
            b["dir s"] = made.seconds
            if tight:
                p.close()
                shutil.rmtree(reg_root)  # RAM: the register goes before the restores
            else:
                shutil.rmtree(into)
            r["read"] = read_baseline(fast / "repo")
            r["write"] = b["direct"]
            r["disk"] = 1 / (1 / r["read"] + 1 / r["write"])  # read it all, write it all, one disk
            last_null, r["null cpu"], r["null load"] = timed(service.check_restore, repo, ids, workers=w)
            r["null"] = rate(last_null.bytes_written, last_null.seconds)
            evict(fast / "repo")
            last_rest, r["rest cpu"], r["rest load"] = timed(
                service.restore,
                repo,
                ids,
                fast / f"round{k}",
                MasterSecret(passphrase="round passphrase"),
                params=TEST_ARGON2,
                workers=w,
            )
            assert last_rest.audit_ok
            r["rest"] = rate(last_rest.bytes_written, last_rest.seconds)
            r["rest s"] = last_rest.seconds
            shutil.rmtree(fast / f"round{k}")
            b_rounds.append(b)
            r_rounds.append(r)
            loads.append(os.getloadavg()[0])
        assert last_null is not None and last_rest is not None
        again = changed = None
        added = 0
        if not tight:
            again = service.create(p, settings, [repo], "bench", blobs, workers=w)
            added = change_one_percent(p, blobs, size)
            changed = service.create(p, settings, [repo], "bench", blobs, workers=w)
            p.close()
        peak_rss = rss.close()
        loads.append(os.getloadavg()[0])

        def med(rounds: list[dict[str, float]], a: str, b: str | None = None) -> float:
            return statistics.median(x[a] / x[b] if b is not None else x[a] for x in rounds)

        bx = {
            "null": med(b_rounds, "null", "enc"),
            "dir": med(b_rounds, "dir", "enc"),
            "direct": med(b_rounds, "dir", "direct"),
            "write": med(b_rounds, "dir", "write"),
            "ceiling": med(b_rounds, "direct", "enc"),
        }
        rx = {
            "null": med(r_rounds, "null", "dec"),
            "rest": med(r_rounds, "rest", "dec"),
            "disk": med(r_rounds, "rest", "disk"),
            "ceiling": med(r_rounds, "disk", "dec"),
        }
        label = f"{size / MiB / 1024:.0f} GiB" if size >= 1024 * MiB else f"{size / MiB:.0f} MiB"
        if args.label:
            label += f", {args.label}"
        command = " ".join([".venv/bin/python", *sys.argv])
        load_text = ", ".join(f"{x:.1f}" for x in loads)
        where = "the work disk" if place == "disk" else "tmpfs (/dev/shm)"
        from svidok.backup.agepool import default_workers

        nworkers = default_workers() if w is None else w
        lines = [
            f"# Backup and restore throughput ({label})",
            "",
            f"Machine: {mach}.",
            f"Date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC. Command: `{command}`",
            f"Load average (1 min) at start, after the setup, after each round and at the end: {load_text}.",
            "",
            f"Register: {size / MiB:,.0f} MiB in {len(files)} files (SQLCipher register of a demo at scale "
            f"{args.scale} + evidence blobs), built in {build_s:.0f} s. One custodian recipient; "
            f"{nworkers} age worker process(es). Register, repository, backups, baselines and restores on "
            f"{where}; every timed read of the repository starts with its pages dropped from the page "
            f"cache. Peak RSS of the benchmark process plus its age workers (sampled): {peak_rss / MiB:,.0f} MiB.",
            "",
            f"Backup, {rounds_n} round(s) (MiB/s; × = ratio within the round; CPU = seconds of this "
            "process and its workers, user + system):",
            "",
            "| round | raw age encrypt | write + fsync via page cache | write + fsync O_DIRECT | backup → null "
            "| × enc | CPU s | backup → directory | × enc | × O_DIRECT write | wall s | CPU s | load |",
            "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
            *[
                f"| {k + 1} | {x['enc']:,.0f} | {x['write']:,.0f} | {x['direct']:,.0f} | {x['null']:,.0f} "
                f"| {x['null'] / x['enc']:.2f} | {x['null cpu']:.0f} | {x['dir']:,.0f} | {x['dir'] / x['enc']:.2f} "
                f"| {x['dir'] / x['direct']:.2f} | {x['dir s']:.0f} | {x['dir cpu']:.0f} | {x['dir load']:.1f} |"
                for k, x in enumerate(b_rounds)
            ],
            f"| **median** | {med(b_rounds, 'enc'):,.0f} | {med(b_rounds, 'write'):,.0f} | "
            f"{med(b_rounds, 'direct'):,.0f} | {med(b_rounds, 'null'):,.0f} | **{bx['null']:.2f}** | | "
            f"{med(b_rounds, 'dir'):,.0f} | **{bx['dir']:.2f}** | **{bx['direct']:.2f}** | | | |",
            "",
            f"Disk ceiling for a backup written to {where}: O_DIRECT write + fsync = **{bx['ceiling']:.2f}×** "
            f"raw age encryption (through the page cache: {med(b_rounds, 'write', 'enc'):.2f}×).",
            "",
            "Restore, same rounds (MiB/s; restore bytes are the files written; the disk ceiling reads every "
            "pack cold and writes as much with O_DIRECT, one after the other: 1 / (1/read + 1/write)):",
            "",
            "| round | raw age decrypt | cold read of the packs | disk ceiling | restore → null sink | × dec "
            "| CPU s | restore → directory | × dec | × disk ceiling | wall s | CPU s | load |",
            "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
            *[
                f"| {k + 1} | {x['dec']:,.0f} | {x['read']:,.0f} | {x['disk']:,.0f} | {x['null']:,.0f} "
                f"| {x['null'] / x['dec']:.2f} | {x['null cpu']:.0f} | {x['rest']:,.0f} | {x['rest'] / x['dec']:.2f} "
                f"| {x['rest'] / x['disk']:.2f} | {x['rest s']:.0f} | {x['rest cpu']:.0f} | {x['rest load']:.1f} |"
                for k, x in enumerate(r_rounds)
            ],
            f"| **median** | {med(r_rounds, 'dec'):,.0f} | {med(r_rounds, 'read'):,.0f} | "
            f"{med(r_rounds, 'disk'):,.0f} | {med(r_rounds, 'null'):,.0f} | **{rx['null']:.2f}** | | "
            f"{med(r_rounds, 'rest'):,.0f} | **{rx['rest']:.2f}** | **{rx['disk']:.2f}** | | | |",
            "",
            f"Disk ceiling for a restore on {where}: **{rx['ceiling']:.2f}×** raw age decryption.",
            "",
            f"Where the last round's restore spent its time ({last_rest.seconds:.1f} s wall; busy seconds of "
            f"each step's thread, the steps overlap; decrypt = age's own time summed over the workers): "
            f"{busy_line(last_rest.busy)}. Restore → null sink ({last_null.seconds:.1f} s wall): "
            f"{busy_line(last_null.busy)}.",
            "",
        ]
        if first is not None and again is not None and changed is not None:
            incr = changed.targets[0].bytes_written / changed.bytes_read
            lines += [
                f"First backup wrote {first.targets[0].bytes_written:,} bytes in {first.targets[0].new_packs} "
                f"packs; the unchanged second one wrote {again.targets[0].bytes_written:,} bytes "
                f"({again.targets[0].bytes_written / again.bytes_read:.3%}). After ~1 % of changes (new evidence "
                f"of {added:,} bytes = {added / size:.2%} of the register, and 1 % of the sources edited) the "
                f"third wrote {changed.targets[0].bytes_written:,} bytes = **{incr:.2%}** of the "
                f"{changed.bytes_read:,} bytes read.",
                "",
            ]
        text = "\n".join(lines)
        print(text)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text)
        goal = ">= 0.6"
        note = f"median of {rounds_n} round(s) on {where}, {nworkers} age workers; load {load_text}"
        for figure, value, unit, fgoal in (
            (f"backup × raw age encryption ({label})", bx["null"], "×", goal),
            (f"backup to a directory × raw age encryption ({label})", bx["dir"], "×", goal),
            (f"backup to a directory × O_DIRECT write + fsync ({label})", bx["direct"], "×", None),
            (f"disk ceiling for a backup × raw age encryption ({label})", bx["ceiling"], "×", None),
            (f"restore × raw age decryption ({label})", rx["rest"], "×", goal),
            (f"restore to a null sink × raw age decryption ({label})", rx["null"], "×", goal),
            (f"restore × disk ceiling ({label})", rx["disk"], "×", None),
            (f"disk ceiling for a restore × raw age decryption ({label})", rx["ceiling"], "×", None),
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
            round(med(b_rounds, "dir")),
            "MiB/s",
            command=command,
            note=f"to a directory; {note}",
        )
        record(
            "backup",
            f"restore throughput ({label})",
            round(med(r_rounds, "rest")),
            "MiB/s",
            command=command,
            note=note,
        )
        record("backup", f"register size ({label})", round(size / MiB), "MiB", command=command)
        if changed is not None:
            incr = changed.targets[0].bytes_written / changed.bytes_read
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
            note="benchmark process + age workers, sampled every 0.2 s",
        )
    finally:
        rss.close()
        shutil.rmtree(work, ignore_errors=True)
        shutil.rmtree(fast, ignore_errors=True)


if __name__ == "__main__":
    main()
