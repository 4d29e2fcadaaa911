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

from svidok.access.passwords import Passwords
from svidok.crypto.keyring import MasterSecret
from svidok.errors import ConfigError
from svidok.services import accounts
from svidok.services.accounts import DEFAULT_PASSWORDS
from svidok.services.evidence import EvidenceService, default_blob_store
from svidok.services.intake import IntakeService, durable, receipt_key_of
from svidok.services.keys import Protection
from svidok.settings import Settings
from svidok.web import problems
from svidok.web.api import intake as intake_api
from svidok.web.api import outputs as outputs_api
from svidok.web.api import public as public_api
from svidok.web.api import register as register_api
from svidok.web.config import WebSettings
from svidok.web.security import BodyLimit, SafeErrors, SecurityHeaders
from svidok.web.state import WebState
from svidok.web.ui import account as account_ui
from svidok.web.ui import cases as cases_ui
from svidok.web.ui import intake as intake_ui
from svidok.web.ui import outputs as outputs_ui
from svidok.web.ui import public as public_ui
from svidok.web.ui import register as register_ui
from svidok.web.ui import review as review_ui
from svidok.web.ui import stats as stats_ui
from svidok.web.ui import structure as structure_ui
from svidok.web.uploads import Spool

__all__ = ["create_app"]


def create_app(
    settings: Settings,
    *,
    protection: Protection | None = None,
    web: WebSettings | None = None,
    passwords: Passwords = DEFAULT_PASSWORDS,
) -> FastAPI:
    """The app for the register of `settings`, unlocked with its passphrase unless `protection` is given.

    `passwords` verifies logins (tests pass fast Argon2id parameters)."""
    web = web or WebSettings()
    if protection is None:
        if not settings.passphrase:
            raise ConfigError("the web app needs the register's passphrase (SVIDOK_PASSPHRASE)")
        protection = Protection.open(settings, MasterSecret(passphrase=settings.passphrase))
    durable(protection.store.engine)  # a receipt promises its testimony survives a power cut
    blobs = default_blob_store(protection.keyring.data_dir)
    evidence = EvidenceService(protection, blobs)
    state = WebState(
        protection=protection,
        intake=IntakeService(
            evidence,
            receipt_key_of(protection.keyring),
            tz=web.timezone,
            compartment=web.intake_compartment,
        ),
        web=web,
        spool=Spool(protection.keyring.data_dir / "blobs" / ".uploads"),
        passwords=passwords,
    )
    _ensure_compartment(state, web.intake_compartment)

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
    app.include_router(account_ui.router)
    app.include_router(intake_ui.router)
    app.include_router(register_api.router)
    app.include_router(outputs_api.router)
    for router in (
        register_ui.router,
        review_ui.router,
        cases_ui.router,
        stats_ui.router,
        structure_ui.router,
        outputs_ui.router,
    ):
        app.include_router(router)
    static = resources.files("svidok.web").joinpath("ui", "static")
    app.mount("/static", StaticFiles(directory=str(static)), name="static")
    app.add_middleware(BodyLimit, limit=web.max_request_bytes)
    app.add_middleware(SafeErrors)
    app.add_middleware(SecurityHeaders, tls=web.tls)
    return app


def _ensure_compartment(state: WebState, name: str | None) -> None:
    """The intake compartment exists before the first submission is filed into it."""
    if name is None:
        return
    ctx = state.system_context()
    if not any(c["name"] == name for c in accounts.list_compartments(ctx)):
        accounts.create_compartment(ctx, name, "New public submissions, for the intake operators")
