"""RFC 6962 known answers, proof verifiers against the transparency-dev corruption probes."""

from __future__ import annotations

from hashlib import sha256

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from svidok.audit.merkle import (
    EMPTY_ROOT,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    root_of,
    verify_consistency,
    verify_inclusion,
)

# RFC 6962 test leaves and roots (as published in transparency-dev/merkle testonly), data only.
LEAVES = [
    bytes.fromhex(h)
    for h in (
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    )
]
ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
INCLUSION = [
    (
        0,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        5,
        8,
        [
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
]
CONSISTENCY = [
    (
        2,
        8,
        [
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        5,
        [
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
]
HASHES = [leaf_hash(x) for x in LEAVES]


def test_empty_root_and_known_answer_roots_for_sizes_1_to_8() -> None:
    assert root_of([]) == EMPTY_ROOT == sha256(b"").digest()
    for n in range(1, 9):
        assert root_of(HASHES[:n]).hex() == ROOTS[n - 1], n


@pytest.mark.parametrize(("index", "size", "proof"), INCLUSION)
def test_inclusion_known_answers(index: int, size: int, proof: list[str]) -> None:
    assert [h.hex() for h in inclusion_proof(HASHES, index, size)] == proof
    root = bytes.fromhex(ROOTS[size - 1])
    assert verify_inclusion(HASHES[index], index, size, [bytes.fromhex(p) for p in proof], root)


@pytest.mark.parametrize(("first", "second", "proof"), CONSISTENCY)
def test_consistency_known_answers(first: int, second: int, proof: list[str]) -> None:
    assert [h.hex() for h in consistency_proof(HASHES, first, second)] == proof
    r1, r2 = bytes.fromhex(ROOTS[first - 1]), bytes.fromhex(ROOTS[second - 1])
    assert verify_consistency(first, second, r1, r2, [bytes.fromhex(p) for p in proof])


def _flips(proof: list[bytes]) -> list[list[bytes]]:
    out = []
    for i, h in enumerate(proof):
        for bit in (0, 7):
            bad = bytearray(h)
            bad[len(h) // 2] ^= 1 << bit
            out.append([*proof[:i], bytes(bad), *proof[i + 1 :]])
    return out


def inclusion_probes(index: int, size: int, proof: list[bytes], root: bytes, leaf: bytes):
    junk = sha256(b"junk").digest()
    yield "index-1", (leaf, index - 1, size, proof, root)
    yield "index+1", (leaf, index + 1, size, proof, root)
    yield "index^2", (leaf, index ^ 2, size, proof, root)
    yield "size*2", (leaf, index, size * 2, proof, root)
    yield "size/2", (leaf, index, size // 2, proof, root)
    yield "wrong leaf", (sha256(b"other").digest(), index, size, proof, root)
    yield "empty root", (leaf, index, size, proof, EMPTY_ROOT)
    yield "random root", (leaf, index, size, proof, junk)
    yield "trailing garbage", (leaf, index, size, [*proof, junk], root)
    yield "preceding garbage", (leaf, index, size, [junk, *proof], root)
    yield "trailing root", (leaf, index, size, [*proof, root], root)
    yield "preceding root", (leaf, index, size, [root, *proof], root)
    if proof:
        yield "truncated", (leaf, index, size, proof[:-1], root)
        yield "empty proof", (leaf, index, size, [], root)
        yield "removed first", (leaf, index, size, proof[1:], root)
    for i, bad in enumerate(_flips(proof)):
        yield f"flip {i}", (leaf, index, size, bad, root)


def consistency_probes(first: int, second: int, r1: bytes, r2: bytes, proof: list[bytes]):
    junk = sha256(b"junk").digest()
    yield "swapped roots", (first, second, r2, r1, proof)
    yield "first-1", (first - 1, second, r1, r2, proof)
    yield "first+1", (first + 1, second, r1, r2, proof)
    yield "first^2", (first ^ 2, second, r1, r2, proof)
    yield "second*2", (first, second * 2, r1, r2, proof)
    yield "second/2", (first, second // 2, r1, r2, proof)
    yield "second<first", (second, first, r2, r1, proof)
    yield "empty root1", (first, second, EMPTY_ROOT, r2, proof)
    yield "random root2", (first, second, r1, junk, proof)
    yield "trailing garbage", (first, second, r1, r2, [*proof, junk])
    yield "preceding garbage", (first, second, r1, r2, [junk, *proof])
    yield "trailing root", (first, second, r1, r2, [*proof, r2])
    yield "truncated", (first, second, r1, r2, proof[:-1])
    yield "empty proof", (first, second, r1, r2, [])
    for i, bad in enumerate(_flips(proof)):
        yield f"flip {i}", (first, second, r1, r2, bad)


def _genuine(leaves: list[bytes], leaf: bytes, i: int, n: int, p: list[bytes], r: bytes) -> bool:
    """Is this probe, by chance, a true statement about the tree?"""
    if not (0 <= i < n <= len(leaves)):
        return False
    return leaf == leaves[i] and r == root_of(leaves[:n]) and p == inclusion_proof(leaves, i, n)


def test_every_inclusion_probe_rejected_for_every_leaf_of_trees_up_to_40() -> None:
    leaves = [leaf_hash(bytes([i, i * 7 % 256])) for i in range(40)]
    for size in range(1, 41):
        root = root_of(leaves[:size])
        for index in range(size):
            proof = inclusion_proof(leaves, index, size)
            assert verify_inclusion(leaves[index], index, size, proof, root)
            for name, probe in inclusion_probes(index, size, proof, root, leaves[index]):
                if _genuine(leaves, *probe):
                    continue  # e.g. size/2 == size for size 1: not a corruption at all
                assert not verify_inclusion(*probe), (name, index, size)


def test_every_consistency_probe_rejected_for_all_pairs_up_to_40() -> None:
    leaves = [leaf_hash(bytes([i, 3])) for i in range(40)]
    roots = [root_of(leaves[:n]) for n in range(41)]
    for second in range(2, 41):
        for first in range(1, second):
            proof = consistency_proof(leaves, first, second)
            assert verify_consistency(first, second, roots[first], roots[second], proof)
            for name, probe in consistency_probes(first, second, roots[first], roots[second], proof):
                assert not verify_consistency(*probe), (name, first, second)


def test_degenerate_consistency_cases() -> None:
    r4, r5 = root_of(HASHES[:4]), root_of(HASHES[:5])
    assert verify_consistency(4, 4, r4, r4, [])
    assert not verify_consistency(4, 4, r4, r5, [])
    assert not verify_consistency(4, 4, r4, r4, [r4])
    assert verify_consistency(0, 8, EMPTY_ROOT, root_of(HASHES), [])
    assert not verify_consistency(0, 8, EMPTY_ROOT, root_of(HASHES), [r4])
    assert not verify_inclusion(HASHES[0][:31], 0, 8, inclusion_proof(HASHES, 0), root_of(HASHES))


@settings(max_examples=60, deadline=None)
@given(st.integers(min_value=2, max_value=2000), st.data())
def test_property_valid_proofs_verify_and_one_bit_flips_fail(n: int, data: st.DataObject) -> None:
    leaves = [leaf_hash(i.to_bytes(4, "big")) for i in range(n)]
    root = root_of(leaves)
    m = data.draw(st.integers(min_value=1, max_value=n - 1))
    proof = consistency_proof(leaves, m, n)
    first_root = root_of(leaves[:m])
    assert verify_consistency(m, n, first_root, root, proof)
    index = data.draw(st.integers(min_value=0, max_value=n - 1))
    path = inclusion_proof(leaves, index, n)
    assert verify_inclusion(leaves[index], index, n, path, root)
    k = data.draw(st.integers(min_value=0, max_value=len(proof) - 1))
    bit = data.draw(st.integers(min_value=0, max_value=255))
    bad = bytearray(proof[k])
    bad[bit // 8] ^= 1 << (bit % 8)
    assert not verify_consistency(m, n, first_root, root, [*proof[:k], bytes(bad), *proof[k + 1 :]])
    if path:
        k = data.draw(st.integers(min_value=0, max_value=len(path) - 1))
        bad = bytearray(path[k])
        bad[bit // 8] ^= 1 << (bit % 8)
        assert not verify_inclusion(leaves[index], index, n, [*path[:k], bytes(bad), *path[k + 1 :]], root)
