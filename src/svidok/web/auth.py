"""Who is calling: sessions for the pages, Bearer tokens for the API, CSRF on every form.

Every operator route depends on `page(op)`, `form(op)` or `api(op)`. Each one
authenticates the caller afresh from the database (`accounts.authenticate_session`
or `authenticate_token`: a disabled user, a withdrawn grant or a revoked token
stops at the next request), builds the caller's `ServiceContext` with
`accounts.context_for`, and refuses the route's operation early with
`ctx.require(op)`; the services called then check again, record by record. The
dependency carries the operation mark (`svidok.access.routes.operation`), so
`tests/access/test_matrix.py` sees which operation every route performs.

Pages: the session cookie is set as `svidok.access.credentials.SESSION_COOKIE`
says (`__Host-` name, Secure, HttpOnly, SameSite=Strict, path /); forms carry the
session's CSRF token (`csrf_token`), checked on every POST by `form(op)`. The API
takes only `Authorization: Bearer svk_…` (never the cookie, so no CSRF there).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from fastapi import HTTPException, Request
from starlette.concurrency import run_in_threadpool

from svidok.access.credentials import SESSION_COOKIE, bearer_token, check_csrf, csrf_token
from svidok.access.errors import AuthenticationFailed
from svidok.access.principal import Principal
from svidok.access.routes import operation
from svidok.services import accounts
from svidok.services.context import ServiceContext
from svidok.web.state import state_of

__all__ = ["Caller", "MustChangePassword", "api", "form", "page", "session_caller"]


@dataclass(frozen=True)
class Caller:
    """An authenticated operator and the context to pass to services."""

    ctx: ServiceContext
    principal: Principal
    session: str | None = None

    @property
    def csrf(self) -> str:
        return csrf_token(self.session) if self.session else ""

    def can(self, op: str) -> bool:
        return self.ctx.can(op)


class MustChangePassword(Exception):
    """A first login: the session may only change the password (answered with a redirect)."""


def session_caller(request: Request) -> Caller:
    """The caller of a page from the session cookie, or `AuthenticationFailed` (401)."""
    state = state_of(request)
    base = state.system_context()
    token = request.cookies.get(SESSION_COOKIE.name)
    principal = accounts.authenticate_session(base, token)
    return Caller(accounts.context_for(base, principal), principal, token)


def _require(caller: Caller, op: str) -> Caller:
    if op.startswith("account.") or caller.ctx.can(op):
        return caller
    scopes = caller.principal.scopes
    if caller.principal.via == "session" and scopes is not None and "account.password" in scopes:
        raise MustChangePassword
    caller.ctx.require(op)
    return caller


def page(op: str) -> Callable[[Request], Caller]:
    """A dependency: the signed-in caller, allowed to perform `op` (a GET page)."""

    def dependency(request: Request) -> Caller:
        return _require(session_caller(request), op)

    dependency.__name__ = f"page_{op.replace('.', '_')}"
    return operation(op)(dependency)


def form(op: str) -> Callable[[Request], Awaitable[Caller]]:
    """A dependency for a POSTed form: `page(op)` plus the session's CSRF token in field `csrf`."""

    async def dependency(request: Request) -> Caller:
        caller = await run_in_threadpool(session_caller, request)
        submitted = (await request.form()).get("csrf")
        if not caller.session or not check_csrf(
            caller.session, submitted if isinstance(submitted, str) else None
        ):
            raise HTTPException(403, "the form is out of date; open the page again")
        return await run_in_threadpool(_require, caller, op)

    dependency.__name__ = f"form_{op.replace('.', '_')}"
    return operation(op)(dependency)


def api(op: str) -> Callable[[Request], Caller]:
    """A dependency: the API caller from `Authorization: Bearer`, allowed to perform `op`."""

    def dependency(request: Request) -> Caller:
        state = state_of(request)
        base = state.system_context()
        token = bearer_token(request.headers.get("authorization"))
        if token is None:
            raise AuthenticationFailed("an API token is needed: Authorization: Bearer svk_…")
        principal = accounts.authenticate_token(base, token)
        caller = Caller(accounts.context_for(base, principal), principal)
        caller.ctx.require(op)
        return caller

    dependency.__name__ = f"api_{op.replace('.', '_')}"
    return operation(op)(dependency)
