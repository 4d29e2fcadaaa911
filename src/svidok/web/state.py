"""What every route needs: the unlocked register, the services, the web settings."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field

from fastapi import Request

from svidok.access.passwords import Passwords
from svidok.services.accounts import DEFAULT_PASSWORDS
from svidok.services.context import Actor, ServiceContext
from svidok.services.intake import IntakeService
from svidok.services.keys import Protection
from svidok.web.config import WebSettings
from svidok.web.uploads import Spool

PUBLIC = Actor("public", "source")
"""Who acts for an anonymous source: one shared name, nothing about the request."""
WEB = Actor("web")
"""The web process itself, for logins and session checks only (never passed to a record service)."""


@dataclass
class WebState:
    protection: Protection
    intake: IntakeService
    web: WebSettings
    spool: Spool
    passwords: Passwords = field(default_factory=lambda: DEFAULT_PASSWORDS)
    address_secret: bytes = field(default_factory=lambda: secrets.token_bytes(32), repr=False)
    """Keys the digest that stands for an operator's network address (new at every start)."""

    def context(self, actor: Actor = PUBLIC) -> ServiceContext:
        return ServiceContext(self.protection.store, actor, audit=self.protection.audit)

    def system_context(self) -> ServiceContext:
        """The context that logs users in and checks sessions; record services get `context_for`."""
        return ServiceContext(self.protection.store, WEB, audit=self.protection.audit)

    def address_of(self, request: Request) -> str | None:
        """A keyed digest of the caller's address (login throttling), never the address itself."""
        host = request.client.host if request.client else None
        if not host:
            return None
        return "h:" + hmac.new(self.address_secret, host.encode(), hashlib.sha256).hexdigest()[:24]


def state_of(request: Request) -> WebState:
    found = request.app.state.svidok
    assert isinstance(found, WebState)  # nosec B101 # type narrowing: create_app always sets it
    return found
