"""Signing in (password and TOTP code), signing out, changing one's password."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from svidok.access.credentials import SESSION_COOKIE, check_csrf
from svidok.access.errors import AuthenticationFailed
from svidok.errors import InputError
from svidok.services import accounts
from svidok.web.auth import Caller, form, page
from svidok.web.state import state_of
from svidok.web.ui.render import render

router = APIRouter(include_in_schema=False)
PasswordPage = Annotated[Caller, Depends(page("account.password"))]
PasswordForm = Annotated[Caller, Depends(form("account.password"))]


def _next(value: object) -> str:
    """Only a local path may follow a sign-in (no open redirect)."""
    text = value if isinstance(value, str) else ""
    return text if text.startswith("/") and not text.startswith("//") and "\\" not in text else "/home"


def _text(value: object, limit: int = 200) -> str:
    return value[:limit] if isinstance(value, str) else ""


@router.get("/login", response_class=HTMLResponse)
async def login_form(request: Request) -> HTMLResponse:
    return render(request, "login.html", {"failed": False, "next": _next(request.query_params.get("next"))})


@router.post("/login")
async def login(request: Request) -> Response:
    data = await request.form(max_fields=10)
    state = state_of(request)
    target = _next(data.get("next"))
    try:
        done = await run_in_threadpool(
            accounts.login,
            state.system_context(),
            _text(data.get("name"), 100),
            _text(data.get("password")),
            _text(data.get("code"), 10).strip() or None,
            state.address_of(request),
            passwords=state.passwords,
        )
    except AuthenticationFailed:
        return render(request, "login.html", {"failed": True, "next": target}, status=401)
    response = RedirectResponse("/account/password" if done.must_change_password else target, status_code=303)
    spec = SESSION_COOKIE
    response.set_cookie(
        spec.name,
        done.session_token,
        httponly=spec.httponly,
        secure=spec.secure,
        samesite="strict",
        path=spec.path,
    )
    return response


@router.post("/logout")
async def logout(request: Request) -> Response:
    """End the session (the form carries its CSRF token, so no other site can sign anyone out)."""
    token = request.cookies.get(SESSION_COOKIE.name)
    data = await request.form(max_fields=5)
    submitted = data.get("csrf")
    if token and check_csrf(token, submitted if isinstance(submitted, str) else None):
        await run_in_threadpool(accounts.logout, state_of(request).system_context(), token)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE.name, path=SESSION_COOKIE.path, secure=True, httponly=True)
    return response


@router.get("/account/password", response_class=HTMLResponse)
async def password_form(request: Request, caller: PasswordPage) -> HTMLResponse:
    first = caller.principal.scopes is not None and "record.view" not in caller.principal.scopes
    return render(request, "password.html", {"caller": caller, "first": first, "error": None})


@router.post("/account/password", response_class=HTMLResponse)
async def change_password(request: Request, caller: PasswordForm) -> Response:
    data = await request.form()
    state = state_of(request)
    try:
        await run_in_threadpool(
            accounts.change_password,
            caller.ctx,
            _text(data.get("old")),
            _text(data.get("new")),
            passwords=state.passwords,
        )
    except (InputError, AuthenticationFailed) as exc:
        message = str(exc) if isinstance(exc, InputError) else "the current password is not right"
        return render(
            request, "password.html", {"caller": caller, "first": True, "error": message}, status=422
        )
    return RedirectResponse("/home", status_code=303)
