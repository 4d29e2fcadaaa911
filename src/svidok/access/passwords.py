"""Password hashing (AUTH-01): Argon2id with argon2-cffi's RFC 9106 low-memory profile.

`Passwords()` uses the library defaults (m = 64 MiB, t = 3, p = 4, above the
OWASP minimum of m = 19 MiB, t = 2, p = 1); `needs_rehash` tells login to
upgrade a hash made with older parameters. `dummy_verify` spends the same time
on an unknown account as on a known one (AUTH-03).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from svidok.errors import InputError

__all__ = ["OWASP_MINIMUM", "Passwords", "generate_password"]

OWASP_MINIMUM = {"memory_cost": 19 * 1024, "time_cost": 2, "parallelism": 1}
_ALPHABET = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"


@dataclass
class Passwords:
    """An Argon2id hasher; the defaults are argon2-cffi's (RFC 9106 low memory)."""

    hasher: PasswordHasher = field(default_factory=PasswordHasher)
    _dummy: str | None = None

    def __post_init__(self) -> None:
        if self.hasher.type is not Type.ID:
            raise InputError("passwords must be hashed with Argon2id")

    @property
    def meets_owasp_minimum(self) -> bool:
        h = self.hasher
        return (
            h.memory_cost >= OWASP_MINIMUM["memory_cost"]
            and h.time_cost >= OWASP_MINIMUM["time_cost"]
            and h.parallelism >= OWASP_MINIMUM["parallelism"]
        )

    @classmethod
    def fast_for_tests(cls) -> Passwords:
        """Cheap parameters for unit tests only (below OWASP: never in production)."""
        return cls(PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))

    def hash(self, password: str) -> str:
        return self.hasher.hash(password)

    def verify(self, stored: str, password: str) -> bool:
        try:
            return self.hasher.verify(stored, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, stored: str) -> bool:
        try:
            return self.hasher.check_needs_rehash(stored)
        except InvalidHashError:
            return True

    def dummy_verify(self, password: str) -> bool:
        """Verify against a throwaway hash: the time an unknown account takes. Always False."""
        if self._dummy is None:
            self._dummy = self.hasher.hash(secrets.token_urlsafe(16))
        self.verify(self._dummy, password)
        return False


def generate_password(length: int = 20) -> str:
    """A random initial password (about 116 bits for 20 characters)."""
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))
