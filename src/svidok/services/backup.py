"""Backup use cases: create, verify, restore, evacuate, list, prune (BAK-01..03, KEY-02).

`create` reads the register once (a consistent snapshot, see
`svidok.backup.source`), cuts every file into fixed-size chunks, names each
chunk by its keyed BLAKE3 and, for every target, packs the chunks that target
does not hold yet into age-encrypted packs; then it writes the encrypted index
and key bundle and the signed manifest. `verify` re-reads every object a
snapshot needs and checks hashes and signatures (with a custodian's identity
also decrypts every pack and re-computes every chunk id). `restore` rebuilds a
data directory from a snapshot on a machine that never saw the original,
under a new passphrase or key file. `evacuate` is create + verify on every
target, then (on request) destruction of the local keys. Services write the
audit log: `backup.create`, `backup.evacuate`, `backup.restore`.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from svidok.backup import restore as unpacking
from svidok.backup.agepool import AgePool
from svidok.backup.repo import (
    CONFIG,
    DB_CHUNK,
    FILE_CHUNK,
    PACK_SIZE,
    AgeIdentity,
    BackupCorrupt,
    BackupKeys,
    Manifest,
    PackRef,
    PackWriter,
    Repository,
    decode_ids,
    encode_ids,
    index_object,
    keys_object,
    lock_object,
    map_object,
    now_utc,
    pack_object,
    parse_recipient,
)
from svidok.backup.source import (
    REGISTER_FILE,
    ReadAhead,
    blob_files,
    database_snapshot,
    extra_files,
    segments,
)
from svidok.backup.targets import ObjectMissing, Target, TargetError
from svidok.crypto.keyring import (
    KEYRING_FILE,
    KEYS_FILE,
    OWASP_ARGON2,
    Argon2Params,
    KeyBundle,
    KeyBundleError,
    Keyring,
    MasterSecret,
)
from svidok.errors import ConfigError, InputError
from svidok.evidence.blobs import BlobStore
from svidok.services.keys import Protection
from svidok.settings import Settings

__all__ = [
    "CreateReport",
    "RestoreReport",
    "VerifyReport",
    "backup_keys",
    "check_restore",
    "create",
    "evacuate",
    "list_snapshots",
    "prune",
    "restore",
    "verify",
]

Progress = Callable[[int], None]
LOCK_MAX_AGE = 6 * 3600


def backup_keys(keyring: Keyring) -> BackupKeys:
    """The chunk-id MAC key and the manifest signing key, derived from the register's keys."""
    chunk_key = keyring.derive("blob", "backup chunk id")
    seed = keyring.derive("audit-signing", "backup manifest signing")
    return BackupKeys(chunk_key, Ed25519PrivateKey.from_private_bytes(seed))


# -- create ------------------------------------------------------------------------------------------------


@dataclass
class TargetResult:
    target: str
    new_packs: int = 0
    bytes_written: int = 0
    created_repository: bool = False
    error: str | None = None


@dataclass
class CreateReport:
    snapshot: str
    signing_key: str
    files: int = 0
    bytes_read: int = 0
    chunks: int = 0
    unique_chunks: int = 0
    seconds: float = 0.0
    audit_size: int = 0
    targets: list[TargetResult] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(t.error is None for t in self.targets)


@dataclass
class _Sink:
    repo: Repository
    writer: PackWriter
    known: dict[bytes, PackRef]
    result: TargetResult


def _open_or_initialise(
    target: Target, keys: BackupKeys, register_id: str, recipients: list[str]
) -> tuple[Repository, bool]:
    if not target.exists(CONFIG):
        return Repository.initialise(target, keys, register_id, recipients), True
    repo = Repository.open(target, pinned_key=keys.public_b64)
    if repo.config["register"] != register_id:
        raise ConfigError(
            f"{target.describe()}: this repository belongs to register {repo.config['register']}"
        )
    if recipients and sorted({r.strip() for r in recipients}) != repo.custodians:
        raise ConfigError(
            f"{target.describe()}: its custodians differ from the --recipient list; "
            "use a new target for a new set of custodians"
        )
    return repo, False


def _fail(sink: _Sink, exc: Exception) -> None:
    sink.result.error = str(exc)


def _create(
    p: Protection,
    settings: Settings,
    targets: list[Target],
    actor: str,
    blobs: BlobStore,
    sinks: list[_Sink],
    *,
    recipients: Iterable[str],
    progress: Progress | None,
    action: str,
    pool: AgePool,
) -> CreateReport:
    if not settings.is_embedded:
        raise ConfigError(
            "svidok backup reads the embedded register; on PostgreSQL use streaming replication and "
            "pg_dump for the database (docs/backup.md)"
        )
    if not targets:
        raise InputError("give at least one --to TARGET")
    started = time.perf_counter()
    for r in recipients:
        parse_recipient(r)
    keys = backup_keys(p.keyring)
    from svidok.backup.repo import new_snapshot_id

    sid = new_snapshot_id()
    report = CreateReport(sid, keys.public_b64)
    for target in targets:
        result = TargetResult(target.describe())
        report.targets.append(result)
        try:
            repo, fresh = _open_or_initialise(target, keys, p.keyring.register_id, list(recipients))
            result.created_repository = fresh
            valid = [m for _sid, m in repo.manifests() if isinstance(m, Manifest)]
            known = repo.known_chunks(valid)
            target.put(lock_object(sid), now_utc().encode())
            sinks.append(_Sink(repo, PackWriter(target, repo.recipient, pool=pool), known, result))
        except (TargetError, ConfigError, BackupCorrupt) as exc:
            result.error = str(exc)
    if not sinks:
        report.seconds = time.perf_counter() - started
        return report

    from sqlalchemy.exc import IntegrityError

    for attempt in range(10):  # a concurrent appender took our sequence number: retry
        try:
            with p.store.begin() as conn:
                p.audit.append(
                    conn,
                    actor,
                    action,
                    None,
                    None,
                    {"snapshot": sid, "targets": [s.result.target for s in sinks]},
                )
                cp = p.audit.checkpoint(conn)
            break
        except IntegrityError:
            if attempt == 9:
                raise
            time.sleep(0.01 * (attempt + 1))
    report.audit_size = cp.size

    files: list[dict[str, Any]] = []
    seen: set[bytes] = set()

    def take(segment: bytes, cs: int, ids: list[bytes]) -> None:
        view = memoryview(segment)
        seg_ids = [keys.chunk_id(view[o : o + cs]) for o in range(0, len(segment), cs)]
        ids += seg_ids
        report.chunks += len(seg_ids)
        distinct = len(set(seg_ids)) == len(seg_ids)
        for sink in sinks:
            if sink.result.error is not None:
                continue
            known, pending = sink.known, sink.writer.pending
            try:
                if (
                    distinct
                    and len(segment) >= FILE_CHUNK
                    and not any(c in known or c in pending for c in seg_ids)
                ):
                    sink.writer.add_segment(seg_ids, cs, segment)  # no copy: the read is the pack
                    continue
                for k, cid in enumerate(seg_ids):
                    if cid not in known and cid not in pending:
                        sink.writer.add(cid, view[k * cs : (k + 1) * cs])
            except TargetError as exc:
                _fail(sink, exc)
        seen.update(seg_ids)
        if progress:
            progress(len(segment))

    # One thread reads ahead (reads release the GIL), this one hashes and encrypts, one I/O
    # thread per target hashes ciphertext and writes: age encryption is the only serial step.
    with database_snapshot(settings.data_dir / REGISTER_FILE, p.keyring.db_key(), DB_CHUNK) as snap:
        sources = itertools.chain(
            snap.files, blob_files(blobs, FILE_CHUNK), extra_files(settings.data_dir, FILE_CHUNK)
        )
        ids: list[bytes] = []
        size = 0
        with ReadAhead(segments(sources, PACK_SIZE), name="svidok-backup-read") as reader:
            for source, segment in reader:
                if source.kind != "database":
                    snap.release()  # the database files are read: let the server checkpoint again
                if segment is not None:
                    take(segment, source.chunk_size, ids)
                    size += len(segment)
                    continue
                report.bytes_read += size
                report.files += 1
                files.append(
                    {
                        "path": source.path,
                        "kind": source.kind,
                        "size": size,
                        "chunk_size": source.chunk_size,
                        "chunks": encode_ids(ids),
                    }
                )
                ids, size = [], 0
    report.unique_chunks = len(seen)
    index = {
        "format": "svidok-backup-index",
        "version": 1,
        "snapshot": sid,
        "register": p.keyring.register_id,
        "created": now_utc(),
        "chunk_key": _b64(keys.chunk_key),
        "files": files,
        "audit": {"size": cp.size, "root": cp.root.hex(), "origin": cp.origin},
    }
    for sink in sinks:
        if sink.result.error is not None:
            continue
        try:
            sink.writer.flush()
            sink.writer.drain()
            refs: dict[str, PackRef] = {}
            for cid in seen:
                ref = sink.known.get(cid)
                if ref is None:
                    ref = sink.writer.location(cid)
                refs[ref.pack] = ref
            index_ref = sink.repo.put_json(index_object(sid), index)
            # Each repository's own recipient: the keys leave the keyring as ciphertext only.
            keys_ref = sink.repo.put_sealed(keys_object(sid), p.keyring.export_bundle([sink.repo.recipient]))
            sink.repo.target.flush()  # every pack durable before the manifest names it
            body = {
                "format": "svidok-backup-snapshot",
                "version": 1,
                "snapshot": sid,
                "repo": sink.repo.config["repo"],
                "register": p.keyring.register_id,
                "created": now_utc(),
                "index": index_ref,
                "keys": keys_ref,
                "packs": [refs[k].row() for k in sorted(refs)],
                "stats": {
                    "files": report.files,
                    "bytes": report.bytes_read,
                    "chunks": report.chunks,
                    "unique_chunks": report.unique_chunks,
                    "new_packs": len(sink.writer.written),
                    "new_bytes": sink.writer.bytes_written + index_ref["size"] + keys_ref["size"],
                    "audit_size": cp.size,
                },
            }
            sink.repo.write_manifest(sid, body, keys.signing)
            sink.result.new_packs = len(sink.writer.written)
            sink.result.bytes_written = int(body["stats"]["new_bytes"])
            sink.repo.target.delete(lock_object(sid))
        except (TargetError, BackupCorrupt) as exc:
            _fail(sink, exc)
    for sink in sinks:
        try:
            sink.writer.drain()
        except TargetError:
            pass  # already reported
    report.seconds = time.perf_counter() - started
    return report


def create(
    p: Protection,
    settings: Settings,
    targets: list[Target],
    actor: str,
    blobs: BlobStore,
    *,
    recipients: Iterable[str] = (),
    progress: Progress | None = None,
    action: str = "backup.create",
    workers: int | None = None,
) -> CreateReport:
    """Back up the register to every target in one pass; a failing target does not stop the others.

    `workers`: age worker processes (default one per core; 0 encrypts in this process).
    """
    sinks: list[_Sink] = []
    pool = AgePool(PACK_SIZE + FILE_CHUNK, workers)
    try:
        return _create(
            p,
            settings,
            targets,
            actor,
            blobs,
            sinks,
            recipients=recipients,
            progress=progress,
            action=action,
            pool=pool,
        )
    finally:
        for sink in sinks:
            sink.writer.close()
        pool.close()


def _b64(data: bytes) -> str:
    import base64

    return base64.b64encode(data).decode()


# -- verify ------------------------------------------------------------------------------------------------


@dataclass
class VerifyReport:
    target: str
    snapshots: list[str] = field(default_factory=list)
    packs: int = 0
    chunks: int = 0
    bytes_read: int = 0
    decrypted: bool = False
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        depth = "decrypted and re-hashed" if self.decrypted else "hashes and signatures checked"
        head = (
            f"{self.target}: {len(self.snapshots)} snapshot(s), {self.packs} pack(s), "
            f"{self.chunks} chunk(s), {self.bytes_read:,} bytes read; {depth}"
        )
        if self.ok:
            return head + ": OK"
        return head + f": {len(self.problems)} problem(s)\n" + "\n".join(f"  {p}" for p in self.problems)


def _short(cid: bytes) -> str:
    return cid.hex()[:16]


def verify(
    target: Target,
    *,
    pinned_key: str | None = None,
    identities: list[AgeIdentity] | None = None,
    snapshot: str | None = None,
) -> VerifyReport:
    """Re-read every object the snapshots need; name each missing, altered or replaced one."""
    report = VerifyReport(target.describe(), decrypted=identities is not None)
    try:
        repo = Repository.open(target, pinned_key)
    except (BackupCorrupt, ConfigError) as exc:
        report.problems.append(str(exc))
        return report
    identity = None
    if identities is not None:
        try:
            identity = repo.repo_identity(identities)
        except (BackupCorrupt, InputError, ObjectMissing) as exc:
            report.problems.append(str(exc))
    sids = [snapshot] if snapshot else repo.snapshot_ids()
    if not sids:
        report.problems.append("no snapshots in this repository")
    manifests: list[Manifest] = []
    for sid in sids:
        try:
            manifests.append(repo.manifest(sid))
            report.snapshots.append(sid)
        except (BackupCorrupt, ObjectMissing) as exc:
            report.problems.append(f"snapshot {sid}: {exc}")
    chunk_key: bytes | None = None
    needed: dict[str, dict[bytes, list[str]]] = {}
    for m in manifests:
        for part in ("index", "keys"):
            ref = m.body.get(part)
            if ref is None:
                continue
            try:
                data = repo.get_checked(ref["object"], ref["blake3"])
                report.bytes_read += len(data)
                if identity is not None and part == "keys":
                    try:
                        KeyBundle.open(data, [identity])
                    except KeyBundleError as exc:
                        raise BackupCorrupt(f"{ref['object']}: {exc}") from exc
                elif identity is not None:
                    body = repo.read_json(ref["object"], ref["blake3"], identity)
                    if part == "index":
                        chunk_key = _unb64(body["chunk_key"])
                        owners: dict[bytes, list[str]] = {}
                        for f in body["files"]:
                            for i, cid in enumerate(decode_ids(f["chunks"])):
                                owners.setdefault(cid, []).append(f"{f['path']} chunk {i}")
                        needed[m.snapshot] = owners
            except ObjectMissing as exc:
                if part == "keys":
                    continue  # key bundles have their own retention (KEY-02)
                report.problems.append(f"snapshot {m.snapshot}: {exc}")
            except BackupCorrupt as exc:
                report.problems.append(f"snapshot {m.snapshot}: {exc}")
    refs: dict[str, PackRef] = {}
    users: dict[str, list[str]] = {}
    for m in manifests:
        for ref in m.packs:
            refs.setdefault(ref.pack, ref)
            users.setdefault(ref.pack, []).append(m.snapshot)
    present: dict[str, set[bytes]] = {}
    checker: BackupKeys | None = None
    for pid in sorted(refs):
        ref = refs[pid]
        report.packs += 1
        who = f"(used by snapshot {', '.join(users[pid][:3])}{' ...' if len(users[pid]) > 3 else ''})"
        try:
            entries = repo.pack_map(ref)
            report.bytes_read += ref.map_size
        except (BackupCorrupt, ObjectMissing) as exc:
            report.problems.append(f"pack {pid}: {exc} {who}")
            continue
        present[pid] = {e[0] for e in entries}
        report.chunks += len(entries)
        listed = ", ".join(_short(e[0]) for e in entries[:4]) + (" ..." if len(entries) > 4 else "")
        try:
            data = repo.get_checked(pack_object(pid), ref.pack_b3)
            report.bytes_read += len(data)
        except ObjectMissing:
            report.problems.append(f"pack {pid}: missing; chunks {listed} are lost {who}")
            continue
        except BackupCorrupt as exc:
            report.problems.append(f"pack {pid}: {exc}; chunks {listed} {who}")
            continue
        if identity is not None and chunk_key is not None:
            try:
                plain = repo.decrypt(pack_object(pid), data, identity)
            except BackupCorrupt as exc:
                report.problems.append(f"pack {pid}: {exc}")
                continue
            keys = checker if checker is not None else BackupKeys(chunk_key, Ed25519PrivateKey.generate())
            checker = keys
            view = memoryview(plain)
            for cid, off, length in entries:
                if off + length > len(plain) or keys.chunk_id(view[off : off + length]) != cid:
                    report.problems.append(f"pack {pid}: chunk {_short(cid)} does not match its id")
    if identity is not None:
        for m in manifests:
            if not all(ref.pack in present for ref in m.packs):
                continue  # an unreadable pack map is reported above
            in_packs: set[bytes] = set()
            for ref in m.packs:
                in_packs |= present[ref.pack]
            for cid, where in needed.get(m.snapshot, {}).items():
                if cid not in in_packs:
                    report.problems.append(
                        f"snapshot {m.snapshot}: chunk {_short(cid)} ({where[0]}) "
                        "is in none of its packs (missing)"
                    )
    return report


def _unb64(text: str) -> bytes:
    import base64

    return base64.b64decode(text.encode(), validate=True)


# -- restore -----------------------------------------------------------------------------------------------


@dataclass
class RestoreReport:
    snapshot: str
    data_dir: Path
    files: int = 0
    bytes_written: int = 0
    keys_from: str = ""
    audit_size: int = 0
    audit_ok: bool = False
    seconds: float = 0.0
    counts: dict[str, int] = field(default_factory=dict)
    packs: int = 0
    cleaned_partial: bool = False
    """An unfinished earlier restore into the directory was found and removed first."""
    busy: dict[str, float] = field(default_factory=dict)
    """Seconds per step (busy time of the thread doing it; the steps overlap)."""


def _open_snapshot(
    target: Target, identities: list[AgeIdentity], snapshot: str | None, pinned_key: str | None
) -> tuple[Repository, AgeIdentity, Manifest, dict[str, Any]]:
    repo = Repository.open(target, pinned_key)
    identity = repo.repo_identity(identities)
    sids = repo.snapshot_ids()
    if not sids:
        raise ConfigError(f"{target.describe()}: no snapshots to restore")
    sid = snapshot or sids[-1]
    if sid not in sids:
        raise InputError(f"{target.describe()}: no snapshot {sid}")
    manifest = repo.manifest(sid)
    index = repo.read_json(manifest.body["index"]["object"], manifest.body["index"]["blake3"], identity)
    return repo, identity, manifest, index


def restore(
    target: Target,
    identities: list[AgeIdentity],
    new_dir: Path,
    secret: MasterSecret,
    *,
    snapshot: str | None = None,
    pinned_key: str | None = None,
    keys_from: str | None = None,
    params: Argon2Params = OWASP_ARGON2,
    actor: str = "restore",
    progress: Progress | None = None,
    workers: int | None = None,
    direct: bool = True,
) -> RestoreReport:
    """Rebuild a data directory from a snapshot, under a new master secret; check its audit log.

    Everything is written, checked and fsync'ed under `new_dir/.restore-partial/` and moved into
    `new_dir` only at the end (keyring last), so an interrupted restore leaves a directory no
    command can open; the next restore into it removes the leftover (`svidok.backup.restore`).
    """
    started = time.perf_counter()
    if new_dir.exists() and not new_dir.is_dir():
        raise ConfigError(f"{new_dir} is not a directory")
    if new_dir.exists() and any(e.name != unpacking.STAGING for e in new_dir.iterdir()):
        if not (new_dir / unpacking.STAGING).is_dir() or (new_dir / KEYRING_FILE).exists():
            raise ConfigError(f"{new_dir} is not empty; restore into a new directory")
    repo, identity, manifest, index = _open_snapshot(target, identities, snapshot, pinned_key)
    sid = manifest.snapshot
    bundle, used_keys = _key_bundle(repo, manifest, identity, keys_from)
    staging, cleaned = unpacking.prepare(new_dir)
    report = RestoreReport(sid, new_dir, keys_from=used_keys, cleaned_partial=cleaned)
    try:
        stats = unpacking.unpack(
            repo,
            identity,
            sid,
            index,
            manifest.packs,
            staging,
            progress=progress,
            workers=workers,
            direct=direct,
        )
        report.files, report.bytes_written, report.packs = stats.files, stats.bytes, stats.packs
        t0 = time.perf_counter()
        Keyring.restore(staging, bundle, secret, params)
        report.audit_ok, report.audit_size, report.counts = _check_audit(
            staging,
            secret,
            index,
            sid,
            actor,
            {"snapshot": sid, "repo": repo.config["repo"], "keys_from": used_keys},
        )
        stats.add("keys and audit log", time.perf_counter() - t0)
        t0 = time.perf_counter()
        unpacking.sync_files(staging)  # the keyring and what the audit check appended
        unpacking.commit(staging, new_dir)
        stats.add("commit", time.perf_counter() - t0)
        report.busy = stats.busy
    except OSError as exc:  # a full or failing disk under the new data directory
        unpacking.discard(new_dir)
        raise ConfigError(
            f"cannot write the restore into {new_dir}: {exc.strerror or exc}; nothing of it was kept"
        ) from exc
    except BaseException:
        unpacking.discard(new_dir)
        raise
    report.seconds = time.perf_counter() - started
    return report


def _check_audit(
    data_dir: Path, secret: MasterSecret, index: dict[str, Any], sid: str, actor: str, detail: dict[str, Any]
) -> tuple[bool, int, dict[str, int]]:
    """The restored log's first n entries give the root recorded at backup time; the whole log
    verifies; then a `backup.restore` entry and a new checkpoint are appended (BAK-03)."""
    p = Protection.open(Settings(data_dir=data_dir), secret)
    try:
        with p.store.read() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            audit = index["audit"]
            root = p.audit.root(conn, int(audit["size"]))
            log = p.audit.verify(conn)
        if root.hex() != audit["root"]:
            raise BackupCorrupt(
                f"snapshot {sid}: the restored audit log's first {audit['size']} entries do not give the "
                "root recorded at backup time"
            )
        if log.ok:
            with p.store.begin() as conn:
                p.audit.append(conn, actor, "backup.restore", None, None, detail)
                p.audit.checkpoint(conn)
        counts = p.store.counts()
    finally:
        p.close()
    return log.ok, log.entries, counts


def check_restore(
    target: Target,
    identities: list[AgeIdentity],
    *,
    snapshot: str | None = None,
    pinned_key: str | None = None,
    progress: Progress | None = None,
    workers: int | None = None,
) -> RestoreReport:
    """Everything a restore does to the data except writing it: fetch, decrypt, check every chunk.

    Shows that a snapshot would restore, and (in bench/) how fast the restore pipeline runs
    without a disk under it.
    """
    started = time.perf_counter()
    repo, identity, manifest, index = _open_snapshot(target, identities, snapshot, pinned_key)
    stats = unpacking.unpack(
        repo, identity, manifest.snapshot, index, manifest.packs, None, progress=progress, workers=workers
    )
    report = RestoreReport(manifest.snapshot, Path(), files=stats.files, bytes_written=stats.bytes)
    report.packs, report.busy = stats.packs, stats.busy
    report.seconds = time.perf_counter() - started
    return report


def _key_bundle(
    repo: Repository, manifest: Manifest, identity: AgeIdentity, keys_from: str | None
) -> tuple[KeyBundle, str]:
    """The snapshot's own key bundle, the one named, or else the newest one still kept (KEY-02)."""
    candidates = [keys_from] if keys_from else [manifest.snapshot, *reversed(repo.snapshot_ids())]
    for sid in candidates:
        try:
            m = manifest if sid == manifest.snapshot else repo.manifest(sid)
        except (BackupCorrupt, ObjectMissing):
            continue  # a damaged manifest cannot vouch for its key bundle
        ref = m.body.get("keys")
        if ref is None:
            continue
        try:
            bundle = KeyBundle.open(repo.get_checked(ref["object"], ref["blake3"]), [identity])
        except ObjectMissing:
            continue
        except KeyBundleError as exc:
            raise BackupCorrupt(f"{ref['object']}: {exc}") from exc
        if bundle.register_id != manifest.body["register"]:
            raise BackupCorrupt(f"{keys_object(sid)}: key bundle of another register")
        return bundle, sid
    raise ConfigError(f"{repo.name}: no key bundle left for snapshot {manifest.snapshot} (pruned?)")


# -- list and prune ----------------------------------------------------------------------------------------


@dataclass
class SnapshotRow:
    snapshot: str
    created: str
    files: int
    bytes: int
    new_bytes: int
    has_keys: bool
    problem: str | None = None


def list_snapshots(target: Target, pinned_key: str | None = None) -> list[SnapshotRow]:
    repo = Repository.open(target, pinned_key)
    keys = set(target.list("keys/"))
    rows = []
    for sid, m in repo.manifests():
        if isinstance(m, Manifest):
            s = m.stats
            rows.append(
                SnapshotRow(
                    sid,
                    m.created,
                    int(s.get("files", 0)),
                    int(s.get("bytes", 0)),
                    int(s.get("new_bytes", 0)),
                    keys_object(sid) in keys,
                )
            )
        else:
            rows.append(SnapshotRow(sid, "?", 0, 0, 0, keys_object(sid) in keys, str(m)))
    return rows


def select_keep(
    created: dict[str, datetime], *, last: int = 0, daily: int = 0, weekly: int = 0, monthly: int = 0
) -> set[str]:
    """Which snapshots a retention policy keeps (restic's rules: newest per period, newest first)."""
    order = sorted(created, key=lambda s: (created[s], s), reverse=True)
    keep = set(order[:last])
    for count, bucket in (
        (daily, lambda d: d.strftime("%Y-%m-%d")),
        (weekly, lambda d: "{}-{:02d}".format(*d.isocalendar()[:2])),
        (monthly, lambda d: d.strftime("%Y-%m")),
    ):
        seen: set[str] = set()
        for sid in order:
            if len(seen) >= count:
                break
            b = bucket(created[sid])
            if b not in seen:
                seen.add(b)
                keep.add(sid)
    return keep


@dataclass
class PrunePlan:
    target: str
    keep: list[str]
    remove: list[str]
    remove_keys: list[str]
    remove_packs: list[str]
    skipped: list[str]
    freed_bytes: int = 0
    done: bool = False


def prune(
    target: Target,
    *,
    keep_last: int = 0,
    keep_daily: int = 0,
    keep_weekly: int = 0,
    keep_monthly: int = 0,
    keep_keys: int | None = None,
    pinned_key: str | None = None,
    dry_run: bool = False,
    force: bool = False,
) -> PrunePlan:
    """Forget snapshots outside the policy and delete packs no kept snapshot uses."""
    if not (keep_last or keep_daily or keep_weekly or keep_monthly):
        raise InputError("give a retention policy (--keep-last, --keep-daily, --keep-weekly, --keep-monthly)")
    repo = Repository.open(target, pinned_key)
    now = time.time()
    for name in target.list("locks/"):
        try:
            since = datetime.strptime(target.get(name).decode(), "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        except (ValueError, ObjectMissing):
            continue
        if now - since.timestamp() < LOCK_MAX_AGE and not force:
            raise ConfigError(
                f"{target.describe()}: a backup is running ({name}); prune later or use --force"
            )
    valid: dict[str, Manifest] = {}
    skipped = []
    for sid, m in repo.manifests():
        if isinstance(m, Manifest):
            valid[sid] = m
        else:
            skipped.append(f"{sid}: {m}")
    created = {s: datetime.strptime(m.created, "%Y-%m-%dT%H:%M:%SZ") for s, m in valid.items()}
    keep = select_keep(created, last=keep_last, daily=keep_daily, weekly=keep_weekly, monthly=keep_monthly)
    remove = sorted(set(valid) - keep)
    kept_newest = sorted(keep, key=lambda s: (created[s], s), reverse=True)
    existing_keys = set(target.list("keys/"))
    remove_keys = [keys_object(s) for s in remove if keys_object(s) in existing_keys]
    if keep_keys is not None:
        remove_keys += [keys_object(s) for s in kept_newest[keep_keys:] if keys_object(s) in existing_keys]
    used = {ref.pack for s in keep for ref in valid[s].packs}
    sizes = {}
    for name in target.list("packs/"):
        if name.endswith(".age"):
            sizes[name.rsplit("/", 1)[1].removesuffix(".age")] = name
    remove_packs = sorted(pid for pid in sizes if pid not in used)
    if skipped and not force:
        remove_packs = []  # an unreadable manifest might need them: fix or forget it first
    freed = sum(ref.pack_size for s in remove for ref in valid[s].packs if ref.pack in set(remove_packs))
    plan = PrunePlan(target.describe(), sorted(keep), remove, remove_keys, remove_packs, skipped, freed)
    if dry_run:
        return plan
    for sid in remove:
        target.delete(f"snapshots/{sid}.json")
        target.delete(index_object(sid))
    for name in remove_keys:
        target.delete(name)
    for pid in remove_packs:
        target.delete(pack_object(pid))
        target.delete(map_object(pid))
    plan.done = True
    return plan


# -- evacuate ----------------------------------------------------------------------------------------------


@dataclass
class EvacuationReport:
    dry_run: bool
    targets: list[str]
    plan: list[str] = field(default_factory=list)
    backup: CreateReport | None = None
    verified: list[VerifyReport] = field(default_factory=list)
    wiped: list[Path] = field(default_factory=list)


def evacuate(
    p: Protection,
    settings: Settings,
    targets: list[Target],
    actor: str,
    blobs: BlobStore,
    *,
    recipients: Iterable[str] = (),
    wipe_local: bool = False,
    dry_run: bool = False,
) -> EvacuationReport:
    """A full backup to every target, verified by re-reading it; then, if asked, destroy the local keys."""
    names = [t.describe() for t in targets]
    report = EvacuationReport(dry_run, names)
    if dry_run:
        db = settings.data_dir / REGISTER_FILE
        size = sum(f.stat().st_size for f in (db, db.with_name(db.name + "-wal")) if f.is_file())
        blob_count = sum(1 for _ in blobs.digests())
        for t in targets:
            state = "existing repository" if t.exists(CONFIG) else "new repository"
            report.plan.append(f"back up to {t.describe()} ({state})")
        report.plan.append(
            f"read the register ({size:,} bytes of SQLCipher pages) and {blob_count} evidence blob(s)"
        )
        report.plan.append("verify every target by re-reading every pack of the new snapshot")
        if wipe_local:
            for name in (KEYRING_FILE, KEYS_FILE):
                if (settings.data_dir / name).is_file():
                    report.plan.append(f"overwrite and delete {settings.data_dir / name}")
            report.plan.append(
                "leave only ciphertext: register.db (SQLCipher), blobs (AEAD), no key to open them"
            )
        return report
    report.backup = create(
        p, settings, targets, actor, blobs, recipients=recipients, action="backup.evacuate"
    )
    failed = [t for t in report.backup.targets if t.error]
    for t in targets:
        if any(f.target == t.describe() for f in failed):
            continue
        report.verified.append(
            verify(t, pinned_key=report.backup.signing_key, snapshot=report.backup.snapshot)
        )
    if failed or not all(v.ok for v in report.verified):
        return report
    if wipe_local:
        p.close()
        report.wiped = p.keyring.destroy_local()
    return report
