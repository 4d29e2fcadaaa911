"""Time-based one-time passwords (RFC 6238 over RFC 4226 HOTP), with replay refused.

Codes use the server's clock, 30-second steps, SHA-1 and 6 digits (what every
authenticator app speaks). `verify` accepts the current step and one step either
side for clock drift, but only a step later than the last one accepted for the
account, so a code (or an older one) is never usable twice (ASVS 6.5.1).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import struct
from urllib.parse import quote, urlencode

__all__ = ["STEP_SECONDS", "hotp", "new_secret", "provisioning_uri", "totp", "verify"]

STEP_SECONDS = 30
DIGITS = 6
_DIGESTS = {"sha1": hashlib.sha1, "sha256": hashlib.sha256, "sha512": hashlib.sha512}


def hotp(key: bytes, counter: int, digits: int = DIGITS, algorithm: str = "sha1") -> str:
    """RFC 4226: dynamic truncation of HMAC(key, counter)."""
    mac = hmac.new(key, struct.pack(">Q", counter), _DIGESTS[algorithm]).digest()
    offset = mac[-1] & 0x0F
    code = struct.unpack(">I", mac[offset : offset + 4])[0] & 0x7FFFFFFF
    return str(code % 10**digits).zfill(digits)


def step_of(unix_time: float, step: int = STEP_SECONDS) -> int:
    return int(unix_time // step)


def totp(
    key: bytes, unix_time: float, digits: int = DIGITS, algorithm: str = "sha1", step: int = STEP_SECONDS
) -> str:
    """RFC 6238: HOTP over the number of `step`-second intervals since the epoch."""
    return hotp(key, step_of(unix_time, step), digits, algorithm)


def new_secret() -> str:
    """A fresh 160-bit secret, base32 without padding (as authenticator apps expect)."""
    return base64.b32encode(secrets.token_bytes(20)).decode("ascii").rstrip("=")


def decode_secret(secret: str) -> bytes:
    padded = secret.upper() + "=" * (-len(secret) % 8)
    return base64.b32decode(padded)


def provisioning_uri(secret: str, account: str, issuer: str = "Svidok") -> str:
    """The otpauth:// URI an authenticator app reads (usually from a QR code)."""
    label = quote(f"{issuer}:{account}")
    query = urlencode(
        {"secret": secret, "issuer": issuer, "algorithm": "SHA1", "digits": DIGITS, "period": STEP_SECONDS}
    )
    return f"otpauth://totp/{label}?{query}"


def verify(secret: str, code: str, unix_time: float, last_step: int | None, drift: int = 1) -> int | None:
    """The step `code` belongs to, if it is valid now and later than `last_step`; else None."""
    code = code.strip().replace(" ", "")
    if len(code) != DIGITS or not code.isdigit():
        return None
    key = decode_secret(secret)
    now = step_of(unix_time)
    found: int | None = None
    for step in range(now - drift, now + drift + 1):
        if hmac.compare_digest(hotp(key, step), code) and (last_step is None or step > last_step):
            found = step
    return found
