"""Field encryption and keyed blind indexes (ENC-02, ENC-04), and per-record subject keys.

Threat: a copy of the PostgreSQL database (a dump, a replica, a cloud operator)
read by someone who must not learn names, birth dates or contact details, or
who swaps ciphertexts between rows to make the register lie; and, on both
backends, a copy (a backup, a seized file) kept after a person was erased.

Design: each protected value is sealed with AES-256-GCM under a data key from
the keyring, a fresh random 96-bit nonce per value (safe: at most 2^32 values
per key before rotation, CipherSweet's bound), and AAD binding it to its place:
"svidok-field/1" ‖ table ‖ column ‖ record id ‖ key id. Moving a ciphertext to
another row or column, or relabelling its key id, fails authentication.
Per-subject keys (`subject:<id>`) make crypto-shredding possible: destroy the
key and every field sealed under it is gone (`KeyDestroyed`). Personal values
get their record's own key on both backends, inside the SQLCipher file too
(`FieldCipher(embedded=True)` seals only those; see `svidok.services.erasure`).

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
from collections.abc import Callable, Iterable
from typing import Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from svidok.crypto.errors import DecryptionFailed, KeyDestroyed, KeyringMissing
from svidok.errors import ConfigError

__all__ = [
    "ERASED",
    "SUBJECT_TOKEN_PREFIX",
    "BlindIndex",
    "FieldCipher",
    "SubjectValue",
    "blind_index_bits",
    "open_field",
    "seal_field",
]

KeyLookup = Callable[[str], bytes]


def _aad(table: str, column: str, record_id: str, key_id: str) -> bytes:
    return f"svidok-field/1\x00{table}\x00{column}\x00{record_id}\x00{key_id}".encode()


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

    def value(self, text: str, *, exact: bool = False) -> str:
        """The index value of `text`; `exact` hashes it as given (for keys that are
        already normal forms, where two keys differing only in case must stay two)."""
        data = (text if exact else normalise(text)).encode()
        digest = hashlib.blake2b(data, key=self._key, digest_size=32).digest()
        number = int.from_bytes(digest, "big") >> (256 - self.bits)
        return f"{number:0{(self.bits + 3) // 4}x}"


# -- the store's column-level cipher (PostgreSQL) ----------------------------------------------

FIELD_KEY = "field"
COLUMN_SCOPE = "*"
"""The record-id slot of the AAD for values sealed by the store's column type.

A column type sees one value at a time, never its row, so values written through the
store are bound to their table, column and key id; the row is not part of the AAD (see
docs/security.md: a swap *within* one column is not detected by the cipher)."""
ERASED = "[erased]"
SUBJECT_KEY_PREFIX = "subject:"
SUBJECT_TOKEN_PREFIX = "v1:subject:"  # nosec B105 # a token format prefix, not a secret
"""What a protected value reads as once its subject's data key has been destroyed."""
NAME_KEY_BITS = 64
"""Blind blocking keys keep 64 bits: a look-up must find the same candidates as before
(a false match only adds a candidate the scorer then rejects)."""


class SubjectValue(str):
    """A value to seal under the data key of one subject (crypto-shreddable), not the column key.

    `SubjectValue("Ales", subject="pe_1")` written to a protected column is sealed under
    `subject:pe_1`; after `keys shred pe_1` it reads as `ERASED`.
    """

    subject: str

    def __new__(cls, value: str, subject: str) -> SubjectValue:
        made = super().__new__(cls, value)
        made.subject = subject
        return made


class FieldCipher:
    """The keys one register needs for its protected columns and blind indexes.

    Built from the unlocked keyring (`from_keyring`) and attached to the engine by
    `svidok.store.db.attach_fields`; the store's column types find it through the dialect.
    On PostgreSQL it seals every protected value (the `field` key, or a subject's key).
    `embedded` (SQLCipher, which already encrypts the whole file) seals only `SubjectValue`s,
    so that a subject's personal data is still unreadable in a copy of the file, or a backup,
    once their key is destroyed; other values pass through.
    """

    def __init__(
        self,
        field_key: bytes,
        lookup: KeyLookup,
        subject_key: KeyLookup,
        derive: Callable[[str, str], bytes],
        *,
        subject_keys: Callable[[Iterable[str]], object] | None = None,
        subject_cipher: SubjectCipher | None = None,
        embedded: bool = False,
    ) -> None:
        self._aead = AESGCM(field_key)
        self._lookup = lookup
        self._subject_key = subject_key
        self._subject_keys = subject_keys
        self._subject_cipher = subject_cipher
        self._derive = derive
        self.embedded = embedded
        self._indexes: dict[tuple[str, str], BlindIndex] = {}

    @classmethod
    def from_keyring(cls, keyring: _KeyringLike, *, embedded: bool = False) -> FieldCipher:
        return cls(
            keyring.data_key(FIELD_KEY),
            keyring.data_key,
            lambda subject: keyring.subject_key(subject)[1],
            keyring.derive,
            subject_keys=keyring.subject_keys,
            subject_cipher=keyring.subject_cipher,
            embedded=embedded,
        )

    def prepare(self, subjects: Iterable[str]) -> None:
        """Make (or load) the keys of many subjects at once, before a batch is sealed: one
        key-store transaction instead of one per value."""
        if self._subject_keys is not None:
            self._subject_keys(subjects)

    def seal(self, table: str, column: str, value: str) -> str:
        if isinstance(value, SubjectValue):
            key_id = f"{SUBJECT_KEY_PREFIX}{value.subject}"
            if self._subject_cipher is None:
                key = self._subject_key(value.subject)
                return seal_field(key, key_id, table, column, COLUMN_SCOPE, str(value))
            nonce = os.urandom(12)
            ct = self._subject_cipher(key_id).encrypt(
                nonce, value.encode(), f"svidok-field/1\x00{table}\x00{column}\x00*\x00{key_id}".encode()
            )
            return f"v1:{key_id}:{binascii.b2a_base64(nonce + ct, newline=False).decode()}"
        if self.embedded:
            return value
        nonce = os.urandom(12)
        ct = self._aead.encrypt(nonce, value.encode(), _aad(table, column, COLUMN_SCOPE, FIELD_KEY))
        return f"v1:{FIELD_KEY}:{base64.b64encode(nonce + ct).decode()}"

    def open(self, table: str, column: str, token: str) -> str:
        """The plaintext of a stored token; `ERASED` if its subject key was destroyed (or is not
        in this keyring at all, as after restoring data newer than its key bundle)."""
        if token.startswith(SUBJECT_TOKEN_PREFIX):
            if self._subject_cipher is not None:
                return _open_subject(self._subject_cipher, table, column, token)
        elif self.embedded:
            return token
        if token.startswith(f"v1:{FIELD_KEY}:"):
            try:
                blob = base64.b64decode(token[len(FIELD_KEY) + 4 :], validate=True)
                plain = self._aead.decrypt(blob[:12], blob[12:], _aad(table, column, COLUMN_SCOPE, FIELD_KEY))
            except (ValueError, binascii.Error, InvalidTag) as exc:
                raise DecryptionFailed(
                    f"{table}.{column}: a stored value does not decrypt (wrong key, moved or tampered)"
                ) from exc
            return plain.decode()
        if not token.startswith("v1:"):
            raise DecryptionFailed(
                f"{table}.{column}: a stored value is not sealed (written without the keyring?); "
                "export and re-import the register through `svidok` to encrypt it"
            )
        try:
            return open_field(self._lookup, table, column, COLUMN_SCOPE, token)
        except KeyDestroyed:
            return ERASED
        except KeyringMissing:
            raise
        except ConfigError:
            if token.startswith(SUBJECT_TOKEN_PREFIX):
                return ERASED
            raise

    def blind(self, table: str, column: str, value: str, bits: int = NAME_KEY_BITS) -> str:
        """The keyed blind index of `value` in `table.column`: equal values (exactly, as
        given) give equal outputs, so `=`, `IN` and primary keys behave as on the plaintext."""
        index = self._indexes.get((table, column))
        if index is None:
            key = self._derive("blind-index", f"blind-index register {table}.{column}")
            index = self._indexes[(table, column)] = BlindIndex(key, bits)
        return index.value(value, exact=True)


def _open_subject(cipher: SubjectCipher, table: str, column: str, token: str) -> str:
    """`FieldCipher.open` of a token under a subject key, through the keyring's ready ciphers."""
    key_id, _, blob_text = token[3:].rpartition(":")
    try:
        blob = binascii.a2b_base64(blob_text, strict_mode=True)  # as b64decode(validate=True)
    except (ValueError, binascii.Error) as exc:
        raise DecryptionFailed(f"{table}.{column}: a stored value is not a sealed value") from exc
    if len(blob) < 28 or not key_id:
        raise DecryptionFailed(f"{table}.{column}: a stored value has an unknown format")
    try:
        aead = cipher(key_id, create=False)
    except KeyDestroyed:
        return ERASED
    except KeyringMissing:
        raise
    except ConfigError:  # not in this keyring (data restored newer than its key bundle)
        return ERASED
    try:
        plain = aead.decrypt(
            blob[:12], blob[12:], f"svidok-field/1\x00{table}\x00{column}\x00*\x00{key_id}".encode()
        )
    except InvalidTag as exc:
        raise DecryptionFailed(
            f"{table}.{column}: a stored value does not decrypt (wrong key, moved or tampered)"
        ) from exc
    return plain.decode()


class SubjectCipher(Protocol):
    """`Keyring.subject_cipher`: a ready AES-GCM under one subject key."""

    def __call__(self, key_id: str, *, create: bool = True) -> AESGCM: ...


class _KeyringLike(Protocol):
    def data_key(self, key_id: str, *, create: bool = False, purpose: str = "subject") -> bytes: ...

    def subject_keys(self, subject_ids: Iterable[str], *, create: bool = True) -> dict[str, bytes]: ...

    def subject_key(self, subject_id: str, *, create: bool = True) -> tuple[str, bytes]: ...

    def subject_cipher(self, key_id: str, *, create: bool = True) -> AESGCM: ...

    def derive(self, key_id: str, info: str) -> bytes: ...
