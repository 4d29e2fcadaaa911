"""Check a Svidok evidence package without Svidok: Python's standard library and `cryptography`.

    python verify_package.py PACKAGE.zip [--key 'name+id+base64key']

A copy of this file travels inside every package. It checks, and names the
element that fails:

1. `signature.json` holds an Ed25519 signature over the exact bytes of
   `manifest.json` by the register's key (pin it with --key: the key inside the
   package only proves the package is self-consistent);
2. every file listed in the manifest is present with its SHA-256 and size, and
   no file is present that the manifest does not list;
3. the signed checkpoint (C2SP signed note) verifies with the same key;
4. every audit entry (custody events, the package's own creation) is included
   in that checkpoint's Merkle tree (RFC 9162 inclusion proofs);
5. every custody event matches its audit entry, and every evidence file's
   custody events name that file's SHA-256.
"""

from __future__ import annotations

import base64
import hashlib
import json
import sys
import zipfile
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

UNLISTED = {"manifest.json", "signature.json"}
DASH = "\u2014"


def _key(vkey: str) -> tuple[str, Ed25519PublicKey]:
    name, key_id, encoded = vkey.strip().split("+", 2)
    raw = base64.b64decode(encoded, validate=True)
    if len(raw) != 33 or raw[0] != 1:
        raise ValueError("not an Ed25519 verifier key")
    if hashlib.sha256(name.encode() + b"\n" + raw).digest()[:4].hex() != key_id:
        raise ValueError("verifier key id does not match the key")
    return name, Ed25519PublicKey.from_public_bytes(raw[1:])


def _checkpoint(note: str, name: str, public: Ed25519PublicKey) -> tuple[int, bytes]:
    body, _, signatures = note.partition("\n\n")
    body += "\n"
    _origin, size, root = body.split("\n")[:3]
    for line in signatures.split("\n"):
        parts = line.split(" ")
        if len(parts) == 3 and parts[0] == DASH and parts[1] == name:
            blob = base64.b64decode(parts[2])
            public.verify(blob[4:], body.encode())
            return int(size), base64.b64decode(root)
    raise ValueError(f"no signature by {name}")


def _node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _included(leaf: bytes, index: int, size: int, proof: list[bytes], root: bytes) -> bool:
    if not 0 <= index < size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = _node(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = _node(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def _files(z: zipfile.ZipFile, manifest: dict[str, Any]) -> list[str]:
    problems = []
    listed = manifest["files"]
    for path, meta in sorted(listed.items()):
        try:
            data = z.read(path)
        except KeyError:
            problems.append(f"{path}: listed in the manifest but missing")
            continue
        if hashlib.sha256(data).hexdigest() != meta["sha256"] or len(data) != meta["size"]:
            problems.append(f"{path}: does not match its SHA-256 in the manifest")
    for path in z.namelist():
        if path not in listed and path not in UNLISTED and not path.endswith("/"):
            problems.append(f"{path}: present but not in the manifest")
    return problems


def _audit(z: zipfile.ZipFile, manifest: dict[str, Any], name: str, public: Ed25519PublicKey) -> list[str]:
    problems = []
    proofs = json.loads(z.read("proofs.json"))
    try:
        size, root = _checkpoint(proofs["checkpoint"], name, public)
    except (ValueError, InvalidSignature, KeyError) as exc:
        return [f"proofs.json: checkpoint does not verify ({type(exc).__name__})"]
    entries: dict[str, str] = proofs["entries"]
    for seq, text in sorted(entries.items(), key=lambda kv: int(kv[0])):
        path = [bytes.fromhex(h) for h in proofs["inclusion"].get(seq, [])]
        leaf = hashlib.sha256(b"\x00" + text.encode("ascii")).digest()
        if not _included(leaf, int(seq) - 1, size, path, root):
            problems.append(f"proofs.json: audit entry {seq} is not proved in the checkpoint")
    for item in manifest["evidence"]:
        custody = json.loads(z.read(item["custody"]))
        for event in custody["events"]:
            entry = entries.get(str(event["audit_seq"]))
            if entry is None:
                problems.append(f"{item['custody']}: event {event['audit_seq']} has no audit entry")
                continue
            logged = json.loads(entry)
            if (
                logged["action"] != f"evidence.{event['event']}"
                or logged["id"] != item["id"]
                or logged["details"].get("sha256") != item["sha256"]
                or event["sha256"] != item["sha256"]
            ):
                problems.append(f"{item['custody']}: event {event['audit_seq']} differs from its audit entry")
        if item.get("file") and manifest["files"].get(item["file"], {}).get("sha256") != item["sha256"]:
            problems.append(f"{item['file']}: evidence digest differs from the manifest")
    created = str(manifest.get("audit_seq"))
    if created not in entries:
        problems.append("proofs.json: the package's own audit entry is missing")
    return problems


def verify(path: str, pinned_key: str | None = None) -> list[str]:
    """Problems found in the package at `path` (empty when it verifies)."""
    try:
        z = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as exc:
        return [f"{path}: not a readable zip file ({type(exc).__name__})"]
    with z:
        try:
            manifest_bytes = z.read("manifest.json")
            signed = json.loads(z.read("signature.json"))
            name, public = _key(pinned_key or signed["verifier_key"])
            public.verify(base64.b64decode(signed["signature"]), manifest_bytes)
        except (KeyError, ValueError, InvalidSignature) as exc:
            return [f"manifest.json: signature does not verify ({type(exc).__name__})"]
        manifest = json.loads(manifest_bytes)
        problems = _files(z, manifest)
        try:
            problems += _audit(z, manifest, name, public)
        except (KeyError, ValueError) as exc:
            problems.append(f"proofs or custody records unreadable ({type(exc).__name__}: {exc})")
    return problems


def main(argv: list[str]) -> int:
    if not argv or argv[0] in ("-h", "--help"):
        sys.stdout.write(__doc__ or "")
        return 2
    pinned = argv[argv.index("--key") + 1] if "--key" in argv else None
    problems = verify(argv[0], pinned)
    for problem in problems:
        sys.stderr.write(f"FAILED {problem}\n")
    if not problems:
        sys.stdout.write(f"{argv[0]}: package verifies\n")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
