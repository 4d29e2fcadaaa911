"""The tamper-evident audit log in the register's database (LOG-01, LOG-02, LOG-04, LOG-06).

Threat: an intruder or insider with database access who rewrites history (who
opened which identity, which evidence was exported, which record changed), or a
server that rolls its log back after a seizure.

Design: every entry's canonical bytes (`svidok.audit.entry`) are stored with a
hash chain value `chain_n = SHA-256(chain_{n-1} ‖ leaf_n)` (chain_0 = 32 zero
bytes, leaf_n the RFC 6962 leaf hash). The entries are the leaves of an RFC 9162
Merkle tree; `checkpoint()` verifies the whole log first (it never signs over a
tampered log) and then signs (origin, size, root) as a C2SP note with the log's
Ed25519 key. `verify()` re-hashes every entry and checks every stored checkpoint.

Writing: `append(conn, ...)` runs inside the caller's transaction, so an entry
exists exactly when the write it describes commits. The next number is read
from the table; two concurrent appenders collide on the primary key and one
transaction fails (retry it) rather than forking the chain.

Verifying: every entry is re-hashed every time. Up to the last signed checkpoint
the leaves are rebuilt into the Merkle tree and compared with every signed root
(two SHA-256 per entry; the chain links there are implied by the roots); after it,
each entry is checked against the hash chain. On any mismatch the full pass runs
(leaf, chain link and tree for every entry) and names the first bad entry.
`deep=True` always runs the full pass, so a chain value edited under a signed
root is found too, and compares the query columns with the signed bytes.

Trade-offs: `checkpoint()` is O(n) (it re-verifies); call it on a schedule or
after batches, not per entry. Entries after the last checkpoint are protected by
the chain only until the next checkpoint. `append` remembers the head it wrote
last in the same transaction (and savepoint), so a batch of appends reads it once.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from hashlib import sha256
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import Connection, func, insert, select

from svidok.audit.entry import Entry, check_details, decode, encode, utc_naive
from svidok.audit.merkle import RootBuilder, consistency_proof, inclusion_proof, leaf_hash
from svidok.audit.note import Checkpoint, sign_checkpoint, verifier_key
from svidok.audit.verify import (
    FILE_FORMAT,
    ZERO_CHAIN,
    LogReport,
    check_entries,
    check_notes,
    check_prefix,
)
from svidok.crypto.errors import TamperDetected
from svidok.errors import ConfigError
from svidok.store.models import Base
from svidok.store.security_models import AuditCheckpoint, AuditEntry

__all__ = ["AuditKey", "AuditLog"]

_ENTRY = Base.metadata.tables[AuditEntry.__tablename__]
_CHECKPOINT = Base.metadata.tables[AuditCheckpoint.__tablename__]
_FETCH = 10_000
_HEAD_SQL = "SELECT seq, chain FROM audit_entry ORDER BY seq DESC LIMIT 1"
_SERIALISE = (
    "UPDATE audit_entry SET seq = seq WHERE 0",
    "LOCK TABLE audit_entry IN SHARE ROW EXCLUSIVE MODE",
)
_INSERT = insert(_ENTRY)
_HEAD_KEY = "svidok.audit.head"
_SQLITE_INSERT = (
    "INSERT INTO audit_entry (seq, at, actor, action, kind, record_id, details, entry, chain)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_SQLITE_TIME = "%Y-%m-%d %H:%M:%S.%f"
_SPAN_SQL = "SELECT min(seq), max(seq) FROM audit_entry WHERE seq <= ?"
_PREFIX_SQL = "SELECT entry FROM audit_entry WHERE seq <= ? ORDER BY seq"
_TAIL_SQL = "SELECT seq, entry, chain FROM audit_entry WHERE seq > ? ORDER BY seq"
_CHAIN_AT_SQL = "SELECT chain FROM audit_entry WHERE seq = ?"


def _marked(conn: Connection, sql: str) -> str:
    """`sql` with the driver's positional parameter marker (sqlite3: ?, psycopg: %s)."""
    return sql if conn.dialect.paramstyle == "qmark" else sql.replace("?", "%s")


@dataclass(frozen=True)
class AuditKey:
    """The log's name (the checkpoint origin) and its Ed25519 key; `private` only where signing."""

    name: str
    public: Ed25519PublicKey
    private: Ed25519PrivateKey | None = None

    @property
    def verifier_key(self) -> str:
        return verifier_key(self.name, self.public)


@lru_cache(maxsize=256)
def _protected_fields(kind: str | None) -> frozenset[str]:
    table = Base.metadata.tables.get(kind or "")
    if table is None:
        return frozenset()
    return frozenset(c.name for c in table.columns if c.info.get("protected"))


class AuditLog:
    """Append, checkpoint, verify and export the register's audit log."""

    def __init__(self, key: AuditKey) -> None:
        self.key = key
        self._digest_key: bytes | None = None

    def digest(self, text: str) -> str:
        """A keyed digest of free text an entry must not carry (a search query, a reason).

        A plain SHA-256 would let anyone holding an audit export test guesses ("was this name
        searched for?"); this one can be recomputed only with the register's signing key, so an
        auditor with the register can still check a query that is claimed to have been run.
        """
        if self._digest_key is None:
            if self.key.private is None:
                raise ConfigError("this audit log is open for verification only; it cannot digest")
            secret = self.key.private.private_bytes_raw()
            self._digest_key = HKDF(hashes.SHA256(), 32, None, b"svidok/1 audit-digest").derive(secret)
        return hmac.new(self._digest_key, text.encode("utf-8"), sha256).hexdigest()

    # -- writing ----------------------------------------------------------------------------

    def append(
        self,
        conn: Connection,
        actor: str,
        action: str,
        kind: str | None,
        record_id: str | None,
        details: dict[str, Any] | None = None,
        *,
        at: datetime | None = None,
    ) -> int:
        """Append one entry inside the caller's transaction; return its number."""
        return self.append_many(conn, [(actor, action, kind, record_id, details or {})], at=at)[0]

    def append_many(
        self,
        conn: Connection,
        items: list[tuple[str, str, str | None, str | None, dict[str, Any]]],
        *,
        at: datetime | None = None,
    ) -> list[int]:
        """Append several entries (actor, action, kind, record_id, details) in one go."""
        scope = (conn.get_transaction(), conn.get_nested_transaction())
        cached = conn.info.get(_HEAD_KEY)
        if cached is not None and cached[0] == scope and scope[0] is not None and scope[0].is_active:
            # Our own last append in this very transaction: nothing else can have appended
            # since (SQLite holds the write lock; on PostgreSQL another appender's entry
            # with the same number fails on the primary key, as without the cache).
            seq, chain = cached[1], cached[2]
        else:
            # Appenders queue here before reading the head, or two read the same head and one
            # fails on the primary key (a 500). SQLite's driver begins its transaction only at
            # the first write, so a no-op write takes the write lock; PostgreSQL locks the table.
            conn.exec_driver_sql(_SERIALISE[conn.dialect.name == "postgresql"])
            head = conn.exec_driver_sql(_HEAD_SQL).first()
            seq, chain = (int(head[0]), bytes(head[1])) if head else (0, ZERO_CHAIN)
        moment = utc_naive(at)
        rows: list[dict[str, Any]] = []
        for actor, action, kind, record_id, details in items:
            check_details(details, _protected_fields(kind))
            seq += 1
            data = encode(Entry(seq, moment, actor, action, kind, record_id, details))
            chain = sha256(chain + sha256(b"\x00" + data).digest()).digest()
            rows.append(
                {
                    "seq": seq,
                    "at": moment,
                    "actor": actor,
                    "action": action,
                    "kind": kind,
                    "record_id": record_id,
                    "details": details,
                    "entry": data,
                    "chain": chain,
                }
            )
        if rows:
            if conn.dialect.name == "sqlite":
                # The embedded register's hot path: the driver directly, in the storage
                # format SQLAlchemy's SQLite types use (a test reads the rows back through them).
                conn.exec_driver_sql(
                    _SQLITE_INSERT,
                    [
                        (
                            r["seq"],
                            r["at"].strftime(_SQLITE_TIME),
                            r["actor"],
                            r["action"],
                            r["kind"],
                            r["record_id"],
                            json.dumps(r["details"]),
                            r["entry"],
                            r["chain"],
                        )
                        for r in rows
                    ],
                )
            else:
                conn.execute(_INSERT, rows)
            conn.info[_HEAD_KEY] = (scope, seq, chain)
        return [r["seq"] for r in rows]

    def checkpoint(self, conn: Connection) -> Checkpoint:
        """Verify the log, then sign and store a checkpoint of its current size and root."""
        if self.key.private is None:
            raise ConfigError("this audit key cannot sign checkpoints (no private key)")
        report = self.verify(conn)
        if not report.ok:
            raise TamperDetected(report.summary(), report.first_bad)
        cp = Checkpoint(self.key.name, report.entries, report.root)
        last = conn.execute(select(func.max(_CHECKPOINT.c.size))).scalar()
        if last == cp.size:
            return cp
        note = sign_checkpoint(cp, self.key.name, self.key.private)
        conn.execute(
            insert(_CHECKPOINT).values(size=cp.size, root=cp.root, created_at=utc_naive(), note=note)
        )
        return cp

    # -- reading ----------------------------------------------------------------------------

    def _batches(self, conn: Connection) -> Iterator[list[tuple[int, bytes, bytes]]]:
        """Batches of (seq, entry, chain) in order, straight from the driver's cursor."""
        cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.execute("SELECT seq, entry, chain FROM audit_entry ORDER BY seq")
            while batch := cursor.fetchmany(_FETCH):
                yield batch  # type: ignore[misc]  # sqlite3 and psycopg give int and bytes
        finally:
            cursor.close()

    def _rows(self, conn: Connection) -> Iterator[tuple[int, bytes, bytes]]:
        for batch in self._batches(conn):
            yield from batch

    def notes(self, conn: Connection) -> list[str]:
        rows = conn.execute(select(_CHECKPOINT.c.note).order_by(_CHECKPOINT.c.size, _CHECKPOINT.c.id))
        return [str(r[0]) for r in rows]

    def verify(self, conn: Connection, *, deep: bool = False) -> LogReport:
        """Re-hash every entry, check the chain, every signed checkpoint and (deep) the columns."""
        notes = self.notes(conn)
        roots, problem = check_notes(notes, self.key.name, self.key.public)
        if problem:
            count = int(conn.execute(select(func.count()).select_from(_ENTRY)).scalar_one())
            return LogReport(count, len(notes), b"", None, problem)
        report = self._check_fast(conn, roots) if not deep else None
        if report is None or not report.ok:
            # The full pass checks every chain link too, and names the first bad entry.
            report = check_entries(self._batches(conn), roots)
        if report.ok and deep:
            return self._check_columns(conn, report)
        return report

    def _check_fast(self, conn: Connection, roots: list[tuple[int, bytes]]) -> LogReport | None:
        """Every entry up to the last checkpoint re-hashed against the signed roots, the rest
        against the chain; None (or a failed report) sends `verify` to the full pass."""
        signed = max((size for size, _root in roots), default=0)
        if signed == 0:
            return None
        span = conn.exec_driver_sql(_marked(conn, _SPAN_SQL), (signed,)).first()
        if span is None or tuple(span) != (1, signed):
            return None  # with exactly `signed` rows in between (check_prefix counts), no gaps
        tree = check_prefix(self._select(conn, _PREFIX_SQL, (signed,)), roots)
        if tree is None:
            return None
        prev = conn.exec_driver_sql(_marked(conn, _CHAIN_AT_SQL), (signed,)).scalar_one()
        tail = self._select(conn, _TAIL_SQL, (signed,))
        return check_entries(tail, roots, start=signed, prev=bytes(prev), tree=tree)

    def _select(self, conn: Connection, sql: str, params: tuple[Any, ...]) -> Iterator[Sequence[Any]]:
        """Batches of rows of `sql`, straight from the driver's cursor (no per-row objects)."""
        dbapi = conn.connection.dbapi_connection
        assert dbapi is not None  # nosec B101 # type narrowing: an open connection always has one
        cursor = dbapi.cursor()
        try:
            cursor.execute(_marked(conn, sql), params)
            while batch := cursor.fetchmany(_FETCH):
                yield batch
        finally:
            cursor.close()

    def _check_columns(self, conn: Connection, report: LogReport) -> LogReport:
        cols = _ENTRY.c
        query = select(
            cols.seq,
            cols.at,
            cols.actor,
            cols.action,
            cols.kind,
            cols.record_id,
            cols.details,
            cols.entry,
        ).order_by(cols.seq)
        for seq, at, actor, action, kind, record_id, details, data in conn.execute(query):
            e = decode(bytes(data))
            if (e.at, e.actor, e.action, e.kind, e.record_id, e.details) != (
                at,
                actor,
                action,
                kind,
                record_id,
                details,
            ):
                return LogReport(
                    report.entries,
                    report.checkpoints,
                    report.root,
                    int(seq),
                    f"entry {seq}'s columns differ from its signed bytes",
                )
        return report

    def entries_for(self, conn: Connection, kind: str, record_id: str) -> list[Entry]:
        rows = conn.execute(
            select(_ENTRY.c.entry)
            .where(_ENTRY.c.kind == kind, _ENTRY.c.record_id == record_id)
            .order_by(_ENTRY.c.seq)
        )
        return [decode(bytes(r[0])) for r in rows]

    def proofs(self, conn: Connection, seqs: list[int]) -> dict[str, Any]:
        """Inclusion proofs of entries `seqs` in the latest checkpoint, with the signed note.

        Loads every leaf hash (O(n) memory): for court exports, not for hot paths.
        """
        notes = self.notes(conn)
        if not notes:
            raise ConfigError("no signed checkpoint yet: run `svidok audit checkpoint`")
        note = notes[-1]
        size = int(note.split("\n")[1])
        leaves = [leaf_hash(bytes(r[1])) for r in self._rows(conn)][:size]
        out: dict[str, Any] = {"checkpoint": note, "verifier_key": self.key.verifier_key}
        proofs = {}
        for seq in seqs:
            if seq <= size:
                proofs[str(seq)] = [h.hex() for h in inclusion_proof(leaves, seq - 1, size)]
        out["inclusion"] = proofs
        return out

    def consistency(self, conn: Connection, first: int, second: int) -> list[bytes]:
        leaves = [leaf_hash(bytes(r[1])) for r in self._rows(conn)]
        return consistency_proof(leaves, first, second)

    def root(self, conn: Connection, size: int | None = None) -> bytes:
        builder = RootBuilder()
        for seq, data, _chain in self._rows(conn):
            if size is not None and seq > size:
                break
            builder.push(leaf_hash(data))
        return builder.root()

    # -- export -----------------------------------------------------------------------------

    def export(self, conn: Connection, path: Path) -> int:
        """Write the log as JSONL: a header with the verifier key, entries, checkpoints."""
        header = {
            "format": FILE_FORMAT,
            "version": 1,
            "origin": self.key.name,
            "verifier_key": self.key.verifier_key,
        }
        count = 0
        tmp = path.with_name(path.name + ".part")
        with tmp.open("wb") as out:
            out.write(json.dumps(header, sort_keys=True).encode() + b"\n")
            for _seq, data, chain in self._rows(conn):
                out.write(
                    b'{"chain":"' + bytes(chain or b"").hex().encode() + b'","entry":' + bytes(data) + b"}\n"
                )
                count += 1
            for note in self.notes(conn):
                out.write(json.dumps({"checkpoint": note}).encode() + b"\n")
        tmp.replace(path)
        return count
