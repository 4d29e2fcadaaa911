"""Who is asking: a user (through a session or an API token) or a source (through a receipt).

A `Principal` is built afresh for every request from the database (the user's
row, grants and the session or token), so disabling a user, withdrawing a grant
or revoking a token takes effect on the next request (AUTH-06).
"""

from __future__ import annotations

from dataclasses import dataclass

from svidok.access.policy import Policy

__all__ = ["ALL_COMPARTMENTS", "Principal", "scope_matches"]

ALL_COMPARTMENTS = "*"
"""A grant of this compartment reaches every record (given explicitly, never by default)."""


def scope_matches(scopes: frozenset[str], operation: str) -> bool:
    """True when a token scope names `operation` exactly or by prefix (`record.*`)."""
    if operation in scopes:
        return True
    parts = operation.split(".")
    return any(".".join(parts[:i]) + ".*" in scopes for i in range(1, len(parts)))


@dataclass(frozen=True)
class Principal:
    """An authenticated caller: one role, its compartments, and (for tokens) a scope."""

    name: str
    role: str
    user_id: str | None = None
    compartments: frozenset[str] = frozenset()
    identity_compartments: frozenset[str] = frozenset()
    scopes: frozenset[str] | None = None
    """None: everything the role allows (a session); otherwise only these operations."""
    via: str = "session"
    credential_id: str | None = None

    def allows(self, policy: Policy, operation: str) -> bool:
        if not policy.allows(self.role, operation):
            return False
        return self.scopes is None or scope_matches(self.scopes, operation)

    @property
    def all_compartments(self) -> bool:
        return ALL_COMPARTMENTS in self.compartments
