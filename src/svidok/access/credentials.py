"""Bearer secrets: session tokens, API tokens, CSRF tokens, and how they are stored.

Only a SHA-256 digest of a session or API token is stored, so a copy of the
database gives no usable session. The secrets are 256-bit random values, so a
fast hash suffices (no password stretching needed). An API token reads
`svk_<id>_<secret>`: the id finds the row, the secret is compared in constant
time with the stored digest.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

__all__ = [
    "SESSION_COOKIE",
    "CookieSpec",
    "bearer_token",
    "check_csrf",
    "csrf_token",
    "digest",
    "new_api_token",
    "new_session_token",
    "split_api_token",
]

_TOKEN = re.compile(r"^svk_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$")


@dataclass(frozen=True)
class CookieSpec:
    """How the web layer must set the session cookie."""

    name: str = "__Host-svidok-session"
    secure: bool = True
    httponly: bool = True
    samesite: str = "strict"
    path: str = "/"


SESSION_COOKIE = CookieSpec()


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("ascii", "replace")).hexdigest()


def new_session_token() -> str:
    return secrets.token_urlsafe(32)


def new_api_token() -> tuple[str, str]:
    """(token id, full token to hand out once)."""
    token_id = secrets.token_hex(8)
    return token_id, f"svk_{token_id}_{secrets.token_urlsafe(32)}"


def split_api_token(token: str) -> tuple[str, str] | None:
    """(token id, digest of the whole token), or None when it is not shaped like one."""
    match = _TOKEN.match(token)
    if match is None:
        return None
    return match.group(1), digest(token)


def bearer_token(authorization: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header, or None."""
    if not authorization:
        return None
    scheme, _, value = authorization.strip().partition(" ")
    value = value.strip()
    if scheme.lower() != "bearer" or not value or " " in value:
        return None
    return value


def csrf_token(session_token: str) -> str:
    """The CSRF token of a session: a MAC of a fixed label under the session secret.

    Only the holder of the session cookie can compute it; the page embeds it in
    every form and the server checks it on every state-changing request.
    """
    return hmac.new(session_token.encode("ascii", "replace"), b"svidok-csrf-v1", "sha256").hexdigest()


def check_csrf(session_token: str, submitted: str | None) -> bool:
    if not submitted:
        return False
    return hmac.compare_digest(csrf_token(session_token), submitted)
