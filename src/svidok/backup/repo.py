"""The backup repository format: signed config and manifests, age-encrypted packs, pack maps.

One repository lives on one target. Object names and contents:

```
config.json              signed: repo id, register id, Ed25519 signing key, the repository's
                         age recipient, the custodians' recipients, chunk and pack sizes
repokey.age              the repository's age identity, age-encrypted to every custodian
packs/ab/<pack>.age      age(repository recipient, chunk ‖ chunk ‖ ...)   ~8 MiB of plaintext
packs/ab/<pack>.map      "SVDKMAP1" ‖ count u32 ‖ count × (chunk id 32 ‖ offset u32 ‖ length u32)
index/<snapshot>.age     age(repository recipient, JSON: files → chunk ids, audit checkpoint,
                         the chunk-id key)
keys/<snapshot>.age      age(repository recipient, JSON: the register's data keys in the clear
                         and tombstones) — the key backup, with its own retention (KEY-02)
snapshots/<snapshot>.json  signed manifest: index and keys objects and every pack the snapshot
                         uses, each with its BLAKE3 hash and size
locks/<snapshot>.lock    present while a backup writes (prune waits)
```

Signed documents are JSON `{"signed": body, "signature": base64}`, the
signature being Ed25519 over `"svidok-backup/1\\n" ‖ kind ‖ "\\n" ‖ canonical
JSON(body)` (sorted keys, no spaces). The signing key is derived from the
register's keyring (HKDF of the audit-signing key, info "backup manifest
signing"), so a restored register keeps signing the same repository. The
public key is in config.json and printed by `svidok backup create`; pin it with
`--key` when verifying on another machine.

Chunk ids are keyed BLAKE3 (key = HKDF of the register's blob key, info
"backup chunk id") of the chunk's plaintext: equal plaintext gives equal ids,
so a chunk already in the repository is not sent again, and an id says nothing
about the content to someone without the key. The pack maps are plaintext
(ids, offsets and lengths only) so that the machine that makes backups, which
holds no backup-decryption key (BAK-01), can see which chunks the repository
already has; the maps are authenticated through their hashes in the signed
manifests.

Why a repository key between the chunks and the custodians: chunks are shared
by every snapshot, so they cannot be re-encrypted when custodians change; with
one X25519 stanza per pack (the repository's) instead of one per custodian,
adding a custodian means re-encrypting `repokey.age` only. The private half of
the repository key is generated when the repository is created, written
encrypted to the custodians and forgotten: the server cannot read its backups.
"""

from __future__ import annotations

import base64
import importlib
import json
import re
import secrets
import struct
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import blake3
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from svidok.backup.agepool import AgePool, AgeRefused, Lease
from svidok.backup.targets import ObjectMissing, Target
from svidok.errors import ConfigError, InputError, SvidokError

pyrage: Any = importlib.import_module("pyrage")  # untyped Rust extension; typed at this boundary
x25519: Any = pyrage.x25519
AgeIdentity = Any
AgeRecipient = Any

__all__ = [
    "AgeIdentity",
    "AgeRecipient",
    "BackupCorrupt",
    "BackupKeys",
    "Manifest",
    "PackRef",
    "PackWriter",
    "Repository",
    "load_identities",
    "parse_recipient",
]

FORMAT = "svidok-backup"
VERSION = 1
CONFIG = "config.json"
REPO_KEY = "repokey.age"
DB_CHUNK = 32 * 1024
"""Database files: 8 SQLCipher pages of 4 KiB; a changed page costs one 32 KiB chunk."""
FILE_CHUNK = 1024 * 1024
"""Evidence blobs and other files (immutable once written): 1 MiB."""
PACK_SIZE = 8 * 1024 * 1024
_MAP_MAGIC = b"SVDKMAP1"
_MAP_ENTRY = struct.Struct(">32sII")
_SNAPSHOT = re.compile(r"^\d{8}T\d{6}\.\d{6}Z-[0-9a-f]{6}$")


class BackupCorrupt(SvidokError):
    """A repository object is missing, altered or does not authenticate; the message names it."""

    exit_code = 5


def now_utc() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def new_snapshot_id() -> str:
    """Sortable by time: `20260809T201500.123456Z-3fa9c1`."""
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ") + "-" + secrets.token_hex(3)


def is_snapshot_id(text: str) -> bool:
    return bool(_SNAPSHOT.match(text))


def canonical(body: Any) -> bytes:
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def b3(data: bytes | memoryview) -> str:
    return blake3.blake3(data).hexdigest()


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _unb64(text: str) -> bytes:
    return base64.b64decode(text.encode(), validate=True)


def snapshot_object(sid: str) -> str:
    return f"snapshots/{sid}.json"


def index_object(sid: str) -> str:
    return f"index/{sid}.age"


def keys_object(sid: str) -> str:
    return f"keys/{sid}.age"


def pack_object(pid: str) -> str:
    return f"packs/{pid[:2]}/{pid}.age"


def map_object(pid: str) -> str:
    return f"packs/{pid[:2]}/{pid}.map"


def lock_object(sid: str) -> str:
    return f"locks/{sid}.lock"


# -- keys ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BackupKeys:
    """What the register's keyring gives the backup: the chunk-id MAC key and the signing key."""

    chunk_key: bytes
    signing: Ed25519PrivateKey

    @property
    def public_b64(self) -> str:
        return _b64(self.signing.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw))

    def chunk_id(self, data: bytes | memoryview) -> bytes:
        return blake3.blake3(data, key=self.chunk_key).digest()


def public_key_of(b64: str) -> Ed25519PublicKey:
    try:
        return Ed25519PublicKey.from_public_bytes(_unb64(b64))
    except ValueError as exc:
        raise InputError("not an Ed25519 public key (base64 of 32 bytes)") from exc


def parse_recipient(text: str) -> AgeRecipient:
    try:
        return x25519.Recipient.from_str(text.strip())
    except Exception as exc:  # pyrage raises its own RecipientError
        raise InputError(f"{text.strip()[:12]}...: not an age X25519 recipient (age1...)") from exc


def load_identities(path: Path) -> list[AgeIdentity]:
    """Age identities from a key file (`age-keygen` output or `svidok backup keygen`)."""
    try:
        lines = path.read_text().splitlines()
    except OSError as exc:
        raise ConfigError(f"cannot read identity file {path}") from exc
    identities = []
    for line in lines:
        line = line.strip()
        if line.startswith("AGE-SECRET-KEY-1"):
            try:
                identities.append(x25519.Identity.from_str(line))
            except Exception as exc:
                raise InputError(f"{path}: a line is not a valid age identity") from exc
    if not identities:
        raise InputError(f"{path}: no age identity (AGE-SECRET-KEY-1...) in this file")
    return identities


def new_identity_file(path: Path) -> str:
    """Write a new age identity (0600, refusing to overwrite); return its public recipient."""
    import os

    identity = x25519.Identity.generate()
    recipient = str(identity.to_public())
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(f"# created: {now_utc()}\n# public key: {recipient}\n{identity}\n")
    return recipient


# -- signed documents -----------------------------------------------------------------------------------


def _signed_message(kind: str, body: dict[str, Any]) -> bytes:
    return b"svidok-backup/1\n" + kind.encode() + b"\n" + canonical(body)


def sign_document(kind: str, body: dict[str, Any], key: Ed25519PrivateKey) -> bytes:
    signature = key.sign(_signed_message(kind, body))
    return json.dumps({"signed": body, "signature": _b64(signature)}, sort_keys=True, indent=1).encode()


def open_document(kind: str, name: str, raw: bytes, public: Ed25519PublicKey) -> dict[str, Any]:
    """The body of a signed document, or `BackupCorrupt` naming the object."""
    try:
        doc = json.loads(raw)
        body = doc["signed"]
        signature = _unb64(doc["signature"])
    except (ValueError, KeyError, TypeError) as exc:
        raise BackupCorrupt(f"{name}: not a signed {kind} document (altered or replaced)") from exc
    try:
        public.verify(signature, _signed_message(kind, body))
    except InvalidSignature:
        raise BackupCorrupt(f"{name}: signature does not verify (manifest altered or replaced)") from None
    if not isinstance(body, dict):
        raise BackupCorrupt(f"{name}: signed body is not an object")
    return body


# -- packs -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PackRef:
    """A pack as a manifest lists it: id, BLAKE3 and size of the ciphertext and of the map."""

    pack: str
    pack_b3: str
    pack_size: int
    map_b3: str
    map_size: int

    def row(self) -> list[Any]:
        return [self.pack, self.pack_b3, self.pack_size, self.map_b3, self.map_size]

    @classmethod
    def from_row(cls, row: list[Any]) -> PackRef:
        return cls(str(row[0]), str(row[1]), int(row[2]), str(row[3]), int(row[4]))


def encode_map(entries: list[tuple[bytes, int, int]]) -> bytes:
    return _MAP_MAGIC + struct.pack(">I", len(entries)) + b"".join(_MAP_ENTRY.pack(*e) for e in entries)


def decode_map(name: str, data: bytes) -> list[tuple[bytes, int, int]]:
    if data[:8] != _MAP_MAGIC or len(data) < 12:
        raise BackupCorrupt(f"{name}: not a pack map")
    (count,) = struct.unpack(">I", data[8:12])
    if len(data) != 12 + count * _MAP_ENTRY.size:
        raise BackupCorrupt(f"{name}: pack map has the wrong length")
    return [_MAP_ENTRY.unpack_from(data, 12 + i * _MAP_ENTRY.size) for i in range(count)]


class PackWriter:
    """Collects new chunks for one repository and writes them as age-encrypted packs.

    With an `AgePool` (`svidok.backup.agepool`) each pack is copied into a worker process's
    memory slot and encrypted there, so several packs are encrypted at once on several cores
    (pyrage holds the GIL for a whole call: in one process age gets one core); without one,
    encryption runs on the caller's thread. One I/O thread per writer takes each ciphertext in
    order, hashes it with BLAKE3 (which releases the GIL) and hands it to the target straight
    from the slot (a directory target writes it with O_DIRECT, no copy), then frees the slot.
    At most `window` packs are in flight. A pack's `PackRef` exists once its write has
    finished: `location` and `written` are complete after `drain`.
    """

    def __init__(
        self,
        target: Target,
        recipient: AgeRecipient,
        pack_size: int = PACK_SIZE,
        window: int | None = None,
        pool: AgePool | None = None,
    ) -> None:
        self.target = target
        self.recipient = recipient
        self.pack_size = pack_size
        self.pool = pool
        self.window = window or (3 if pool is None else max(3, pool.capacity + 1))
        self._buf = bytearray(pack_size + FILE_CHUNK)  # reused: no page faults per pack
        self._io = ThreadPoolExecutor(max_workers=1, thread_name_prefix="svidok-pack-io")
        self._puts: deque[Future[PackRef]] = deque()
        self._size = 0
        self._entries: list[tuple[bytes, int, int]] = []
        self.written: list[PackRef] = []
        self.bytes_written = 0
        self.pending: set[bytes] = set()
        self._pack_of: dict[bytes, str] = {}
        self._refs: dict[str, PackRef] = {}

    def add(self, chunk_id: bytes, data: bytes | memoryview) -> None:
        """Copy a chunk into the pack being filled (the caller may reuse `data` afterwards)."""
        n = len(data)
        if self._size + n > len(self._buf):
            self._buf.extend(bytes(self._size + n - len(self._buf)))
        self._buf[self._size : self._size + n] = data
        self._entries.append((chunk_id, self._size, n))
        self._size += n
        self.pending.add(chunk_id)
        if self._size >= self.pack_size:
            self.flush()

    def flush(self) -> str | None:
        """Encrypt the pack being filled and hand it to the target; return its id (None if empty)."""
        if not self._entries:
            return None
        pid = self._write(self._entries, memoryview(self._buf)[: self._size])
        self._entries = []
        self._size = 0
        return pid

    def add_segment(self, chunk_ids: list[bytes], chunk_size: int, segment: bytes) -> str:
        """Write a run of new chunks, already contiguous in `segment`, as one pack of its own."""
        entries = [
            (cid, k * chunk_size, min(chunk_size, len(segment) - k * chunk_size))
            for k, cid in enumerate(chunk_ids)
        ]
        self.pending.update(chunk_ids)
        return self._write(entries, segment)

    def _write(self, entries: list[tuple[bytes, int, int]], plain: bytes | memoryview) -> str:
        pid = secrets.token_hex(16)
        mapping = encode_map(entries)
        # At most `window` packs wait for the I/O thread; its errors surface here or in drain().
        while len(self._puts) >= self.window:
            self._done(self._puts.popleft().result())
        sealed: Future[Lease] | bytes
        if self.pool is not None:
            sealed = self.pool.submit_encrypt(plain, self.recipient)  # copied: `plain` is free again
        else:
            sealed = pyrage.encrypt(bytes(plain), [self.recipient])  # age takes bytes only
        self._puts.append(self._io.submit(self._put_pair, pid, sealed, mapping))
        for chunk_id, _off, _len in entries:
            self._pack_of.setdefault(chunk_id, pid)
        return pid

    def _put_pair(self, pid: str, sealed: Future[Lease] | bytes, mapping: bytes) -> PackRef:
        if isinstance(sealed, bytes):
            lease = Lease(memoryview(sealed))
        else:
            try:
                lease = sealed.result()
            except AgeRefused as exc:  # encryption does not fail on good input: a bug
                raise RuntimeError(f"age refused to encrypt pack {pid}") from exc
        try:
            ciphertext = lease.view
            ref = PackRef(pid, b3(ciphertext), len(ciphertext), b3(mapping), len(mapping))
            self.target.put(pack_object(pid), ciphertext)
        finally:
            lease.release()
        self.target.put(map_object(pid), mapping)
        return ref

    def _done(self, ref: PackRef) -> None:
        self.written.append(ref)
        self._refs[ref.pack] = ref
        self.bytes_written += ref.pack_size + ref.map_size

    def drain(self) -> None:
        """Wait for every pack handed to the target; re-raise the first failure."""
        try:
            while self._puts:
                self._done(self._puts.popleft().result())
        finally:
            self._io.shutdown(wait=True)
            self._io = ThreadPoolExecutor(max_workers=1, thread_name_prefix="svidok-pack-io")

    def close(self) -> None:
        """Stop the I/O thread (after `drain`, or to abandon a failed backup)."""
        self._io.shutdown(wait=True, cancel_futures=True)

    def location(self, chunk_id: bytes) -> PackRef:
        """The pack a chunk added here went into (after `flush` and `drain`)."""
        return self._refs[self._pack_of[chunk_id]]


# -- manifests and the repository ---------------------------------------------------------------------


@dataclass
class Manifest:
    snapshot: str
    body: dict[str, Any]

    @property
    def packs(self) -> list[PackRef]:
        return [PackRef.from_row(r) for r in self.body["packs"]]

    @property
    def created(self) -> str:
        return str(self.body["created"])

    @property
    def stats(self) -> dict[str, Any]:
        return dict(self.body.get("stats", {}))


@dataclass
class Repository:
    """A repository on a target, its config checked against a signing key."""

    target: Target
    config: dict[str, Any]
    public: Ed25519PublicKey = field(repr=False)

    @property
    def name(self) -> str:
        return self.target.describe()

    @property
    def recipient(self) -> AgeRecipient:
        return parse_recipient(str(self.config["repo_recipient"]))

    @property
    def custodians(self) -> list[str]:
        return [str(c) for c in self.config["custodians"]]

    # -- creating and opening ----------------------------------------------------------------

    @classmethod
    def initialise(
        cls, target: Target, keys: BackupKeys, register_id: str, custodians: list[str]
    ) -> Repository:
        """Make a new repository: a fresh repository key, encrypted to the custodians, then forgotten."""
        if target.exists(CONFIG):
            raise ConfigError(f"{target.describe()}: a backup repository already exists here")
        if not custodians:
            raise InputError("a new backup repository needs at least one --recipient (age1...)")
        recipients = [parse_recipient(c) for c in custodians]
        repo_identity = x25519.Identity.generate()
        body = {
            "format": FORMAT + "-repo",
            "version": VERSION,
            "repo": secrets.token_hex(8),
            "register": register_id,
            "created": now_utc(),
            "signing_key": keys.public_b64,
            "repo_recipient": str(repo_identity.to_public()),
            "custodians": sorted({c.strip() for c in custodians}),
            "chunk_sizes": {"database": DB_CHUNK, "file": FILE_CHUNK},
            "pack_size": PACK_SIZE,
        }
        target.put(REPO_KEY, pyrage.encrypt(str(repo_identity).encode() + b"\n", recipients))
        target.put(CONFIG, sign_document("config", body, keys.signing))
        del repo_identity
        return cls(target, body, keys.signing.public_key())

    @classmethod
    def open(cls, target: Target, pinned_key: str | None = None) -> Repository:
        """Open a repository; its config must be signed by `pinned_key` when one is given."""
        try:
            raw = target.get(CONFIG)
        except ObjectMissing:
            raise ConfigError(f"{target.describe()}: no backup repository here ({CONFIG} missing)") from None
        try:
            claimed = json.loads(raw)["signed"]["signing_key"]
        except (ValueError, KeyError, TypeError) as exc:
            raise BackupCorrupt(f"{CONFIG}: not a signed repository config") from exc
        if pinned_key is not None and claimed != pinned_key.strip():
            raise BackupCorrupt(
                f"{CONFIG}: signed with key {claimed[:12]}..., not the pinned key "
                f"{pinned_key.strip()[:12]}... (repository replaced?)"
            )
        public = public_key_of(str(claimed))
        body = open_document("config", CONFIG, raw, public)
        if body.get("format") != FORMAT + "-repo" or body.get("version") != VERSION:
            raise BackupCorrupt(f"{CONFIG}: unknown format {body.get('format')!r}")
        return cls(target, body, public)

    def repo_identity(self, identities: list[AgeIdentity]) -> AgeIdentity:
        """Open `repokey.age` with a custodian's identity."""
        data = self.target.get(REPO_KEY)
        try:
            text = pyrage.decrypt(data, identities).decode().strip()
        except Exception as exc:
            raise InputError(
                f"{REPO_KEY}: the identity given is not one of this repository's custodians"
            ) from exc
        identity = x25519.Identity.from_str(text)
        if str(identity.to_public()) != self.config["repo_recipient"]:
            raise BackupCorrupt(f"{REPO_KEY}: the repository key does not match {CONFIG} (replaced?)")
        return identity

    # -- manifests ---------------------------------------------------------------------------------

    def snapshot_ids(self) -> list[str]:
        out = []
        for name in self.target.list("snapshots/"):
            stem = name.removeprefix("snapshots/").removesuffix(".json")
            if name.endswith(".json") and is_snapshot_id(stem):
                out.append(stem)
        return sorted(out)

    def manifest(self, sid: str) -> Manifest:
        name = snapshot_object(sid)
        body = open_document("snapshot", name, self.target.get(name), self.public)
        if body.get("snapshot") != sid or body.get("repo") != self.config["repo"]:
            raise BackupCorrupt(f"{name}: manifest belongs to another snapshot or repository (replaced)")
        return Manifest(sid, body)

    def manifests(self) -> Iterator[tuple[str, Manifest | BackupCorrupt]]:
        for sid in self.snapshot_ids():
            try:
                yield sid, self.manifest(sid)
            except BackupCorrupt as exc:
                yield sid, exc

    def write_manifest(self, sid: str, body: dict[str, Any], signing: Ed25519PrivateKey) -> None:
        self.target.put(snapshot_object(sid), sign_document("snapshot", body, signing))

    # -- objects checked against a manifest ------------------------------------------------------

    def get_checked(self, name: str, expected_b3: str) -> bytes:
        data = self.target.get(name)
        if b3(data) != expected_b3:
            raise BackupCorrupt(f"{name}: content hash differs from the manifest (altered)")
        return data

    def pack_map(self, ref: PackRef) -> list[tuple[bytes, int, int]]:
        name = map_object(ref.pack)
        return decode_map(name, self.get_checked(name, ref.map_b3))

    def known_chunks(self, manifests: list[Manifest]) -> dict[bytes, PackRef]:
        """Every chunk id the valid manifests reference, with the pack that holds it."""
        known: dict[bytes, PackRef] = {}
        seen: set[str] = set()
        for manifest in manifests:
            for ref in manifest.packs:
                if ref.pack in seen:
                    continue
                seen.add(ref.pack)
                try:
                    entries = self.pack_map(ref)
                except (BackupCorrupt, ObjectMissing):
                    continue  # its chunks will be sent again
                for chunk_id, _off, _len in entries:
                    known.setdefault(chunk_id, ref)
        return known

    def decrypt(self, name: str, data: bytes, identity: AgeIdentity) -> bytes:
        try:
            return bytes(pyrage.decrypt(data, [identity]))
        except Exception as exc:
            raise BackupCorrupt(f"{name}: does not decrypt with the repository key (altered)") from exc

    def read_json(self, name: str, expected_b3: str, identity: AgeIdentity) -> dict[str, Any]:
        plain = self.decrypt(name, self.get_checked(name, expected_b3), identity)
        try:
            out = json.loads(plain)
        except ValueError as exc:
            raise BackupCorrupt(f"{name}: not JSON after decryption") from exc
        if not isinstance(out, dict):
            raise BackupCorrupt(f"{name}: not a JSON object")
        return out

    def put_json(self, name: str, body: dict[str, Any]) -> dict[str, Any]:
        """Encrypt `body` to the repository key and store it; return its {object, blake3, size}."""
        return self.put_sealed(name, pyrage.encrypt(canonical(body), [self.recipient]))

    def put_sealed(self, name: str, data: bytes) -> dict[str, Any]:
        """Store an object already age-encrypted (to the repository key); return its reference."""
        self.target.put(name, data)
        return {"object": name, "blake3": b3(data), "size": len(data)}


def encode_ids(ids: list[bytes]) -> str:
    return _b64(b"".join(ids))


def decode_ids(text: str) -> list[bytes]:
    raw = _unb64(text)
    return [raw[i : i + 32] for i in range(0, len(raw), 32)]
