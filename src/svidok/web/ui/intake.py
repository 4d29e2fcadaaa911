"""Operators' intake pages: the queue routed by language and urgency, one submission."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from svidok.web.auth import Caller, form, page
from svidok.web.i18n import LANGUAGES
from svidok.web.state import state_of
from svidok.web.ui.render import render

router = APIRouter(include_in_schema=False)
Searcher = Annotated[Caller, Depends(page("record.search"))]
Viewer = Annotated[Caller, Depends(page("record.view"))]
Updater = Annotated[Caller, Depends(form("record.update"))]


@router.get("/intake", response_class=HTMLResponse)
async def queue_page(request: Request, caller: Searcher, everyone: bool = False) -> HTMLResponse:
    state = state_of(request)
    name = caller.principal.name
    items = await run_in_threadpool(state.intake.queue, caller.ctx, name, everyone=everyone)
    mine = await run_in_threadpool(state.intake.languages_of, caller.ctx, name)
    return render(
        request,
        "queue.html",
        {"items": items, "caller": caller, "mine": mine, "all_languages": LANGUAGES, "everyone": everyone},
    )


@router.post("/intake/languages")
async def languages(request: Request, caller: Updater) -> Response:
    data = await request.form()
    chosen = [v for v in data.getlist("languages") if isinstance(v, str)]
    state = state_of(request)
    await run_in_threadpool(state.intake.set_languages, caller.ctx, caller.principal.name, chosen)
    return RedirectResponse("/intake", status_code=303)


@router.post("/intake/{submission_id}/take")
async def take(request: Request, submission_id: str, caller: Updater) -> Response:
    state = state_of(request)
    await run_in_threadpool(state.intake.take, caller.ctx, submission_id, caller.principal.name)
    return RedirectResponse(f"/intake/{submission_id}", status_code=303)


@router.get("/intake/{submission_id}", response_class=HTMLResponse)
async def submission_page(request: Request, submission_id: str, caller: Viewer) -> HTMLResponse:
    state = state_of(request)
    shown = await run_in_threadpool(state.intake.show, caller.ctx, submission_id)
    return render(request, "submission.html", {"s": shown, "caller": caller})
