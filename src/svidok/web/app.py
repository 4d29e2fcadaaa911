"""The web application: `create_app(settings)` builds it around one unlocked register.

Pages (`ui/`) and the JSON API (`api/`, OpenAPI at `/api/v1/openapi.json`) call
the same services. Static files are served from the package; nothing is
loaded from elsewhere. The interactive API docs pages are off: they would need
scripts from a CDN, which the CSP forbids.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from svidok.crypto.keyring import MasterSecret
from svidok.errors import ConfigError
from svidok.services.evidence import EvidenceService, default_blob_store
from svidok.services.intake import IntakeService
from svidok.services.keys import Protection
from svidok.settings import Settings
from svidok.web import problems
from svidok.web.api import intake as intake_api
from svidok.web.api import public as public_api
from svidok.web.config import WebSettings
from svidok.web.security import BodyLimit, SafeErrors, SecurityHeaders
from svidok.web.state import WebState
from svidok.web.ui import intake as intake_ui
from svidok.web.ui import public as public_ui
from svidok.web.uploads import Spool

__all__ = ["create_app"]


def create_app(
    settings: Settings, *, protection: Protection | None = None, web: WebSettings | None = None
) -> FastAPI:
    """The app for the register of `settings`, unlocked with its passphrase unless `protection` is given."""
    web = web or WebSettings()
    if protection is None:
        if not settings.passphrase:
            raise ConfigError("the web app needs the register's passphrase (SVIDOK_PASSPHRASE)")
        protection = Protection.open(settings, MasterSecret(passphrase=settings.passphrase))
    blobs = default_blob_store(protection.keyring.data_dir)
    evidence = EvidenceService(protection, blobs)
    state = WebState(
        protection=protection,
        intake=IntakeService(evidence, tz=web.timezone),
        web=web,
        spool=Spool(protection.keyring.data_dir / "blobs" / ".uploads"),
    )

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        state.intake.close()

    app = FastAPI(
        lifespan=lifespan,
        title="Svidok",
        version="1",
        openapi_url="/api/v1/openapi.json",
        docs_url=None,
        redoc_url=None,
    )
    app.state.svidok = state
    problems.install(app)
    app.include_router(public_api.router)
    app.include_router(intake_api.router)
    app.include_router(public_ui.router)
    app.include_router(intake_ui.router)
    static = resources.files("svidok.web").joinpath("ui", "static")
    app.mount("/static", StaticFiles(directory=str(static)), name="static")
    app.add_middleware(BodyLimit, limit=web.max_request_bytes)
    app.add_middleware(SafeErrors)
    app.add_middleware(SecurityHeaders, tls=web.tls)
    return app
