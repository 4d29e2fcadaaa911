"""What every route needs: the unlocked register, the services, the web settings."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request

from svidok.services.context import Actor, ServiceContext
from svidok.services.intake import IntakeService
from svidok.services.keys import Protection
from svidok.web.config import WebSettings
from svidok.web.uploads import Spool

PUBLIC = Actor("public", "source")
"""Who acts for an anonymous source: one shared name, nothing about the request."""


@dataclass
class WebState:
    protection: Protection
    intake: IntakeService
    web: WebSettings
    spool: Spool

    def context(self, actor: Actor = PUBLIC) -> ServiceContext:
        return ServiceContext(self.protection.store, actor, audit=self.protection.audit)


def state_of(request: Request) -> WebState:
    found = request.app.state.svidok
    assert isinstance(found, WebState)
    return found
