"""Operators' pages: sign in (TEMPORARY guard), the intake queue, one submission."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from svidok.access.credentials import csrf_token
from svidok.access.routes import operation
from svidok.services.context import Actor
from svidok.web.guard import COOKIE, check_form, page_operator
from svidok.web.i18n import LANGUAGES
from svidok.web.state import state_of
from svidok.web.ui.render import render

router = APIRouter(include_in_schema=False)


def _operator(request: Request) -> Actor:
    actor = page_operator(request)
    if actor is None:
        raise HTTPException(401, "sign in first: /login")
    return actor


def _csrf(request: Request) -> str:
    return csrf_token(request.cookies.get(COOKIE, ""))


@router.get("/login", response_class=HTMLResponse)
async def login_form(request: Request) -> HTMLResponse:
    return render(request, "login.html", {"failed": False})


@router.post("/login")
async def login(request: Request) -> Response:
    form = await request.form()
    token = form.get("token")
    state = state_of(request)
    if not isinstance(token, str) or token not in state.web.operator_tokens:
        return render(request, "login.html", {"failed": True}, status=401)
    response = RedirectResponse("/intake", status_code=303)
    response.set_cookie(COOKIE, token, httponly=True, samesite="strict", secure=state.web.tls, path="/")
    return response


@router.get("/intake", response_class=HTMLResponse)
@operation("record.search")
async def queue_page(request: Request, everyone: bool = False) -> HTMLResponse:
    operator = _operator(request)
    state = state_of(request)
    ctx = state.context(operator)
    items = await run_in_threadpool(state.intake.queue, ctx, operator.name, everyone=everyone)
    mine = await run_in_threadpool(state.intake.languages_of, ctx, operator.name)
    return render(
        request,
        "queue.html",
        {
            "items": items,
            "operator": operator,
            "mine": mine,
            "all_languages": LANGUAGES,
            "everyone": everyone,
            "csrf": _csrf(request),
        },
    )


@router.post("/intake/languages")
@operation("record.update")
async def languages(request: Request) -> Response:
    operator = _operator(request)
    form = await request.form()
    check_form(request, str(form.get("csrf") or ""))
    chosen = [v for v in form.getlist("languages") if isinstance(v, str)]
    state = state_of(request)
    await run_in_threadpool(state.intake.set_languages, state.context(operator), operator.name, chosen)
    return RedirectResponse("/intake", status_code=303)


@router.post("/intake/{submission_id}/take")
@operation("record.update")
async def take(request: Request, submission_id: str) -> Response:
    operator = _operator(request)
    form = await request.form()
    check_form(request, str(form.get("csrf") or ""))
    state = state_of(request)
    await run_in_threadpool(state.intake.take, state.context(operator), submission_id, operator.name)
    return RedirectResponse(f"/intake/{submission_id}", status_code=303)


@router.get("/intake/{submission_id}", response_class=HTMLResponse)
@operation("record.view")
async def submission_page(request: Request, submission_id: str) -> HTMLResponse:
    operator = _operator(request)
    state = state_of(request)
    shown = await run_in_threadpool(state.intake.show, state.context(operator), submission_id)
    return render(request, "submission.html", {"s": shown, "operator": operator, "csrf": _csrf(request)})
