"""Checking an audit log: the hash chain, the Merkle roots, the signed checkpoints.

Shared by `AuditLog.verify` (rows from the database) and `verify_file` (an
exported JSONL file checked offline, needing only `hashlib`, `json` and
`cryptography`). Both stream entries once: leaf hash, chain hash and the
compact-range root builder per entry, O(log n) memory.

What each tampering looks like, and what is reported (entry numbers start at 1):

* an entry edited without fixing the chain → that entry's chain hash fails;
* an entry deleted or inserted, or two entries swapped → an entry number out of
  place, or the chain fails, at the first moved position;
* the chain rewritten after an edit (a careful attacker) → the first signed
  checkpoint whose root no longer matches; the first bad entry is then known
  to lie after the previous good checkpoint, and that number is reported;
* entries cut off the end → a signed checkpoint larger than the log;
* a checkpoint with a forged or foreign signature → named by its size.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from hashlib import sha256
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from svidok.audit.merkle import RootBuilder
from svidok.audit.note import NoteError, open_checkpoint, verifier_key

__all__ = ["LogReport", "check_entries", "check_prefix", "parse_verifier_key", "verify_file", "ZERO_CHAIN"]

ZERO_CHAIN = bytes(32)
FILE_FORMAT = "svidok-audit-log"


@dataclass(frozen=True)
class LogReport:
    """The outcome of a verification: `ok`, or the first bad entry and why."""

    entries: int
    checkpoints: int
    root: bytes
    first_bad: int | None = None
    problem: str | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None

    def summary(self) -> str:
        if self.ok:
            return (
                f"audit log verifies: {self.entries} entries, {self.checkpoints} signed "
                f"checkpoint(s), root {self.root.hex()}"
            )
        where = f"first bad entry: {self.first_bad}; " if self.first_bad is not None else ""
        return f"audit log does NOT verify: {where}{self.problem}"


SignedRoot = tuple[int, bytes]


_CHUNK = 1 << 14


def _perfect_root(leaves: list[bytes]) -> bytes:
    """Root of a power-of-two number of leaf hashes, level by level (no per-node calls)."""
    level = leaves
    while len(level) > 1:
        it = iter(level)
        level = [sha256(b"\x01" + a + b).digest() for a, b in zip(it, it, strict=True)]
    return level[0]


class _Tree:
    """Streaming tree head over chunks of 2**14 leaves; prefix roots at any size."""

    def __init__(self) -> None:
        self.outer = RootBuilder()  # each pushed item is a perfect subtree of _CHUNK leaves
        self.chunk: list[bytes] = []

    def extend(self, leaves: list[bytes]) -> None:
        i = 0
        while i < len(leaves):
            room = _CHUNK - len(self.chunk)
            self.chunk.extend(leaves[i : i + room])
            i += room
            if len(self.chunk) == _CHUNK:
                self.outer.push(_perfect_root(self.chunk))
                self.chunk = []

    def root(self) -> bytes:
        inner = RootBuilder()
        for leaf in self.chunk:
            inner.push(leaf)
        stack = self.outer._stack + inner._stack
        if not stack:
            return sha256(b"").digest()
        acc = stack[-1]
        for h in reversed(stack[:-1]):
            acc = sha256(b"\x01" + h + acc).digest()
        return acc


Row = tuple[int, bytes, bytes]


def batched(rows: Iterable[Row], size: int = 8192) -> Iterator[list[Row]]:
    batch: list[Row] = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def check_prefix(batches: Iterable[Sequence[tuple[bytes]]], checkpoints: list[SignedRoot]) -> _Tree | None:
    """Re-hash the signed prefix of a log into its Merkle tree; the tree if every root matches.

    `batches` are 1-tuples of canonical entry bytes, entries 1..N in order, N the largest
    checkpoint size (the caller has checked the numbers are exactly 1..N). Every entry
    is hashed (leaf) and the tree is built from the leaves (one node hash per leaf), so
    each entry is proved by a signed root: two hashes per entry instead of three, the
    chain links being redundant below a signed root. None on any mismatch: the caller
    then runs `check_entries`, which names the first bad entry.
    """
    sizes = sorted(size for size, _root in checkpoints)
    roots = dict(checkpoints)
    tree = _Tree()
    done = 0
    index = 0
    while index < len(sizes) and sizes[index] == 0:
        if roots[0] != sha256(b"").digest():
            return None
        index += 1
    for batch in batches:
        leaves = [sha256(b"\x00" + e).digest() for (e,) in batch]
        start = 0
        while index < len(sizes) and sizes[index] <= done + len(leaves):
            size = sizes[index]
            tree.extend(leaves[start : size - done])
            start = size - done
            if tree.root() != roots[size]:
                return None
            index += 1
        tree.extend(leaves[start:])
        done += len(leaves)
    if index < len(sizes) or (sizes and done != sizes[-1]):
        return None
    return tree


def check_entries(
    batches: Iterable[Sequence[Row]],
    checkpoints: list[SignedRoot],
    *,
    start: int = 0,
    prev: bytes = ZERO_CHAIN,
    tree: _Tree | None = None,
) -> LogReport:
    """Check batches of (seq, canonical entry bytes, stored chain) rows, in order.

    `checkpoints` are (size, root) pairs whose signatures the caller has already checked.
    The chain is checked link by link against the *stored* previous value
    (chain_n = SHA-256(chain_{n-1} ‖ leaf_n) for every n, chain_0 = zeros), which by
    induction equals recomputing it, and lets a whole batch be hashed in one
    comprehension. Entries beyond the last checkpoint also have their embedded
    number checked against their position (below it, the signed root fixes it).
    """
    pending = sorted(checkpoints)
    cp_sizes = [size for size, _root in pending]
    signed_upto = cp_sizes[-1] if pending else 0
    cp_index = 0
    if start:  # entries 1..start were proved by `check_prefix`, with the checkpoints up to it
        while cp_index < len(pending) and cp_sizes[cp_index] <= start:
            cp_index += 1
    while cp_index < len(pending) and cp_sizes[cp_index] == 0:
        if pending[cp_index][1] != sha256(b"").digest():
            return LogReport(0, len(pending), b"", 1, "the signed checkpoint of size 0 is not empty")
        cp_index += 1
    last_good = start
    tree = tree or _Tree()
    done = start  # entries checked so far
    for batch in batches:
        seqs, entries, chains = zip(*batch, strict=True)
        count = len(seqs)
        leaves = [sha256(b"\x00" + e).digest() for e in entries]
        links = [sha256(p + leaf).digest() for p, leaf in zip((prev, *chains[:-1]), leaves, strict=True)]
        problems: list[tuple[int, str]] = []
        if list(seqs) != list(range(done + 1, done + count + 1)):
            i = next(i for i, s in enumerate(seqs) if s != done + 1 + i)
            problems.append(
                (
                    done + i + 1,
                    f"entry {done + i + 1} is missing or out of place "
                    f"(found entry number {seqs[i]} at position {done + i + 1})",
                )
            )
        if links != list(chains):
            i = next(i for i, (a, b) in enumerate(zip(links, chains, strict=True)) if a != b)
            problems.append(
                (
                    done + i + 1,
                    f"entry {done + i + 1} does not match the hash chain (edited, inserted or reordered)",
                )
            )
        if done + count > signed_upto:
            lo = max(0, signed_upto - done)
            numbered = [
                e.endswith(b'"seq":%d,"v":1}' % n)
                for e, n in zip(entries[lo:], range(done + lo + 1, done + count + 1), strict=True)
            ]
            if not all(numbered):
                n = done + lo + numbered.index(False) + 1
                problems.append((n, f"entry {n}'s own number does not match its position"))
        if problems:
            n, message = min(problems, key=lambda p: p[0])
            return _bad(n - 1, pending, tree, n, message)
        start = 0
        while cp_index < len(pending) and cp_sizes[cp_index] <= done + count:
            size = cp_sizes[cp_index]
            tree.extend(leaves[start : size - done])
            start = size - done
            if tree.root() != pending[cp_index][1]:
                return _bad(
                    size,
                    pending,
                    tree,
                    last_good + 1,
                    f"entries {last_good + 1}..{size} do not match the signed checkpoint "
                    f"of size {size} (rewritten after it was signed)",
                )
            last_good = size
            cp_index += 1
        tree.extend(leaves[start:])
        prev = chains[-1]
        done += count
    if cp_index < len(pending):
        return _bad(
            done,
            pending,
            tree,
            done + 1,
            f"log truncated: a signed checkpoint covers {cp_sizes[cp_index]} entries, "
            f"only {done} are present",
        )
    return LogReport(entries=done, checkpoints=len(pending), root=tree.root())


def _bad(count: int, pending: list[SignedRoot], tree: _Tree, first_bad: int, problem: str) -> LogReport:
    return LogReport(count, len(pending), tree.root(), first_bad, problem)


def parse_verifier_key(vkey: str) -> tuple[str, Ed25519PublicKey]:
    """Parse `name+hex(id)+base64(0x01 ‖ key)` into (name, key), checking the id."""
    try:
        name, _id, encoded = vkey.strip().split("+", 2)
        raw = base64.b64decode(encoded, validate=True)
    except (ValueError, binascii.Error) as exc:
        raise NoteError("not a verifier key of the form name+id+key") from exc
    if len(raw) != 33 or raw[0] != 1:
        raise NoteError("verifier key is not an Ed25519 key")
    public = Ed25519PublicKey.from_public_bytes(raw[1:])
    if verifier_key(name, public) != vkey.strip():
        raise NoteError("verifier key id does not match the key")
    return name, public


def check_notes(notes: list[str], name: str, public: Ed25519PublicKey) -> tuple[list[SignedRoot], str | None]:
    """Open every checkpoint note; return the good (size, root) pairs or the first problem."""
    roots: list[SignedRoot] = []
    for i, note in enumerate(notes, start=1):
        try:
            cp = open_checkpoint(note, name, public)
        except NoteError as exc:
            return roots, f"checkpoint {i} is forged or damaged: {exc}"
        if cp.origin != name:
            return roots, f"checkpoint {i} is for another log ({cp.origin!r})"
        roots.append((cp.size, cp.root))
    return roots, None


def verify_file(path: Path, trusted_key: str | None = None) -> LogReport:
    """Verify an exported JSONL log offline.

    `trusted_key` is the log's published verifier key; without it the key in the
    file's header is used and only the file's internal consistency is proved (a
    forger who rewrote everything could have replaced the key too).
    """
    header: dict[str, object] | None = None
    notes: list[str] = []
    rows: list[Row] = []
    position = 0
    with path.open("rb") as fh:
        for line_no, raw in enumerate(fh, start=1):
            try:
                obj = json.loads(raw)
            except ValueError:
                return LogReport(position, 0, b"", position + 1, f"line {line_no} is not JSON")
            if not isinstance(obj, dict):
                return LogReport(position, 0, b"", position + 1, f"line {line_no} is not an object")
            if header is None:
                if obj.get("format") != FILE_FORMAT:
                    return LogReport(0, 0, b"", None, "not a Svidok audit log export")
                header = obj
            elif "checkpoint" in obj:
                notes.append(str(obj["checkpoint"]))
            else:
                position += 1
                try:
                    entry = json.dumps(
                        obj["entry"],
                        sort_keys=True,
                        separators=(",", ":"),
                        ensure_ascii=True,
                        allow_nan=False,
                    ).encode()
                    seq = int(obj["entry"]["seq"])
                    chain = bytes.fromhex(str(obj["chain"]))
                except (KeyError, TypeError, ValueError):
                    return LogReport(
                        position - 1, 0, b"", position, f"line {line_no} is not a well-formed entry"
                    )
                rows.append((seq, entry, chain))
    if header is None:
        return LogReport(0, 0, b"", None, "empty file")
    try:
        name, public = parse_verifier_key(trusted_key or str(header.get("verifier_key", "")))
    except NoteError as exc:
        return LogReport(0, 0, b"", None, f"verifier key: {exc}")
    roots, problem = check_notes(notes, name, public)
    if problem:
        return LogReport(len(rows), len(notes), b"", None, problem)
    return check_entries(batched(rows), roots)
