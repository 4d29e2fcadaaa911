"""Public intake: accept a submission, issue its receipt, take additions, route the queue.

Threat: the state wants to know who reported. A submission stores no network
address, no browser fingerprint and no account; the source's contact details,
when given, are sealed to the protection officer's public key in the same
transaction as the testimony (the server cannot open them) and are refused
outright when no officer key is registered, so they are never kept in clear.

Receipt: a code (50 random bits, stored as its SHA-256 only, the lookup key) and
a passphrase (130 random bits, stored only as HMAC-SHA-256 under a register key
derived from the keyring, bound to the submission id), shown once. A slow
password hash protects low-entropy human choices; a machine-made 130-bit secret
cannot be guessed at any speed, so a keyed hash is the standard answer (see
`docs/web.md`, "Receipts"). Receipts issued with an Argon2id hash still verify.
After `MAX_ATTEMPTS` wrong passphrases a receipt is locked.

Writes: each file's encrypted blob is stored first (hashed at intake, fsynced);
then the testimony (`source`), the people it describes (`mention`), the
`submission` row, the sealed contact and the files' evidence rows with their
custody event `intake` are one transaction with their audit entries, so a crash
never leaves a receipt without its files or a submission half written.

Throughput: every intake write goes through one writer thread per register
(`GroupCommit`): the requests waiting at a moment are committed together in one
transaction, so one fsync serves a batch, and each request is answered only
after the batch is durable. The register's connections are switched to
`synchronous=FULL` (SQLite WAL with `NORMAL` may lose the last commits at a
power cut; a receipt promises the testimony is kept). One writer also keeps the
audit chain from forking under concurrent requests.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import queue
import secrets
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection, Engine, event, insert, select, update

from svidok.audit import AuditLog
from svidok.crypto import sealed
from svidok.crypto.keyring import Keyring
from svidok.domain.values import new_id
from svidok.domain.vocabulary import LANGUAGES, vocabulary
from svidok.errors import ConflictError, InputError, NotFound
from svidok.services.context import AuditSink, ServiceContext, utc_now
from svidok.services.evidence import EvidenceService, Prepared
from svidok.store.db import fields_of
from svidok.store.models import Base
from svidok.store.register import Store

__all__ = [
    "URGENT_REASONS",
    "ContactNotAccepted",
    "IntakeService",
    "Perpetrator",
    "Receipt",
    "ReceiptRefused",
    "SubmissionDraft",
    "Upload",
    "Victim",
    "reported_time",
]

_SOURCE, _MENTION = Base.metadata.tables["source"], Base.metadata.tables["mention"]
_SUBMISSION = Base.metadata.tables["submission"]
_ADDITION = Base.metadata.tables["submission_addition"]
_OPERATOR = Base.metadata.tables["intake_operator"]
_KEY, _SEALED = Base.metadata.tables["protection_key"], Base.metadata.tables["sealed_identity"]
_INSERT_SOURCE = insert(_SOURCE)
_INSERT_FILED = insert(Base.metadata.tables["record_compartment"])

URGENT_REASONS: dict[str, int] = {"ongoing_detention": 4, "missing_person": 4, "needs_medical_care": 2}
"""Reasons that make a submission jump the queue, with their weight."""
PRECISIONS: dict[str, timedelta] = {
    "minute": timedelta(minutes=1),
    "hour": timedelta(hours=1),
    "day": timedelta(days=1),
    "week": timedelta(days=7),
}
OPEN_STATUSES = ("new", "assigned", "updated")
MAX_ATTEMPTS = 10
MAX_TEXT = 20_000
_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"  # Crockford base32, lower case
CODE_CHARS, PASSPHRASE_CHARS = 10, 26
"""Receipt code: 50 bits (a lookup key); passphrase: 130 bits (the secret, >= 128)."""
_LEGACY = PasswordHasher()
"""Verifies receipts issued before the keyed hash (`$argon2id$…`); parameters are read from each hash."""
_KEYED = "hmac-sha256$"
RECEIPT_KEY_INFO = "intake receipt passphrase"
"""HKDF label of the receipt key under the keyring's blind-index key (`receipt_key_of`)."""


class ContactNotAccepted(InputError):
    """Contact details were given but no protection officer key exists to seal them."""


class ReceiptRefused(InputError):
    """The receipt code and passphrase do not match a submission (or it is locked)."""


@dataclass(frozen=True)
class Victim:
    name: str = ""
    description: str = ""


@dataclass(frozen=True)
class Perpetrator:
    name: str = ""
    rank: str = ""
    badge_number: str = ""
    unit: str = ""
    uniform: str = ""
    vehicle: str = ""


@dataclass(frozen=True)
class Upload:
    """A received file, spooled to `path` (named by its sanitised original name)."""

    path: Path
    media_type: str


@dataclass
class SubmissionDraft:
    """What a source typed into the public form, already parsed into values."""

    language: str
    what_happened: str
    author_role: str = "unknown"
    reported_start: datetime | None = None
    reported_end: datetime | None = None
    reported_precision: str | None = None
    place_text: str = ""
    lat: float | None = None
    lon: float | None = None
    victims: list[Victim] = field(default_factory=list)
    perpetrators: list[Perpetrator] = field(default_factory=list)
    injuries: list[str] = field(default_factory=list)
    urgent: list[str] = field(default_factory=list)
    contact: str = ""
    files: list[Upload] = field(default_factory=list)


@dataclass(frozen=True)
class Receipt:
    """Shown to the source once; only digests of it are stored."""

    submission_id: str
    code: str
    passphrase: str


def reported_time(
    day: str, time: str = "", precision: str = "day", tz: str = "Europe/Minsk"
) -> tuple[datetime | None, datetime | None, str | None]:
    """(start UTC, end UTC, precision) from a local date, optional time and how exact it is."""
    if not day.strip():
        return None, None, None
    if precision not in PRECISIONS:
        raise InputError(f"when_precision: must be one of {', '.join(PRECISIONS)}")
    try:
        local = datetime.fromisoformat(f"{day.strip()}T{time.strip() or '00:00'}")
    except ValueError:
        raise InputError("when_date: not a date of the form YYYY-MM-DD (and time HH:MM)") from None
    if precision in ("minute", "hour") and not time.strip():
        precision = "day"
    if precision == "hour":
        local = local.replace(minute=0)
    elif precision in ("day", "week"):
        local = local.replace(hour=0, minute=0)
    try:
        if precision == "week":
            local -= timedelta(days=3)
        start = local.replace(tzinfo=ZoneInfo(tz)).astimezone(ZoneInfo("UTC")).replace(tzinfo=None)
        return start, start + PRECISIONS[precision], precision
    except OverflowError:  # 0001-01-01 00:00 in Minsk is before year 1 in UTC; 9999-12-31 + a week
        raise InputError("when_date: outside the years 1 to 9999") from None


_TOKEN_TABLE = bytes(ord(_ALPHABET[b & 31]) for b in range(256))
"""Byte -> letter by its low five bits: uniform, since 256 is a multiple of 32."""
_LOOKALIKES = str.maketrans({"o": "0", "i": "1", "l": "1"})
_ALPHABET_SET = frozenset(_ALPHABET)


def _token(chars: int) -> str:
    """`chars` random letters of `_ALPHABET` (5 bits each); already in `_normal` form."""
    return secrets.token_bytes(chars).translate(_TOKEN_TABLE).decode("ascii")


def _group(token: str) -> str:
    groups = [token[i : i + 5] for i in range(0, len(token), 5)]
    if len(groups) > 1 and len(groups[-1]) < 3:
        groups[-2:] = [groups[-2] + groups[-1]]  # no dangling one-letter group to mistype
    return "-".join(groups)


def _normal(value: str) -> str:
    return "".join(c for c in value.lower().translate(_LOOKALIKES) if c in _ALPHABET_SET)


def _digest(code: str) -> str:
    return _digest_normal(_normal(code))


def _digest_normal(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def receipt_key_of(keyring: Keyring) -> bytes:
    """The key of receipt passphrase hashes: fixed for the register's life, never stored."""
    return keyring.derive("blind-index", RECEIPT_KEY_INFO)


def _passphrase_hash(key: bytes, submission_id: str, passphrase: str) -> str:
    """The stored form of a passphrase as typed (normalised first)."""
    return _passphrase_hash_normal(key, submission_id, _normal(passphrase))


def _passphrase_hash_normal(key: bytes, submission_id: str, passphrase: str) -> str:
    # Bound to the submission: a hash copied onto another row does not open it.
    message = f"{submission_id}\x00{passphrase}".encode()
    return _KEYED + hmac.new(key, message, hashlib.sha256).hexdigest()


def _passphrase_matches(key: bytes, submission_id: str, stored: str, passphrase: str) -> bool:
    if stored.startswith(_KEYED):
        return hmac.compare_digest(_passphrase_hash(key, submission_id, passphrase), stored)
    try:
        return bool(_LEGACY.verify(stored, _normal(passphrase)))
    except (VerificationError, InvalidHashError):
        return False


def _clip(value: str, limit: int) -> str | None:
    value = value.strip()
    return value[:limit] if value else None


def _check(draft: SubmissionDraft) -> None:
    if draft.language not in LANGUAGES:
        raise InputError(f"language: must be one of {', '.join(LANGUAGES)}")
    if not draft.what_happened.strip():
        raise InputError("what_happened: please describe what happened")
    if len(draft.what_happened) > MAX_TEXT:
        raise InputError(f"what_happened: at most {MAX_TEXT} characters")
    vocabulary("source_role").check(draft.author_role)
    for code in draft.injuries:
        vocabulary("injury_type").check(code)
    for reason in draft.urgent:
        if reason not in URGENT_REASONS:
            raise InputError(f"urgent: unknown reason {reason!r}; reasons: {', '.join(URGENT_REASONS)}")
    if (draft.lat is None) != (draft.lon is None):
        raise InputError("lat, lon: give both, or neither")
    if draft.lat is not None and draft.lon is not None:
        if not (-90 <= draft.lat <= 90 and -180 <= draft.lon <= 180):
            raise InputError("lat, lon: outside the globe")


def _source_row(source_id: str, draft: SubmissionDraft, now: datetime) -> dict[str, Any]:
    return {
        "id": source_id,
        "kind": "testimony",
        "author_role": draft.author_role,
        "language": draft.language,
        "title": None,
        "text": draft.what_happened.strip(),
        "received_at": now,
        "reliability": "F",
        "credibility": 6,
        "origin": "web",
        "external_ref": None,
        "url": None,
        "captured_at": None,
        "capture_tool": None,
        "reported_start": draft.reported_start,
        "reported_end": draft.reported_end,
        "reported_precision": draft.reported_precision,
        "reported_place_id": None,
        "reported_place_text": _clip(draft.place_text, 300),
        "reported_lat": draft.lat,
        "reported_lon": draft.lon,
    }


def _mention_rows(source_id: str, draft: SubmissionDraft) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for v in draft.victims:
        if v.name.strip() or v.description.strip():
            rows.append(
                {"role": "victim", "raw_name": _clip(v.name, 300), "description": _clip(v.description, 4000)}
            )
    for p in draft.perpetrators:
        described = "\n".join(
            f"{label}: {value.strip()}"
            for label, value in (("uniform", p.uniform), ("vehicle", p.vehicle))
            if value.strip()
        )
        if any(x.strip() for x in (p.name, p.rank, p.badge_number, p.unit, described)):
            rows.append(
                {
                    "role": "perpetrator",
                    "raw_name": _clip(p.name, 300),
                    "rank": _clip(p.rank, 100),
                    "badge_number": _clip(p.badge_number, 40),
                    "unit_text": _clip(p.unit, 300),
                    "description": described or None,
                }
            )
    base = {"raw_name": None, "rank": None, "badge_number": None, "unit_text": None, "description": None}
    return [{**base, **row, "id": new_id("mention"), "source_id": source_id} for row in rows]


@dataclass(frozen=True)
class Rows:
    """What a plain submission writes, kept as rows so that a batch inserts each table once.

    `tables` maps a table name in `_ROW_ORDER` to its rows; `entries` are audit entries
    (action, kind, record_id, details) by `actor`, appended after the batch's rows.
    """

    tables: dict[str, list[dict[str, Any]]]
    audit: AuditSink | None
    actor: str
    entries: list[tuple[str, str | None, str | None, dict[str, Any]]]


Job = Callable[[Connection], Any] | Rows
_ROW_ORDER = ("source", "mention", "submission", "record_compartment")
"""Parents before children (foreign keys are checked statement by statement)."""
_ROW_INSERTS = {name: insert(Base.metadata.tables[name]) for name in _ROW_ORDER}


def _write_rows(conn: Connection, batch: list[Rows]) -> None:
    """One executemany per table and one audit append for many submissions."""
    cipher = fields_of(conn.dialect)
    if cipher is not None:  # the subject keys of the whole batch in one key-store commit
        personal = ("source", "mention")
        cipher.prepare(row["id"] for item in batch for name in personal for row in item.tables.get(name, ()))
    for name in _ROW_ORDER:
        rows = [row for item in batch for row in item.tables.get(name, ())]
        if rows:
            conn.execute(_ROW_INSERTS[name], rows)
    sinks = {id(item.audit) for item in batch}
    audit = batch[0].audit
    if len(sinks) == 1 and isinstance(audit, AuditLog):
        audit.append_many(conn, [(item.actor, *entry) for item in batch for entry in item.entries])
        return
    for item in batch:
        for action, kind, record_id, details in item.entries:
            if item.audit is not None:
                item.audit.append(conn, item.actor, action, kind, record_id, details)


def _apply(conn: Connection, jobs: list[Job]) -> list[Any]:
    """Run a batch in one transaction: the plain submissions' rows together, then the other jobs."""
    plain = [job for job in jobs if isinstance(job, Rows)]
    if plain:
        _write_rows(conn, plain)
    return [None if isinstance(job, Rows) else job(conn) for job in jobs]


def _full_sync(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.close()


def _synchronous_commit(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("SET synchronous_commit TO on")
    cursor.close()
    dbapi_connection.commit()  # a session setting made inside the driver's implicit transaction


def durable(engine: Engine) -> None:
    """Make every commit on `engine` durable before it returns (SQLite: `synchronous=FULL`).

    In WAL mode SQLite's `NORMAL` fsyncs only at checkpoints, so the last commits may
    vanish at a power cut; `FULL` fsyncs the WAL at each commit. With group commit that
    is one fsync per batch. PostgreSQL commits durably by default; its connections insist
    on `synchronous_commit = on` whatever the server's configuration says.
    Connections opened before the call are closed, so none keeps the weaker setting.
    """
    listener = _full_sync if engine.dialect.name == "sqlite" else _synchronous_commit
    if event.contains(engine, "connect", listener):
        return
    event.listen(engine, "connect", listener)
    engine.dispose()


class GroupCommit:
    """One writer thread: jobs queued by many requests are committed together (group commit).

    A batch is one transaction, so a commit (and its fsync) serves up to `max_batch`
    submissions; each job's audit entries follow each other in the chain. A job's
    future is resolved only after its batch has committed. If a batch fails, its jobs
    are retried one by one so a bad job fails alone.
    """

    def __init__(self, store: Store, lock: threading.Lock, max_batch: int = 256) -> None:
        self.store = store
        self.lock = lock
        self.max_batch = max_batch
        self.jobs: queue.SimpleQueue[tuple[Job, Future[Any]] | None] = queue.SimpleQueue()
        self.thread = threading.Thread(target=self._loop, name="svidok-intake-writer", daemon=True)
        self.thread.start()

    def submit(self, job: Job) -> Future[Any]:
        """Queue `job`; its future holds the job's result once the batch is committed."""
        done: Future[Any] = Future()
        self.jobs.put((job, done))
        return done

    def run(self, job: Job) -> Any:
        return self.submit(job).result()

    def close(self) -> None:
        self.jobs.put(None)
        self.thread.join(timeout=10)

    def _loop(self) -> None:
        while (item := self.jobs.get()) is not None:
            batch = [item]
            while len(batch) < self.max_batch:
                try:
                    more = self.jobs.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    self.jobs.put(None)
                    break
                batch.append(more)
            self._commit(batch)

    def _commit(self, batch: list[tuple[Job, Future[Any]]]) -> None:
        # A request cancelled while queued (its client or the server went away) is dropped
        # unwritten: it was never answered. From here on its future can no longer be cancelled.
        batch = [(job, done) for job, done in batch if done.set_running_or_notify_cancel()]
        if not batch:
            return
        try:
            with self.lock, self.store.begin() as conn:
                results = _apply(conn, [job for job, _ in batch])
        except Exception:  # noqa: BLE001 - retried one by one below
            for job, done in batch:
                try:
                    with self.lock, self.store.begin() as conn:
                        result = _apply(conn, [job])[0]
                except Exception as exc:  # noqa: BLE001 - handed to the waiting request
                    done.set_exception(exc)
                else:  # answered only once committed: the commit itself may fail (disk full)
                    done.set_result(result)
            return
        for (_, done), result in zip(batch, results, strict=True):
            done.set_result(result)


class IntakeService:
    """Intake use cases over one register; `evidence` stores files (None: files refused)."""

    def __init__(
        self,
        evidence: EvidenceService | None,
        receipt_key: bytes,
        tz: str = "Europe/Minsk",
        compartment: str | None = None,
    ) -> None:
        self.evidence = evidence
        self.tz = tz
        self.compartment = compartment
        """New submissions and their testimonies are filed into this compartment (it must exist)."""
        self.receipt_key = receipt_key
        self._write = threading.Lock()
        """Held by every intake write transaction (the writer thread's batches too)."""
        self._writers_lock = threading.Lock()
        self._writers: dict[int, GroupCommit] = {}

    def _group(self, store: Store) -> GroupCommit:
        # Not `_write`: a request looking up its writer must not wait for a batch to commit.
        with self._writers_lock:
            writer = self._writers.get(id(store))
            if writer is None:
                durable(store.engine)
                writer = self._writers[id(store)] = GroupCommit(store, self._write)
            return writer

    @contextmanager
    def _transaction(self, store: Store) -> Iterator[Connection]:
        """A write outside the writer thread (operators' actions, receipts), serialised with its batches."""
        self._group(store)  # the engine is made durable before the first intake write
        with self._write, store.begin() as conn:
            yield conn

    def close(self) -> None:
        """Stop the writer threads (pending jobs are committed first)."""
        with self._writers_lock:
            writers = list(self._writers.values())
            self._writers.clear()
        for writer in writers:
            writer.close()

    # -- the public side ---------------------------------------------------------------------------

    def officer_key(self, ctx: ServiceContext) -> tuple[str, bytes] | None:
        """The active protection officer key (id, public key), if one is registered."""
        with ctx.store.read() as conn:
            row = conn.execute(select(_KEY.c.id, _KEY.c.public_key).where(_KEY.c.active)).first()
        return (str(row[0]), bytes(row[1])) if row else None

    def submit(self, ctx: ServiceContext, draft: SubmissionDraft) -> Receipt:
        """Store a submission and its files; return the receipt to show once (after the commit)."""
        job, receipt = self._prepare(ctx, draft)
        self._group(ctx.store).run(job)
        return receipt

    async def submit_async(self, ctx: ServiceContext, draft: SubmissionDraft) -> Receipt:
        """`submit` for an event loop: it awaits the writer's commit instead of holding a thread.

        Preparing a plain submission is a few checks and a keyed hash, done on the loop.
        Sealing a contact reads the officer key and files are encrypted to disk: those
        submissions (and a refused one, whose denial is written) are prepared in a thread.
        """
        if draft.contact.strip() or draft.files or not ctx.can("submission.create"):
            job, receipt = await asyncio.to_thread(self._prepare, ctx, draft)
        else:
            job, receipt = self._prepare(ctx, draft)
        await asyncio.wrap_future(self._group(ctx.store).submit(job))
        return receipt

    def _prepare(self, ctx: ServiceContext, draft: SubmissionDraft) -> tuple[Job, Receipt]:
        """Check a draft, seal its contact, store its files' blobs; the write job and its receipt."""
        ctx.require("submission.create", "submission")
        _check(draft)
        if draft.files and self.evidence is None:
            raise InputError("files: this server does not accept files")
        sealed_contact = self._seal_contact(ctx, draft.contact)
        code, passphrase = _token(CODE_CHARS), _token(PASSPHRASE_CHARS)
        submission_id, source_id, now = f"sb_{secrets.token_hex(10)}", new_id("source"), utc_now()
        secret_hash = _passphrase_hash_normal(self.receipt_key, submission_id, passphrase)
        reasons = sorted(set(draft.urgent))
        mentions = _mention_rows(source_id, draft)
        row = {
            "id": submission_id,
            "source_id": source_id,
            "receipt_digest": _digest_normal(code),
            "passphrase_hash": secret_hash,
            "failed_attempts": 0,
            "language": draft.language,
            "urgency": sum(URGENT_REASONS[r] for r in reasons),
            "urgent_reasons": reasons,
            "injuries": sorted(set(draft.injuries)),
            "status": "new",
            "assigned_to": None,
            "received_at": now,
            "updated_at": now,
        }
        details = {
            "source_id": source_id,
            "language": draft.language,
            "urgent": reasons,
            "mentions": len(mentions),
            "files": len(draft.files),
        }

        prepared = self._prepare_files(draft.files)
        rows = Rows(
            {
                "source": [_source_row(source_id, draft, now)],
                "mention": mentions,
                "submission": [row],
                "record_compartment": self._filed_rows(submission_id, source_id),
            },
            ctx.audit,
            ctx.actor.name,
            [("submission.create", "submission", submission_id, details)],
        )
        receipt = Receipt(submission_id, _group(code), _group(passphrase))
        if sealed_contact is None and not prepared:
            return rows, receipt

        def write(conn: Connection) -> None:
            _write_rows(conn, [rows])
            if sealed_contact is not None:
                self._insert_sealed(conn, ctx, submission_id, *sealed_contact)
            self._record_files(conn, ctx, source_id, prepared)

        return write, receipt

    def add_information(
        self, ctx: ServiceContext, code: str, passphrase: str, text: str, files: list[Upload] | None = None
    ) -> str:
        """Add text and files to a submission with its receipt; return the submission id."""
        ctx.require("submission.receipt", "submission")
        if not text.strip() and not files:
            raise InputError("text: write something or attach a file")
        if len(text) > MAX_TEXT:
            raise InputError(f"text: at most {MAX_TEXT} characters")
        submission = self._check_receipt(ctx, code, passphrase)
        source_id, now = new_id("source"), utc_now()
        draft = SubmissionDraft(language=str(submission["language"]), what_happened=text)
        prepared = self._prepare_files(files or [])
        with self._transaction(ctx.store) as conn:
            self._insert_source(conn, ctx, source_id, draft, now)
            conn.execute(
                insert(_ADDITION).values(submission_id=submission["id"], source_id=source_id, received_at=now)
            )
            self._file(conn, None, source_id)
            status = "updated" if submission["status"] not in OPEN_STATUSES else submission["status"]
            conn.execute(
                update(_SUBMISSION)
                .where(_SUBMISSION.c.id == submission["id"])
                .values(status=status, updated_at=now)
            )
            ctx.record(
                conn,
                "submission.add",
                "submission",
                str(submission["id"]),
                {"source_id": source_id, "files": len(files or [])},
            )
            self._record_files(conn, ctx, source_id, prepared)
        return str(submission["id"])

    def _file(self, conn: Connection, submission_id: str | None, source_id: str) -> None:
        rows = self._filed_rows(submission_id, source_id)
        if rows:
            conn.execute(_INSERT_FILED, rows)

    def _filed_rows(self, submission_id: str | None, source_id: str) -> list[dict[str, Any]]:
        if self.compartment is None:
            return []
        rows = [{"kind": "source", "record_id": source_id, "compartment": self.compartment}]
        if submission_id is not None:
            rows.append({"kind": "submission", "record_id": submission_id, "compartment": self.compartment})
        return rows

    def _check_receipt(self, ctx: ServiceContext, code: str, passphrase: str) -> dict[str, Any]:
        with ctx.store.read() as conn:
            row = (
                conn.execute(select(_SUBMISSION).where(_SUBMISSION.c.receipt_digest == _digest(code)))
                .mappings()
                .first()
            )
        refused = ReceiptRefused("receipt: the code and passphrase do not match a submission")
        if row is None:
            _passphrase_hash(self.receipt_key, "", passphrase)  # the same work as a real check
            raise refused
        if row["failed_attempts"] >= MAX_ATTEMPTS:
            raise refused
        if not _passphrase_matches(self.receipt_key, str(row["id"]), str(row["passphrase_hash"]), passphrase):
            with self._transaction(ctx.store) as conn:
                conn.execute(
                    update(_SUBMISSION)
                    .where(_SUBMISSION.c.id == row["id"])
                    .values(failed_attempts=_SUBMISSION.c.failed_attempts + 1)
                )
                ctx.record(conn, "submission.receipt_refused", "submission", str(row["id"]))
            raise refused
        return dict(row)

    def _seal_contact(self, ctx: ServiceContext, contact: str) -> tuple[str, bytes] | None:
        if not contact.strip():
            return None
        if len(contact) > 2000:
            raise InputError("contact: at most 2000 characters")
        key = self.officer_key(ctx)
        if key is None:
            raise ContactNotAccepted(
                "contact: this register cannot protect contact details yet (no protection officer key); "
                "nothing was stored: send your testimony without them and keep your receipt"
            )
        return key[0], sealed.seal_payload(key[1], {"contact": contact.strip()})

    def _insert_sealed(
        self, conn: Connection, ctx: ServiceContext, record_id: str, key_id: str, box: bytes
    ) -> None:
        conn.execute(
            insert(_SEALED).values(
                kind="submission", record_id=record_id, key_id=key_id, ciphertext=box, created_at=utc_now()
            )
        )
        ctx.record(conn, "identity.seal", "submission", record_id, {"key_id": key_id, "fields": ["contact"]})

    def _insert_source(
        self, conn: Connection, ctx: ServiceContext, source_id: str, draft: SubmissionDraft, now: datetime
    ) -> None:
        del ctx
        conn.execute(_INSERT_SOURCE, _source_row(source_id, draft, now))

    def _prepare_files(self, files: list[Upload]) -> list[Prepared]:
        """Blobs first, outside the transaction: a crash before the commit leaves only blobs
        without rows (removed at start by `services.recovery`), never a receipt whose files
        are missing or a submission half written."""
        if not files or self.evidence is None:
            return []
        return [self.evidence.prepare(u.path, media_type=u.media_type) for u in files]

    def _record_files(
        self, conn: Connection, ctx: ServiceContext, source_id: str, prepared: list[Prepared]
    ) -> None:
        if self.evidence is None:
            return
        for item in prepared:
            self.evidence.record(conn, item, ctx.actor.name, source_id=source_id)

    # -- the operators' side -----------------------------------------------------------------------

    def set_languages(self, ctx: ServiceContext, operator: str, languages: list[str]) -> None:
        """Record the languages an operator reads (routing)."""
        ctx.require("record.update", "intake_operator")
        bad = [lang for lang in languages if lang not in LANGUAGES]
        if bad:
            raise InputError(f"languages: unknown {', '.join(bad)}; known: {', '.join(LANGUAGES)}")
        with self._transaction(ctx.store) as conn:
            exists = conn.execute(
                select(_OPERATOR.c.operator).where(_OPERATOR.c.operator == operator)
            ).first()
            values = {"languages": sorted(set(languages))}
            if exists:
                conn.execute(update(_OPERATOR).where(_OPERATOR.c.operator == operator).values(**values))
            else:
                conn.execute(insert(_OPERATOR).values(operator=operator, **values))
            ctx.record(conn, "intake.languages", "intake_operator", operator, values)

    def languages_of(self, ctx: ServiceContext, operator: str) -> list[str]:
        with ctx.store.read() as conn:
            row = conn.execute(select(_OPERATOR.c.languages).where(_OPERATOR.c.operator == operator)).first()
        return list(row[0]) if row else []

    def queue(
        self, ctx: ServiceContext, operator: str | None = None, *, everyone: bool = False, limit: int = 100
    ) -> list[dict[str, Any]]:
        """Open submissions, most urgent first, then oldest; the operator's languages unless `everyone`."""
        ctx.require("record.search", "submission")
        s = _SUBMISSION
        query = select(
            s.c.id,
            s.c.language,
            s.c.urgency,
            s.c.urgent_reasons,
            s.c.injuries,
            s.c.status,
            s.c.assigned_to,
            s.c.received_at,
            s.c.source_id,
        ).where(s.c.status.in_(OPEN_STATUSES), ctx.visible("submission", s.c.id))
        if operator and not everyone:
            query = query.where(s.c.language.in_(self.languages_of(ctx, operator)))
        query = query.order_by(s.c.urgency.desc(), s.c.received_at, s.c.id).limit(limit)
        with ctx.store.read() as conn:
            return [dict(r) for r in conn.execute(query).mappings()]

    def take(self, ctx: ServiceContext, submission_id: str, operator: str) -> None:
        """Assign a submission to an operator (refused if someone else holds it)."""
        ctx.require_record("record.update", "submission", submission_id)
        with self._transaction(ctx.store) as conn:
            row = conn.execute(
                select(_SUBMISSION.c.status, _SUBMISSION.c.assigned_to).where(
                    _SUBMISSION.c.id == submission_id
                )
            ).first()
            if row is None:
                raise NotFound("submission", submission_id)
            if row[1] not in (None, operator) and row[0] in OPEN_STATUSES:
                raise ConflictError(f"submission {submission_id} is assigned to {row[1]}")
            conn.execute(
                update(_SUBMISSION)
                .where(_SUBMISSION.c.id == submission_id)
                .values(status="assigned", assigned_to=operator, updated_at=utc_now())
            )
            ctx.record(conn, "submission.take", "submission", submission_id, {"operator": operator})

    def take_next(self, ctx: ServiceContext, operator: str) -> str | None:
        """Assign the most urgent unassigned submission in the operator's languages."""
        for item in self.queue(ctx, operator):
            if item["assigned_to"] is None:
                self.take(ctx, str(item["id"]), operator)
                return str(item["id"])
        return None

    def show(self, ctx: ServiceContext, submission_id: str) -> dict[str, Any]:
        """A submission with its testimony, additions, mentions and files. Audited (protected reads)."""
        ctx.require("record.view", "submission")
        evidence = Base.metadata.tables["evidence"]
        with ctx.store.begin() as conn:
            row = (
                conn.execute(
                    select(_SUBMISSION).where(
                        _SUBMISSION.c.id == submission_id, ctx.visible("submission", _SUBMISSION.c.id)
                    )
                )
                .mappings()
                .first()
            )
            if row is None:
                raise NotFound("submission", submission_id)
            added = [
                r[0]
                for r in conn.execute(
                    select(_ADDITION.c.source_id)
                    .where(_ADDITION.c.submission_id == submission_id)
                    .order_by(_ADDITION.c.id)
                )
            ]
            source_ids = [str(row["source_id"]), *added]
            sources = [
                dict(r)
                for r in conn.execute(
                    select(_SOURCE)
                    .where(_SOURCE.c.id.in_(source_ids))
                    .order_by(_SOURCE.c.received_at, _SOURCE.c.id)
                ).mappings()
            ]
            mentions = [
                dict(r)
                for r in conn.execute(
                    select(_MENTION).where(_MENTION.c.source_id.in_(source_ids)).order_by(_MENTION.c.id)
                ).mappings()
            ]
            files = [
                dict(r)
                for r in conn.execute(
                    select(
                        evidence.c.id,
                        evidence.c.media_type,
                        evidence.c.size_bytes,
                        evidence.c.sha256,
                        evidence.c.original_name,
                        evidence.c.received_at,
                    )
                    .where(evidence.c.source_id.in_(source_ids))
                    .order_by(evidence.c.received_at)
                ).mappings()
            ]
            sealed_n = conn.execute(
                select(_SEALED.c.id).where(
                    _SEALED.c.kind == "submission", _SEALED.c.record_id == submission_id
                )
            ).all()
            ctx.record(conn, "record.view", "submission", submission_id, {"sources": source_ids})
        shown = {k: v for k, v in row.items() if k not in ("receipt_digest", "passphrase_hash")}
        return {
            **shown,
            "sources": sources,
            "mentions": mentions,
            "evidence": files,
            "contact_sealed": bool(sealed_n),
        }
