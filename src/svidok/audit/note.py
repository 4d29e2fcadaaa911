"""Checkpoints as C2SP signed notes (c2sp.org/signed-note, c2sp.org/tlog-checkpoint).

Threat: a server that shows one history to one reader and another to a court
(a fork), or rolls the log back after a seizure. A checkpoint signed with the
log's Ed25519 key commits to (origin, size, root); a reader who keeps the last
checkpoint it saw can demand a consistency proof to any newer one.

Format (bytes, UTF-8)::

    <origin>\\n<size>\\n<base64 root>\\n
    \\n
    — <key name> <base64(key id[4] ‖ Ed25519 signature[64])>\\n

The signature covers the note body (the three lines with their newlines). The
key id is the first 4 bytes of SHA-256(name ‖ "\\n" ‖ 0x01 ‖ public key), as
the spec defines for Ed25519; `verifier_key` prints the standard
`name+hex(id)+base64(0x01 ‖ public key)` string to publish and pin.

Trade-off: only Ed25519 and one signature per note are produced; notes with
extra signatures (witness cosignatures, LOG-05) parse, and the extra lines are
ignored by `open_checkpoint`.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from hashlib import sha256

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

__all__ = ["Checkpoint", "NoteError", "key_id", "open_checkpoint", "sign_checkpoint", "verifier_key"]

_DASH = "\u2014"


class NoteError(ValueError):
    """A note is malformed or its signature does not verify with the expected key."""


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes

    def body(self) -> bytes:
        return f"{self.origin}\n{self.size}\n{base64.b64encode(self.root).decode()}\n".encode()


def _raw(public: Ed25519PublicKey) -> bytes:
    return public.public_bytes(Encoding.Raw, PublicFormat.Raw)


def key_id(name: str, public: Ed25519PublicKey) -> bytes:
    return sha256(name.encode() + b"\n\x01" + _raw(public)).digest()[:4]


def verifier_key(name: str, public: Ed25519PublicKey) -> str:
    """The `name+hex(key id)+base64(0x01 ‖ key)` string that readers pin."""
    encoded = base64.b64encode(b"\x01" + _raw(public)).decode()
    return f"{name}+{key_id(name, public).hex()}+{encoded}"


def sign_checkpoint(checkpoint: Checkpoint, name: str, private: Ed25519PrivateKey) -> str:
    body = checkpoint.body()
    signature = private.sign(body)
    blob = base64.b64encode(key_id(name, private.public_key()) + signature).decode()
    return f"{body.decode()}\n{_DASH} {name} {blob}\n"


def open_checkpoint(note: str, name: str, public: Ed25519PublicKey) -> Checkpoint:
    """Parse a signed note and check its signature by (name, public); raise `NoteError`."""
    body, sep, signatures = note.partition("\n\n")
    if not sep or not body:
        raise NoteError("not a signed note: no blank line between text and signatures")
    body += "\n"
    lines = body.split("\n")[:-1]
    if len(lines) < 3:
        raise NoteError("checkpoint body needs origin, size and root lines")
    origin, size_text, root_text = lines[0], lines[1], lines[2]
    if not size_text.isdigit() or (size_text != "0" and size_text.startswith("0")):
        raise NoteError(f"checkpoint size {size_text!r} is not a decimal number")
    try:
        root = base64.b64decode(root_text, validate=True)
    except binascii.Error as exc:
        raise NoteError("checkpoint root is not base64") from exc
    if len(root) != 32:
        raise NoteError("checkpoint root is not 32 bytes")
    wanted = key_id(name, public)
    for line in signatures.split("\n"):
        if not line:
            continue
        parts = line.split(" ")
        if len(parts) != 3 or parts[0] != _DASH or parts[1] != name:
            continue
        try:
            blob = base64.b64decode(parts[2], validate=True)
        except binascii.Error:
            continue
        if len(blob) != 68 or blob[:4] != wanted:
            continue
        try:
            public.verify(blob[4:], body.encode())
        except InvalidSignature as exc:
            raise NoteError(f"signature by {name} does not verify") from exc
        return Checkpoint(origin, int(size_text), root)
    raise NoteError(f"no signature by key {name}+{wanted.hex()}")
