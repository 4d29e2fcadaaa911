"""Register pages: home, incidents (list with filters and full-text search), one incident, a person,
a unit. Each page calls the same service function as its JSON twin under `/api/v1`."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from svidok.domain.vocabulary import vocabulary
from svidok.errors import InputError
from svidok.services import browse
from svidok.services.search import SearchFilters, search
from svidok.web.auth import Caller, page
from svidok.web.ui.render import render

router = APIRouter(include_in_schema=False)
Home = Annotated[Caller, Depends(page("account.sessions"))]
Searcher = Annotated[Caller, Depends(page("record.search"))]
Viewer = Annotated[Caller, Depends(page("record.view"))]
PAGE = 50


def qdate(request: Request, name: str) -> date | None:
    value = request.query_params.get(name, "").strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InputError(f"{name}: a date of the form YYYY-MM-DD") from None


def qlist(request: Request, name: str) -> list[str]:
    return [v for v in request.query_params.getlist(name) if v.strip()][:20]


def qint(request: Request, name: str, default: int = 0) -> int:
    value = request.query_params.get(name, "")
    return int(value) if value.isdigit() else default


def without_offset(request: Request) -> str:
    return urlencode([(k, v) for k, v in request.query_params.multi_items() if k != "offset"])


def filters_of(request: Request) -> browse.IncidentFilters:
    return browse.IncidentFilters(
        date_from=qdate(request, "from"),
        date_to=qdate(request, "to"),
        place=request.query_params.get("place") or None,
        violations=qlist(request, "violation"),
        units=qlist(request, "unit"),
        statuses=qlist(request, "status"),
    )


@router.get("/home", response_class=HTMLResponse)
async def home(request: Request, caller: Home) -> HTMLResponse:
    return render(request, "home.html", {"caller": caller})


def _incidents(caller: Caller, request: Request) -> dict[str, Any]:
    f = filters_of(request)
    q = request.query_params.get("q", "").strip()[:500]
    offset = qint(request, "offset")
    context: dict[str, Any] = {
        "caller": caller,
        "f": f,
        "q": q,
        "places": browse.places(caller.ctx),
        "units": browse.units(caller.ctx),
        "violations": vocabulary("violation_type").codes,
        "statuses": vocabulary("incident_status").codes,
        "query_without_offset": without_offset(request),
    }
    if q:
        found = search(
            caller.ctx,
            q,
            SearchFilters(
                kinds=["incident"],
                date_from=f.date_from,
                date_to=f.date_to,
                place=f.place,
                violations=f.violations,
                units=f.units,
                statuses=f.statuses,
            ),
            limit=PAGE,
            offset=offset,
        )
        context["hits"] = found
        context["page"] = None
    else:
        context["hits"] = None
        context["page"] = browse.list_incidents(caller.ctx, f, limit=PAGE, offset=offset)
    context["offset"] = offset
    context["limit"] = PAGE
    return context


@router.get("/incidents", response_class=HTMLResponse)
async def incidents(request: Request, caller: Searcher) -> HTMLResponse:
    context = await run_in_threadpool(_incidents, caller, request)
    return render(request, "incidents.html", context)


@router.get("/incidents/{incident_id}", response_class=HTMLResponse)
async def incident(request: Request, incident_id: str, caller: Viewer) -> HTMLResponse:
    shown = await run_in_threadpool(browse.incident_detail, caller.ctx, incident_id)
    return render(request, "incident.html", {"caller": caller, **shown})


@router.get("/persons/{person_id}", response_class=HTMLResponse)
async def person(request: Request, person_id: str, caller: Viewer) -> HTMLResponse:
    shown = await run_in_threadpool(browse.person_detail, caller.ctx, person_id)
    return render(request, "person.html", {"caller": caller, **shown})


@router.get("/units/{unit_id}", response_class=HTMLResponse)
async def unit(request: Request, unit_id: str, caller: Viewer) -> HTMLResponse:
    shown = await run_in_threadpool(browse.unit_detail, caller.ctx, unit_id)
    return render(request, "unit.html", {"caller": caller, **shown})
