"""Sealed source identities: only the protection officer can open them (ENC-01, AUTH-05).

Threat: a server compromise or an insider reading who the sources are. The
server stores a source's identity and contacts sealed to the protection
officer's X25519 public key (NaCl sealed box: ephemeral X25519 + XSalsa20-
Poly1305, anonymous sender); the private key is written to a file the officer
keeps off the server. The server alone can seal but never open.

Formats: the private key file is text, "SVIDOK-PROTECTION-KEY-1\\n<key id>\\n
<base64 32-byte X25519 secret>\\n", mode 0600. A key id is the first 16 hex
digits of SHA-256 of the public key. A sealed payload is the sealed box of
canonical JSON (sorted keys) of the identity fields.

Trade-off: one officer key per register for now; several recipients (a deputy,
a key in escrow) would seal once per recipient.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from hashlib import sha256
from pathlib import Path
from typing import Any

from nacl.exceptions import CryptoError
from nacl.public import PrivateKey, PublicKey, SealedBox

from svidok.crypto.errors import DecryptionFailed
from svidok.errors import ConfigError

__all__ = ["key_id_of", "new_officer_key", "open_payload", "read_private_key", "seal_payload"]

_MAGIC = "SVIDOK-PROTECTION-KEY-1"


def key_id_of(public: bytes) -> str:
    return sha256(public).hexdigest()[:16]


def new_officer_key(private_path: Path) -> tuple[str, bytes]:
    """Generate a key pair; write the private key to a new 0600 file; return (key id, public)."""
    private = PrivateKey.generate()
    public = bytes(private.public_key)
    kid = key_id_of(public)
    fd = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(f"{_MAGIC}\n{kid}\n{base64.b64encode(bytes(private)).decode()}\n")
    return kid, public


def read_private_key(path: Path) -> tuple[str, PrivateKey]:
    try:
        magic, kid, encoded = path.read_text().split()
        private = PrivateKey(base64.b64decode(encoded, validate=True))
    except (OSError, ValueError, binascii.Error) as exc:
        raise ConfigError(f"{path} is not a Svidok protection key file") from exc
    if magic != _MAGIC or key_id_of(bytes(private.public_key)) != kid:
        raise ConfigError(f"{path} is not a Svidok protection key file")
    return kid, private


def seal_payload(public: bytes, payload: dict[str, Any]) -> bytes:
    data = json.dumps(payload, sort_keys=True, ensure_ascii=False).encode()
    return bytes(SealedBox(PublicKey(public)).encrypt(data))


def open_payload(private: PrivateKey, ciphertext: bytes) -> dict[str, Any]:
    try:
        data = SealedBox(private).decrypt(ciphertext)
    except CryptoError as exc:
        raise DecryptionFailed("the sealed identity does not open with this key") from exc
    result: dict[str, Any] = json.loads(data)
    return result
