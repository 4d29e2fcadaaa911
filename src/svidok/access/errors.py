"""Errors of access control: the web maps them to 401 and 403, the CLI to exit code 4.

Messages never say whether an account exists, why a login failed, or whether a
hidden record exists (a record outside one's compartments raises `NotFound`,
exactly as a missing one does).
"""

from __future__ import annotations

from svidok.errors import SvidokError

__all__ = ["AccessDenied", "AuthenticationFailed"]


class AuthenticationFailed(SvidokError):
    """Login, session or token not accepted; one message for every reason (HTTP 401)."""

    exit_code = 4

    def __init__(self, message: str = "authentication failed") -> None:
        super().__init__(message)


class AccessDenied(SvidokError):
    """The principal's role or token scope does not allow the operation (HTTP 403)."""

    exit_code = 4

    def __init__(self, operation: str) -> None:
        self.operation = operation
        super().__init__(f"not allowed: {operation}")
