"""The key hierarchy: master key → wrapped data keys (KEY-02, ENC-02, ENC-06).

Threat: a seized laptop or a copied server disk. Nothing readable may sit on
disk: the register file is SQLCipher-encrypted, blobs and fields are AEAD
ciphertext, and every key that opens them is itself wrapped by a master key
that exists only in memory, derived from a passphrase or read from a key file
the operator keeps elsewhere (a USB stick, a hardware-backed store).

Design:

* master key = Argon2id(passphrase, salt) with RFC 9106's low-memory profile
  (m = 64 MiB, t = 3, p = 4; above the OWASP minimum), or HKDF-SHA256 over the
  bytes of a key file. Salt, parameters and a check value live in
  `<data_dir>/keyring.json`; a wrong passphrase fails the check value
  (`WrongPassphrase`) before anything is touched.
* data keys are random 256-bit keys, wrapped with AES-256-GCM under the master
  key, AAD = "svidok-key/1" ‖ key id, so a wrapped key cannot be moved to another
  id. They live in `<data_dir>/keys.db` (SQLite, `secure_delete=ON`, WAL journal with
  `synchronous=FULL`: a batch of new keys is one append and one fsync, durable before the
  register row sealed under them commits), apart from the register, so data backups never
  carry them: fixed keys (`register-db`,
  `blob`, `field`, `blind-index`, `audit-signing`) and one key per subject
  (`subject:<id>`) for crypto-shredding.
* subject keys are wrapped by the `subject-wrap` data key, not by the master
  (rows with `master_id` = "subject-wrap"): the server makes them all the time,
  and a rotation done by another process while it runs re-wraps that one key, so
  the keys the server goes on making still open under the new passphrase. Subject
  keys from before it (wrapped by the master) are still read.
* rotation (`rotate`) re-wraps every live data key under a new master in one
  transaction (subject keys excepted, see above); no data is re-encrypted. The
  new keyring.json is written beside the old one first and renamed after the
  commit, so an interrupted rotation is finished by the next unlock with the
  new passphrase.
* destroying a data key deletes its wrapped bytes and leaves a tombstone;
  reading it afterwards raises `KeyDestroyed`. Then VACUUM (under secure_delete) and a
  `wal_checkpoint(TRUNCATE)`: the WAL's older page images, which still hold the wrapped key,
  are copied over by the zeroed pages and the WAL is cut to nothing; if another process keeps
  a read open too long the destroy fails with EBUSY and repeating it finishes the scrub (a
  rotation scrubs the same way, so no key wrapped under the old master stays in the WAL).
* subject keys are many (one per personal record, see `svidok.services.erasure`),
  so they are read through one long-lived connection and kept unwrapped in memory;
  `PRAGMA data_version` on that connection (checked at most every 0.1 s) tells
  when another connection or process (an erasure from the CLI while the server
  runs) changed keys.db, and the cache is dropped then. `subject_keys` makes the missing keys of a batch in
  one transaction (an import writes thousands of personal records at once): one CSPRNG call for
  the batch's keys and wrapping nonces, each key still independent, random and on its own row
  (so each is destroyed alone). `subject_cipher` hands out a ready AES-GCM object per key (kept
  for the last `SUBJECT_CIPHER_CACHE` keys, dropped with the key cache), so sealing and opening
  a value costs no key set-up.

Formats: keyring.json = {"format": "svidok-keyring", "version": 1, "register":
hex id, "master": {"kind": "argon2id", "salt": b64, "t", "m", "p"} | {"kind":
"keyfile", "salt": b64}, "master_id": hex, "check": b64(nonce ‖ ciphertext),
"audit_verifier_key": C2SP vkey}. Wrapped key = nonce(12) ‖ ciphertext+tag(48).

Key bundle (KEY-02, for backups and evacuation): `export_bundle` writes every
live data key *unwrapped*, with tombstones of destroyed ones and the public
parts of keyring.json, as JSON age-encrypted to the recipients given (a
custodian abroad never had the passphrase, so wrapped keys would be useless
to them); the plaintext exists only in memory inside that call. `KeyBundle.open`
decrypts one with an age identity and checks it; `Keyring.restore` writes a
fresh keyring.json and keys.db wrapping the same keys under a new master (the
register id and audit verifier key are kept, so the log's origin and
checkpoint signatures continue). `destroy_local` overwrites and deletes the
keyring's files (evacuation). Bundle format: {"format": "svidok-backup-keys",
"version": 1, "keyring": {format, version, register, audit_verifier_key},
"keys": [{"key_id", "purpose", "created_at", "destroyed_at", "key": b64 | null}]}.

Trade-offs: keys.db deletes are overwritten in place (secure_delete) but SSD
wear-levelling can keep old blocks, and so can the blocks a truncated WAL gave back to the
filesystem (as those of the rollback journal and of VACUUM's copies did before the WAL);
the wrapped bytes are still under the master key, so shredding holds unless the attacker
also gets the passphrase of that time. Overwriting in `destroy_local` has the same limit on SSDs; it still
defeats undelete and a casual look at the disk.
"""

from __future__ import annotations

import base64
import errno
import hmac
import importlib
import json
import os
import secrets
import sqlite3
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from hashlib import sha256
from pathlib import Path
from typing import Any

from argon2.low_level import Type, hash_secret_raw
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from svidok.crypto.errors import KeyDestroyed, KeyringMissing, WrongPassphrase
from svidok.errors import ConfigError, InputError

__all__ = [
    "Argon2Params",
    "KeyBundle",
    "KeyBundleError",
    "Keyring",
    "MasterSecret",
    "OWASP_ARGON2",
    "TEST_ARGON2",
]

KEYRING_FILE = "keyring.json"
KEYS_FILE = "keys.db"
_CHECK = b"svidok keyring check v1"
_CHECK_AAD = b"svidok-keyring/1 check"
FIXED_KEYS = ("register-db", "blob", "field", "blind-index", "audit-signing")
SUBJECT_PREFIX = "subject:"
SUBJECT_WRAP = "subject-wrap"
"""The key that wraps subject keys (itself wrapped by the master), and the `master_id` of the
rows it wraps. Subject keys are made all the time (every record with personal data); under a
key of their own they survive a rotation done by another process while the server runs: the
rotation re-wraps this one key, and the server goes on wrapping new subject keys under it."""
SUBJECT_RECHECK_S = 0.1
"""How stale the subject-key cache may be: keys.db is checked for other writers (an erasure
from the CLI while the server runs) at most this often, not on every value read."""
SUBJECT_CIPHER_CACHE = 8192
"""How many ready AES-GCM objects of subject keys are kept (about 2.5 KB each in OpenSSL, so
not one per key of a large register): a batch seals and reads back its values without making
one per value; the unwrapped keys themselves stay cached as before."""
SCRUB_TRIES = 50
"""Attempts (0.1 s apart, beyond SQLite's busy timeout) to empty keys.db's WAL after keys are
destroyed, while another process holds a read transaction on it."""
BUNDLE_FORMAT = "svidok-backup-keys"
_PUBLIC_META = ("format", "version", "register", "audit_verifier_key")
_SIDE_FILES = (
    KEYRING_FILE,
    KEYRING_FILE + ".new",
    KEYRING_FILE + ".tmp",
    KEYS_FILE,
    KEYS_FILE + "-journal",
    KEYS_FILE + "-wal",
    KEYS_FILE + "-shm",
)


class KeyBundleError(InputError):
    """A key bundle does not decrypt with the identities given, or is not a well-formed bundle."""


@dataclass(frozen=True)
class Argon2Params:
    time_cost: int
    memory_kib: int
    parallelism: int


OWASP_ARGON2 = Argon2Params(time_cost=3, memory_kib=64 * 1024, parallelism=4)
"""RFC 9106 low-memory profile; above OWASP's floor (m = 19 MiB, t = 2, p = 1)."""
TEST_ARGON2 = Argon2Params(time_cost=1, memory_kib=8 * 1024, parallelism=1)
"""Cheap parameters for tests only."""


@dataclass(frozen=True)
class MasterSecret:
    """What the operator brings: a passphrase or the bytes of a key file (never both)."""

    passphrase: str | None = None
    key_file: Path | None = None

    def __post_init__(self) -> None:
        if (self.passphrase is None) == (self.key_file is None):
            raise ConfigError("give either a passphrase or a key file")


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _unb64(text: str) -> bytes:
    return base64.b64decode(text.encode(), validate=True)


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _derive(secret: MasterSecret, master: dict[str, Any]) -> bytes:
    salt = _unb64(master["salt"])
    if master["kind"] == "argon2id":
        if secret.passphrase is None:
            raise WrongPassphrase("this keyring is opened with a passphrase, not a key file")
        return hash_secret_raw(
            secret.passphrase.encode(),
            salt,
            time_cost=int(master["t"]),
            memory_cost=int(master["m"]),
            parallelism=int(master["p"]),
            hash_len=32,
            type=Type.ID,
        )
    if master["kind"] == "keyfile":
        if secret.key_file is None:
            raise WrongPassphrase("this keyring is opened with a key file, not a passphrase")
        try:
            material = secret.key_file.read_bytes()
        except OSError as exc:
            raise ConfigError(f"cannot read key file {secret.key_file}") from exc
        if len(material) < 32:
            raise ConfigError(f"key file {secret.key_file} holds fewer than 32 bytes")
        return HKDF(hashes.SHA256(), 32, salt, b"svidok master key v1").derive(material)
    raise ConfigError(f"unknown master key kind {master['kind']!r} in {KEYRING_FILE}")


def _master_record(secret: MasterSecret, params: Argon2Params) -> dict[str, Any]:
    salt = _b64(os.urandom(16))
    if secret.passphrase is not None:
        if len(secret.passphrase) < 8:
            raise InputError("the passphrase must have at least 8 characters")
        return {
            "kind": "argon2id",
            "salt": salt,
            "t": params.time_cost,
            "m": params.memory_kib,
            "p": params.parallelism,
        }
    return {"kind": "keyfile", "salt": salt}


def _master_id(master: bytes) -> str:
    return hmac.new(master, b"svidok master id", sha256).hexdigest()[:16]


def _wrap(master: bytes, key_id: str, key: bytes) -> bytes:
    nonce = os.urandom(12)
    return nonce + AESGCM(master).encrypt(nonce, key, b"svidok-key/1\x00" + key_id.encode())


def _unwrap(master: bytes, key_id: str, wrapped: bytes) -> bytes:
    return AESGCM(master).decrypt(wrapped[:12], wrapped[12:], b"svidok-key/1\x00" + key_id.encode())


def _check_value(master: bytes) -> str:
    nonce = os.urandom(12)
    return _b64(nonce + AESGCM(master).encrypt(nonce, _CHECK, _CHECK_AAD))


def _opens(master: bytes, check: str) -> bool:
    blob = _unb64(check)
    try:
        return AESGCM(master).decrypt(blob[:12], blob[12:], _CHECK_AAD) == _CHECK
    except InvalidTag:
        return False


def _disk_full(exc: sqlite3.OperationalError) -> bool:
    text = str(exc).lower()
    return "database or disk is full" in text or "disk i/o error" in text


def _key_ids_in(select_sql: str, count: int) -> str:
    """`select_sql` restricted to `count` key ids given as parameters."""
    return f"{select_sql} WHERE key_id IN ({','.join('?' * count)})"  # nosec B608 # only "?" placeholders are formatted in


def _connect_keys(path: Path, *, check_same_thread: bool = True) -> sqlite3.Connection:
    """A connection to keys.db: WAL with `synchronous=FULL` (a key is durable, one fsync, before
    the register row sealed under it commits), `secure_delete` (deleted bytes are zeroed)."""
    db = sqlite3.connect(path, isolation_level=None, timeout=10.0, check_same_thread=check_same_thread)
    db.execute("PRAGMA secure_delete=ON")
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    return db


def _scrub_wal(db: sqlite3.Connection, path: Path) -> None:
    """After keys were destroyed (or re-wrapped): copy every WAL frame into keys.db, whose pages
    `secure_delete` and VACUUM have zeroed, and truncate the WAL to nothing, so no earlier page
    image holding a wrapped key survives in `keys.db-wal`. Retries while another connection
    (the server) holds a read transaction; fails rather than leave a copy behind."""
    for _ in range(SCRUB_TRIES):
        # busy = 0: every frame was copied and the file truncated (frames another connection
        # writes afterwards are images of pages as they are now, with the keys zeroed)
        if not db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]:
            return
        time.sleep(0.1)
    raise OSError(
        errno.EBUSY,
        f"cannot empty {path.name}-wal: another process keeps reading {path.name}; run the command again",
    )


def generate_key_file(path: Path) -> None:
    """Write 32 random bytes (hex) to a new key file readable by its owner only."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(secrets.token_hex(32) + "\n")


def _age() -> Any:
    return importlib.import_module("pyrage")  # untyped Rust extension; typed at this boundary


@dataclass(frozen=True)
class _BundleKey:
    key_id: str
    purpose: str
    created_at: str
    destroyed_at: str | None
    key: bytes | None


class KeyBundle:
    """A decrypted key bundle, in memory only: what `Keyring.restore` writes under a new master."""

    def __init__(self, keyring: dict[str, Any], keys: Sequence[_BundleKey]) -> None:
        self.keyring = dict(keyring)
        self._keys = tuple(keys)

    def __repr__(self) -> str:  # never the keys
        return f"KeyBundle({self.register_id}, {len(self.key_ids)} keys, {len(self.destroyed)} destroyed)"

    @property
    def register_id(self) -> str:
        return str(self.keyring["register"])

    @property
    def key_ids(self) -> list[str]:
        """Ids of the live keys the bundle carries."""
        return [k.key_id for k in self._keys if k.key is not None]

    @property
    def destroyed(self) -> list[str]:
        """Ids of keys that travel as tombstones only (crypto-shredded)."""
        return [k.key_id for k in self._keys if k.key is None]

    @classmethod
    def open(cls, data: bytes, identities: Sequence[Any]) -> KeyBundle:
        """Decrypt an exported bundle with age identities and check its form.

        `KeyBundleError` names what is wrong (the field, the key id), never a key.
        """
        try:
            plain = _age().decrypt(data, list(identities))
        except Exception as exc:  # pyrage raises its own DecryptError
            raise KeyBundleError("key bundle does not decrypt with the identity given") from exc
        try:
            body = json.loads(plain)
        except ValueError as exc:
            raise KeyBundleError("key bundle is not JSON after decryption") from exc
        if not isinstance(body, dict) or body.get("format") != BUNDLE_FORMAT or body.get("version") != 1:
            raise KeyBundleError(f"not a {BUNDLE_FORMAT} version 1 document")
        meta = body.get("keyring")
        if not isinstance(meta, dict) or not isinstance(meta.get("register"), str):
            raise KeyBundleError("key bundle: field keyring.register is missing")
        items = body.get("keys")
        if not isinstance(items, list):
            raise KeyBundleError("key bundle: field keys is not a list")
        keys = []
        for n, item in enumerate(items):
            if not isinstance(item, dict) or not isinstance(item.get("key_id"), str):
                raise KeyBundleError(f"key bundle: entry {n} has no key_id")
            key_id = item["key_id"]
            for name in ("purpose", "created_at"):
                if not isinstance(item.get(name), str):
                    raise KeyBundleError(f"key bundle: key {key_id}: field {name} is missing")
            raw = item.get("key")
            key = None
            if raw is not None:
                try:
                    key = _unb64(raw)
                except (ValueError, TypeError, AttributeError) as exc:
                    raise KeyBundleError(f"key bundle: key {key_id}: field key is not base64") from exc
                if len(key) != 32:
                    raise KeyBundleError(f"key bundle: key {key_id}: field key is not 32 bytes")
            elif item.get("destroyed_at") is None:
                raise KeyBundleError(f"key bundle: key {key_id} has neither a key nor destroyed_at")
            keys.append(
                _BundleKey(key_id, item["purpose"], item["created_at"], item.get("destroyed_at"), key)
            )
        missing = [k for k in FIXED_KEYS if k not in {b.key_id for b in keys if b.key is not None}]
        if missing:
            raise KeyBundleError(f"key bundle: register key(s) {', '.join(missing)} missing")
        return cls(meta, keys)


class Keyring:
    """An unlocked keyring: the master key in memory and the data-key store beside it."""

    def __init__(self, data_dir: Path, master: bytes, meta: dict[str, Any]) -> None:
        self.data_dir = data_dir
        self._master = master
        self.meta = meta
        self._destroyed = False
        # Subject keys: one long-lived connection and a cache of unwrapped keys (see the module
        # docstring); the lock serialises the web server's threads on that connection.
        self._lock = threading.Lock()
        self._subject_db: sqlite3.Connection | None = None
        self._subject_version = -1
        self._subject_checked = -SUBJECT_RECHECK_S
        self._subject_cache: dict[str, bytes] = {}
        self._subject_ciphers: dict[str, AESGCM] = {}
        self._subject_wrap: bytes | None = None

    # -- creating and opening ----------------------------------------------------------------

    @staticmethod
    def exists(data_dir: Path) -> bool:
        return (data_dir / KEYRING_FILE).is_file()

    @classmethod
    def create(cls, data_dir: Path, secret: MasterSecret, params: Argon2Params = OWASP_ARGON2) -> Keyring:
        """Make a new keyring with fresh fixed data keys; refuse to replace an existing one."""
        if cls.exists(data_dir):
            raise ConfigError(f"a keyring already exists in {data_dir}; it is never replaced")
        data_dir.mkdir(parents=True, exist_ok=True)
        record = _master_record(secret, params)
        master = _derive(secret, record)
        meta = {
            "format": "svidok-keyring",
            "version": 1,
            "register": secrets.token_hex(8),
            "master": record,
            "master_id": _master_id(master),
            "check": _check_value(master),
        }
        ring = cls(data_dir, master, meta)
        db = ring._db()
        try:
            db.execute("BEGIN IMMEDIATE")
            for key_id in FIXED_KEYS:
                ring._insert(db, key_id, "fixed", os.urandom(32))
            db.execute("COMMIT")
        finally:
            db.close()
        from svidok.audit.note import verifier_key

        meta["audit_verifier_key"] = verifier_key(ring.log_origin, ring.audit_private().public_key())
        ring._write_meta(data_dir / KEYRING_FILE, meta)
        return ring

    @classmethod
    def unlock(cls, data_dir: Path, secret: MasterSecret) -> Keyring:
        """Open the keyring; `WrongPassphrase` (and nothing changed) if the secret is wrong."""
        path = data_dir / KEYRING_FILE
        if not path.is_file():
            raise KeyringMissing(f"no keyring in {data_dir}: run `svidok init` to create a register")
        meta = json.loads(path.read_text())
        master = _derive(secret, meta["master"])
        pending = path.with_name(KEYRING_FILE + ".new")
        if not _opens(master, meta["check"]):
            if pending.is_file():
                new_meta = json.loads(pending.read_text())
                new_master = _derive(secret, new_meta["master"])
                ring = cls(data_dir, new_master, new_meta)
                if _opens(new_master, new_meta["check"]) and ring._rows_under_master():
                    pending.replace(path)  # finish an interrupted rotation
                    return ring
            raise WrongPassphrase("wrong passphrase or key file for this register's keyring")
        if pending.is_file():
            pending.unlink()  # a rotation that never committed
        return cls(data_dir, master, meta)

    @staticmethod
    def _write_meta(path: Path, meta: dict[str, Any]) -> None:
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")
        os.chmod(tmp, 0o600)
        tmp.replace(path)

    # -- the data-key store --------------------------------------------------------------------

    def _db(self) -> sqlite3.Connection:
        if self._destroyed:  # and never re-create an empty keys.db where the keys were
            raise KeyringMissing(f"the keyring of {self.data_dir} was destroyed on this machine")
        db = _connect_keys(self.data_dir / KEYS_FILE)
        db.execute(
            "CREATE TABLE IF NOT EXISTS data_key (key_id TEXT PRIMARY KEY, purpose TEXT NOT NULL,"
            " wrapped BLOB, master_id TEXT NOT NULL, created_at TEXT NOT NULL, destroyed_at TEXT)"
        )
        return db

    def _insert(self, db: sqlite3.Connection, key_id: str, purpose: str, key: bytes) -> None:
        db.execute(
            "INSERT INTO data_key (key_id, purpose, wrapped, master_id, created_at) VALUES (?, ?, ?, ?, ?)",
            (key_id, purpose, _wrap(self._master, key_id, key), self.meta["master_id"], _now()),
        )

    def _rows_under_master(self) -> bool:
        with self._db() as db:
            row = db.execute(
                "SELECT count(*) FROM data_key WHERE wrapped IS NOT NULL AND master_id NOT IN (?, ?)",
                (self.meta["master_id"], SUBJECT_WRAP),
            ).fetchone()
        return int(row[0]) == 0

    def data_key(self, key_id: str, *, create: bool = False, purpose: str = "subject") -> bytes:
        """The unwrapped data key `key_id`; with `create`, make it on first use."""
        if key_id.startswith(SUBJECT_PREFIX):
            return self.subject_keys([key_id[len(SUBJECT_PREFIX) :]], create=create)[key_id]
        db = self._db()
        try:
            row = db.execute(
                "SELECT wrapped, destroyed_at FROM data_key WHERE key_id = ?", (key_id,)
            ).fetchone()
            if row is None:
                if not create:
                    raise ConfigError(f"no data key {key_id!r} in the keyring")
                key = os.urandom(32)
                self._insert(db, key_id, purpose, key)
                return key
            if row[1] is not None or row[0] is None:
                raise KeyDestroyed(key_id)
            try:
                return _unwrap(self._master, key_id, bytes(row[0]))
            except InvalidTag as exc:
                raise WrongPassphrase(f"data key {key_id} does not open under this master") from exc
        finally:
            db.close()

    def subject_key(self, subject_id: str, *, create: bool = True) -> tuple[str, bytes]:
        key_id = f"{SUBJECT_PREFIX}{subject_id}"
        return key_id, self.subject_keys([subject_id], create=create)[key_id]

    def _subject_conn(self) -> sqlite3.Connection:
        """The long-lived connection for subject keys; drops the cache if keys.db changed."""
        if self._subject_db is None:
            db = self._db()
            db.close()  # made the table if needed
            self._subject_db = _connect_keys(self.data_dir / KEYS_FILE, check_same_thread=False)
        now = time.monotonic()
        if now - self._subject_checked >= SUBJECT_RECHECK_S:
            self._subject_checked = now
            version = int(self._subject_db.execute("PRAGMA data_version").fetchone()[0])
            if version != self._subject_version:
                self._subject_cache.clear()
                self._subject_ciphers.clear()
                self._subject_version = version
        return self._subject_db

    def subject_keys(self, subject_ids: Iterable[str], *, create: bool = True) -> dict[str, bytes]:
        """The keys `subject:<id>` of `subject_ids` (key id -> key), the missing ones made in one
        transaction when `create`. `KeyDestroyed` if any was destroyed: a shredded subject is
        never silently given a new key."""
        wanted = list(dict.fromkeys(f"{SUBJECT_PREFIX}{s}" for s in subject_ids))
        if len(wanted) == 1:  # the column type asks for one key per value: the cached case, short
            with self._lock:
                if self._subject_db is not None and not self._destroyed:
                    self._subject_conn()
                    found = self._subject_cache.get(wanted[0])
                    if found is not None:
                        return {wanted[0]: found}
        with self._lock:
            if self._destroyed:
                raise KeyringMissing(f"the keyring of {self.data_dir} was destroyed on this machine")
            db = self._subject_conn()
            out = {k: self._subject_cache[k] for k in wanted if k in self._subject_cache}
            missing = [k for k in wanted if k not in out]
            rows: dict[str, Any] = {}
            for start in range(0, len(missing), 500):
                chunk = missing[start : start + 500]
                for key_id, wrapped, destroyed_at, master_id in db.execute(
                    _key_ids_in("SELECT key_id, wrapped, destroyed_at, master_id FROM data_key", len(chunk)),
                    chunk,
                ):
                    rows[key_id] = (wrapped, destroyed_at, master_id)
            new = []
            for key_id in missing:
                row = rows.get(key_id)
                if row is None:
                    if not create:
                        raise ConfigError(f"no data key {key_id!r} in the keyring")
                    new.append(key_id)
                    continue
                if row[1] is not None or row[0] is None:
                    raise KeyDestroyed(key_id)
                try:
                    wrapper = self._wrap_key() if row[2] == SUBJECT_WRAP else self._master
                    out[key_id] = _unwrap(wrapper, key_id, bytes(row[0]))
                except InvalidTag as exc:
                    raise WrongPassphrase(f"data key {key_id} does not open under this master") from exc
            if new:
                # One call to the system's CSPRNG for the batch's keys and nonces (each key still
                # random and independent, wrapped on its own row), one AES-GCM object for the wrapping.
                material = os.urandom(44 * len(new))
                made = {key_id: material[44 * n : 44 * n + 32] for n, key_id in enumerate(new)}
                wrap_aead = AESGCM(self._wrap_key())  # first: making it writes through another connection
                db.execute("BEGIN IMMEDIATE")
                try:
                    now = _now()
                    rows_new = []
                    for n, (k, key) in enumerate(made.items()):
                        nonce = material[44 * n + 32 : 44 * n + 44]
                        wrapped = nonce + wrap_aead.encrypt(nonce, key, b"svidok-key/1\x00" + k.encode())
                        rows_new.append((k, wrapped, SUBJECT_WRAP, now))
                    db.executemany(
                        "INSERT INTO data_key (key_id, purpose, wrapped, master_id, created_at)"
                        " VALUES (?, 'subject', ?, ?, ?)",
                        rows_new,
                    )
                    db.execute("COMMIT")
                except BaseException as exc:
                    if db.in_transaction:
                        db.execute("ROLLBACK")
                    if isinstance(exc, sqlite3.OperationalError) and _disk_full(exc):
                        # As an OSError the server answers 503 (retry later), as for the register.
                        raise OSError(errno.ENOSPC, f"cannot write {KEYS_FILE}: the disk is full") from exc
                    raise
                out.update(made)
            self._subject_cache.update(out)
            if 1 < len(out) <= SUBJECT_CIPHER_CACHE:  # a batch about to be sealed (or re-sealed)
                self._ready_ciphers(out)
            return out

    def _ready_ciphers(self, keys: dict[str, bytes]) -> None:
        """Make the AES-GCM objects of a batch's keys at once (under the lock), evicting the
        oldest beyond `SUBJECT_CIPHER_CACHE`: sealing the batch then finds them all ready."""
        ciphers = self._subject_ciphers
        for key_id, key in keys.items():
            if key_id in ciphers:
                continue
            if len(ciphers) >= SUBJECT_CIPHER_CACHE:
                del ciphers[next(iter(ciphers))]
            ciphers[key_id] = AESGCM(key)

    def subject_cipher(self, key_id: str, *, create: bool = True) -> AESGCM:
        """AES-GCM under the subject key `key_id` ("subject:<id>"), ready for sealing or opening
        many values: kept (up to `SUBJECT_CIPHER_CACHE`) and dropped with the key cache, so a key
        destroyed here or by another process is not used after the next check of keys.db.
        Raises as `subject_keys` does (`KeyDestroyed`; `ConfigError` if missing and not `create`)."""
        found = self._subject_ciphers.get(key_id)  # the common case, without the lock: keys.db
        if found is not None and time.monotonic() - self._subject_checked < SUBJECT_RECHECK_S:
            return found  # was checked for other writers less than SUBJECT_RECHECK_S ago
        with self._lock:
            if self._subject_db is not None and not self._destroyed:
                self._subject_conn()
                found = self._subject_ciphers.get(key_id)
                if found is not None:
                    return found
        if not key_id.startswith(SUBJECT_PREFIX):
            raise ConfigError(f"{key_id!r} is not a subject key")
        key = self.subject_keys([key_id[len(SUBJECT_PREFIX) :]], create=create)[key_id]
        aead = AESGCM(key)
        with self._lock:
            # Only while the key is still cached: a check of keys.db between the look-up and here
            # (another process destroyed it) has emptied the cache, and the cipher is not kept.
            if self._subject_cache.get(key_id) == key:
                if len(self._subject_ciphers) >= SUBJECT_CIPHER_CACHE:
                    del self._subject_ciphers[next(iter(self._subject_ciphers))]
                self._subject_ciphers[key_id] = aead
        return aead

    def _wrap_key(self) -> bytes:
        """The subject-key wrapping key, made on first use (registers from before it have none)."""
        if self._subject_wrap is None:
            self._subject_wrap = self.data_key(SUBJECT_WRAP, create=True, purpose="fixed")
        return self._subject_wrap

    def subject_status(self, subject_ids: Iterable[str]) -> dict[str, str]:
        """'live' or 'destroyed' for each `subject:<id>` key that exists (absent ones are left out)."""
        wanted = [f"{SUBJECT_PREFIX}{s}" for s in subject_ids]
        found: dict[str, str] = {}
        with self._lock:
            db = self._subject_conn()
            for start in range(0, len(wanted), 500):
                chunk = wanted[start : start + 500]
                for key_id, destroyed_at in db.execute(
                    _key_ids_in("SELECT key_id, destroyed_at FROM data_key", len(chunk)), chunk
                ):
                    found[key_id] = "live" if destroyed_at is None else "destroyed"
        return found

    def close(self) -> None:
        """Close the subject-key connection and forget the cached keys (the keyring stays usable)."""
        with self._lock:
            if self._subject_db is not None:
                self._subject_db.close()
                self._subject_db = None
            self._subject_cache.clear()
            self._subject_ciphers.clear()
            self._subject_version = -1
            self._subject_checked = -SUBJECT_RECHECK_S
            self._subject_wrap = None

    def destroy(self, key_id: str) -> bool:
        """Crypto-shred: erase the wrapped key, keep a tombstone. False if already gone."""
        return self.destroy_many([key_id])[key_id]

    def destroy_many(self, key_ids: Sequence[str]) -> dict[str, bool]:
        """Crypto-shred several keys in one transaction (one erasure destroys the keys of a person
        and of every record naming them). Key id -> True if it was live (or never existed: a
        tombstone is written so it is never created later), False if already destroyed."""
        fixed = [k for k in key_ids if k in FIXED_KEYS or k == SUBJECT_WRAP]
        if fixed:
            raise InputError(f"{fixed[0]} is a register key; destroying it is a panic wipe, not this")
        with self._lock:
            for key_id in key_ids:
                self._subject_cache.pop(key_id, None)
                self._subject_ciphers.pop(key_id, None)
        out: dict[str, bool] = {}
        db = self._db()
        try:
            db.execute("BEGIN IMMEDIATE")
            for key_id in dict.fromkeys(key_ids):
                cur = db.execute(
                    "UPDATE data_key SET wrapped = NULL, destroyed_at = ? "
                    "WHERE key_id = ? AND destroyed_at IS NULL",
                    (_now(), key_id),
                )
                if cur.rowcount:
                    out[key_id] = True
                elif db.execute("SELECT 1 FROM data_key WHERE key_id=?", (key_id,)).fetchone() is None:
                    db.execute(
                        "INSERT INTO data_key (key_id, purpose, wrapped, master_id, created_at,"
                        " destroyed_at) VALUES (?, 'subject', NULL, ?, ?, ?)",
                        (key_id, self.meta["master_id"], _now(), _now()),
                    )
                    out[key_id] = True
                else:
                    out[key_id] = False
            db.execute("COMMIT")
            if any(out.values()):
                db.execute("VACUUM")  # with secure_delete: the freed pages are overwritten, not kept
            # Always, so that repeating an erasure whose scrub was interrupted finishes it.
            _scrub_wal(db, self.data_dir / KEYS_FILE)
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
        finally:
            db.close()
        return out

    def rotate(self, new_secret: MasterSecret, params: Argon2Params = OWASP_ARGON2) -> int:
        """Re-wrap every live data key under a new master; return how many were re-wrapped."""
        record = _master_record(new_secret, params)
        new_master = _derive(new_secret, record)
        new_meta = dict(self.meta)
        new_meta.update(master=record, master_id=_master_id(new_master), check=_check_value(new_master))
        path = self.data_dir / KEYRING_FILE
        pending = path.with_name(KEYRING_FILE + ".new")
        self._write_meta(pending, new_meta)
        db = self._db()
        try:
            db.execute("BEGIN IMMEDIATE")
            rows = db.execute(  # subject keys under the wrapping key stay as they are
                "SELECT key_id, wrapped FROM data_key WHERE wrapped IS NOT NULL AND master_id != ?",
                (SUBJECT_WRAP,),
            ).fetchall()
            for key_id, wrapped in rows:
                key = _unwrap(self._master, key_id, bytes(wrapped))
                db.execute(
                    "UPDATE data_key SET wrapped = ?, master_id = ? WHERE key_id = ?",
                    (_wrap(new_master, key_id, key), new_meta["master_id"], key_id),
                )
            db.execute("UPDATE data_key SET master_id = ? WHERE wrapped IS NULL", (new_meta["master_id"],))
            db.execute("COMMIT")
            db.execute("VACUUM")
            _scrub_wal(db, self.data_dir / KEYS_FILE)  # no copy wrapped under the old master left
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            pending.unlink(missing_ok=True)
            raise
        finally:
            db.close()
        pending.replace(path)
        self._master, self.meta = new_master, new_meta
        return len(rows)

    # -- key bundles (backup, restore, evacuation) ----------------------------------------------

    def export_bundle(self, recipients: Sequence[Any]) -> bytes:
        """Every data key unwrapped, tombstones and public metadata, age-encrypted to `recipients`.

        `recipients` are age recipients (pyrage objects). The unwrapped keys exist only in memory
        during this call; what leaves it is ciphertext only those recipients' identities open.
        """
        if not recipients:
            raise InputError("a key bundle needs at least one age recipient")
        db = self._db()
        try:
            rows = db.execute(
                "SELECT key_id, purpose, wrapped, created_at, destroyed_at, master_id FROM data_key"
                " ORDER BY key_id"
            ).fetchall()
        finally:
            db.close()
        keys = []
        wrap_row = next((r for r in rows if r[0] == SUBJECT_WRAP and r[2] is not None), None)
        subject_wrap = _unwrap(self._master, SUBJECT_WRAP, bytes(wrap_row[2])) if wrap_row else None
        for key_id, purpose, wrapped, created_at, destroyed_at, master_id in rows:
            key = None
            if wrapped is not None and destroyed_at is None:
                wrapper = subject_wrap if master_id == SUBJECT_WRAP and subject_wrap else self._master
                try:
                    key = _b64(_unwrap(wrapper, key_id, bytes(wrapped)))
                except InvalidTag as exc:
                    raise WrongPassphrase(f"data key {key_id} does not open under this master") from exc
            keys.append(
                {
                    "key_id": key_id,
                    "purpose": purpose,
                    "created_at": created_at,
                    "destroyed_at": destroyed_at,
                    "key": key,
                }
            )
        public = {k: self.meta[k] for k in _PUBLIC_META if k in self.meta}
        body = {"format": BUNDLE_FORMAT, "version": 1, "keyring": public, "keys": keys}
        plain = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()
        return bytes(_age().encrypt(plain, list(recipients)))

    @classmethod
    def restore(
        cls, data_dir: Path, bundle: KeyBundle, secret: MasterSecret, params: Argon2Params = OWASP_ARGON2
    ) -> Keyring:
        """Write keyring.json and keys.db in `data_dir` holding the bundle's keys under a new master.

        The register id and audit verifier key come from the bundle; refuses a directory that
        already holds a keyring.
        """
        if cls.exists(data_dir) or (data_dir / KEYS_FILE).exists():
            raise ConfigError(f"{data_dir} already holds a keyring; restore into an empty directory")
        data_dir.mkdir(parents=True, exist_ok=True)
        record = _master_record(secret, params)
        master = _derive(secret, record)
        meta = {k: bundle.keyring[k] for k in _PUBLIC_META if k in bundle.keyring}
        meta.update(master=record, master_id=_master_id(master), check=_check_value(master))
        ring = cls(data_dir, master, meta)
        db = ring._db()
        try:
            db.execute("BEGIN")
            for item in bundle._keys:
                db.execute(
                    "INSERT INTO data_key (key_id, purpose, wrapped, master_id, created_at, destroyed_at)"
                    " VALUES (?, ?, ?, ?, ?, ?)",
                    (
                        item.key_id,
                        item.purpose,
                        None if item.key is None else _wrap(master, item.key_id, item.key),
                        meta["master_id"],
                        item.created_at,
                        item.destroyed_at,
                    ),
                )
            db.execute("COMMIT")
        finally:
            db.close()
        os.chmod(data_dir / KEYS_FILE, 0o600)
        cls._write_meta(data_dir / KEYRING_FILE, meta)
        return ring

    def destroy_local(self) -> list[Path]:
        """Overwrite and delete keyring.json and keys.db (and their side files); forget the master.

        After this nothing on this machine opens the register, its blobs or its fields; only a
        key bundle (a backup) can. Returns the files destroyed.
        """
        self.close()
        wiped = []
        for name in _SIDE_FILES:
            path = self.data_dir / name
            if not path.is_file():
                continue
            size = path.stat().st_size
            with path.open("r+b") as fh:
                fh.write(os.urandom(size))
                fh.flush()
                os.fsync(fh.fileno())
            path.unlink()
            wiped.append(path)
        dir_fd = os.open(self.data_dir, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
        self._master = b""
        self._destroyed = True
        return wiped

    # -- keys for the other modules --------------------------------------------------------------

    @property
    def register_id(self) -> str:
        return str(self.meta["register"])

    @property
    def log_origin(self) -> str:
        """The audit log's name in its checkpoints (C2SP origin)."""
        return f"svidok.local/{self.register_id}"

    def db_key(self) -> bytes:
        """The raw SQLCipher key of the embedded register."""
        return self.data_key("register-db")

    def audit_private(self) -> Ed25519PrivateKey:
        return Ed25519PrivateKey.from_private_bytes(self.data_key("audit-signing"))

    def derive(self, key_id: str, info: str) -> bytes:
        """A sub-key of data key `key_id` for one purpose (HKDF-SHA256, domain-separated)."""
        return HKDF(hashes.SHA256(), 32, None, f"svidok/1 {info}".encode()).derive(self.data_key(key_id))
