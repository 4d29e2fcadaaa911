"""RFC 6962 / RFC 9162 Merkle tree hashing, proofs and proof verifiers.

Threat: someone with write access to the database (an intruder, an insider, a
seized server handed back) edits, deletes, inserts or reorders audit entries and
hopes nobody notices. A Merkle tree over the entries lets a small signed
checkpoint (size, root) commit to every entry, and lets a verifier check that a
later tree extends an earlier one (consistency) or holds one entry (inclusion)
with O(log n) hashes.

Format (RFC 9162 §2.1): leaf hash = SHA-256(0x00 ‖ entry bytes); interior node
= SHA-256(0x01 ‖ left ‖ right); the tree of n leaves splits at the largest power
of two strictly below n; the empty tree's hash is SHA-256(""). Proofs are lists
of 32-byte hashes in the RFC's order, so any RFC 9162 verifier (Go
transparency-dev/merkle, Trillian, sigsum) checks ours and ours checks theirs.

Trade-offs: proof *generation* here works from the list of leaf hashes in
memory (fine for exports of one item's entries, O(n) per proof); the verifiers
and the streaming `RootBuilder` are O(log n) memory, which is what `verify` of a
million entries needs.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from hashlib import sha256

__all__ = [
    "EMPTY_ROOT",
    "RootBuilder",
    "consistency_proof",
    "inclusion_proof",
    "leaf_hash",
    "node_hash",
    "root_of",
    "verify_consistency",
    "verify_inclusion",
]

HASH_SIZE = 32
EMPTY_ROOT = sha256(b"").digest()


def leaf_hash(data: bytes) -> bytes:
    return sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two strictly smaller than n (n ≥ 2)."""
    return 1 << ((n - 1).bit_length() - 1)


class RootBuilder:
    """Streaming tree head: push leaf hashes one by one, ask for the root at any size.

    Keeps one hash per set bit of the size (the "compact range"), so memory is
    O(log n) and each push costs one node hash on average.
    """

    __slots__ = ("_stack", "size")

    def __init__(self) -> None:
        self._stack: list[bytes] = []
        self.size = 0

    def push(self, leaf: bytes) -> None:
        stack = self._stack
        n = self.size
        h = leaf
        while n & 1:
            h = sha256(b"\x01" + stack.pop() + h).digest()
            n >>= 1
        stack.append(h)
        self.size += 1

    def root(self) -> bytes:
        if not self._stack:
            return EMPTY_ROOT
        acc = self._stack[-1]
        for h in reversed(self._stack[:-1]):
            acc = sha256(b"\x01" + h + acc).digest()
        return acc


def root_of(leaves: Iterable[bytes]) -> bytes:
    """MTH of a sequence of leaf hashes."""
    builder = RootBuilder()
    for leaf in leaves:
        builder.push(leaf)
    return builder.root()


def inclusion_proof(leaves: Sequence[bytes], index: int, size: int | None = None) -> list[bytes]:
    """PATH(index, D[size]) of RFC 9162 §2.1.3.1, from the leaf hashes."""
    size = len(leaves) if size is None else size
    if not 0 <= index < size <= len(leaves):
        raise ValueError(f"no leaf {index} in a tree of size {size}")
    return _path(leaves[:size], index)


def _path(leaves: Sequence[bytes], m: int) -> list[bytes]:
    n = len(leaves)
    if n == 1:
        return []
    k = _split(n)
    if m < k:
        return [*_path(leaves[:k], m), root_of(leaves[k:])]
    return [*_path(leaves[k:], m - k), root_of(leaves[:k])]


def consistency_proof(leaves: Sequence[bytes], first: int, second: int | None = None) -> list[bytes]:
    """PROOF(first, D[second]) of RFC 9162 §2.1.4.1; empty when first is 0 or equals second."""
    second = len(leaves) if second is None else second
    if not 0 <= first <= second <= len(leaves):
        raise ValueError(f"no consistency proof from size {first} to size {second}")
    if first == 0 or first == second:
        return []
    return _subproof(leaves[:second], first, True)


def _subproof(leaves: Sequence[bytes], m: int, complete: bool) -> list[bytes]:
    n = len(leaves)
    if m == n:
        return [] if complete else [root_of(leaves)]
    k = _split(n)
    if m <= k:
        return [*_subproof(leaves[:k], m, complete), root_of(leaves[k:])]
    return [*_subproof(leaves[k:], m - k, False), root_of(leaves[:k])]


def _all_hashes(*values: bytes) -> bool:
    return all(isinstance(v, bytes | bytearray) and len(v) == HASH_SIZE for v in values)


def verify_inclusion(leaf: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes) -> bool:
    """RFC 9162 §2.1.3.2: does `proof` show leaf `index` of a tree of `size` under `root`?"""
    if not (0 <= index < size) or not _all_hashes(leaf, root, *proof):
        return False
    fn, sn, r = index, size - 1, bytes(leaf)
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(
    first: int, second: int, first_root: bytes, second_root: bytes, proof: Sequence[bytes]
) -> bool:
    """RFC 9162 §2.1.4.2: is the tree of `second` leaves an extension of the one of `first`?"""
    if not (0 <= first <= second) or not _all_hashes(first_root, second_root, *proof):
        return False
    if first == second:
        return not proof and first_root == second_root
    if first == 0:
        return not proof
    if not proof:
        return False
    path = list(proof)
    if first & (first - 1) == 0:
        path.insert(0, bytes(first_root))
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == first_root and sr == second_root
