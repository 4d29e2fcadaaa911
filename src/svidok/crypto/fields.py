"""Field encryption and keyed blind indexes for the PostgreSQL path (ENC-02, ENC-04).

Threat: a copy of the PostgreSQL database (a dump, a replica, a cloud operator)
read by someone who must not learn names, birth dates or contact details, or
who swaps ciphertexts between rows to make the register lie.

Design: each protected value is sealed with AES-256-GCM under a data key from
the keyring, a fresh random 96-bit nonce per value (safe: at most 2^32 values
per key before rotation, CipherSweet's bound), and AAD binding it to its place:
"svidok-field/1" ‖ table ‖ column ‖ record id ‖ key id. Moving a ciphertext to
another row or column, or relabelling its key id, fails authentication.
Per-subject keys (`subject:<id>`) make crypto-shredding possible: destroy the
key and every field sealed under it is gone (`KeyDestroyed`).

Exact-match search uses blind indexes: keyed BLAKE2b-256 of the normalised
value under a per-index key (HKDF from the `blind-index` data key with info
"svidok/1 blind-index <compartment> <table>.<column>"), truncated to L bits
where L is chosen so that the expected number of rows per index value C =
R / 2^L satisfies 2 ≤ C < √R (CipherSweet): enough collisions that the index
alone does not identify a row, few enough that search stays cheap. The same
name gives unrelated index values in different tables or compartments.

Token format: "v1:<key id>:<base64(nonce ‖ ciphertext ‖ tag)>".

Trade-offs: blind indexes leak equality within one column (who shares a name),
which is why they are truncated; low-entropy values (birth dates) should use a
slow index (Argon2id) — not implemented yet.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import math
import os
import unicodedata
from collections.abc import Callable

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from svidok.crypto.errors import DecryptionFailed

__all__ = ["BlindIndex", "blind_index_bits", "open_field", "seal_field"]

KeyLookup = Callable[[str], bytes]


def _aad(table: str, column: str, record_id: str, key_id: str) -> bytes:
    return b"\x00".join(x.encode() for x in ("svidok-field/1", table, column, record_id, key_id))


def seal_field(key: bytes, key_id: str, table: str, column: str, record_id: str, value: str) -> str:
    nonce = os.urandom(12)
    ct = AESGCM(key).encrypt(nonce, value.encode(), _aad(table, column, record_id, key_id))
    return f"v1:{key_id}:{base64.b64encode(nonce + ct).decode()}"


def open_field(lookup: KeyLookup, table: str, column: str, record_id: str, token: str) -> str:
    """Decrypt a token; `lookup(key_id)` gives the key (and raises `KeyDestroyed` if shredded)."""
    try:
        version, rest = token.split(":", 1)
        key_id, blob_text = rest.rsplit(":", 1)
        blob = base64.b64decode(blob_text, validate=True)
    except (ValueError, binascii.Error) as exc:
        raise DecryptionFailed(f"{table}.{column} of {record_id} is not a sealed value") from exc
    if version != "v1" or len(blob) < 28:
        raise DecryptionFailed(f"{table}.{column} of {record_id} has an unknown format")
    key = lookup(key_id)
    try:
        plain = AESGCM(key).decrypt(blob[:12], blob[12:], _aad(table, column, record_id, key_id))
    except InvalidTag as exc:
        raise DecryptionFailed(
            f"{table}.{column} of {record_id} does not decrypt (wrong key, moved or tampered)"
        ) from exc
    return plain.decode()


def blind_index_bits(expected_rows: int) -> int:
    """L such that C = R / 2^L lies in [2, √R) for R expected rows (CipherSweet's rule).

    The largest L with C ≥ 2 is floor(log2(R / 2)); it gives C < 4 ≤ √R for R ≥ 16.
    """
    return max(1, math.floor(math.log2(max(expected_rows, 16) / 2)))


def normalise(value: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", value).casefold().split())


class BlindIndex:
    """One column's exact-match index: `value(text)` → a short hex string to store and query."""

    def __init__(self, index_key: bytes, bits: int) -> None:
        if not 1 <= bits <= 256:
            raise ValueError("blind index bits must be in 1..256")
        self._key = index_key
        self.bits = bits

    @classmethod
    def for_column(
        cls,
        derive: Callable[[str, str], bytes],
        compartment: str,
        table: str,
        column: str,
        expected_rows: int,
    ) -> BlindIndex:
        """`derive` is `Keyring.derive`: the per-index key comes from the `blind-index` key."""
        key = derive("blind-index", f"blind-index {compartment} {table}.{column}")
        return cls(key, blind_index_bits(expected_rows))

    def value(self, text: str) -> str:
        digest = hashlib.blake2b(normalise(text).encode(), key=self._key, digest_size=32).digest()
        number = int.from_bytes(digest, "big") >> (256 - self.bits)
        return f"{number:0{(self.bits + 3) // 4}x}"
