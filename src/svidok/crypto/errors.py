"""Errors of the protection layer (keys, audit log, evidence); all are `SvidokError`s.

Messages name key ids, entry numbers, evidence ids and digests, never a
passphrase, a key or a protected value. (Candidates to move into
`svidok.errors` once the layer settles.)
"""

from __future__ import annotations

from svidok.errors import ConfigError, ConflictError, SvidokError

__all__ = [
    "DecryptionFailed",
    "EvidenceCorrupt",
    "ForkDetected",
    "ImmutableOriginal",
    "KeyDestroyed",
    "KeyringMissing",
    "TamperDetected",
    "WrongPassphrase",
]


class WrongPassphrase(SvidokError):
    """The passphrase or key file does not open this register's keyring."""

    exit_code = 4


class KeyringMissing(ConfigError):
    """No keyring in the data directory: run `svidok keys init` (or `svidok init`)."""


class KeyDestroyed(SvidokError):
    """The data key was destroyed (crypto-shredding); what it protected is gone for good."""

    def __init__(self, key_id: str) -> None:
        self.key_id = key_id
        super().__init__(f"data key {key_id} was destroyed; the data it protected cannot be read")


class TamperDetected(SvidokError):
    """The audit log does not verify; `first_bad` is the first entry number that fails."""

    exit_code = 5

    def __init__(self, message: str, first_bad: int | None) -> None:
        self.first_bad = first_bad
        super().__init__(message)


class ForkDetected(TamperDetected):
    """A checkpoint is not an extension of one seen before (rollback or split view)."""


class EvidenceCorrupt(SvidokError):
    """A stored original no longer matches its digest or fails authentication."""

    exit_code = 5


class ImmutableOriginal(ConflictError):
    """An original with this digest is already stored; originals are never overwritten."""


class DecryptionFailed(SvidokError):
    """A ciphertext does not open: wrong key, wrong context (AAD) or tampered bytes."""

    exit_code = 5
