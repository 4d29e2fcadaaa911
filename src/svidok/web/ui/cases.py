"""Custody search and missing-person cases with their candidate matches."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from svidok.domain.vocabulary import vocabulary
from svidok.services import browse
from svidok.web.auth import Caller, page
from svidok.web.ui.register import qdate, qint, without_offset
from svidok.web.ui.render import render

router = APIRouter(include_in_schema=False)
Searcher = Annotated[Caller, Depends(page("record.search"))]
Viewer = Annotated[Caller, Depends(page("record.view"))]


@router.get("/custody", response_class=HTMLResponse)
async def custody(request: Request, caller: Searcher) -> HTMLResponse:
    name = request.query_params.get("name", "")[:200]
    facility = request.query_params.get("facility") or None
    after, before = qdate(request, "from"), qdate(request, "to")
    offset = qint(request, "offset")

    def load() -> dict[str, object]:
        found = browse.custody_search(
            caller.ctx,
            name=name,
            facility=facility,
            held_on_or_after=after,
            held_on_or_before=before,
            limit=50,
            offset=offset,
        )
        facilities = [p for p in browse.places(caller.ctx) if p["kind"] in FACILITY_KINDS]
        return {"page": found, "facilities": facilities}

    loaded = await run_in_threadpool(load)
    return render(
        request,
        "custody.html",
        {
            "caller": caller,
            "name": name,
            "facility": facility,
            "after": after,
            "before": before,
            "offset": offset,
            "limit": 50,
            "total": loaded["page"].total,  # type: ignore[attr-defined]
            "query_without_offset": without_offset(request),
            **loaded,
        },
    )


FACILITY_KINDS = ("detention_facility", "police_station", "prison", "court", "hospital")


@router.get("/missing", response_class=HTMLResponse)
async def missing(request: Request, caller: Searcher) -> HTMLResponse:
    status = request.query_params.get("status") or None
    offset = qint(request, "offset")
    found = await run_in_threadpool(browse.missing_cases, caller.ctx, status=status, limit=50, offset=offset)
    return render(
        request,
        "missing.html",
        {
            "caller": caller,
            "page": found,
            "status": status,
            "statuses": vocabulary("missing_status").codes,
            "offset": offset,
            "limit": 50,
            "total": found.total,
            "query_without_offset": without_offset(request),
        },
    )


@router.get("/missing/{case_id}", response_class=HTMLResponse)
async def missing_case(request: Request, case_id: str, caller: Viewer) -> HTMLResponse:
    shown = await run_in_threadpool(browse.missing_detail, caller.ctx, case_id)
    return render(request, "missing_case.html", {"caller": caller, **shown})
