"""The review queue for machine links: confirm, reject, merge two persons, split a person."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from svidok.errors import InputError
from svidok.services import browse, review
from svidok.web.auth import Caller, form, page
from svidok.web.ui.register import qint
from svidok.web.ui.render import render

router = APIRouter(include_in_schema=False)
Lister = Annotated[Caller, Depends(page("link.list"))]
Decider = Annotated[Caller, Depends(form("link.decide"))]
Merger = Annotated[Caller, Depends(form("person.merge"))]
Splitter = Annotated[Caller, Depends(form("person.split"))]
STATUSES = ("suggested", "confirmed", "rejected", "auto")


@router.get("/review", response_class=HTMLResponse)
async def queue(request: Request, caller: Lister) -> HTMLResponse:
    kind = request.query_params.get("kind") or None
    if kind is not None and kind not in browse.LINK_KINDS:
        raise InputError(f"kind: one of {', '.join(browse.LINK_KINDS)}")
    status = request.query_params.get("status") or "suggested"
    if status not in STATUSES:
        raise InputError(f"status: one of {', '.join(STATUSES)}")
    offset = qint(request, "offset")
    links = await run_in_threadpool(
        browse.review_queue, caller.ctx, kind=kind, status=status, limit=50, offset=offset
    )
    kinds = [k for k in browse.LINK_KINDS if k != "suspect_act" or caller.can("suspect.view")]
    return render(
        request,
        "review.html",
        {
            "caller": caller,
            "links": links,
            "kind": kind,
            "status": status,
            "kinds": kinds,
            "statuses": STATUSES,
            "offset": offset,
        },
    )


def _back(data: object) -> str:
    target = data if isinstance(data, str) else ""
    return target if target.startswith("/") and not target.startswith("//") else "/review"


@router.post("/review/{link_id}/decide")
async def decide(request: Request, link_id: str, caller: Decider) -> Response:
    data = await request.form()
    decision = data.get("decision")
    await run_in_threadpool(review.decide, caller.ctx, link_id, decision if isinstance(decision, str) else "")
    return RedirectResponse(_back(data.get("back")), status_code=303)


@router.post("/review/merge")
async def merge(request: Request, caller: Merger) -> Response:
    data = await request.form()
    keep, other = data.get("keep"), data.get("merge")
    if not isinstance(keep, str) or not isinstance(other, str):
        raise InputError("keep and merge: two person ids")
    await run_in_threadpool(review.merge_persons, caller.ctx, keep, other)
    return RedirectResponse(f"/persons/{keep}", status_code=303)


@router.post("/persons/{person_id}/split")
async def split(request: Request, person_id: str, caller: Splitter) -> Response:
    data = await request.form()
    mentions = [m for m in data.getlist("mention") if isinstance(m, str)]
    new_person = await run_in_threadpool(review.split_person, caller.ctx, person_id, mentions)
    return RedirectResponse(f"/persons/{new_person}", status_code=303)
