"""The register's JSON API: the twin of every register page, calling the same service functions.

Reads need a Bearer token whose user's role (and the token's scope) allows the
operation; records outside the user's compartments answer 404 exactly like
missing ones. Bodies are `dict` documents shaped as the services return them.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Path, Query
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from svidok.services import browse, review
from svidok.services.reporting import statistics
from svidok.services.search import SearchFilters, search
from svidok.web.api.public import PROBLEMS
from svidok.web.auth import Caller, api

router = APIRouter(prefix="/api/v1", tags=["register"], responses=PROBLEMS)
Id = Annotated[str, Path(min_length=3, max_length=32, pattern=r"^[a-z]{2}_[0-9A-Za-z_-]{1,29}$")]
Limit = Annotated[int, Query(ge=1, le=200)]
Offset = Annotated[int, Query(ge=0, le=1_000_000)]
Codes = Annotated[list[Annotated[str, Field(max_length=40)]] | None, Query(max_length=20)]
Document = dict[str, Any]


Searcher = Annotated[Caller, Depends(api("record.search"))]
Viewer = Annotated[Caller, Depends(api("record.view"))]
LinkLister = Annotated[Caller, Depends(api("link.list"))]
Decider = Annotated[Caller, Depends(api("link.decide"))]
Merger = Annotated[Caller, Depends(api("person.merge"))]
Splitter = Annotated[Caller, Depends(api("person.split"))]
Counter = Annotated[Caller, Depends(api("register.stats"))]
LinkKind = Literal[
    "mention_person",
    "person_person",
    "source_incident",
    "evidence_incident",
    "missing_custody",
    "missing_mention",
    "incident_incident",
    "suspect_act",
]


@router.get("/incidents")
async def incidents(
    caller: Searcher,
    date_from: date | None = None,
    date_to: date | None = None,
    place: Annotated[str | None, Query(max_length=32)] = None,
    violation: Codes = None,
    unit: Codes = None,
    status: Codes = None,
    q: Annotated[str | None, Query(max_length=500)] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Document:
    """Incidents in reach, newest first, filtered; with `q`, ranked full-text hits instead."""
    f = browse.IncidentFilters(date_from, date_to, place, violation or [], unit or [], status or [])
    if q and q.strip():
        filters = SearchFilters(
            ["incident"], f.date_from, f.date_to, f.place, f.violations, f.units, f.statuses
        )
        found = await run_in_threadpool(search, caller.ctx, q, filters, limit=limit, offset=offset)
        return found.as_dict()
    page = await run_in_threadpool(browse.list_incidents, caller.ctx, f, limit=limit, offset=offset)
    return page.as_dict()


@router.get("/incidents/{incident_id}")
async def incident(caller: Viewer, incident_id: Id) -> Document:
    """One incident with acts, victims, suspects (for `suspect.view`), sources and evidence."""
    return await run_in_threadpool(browse.incident_detail, caller.ctx, incident_id)


@router.get("/persons/{person_id}")
async def person(caller: Viewer, person_id: Id) -> Document:
    return await run_in_threadpool(browse.person_detail, caller.ctx, person_id)


@router.get("/units/{unit_id}")
async def unit(caller: Viewer, unit_id: Id) -> Document:
    return await run_in_threadpool(browse.unit_detail, caller.ctx, unit_id)


@router.get("/places")
async def places(caller: Searcher) -> list[Document]:
    return await run_in_threadpool(browse.places, caller.ctx)


@router.get("/units")
async def units(caller: Searcher) -> list[Document]:
    return await run_in_threadpool(browse.units, caller.ctx)


@router.get("/custody")
async def custody(
    caller: Searcher,
    name: Annotated[str, Query(max_length=200)] = "",
    facility: Annotated[str | None, Query(max_length=32)] = None,
    held_from: date | None = None,
    held_to: date | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Document:
    """Custody records: by name (across scripts), facility, and the period someone was held."""
    page = await run_in_threadpool(
        lambda: browse.custody_search(
            caller.ctx,
            name=name,
            facility=facility,
            held_on_or_after=held_from,
            held_on_or_before=held_to,
            limit=limit,
            offset=offset,
        )
    )
    return page.as_dict()


@router.get("/missing")
async def missing(
    caller: Searcher,
    status: Annotated[str | None, Query(max_length=40)] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Document:
    page = await run_in_threadpool(
        lambda: browse.missing_cases(caller.ctx, status=status, limit=limit, offset=offset)
    )
    return page.as_dict()


@router.get("/missing/{case_id}")
async def missing_case(caller: Viewer, case_id: Id) -> Document:
    return await run_in_threadpool(browse.missing_detail, caller.ctx, case_id)


@router.get("/links")
async def links(
    caller: LinkLister,
    kind: LinkKind | None = None,
    status: Literal["suggested", "auto", "confirmed", "rejected"] = "suggested",
    limit: Limit = 50,
    offset: Offset = 0,
) -> list[Document]:
    """Machine links to review, best first, each end described as the reader may see it."""
    return await run_in_threadpool(
        lambda: browse.review_queue(caller.ctx, kind=kind, status=status, limit=limit, offset=offset)
    )


class Decision(BaseModel):
    decision: Literal["confirm", "reject"]


class Merge(BaseModel):
    keep: Annotated[str, Field(min_length=3, max_length=32)]
    merge: Annotated[str, Field(min_length=3, max_length=32)]


class Split(BaseModel):
    mentions: Annotated[list[Annotated[str, Field(max_length=32)]], Field(min_length=1, max_length=500)]


@router.post("/links/{link_id}/decision")
async def decide(
    caller: Decider,
    link_id: Id,
    body: Annotated[Decision, Body()],
) -> Document:
    """Confirm or reject a link (a confirmed mention→person link resolves the mention)."""
    return await run_in_threadpool(review.decide, caller.ctx, link_id, body.decision)


@router.post("/persons/merge")
async def merge(caller: Merger, body: Annotated[Merge, Body()]) -> dict[str, int]:
    """Record that `merge` is the same person as `keep`; every reference moves to `keep`."""
    return await run_in_threadpool(review.merge_persons, caller.ctx, body.keep, body.merge)


@router.post("/persons/{person_id}/split")
async def split(
    caller: Splitter,
    person_id: Id,
    body: Annotated[Split, Body()],
) -> dict[str, str]:
    """Move mentions that are not this person to a new person."""
    new = await run_in_threadpool(review.split_person, caller.ctx, person_id, body.mentions)
    return {"person_id": new}


@router.get("/statistics")
async def stats(caller: Counter) -> Document:
    """Counts by day, place, violation type, unit and status within the caller's compartments."""
    return await run_in_threadpool(statistics, caller.ctx)
