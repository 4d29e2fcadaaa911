"""The JSON API of the outputs (issue 8): search, exports, evidence packages, public statistics.

The twins of the pages in `svidok.web.ui.outputs`, calling the same services.
Exports and packages are POSTs (each writes audit entries) answered with the
file; a package's response names the verifier key to pin in the header
`X-Svidok-Verifier-Key`. The public statistics need no token.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from svidok.services.search import SearchFilters, search
from svidok.web.api.public import PROBLEMS
from svidok.web.api.register import Codes, Id, Limit, Offset
from svidok.web.auth import Caller, api
from svidok.web.state import state_of
from svidok.web.ui.outputs import export_file, package_file, public_tables

router = APIRouter(prefix="/api/v1", tags=["outputs"], responses=PROBLEMS)
Searcher = Annotated[Caller, Depends(api("record.search"))]
Exporter = Annotated[Caller, Depends(api("register.export"))]
Packager = Annotated[Caller, Depends(api("evidence.export"))]
Kind = Literal["source", "incident", "person", "unit", "place"]
DOWNLOAD: dict[int | str, dict[str, Any]] = {
    200: {"description": "The file.", "content": {"application/octet-stream": {}}}
}


@router.get("/search")
async def search_records(
    caller: Searcher,
    q: Annotated[str, Query(min_length=1, max_length=500)],
    kind: Annotated[list[Kind] | None, Query(max_length=5)] = None,
    date_from: date | None = None,
    date_to: date | None = None,
    place: Annotated[str | None, Query(max_length=32)] = None,
    violation: Codes = None,
    unit: Codes = None,
    status: Codes = None,
    lang: Annotated[str | None, Query(max_length=8)] = None,
    compartment: Annotated[str | None, Query(max_length=64)] = None,
    facets: bool = True,
    limit: Limit = 20,
    offset: Offset = 0,
) -> dict[str, Any]:
    """Ranked hits with highlighted snippets (`marks`: character ranges) and facet counts.

    Any script and word form; "quoted phrases"; -word excludes. Only records inside the
    caller's compartments. `total_is_exact: false` means more matches than were counted."""
    filters = SearchFilters(
        list(kind or []),
        date_from,
        date_to,
        place,
        violation or [],
        unit or [],
        status or [],
        lang,
        compartment,
    )
    found = await run_in_threadpool(
        lambda: search(caller.ctx, q, filters, limit=limit, offset=offset, facets=facets)
    )
    return found.as_dict()


@router.post("/exports/{fmt}", responses=DOWNLOAD, response_class=FileResponse)
async def export(
    request: Request,
    caller: Exporter,
    fmt: Literal["ftm", "jsonl", "csv"],
    record_type: Annotated[str | None, Query(max_length=40, pattern=r"^[a-z_]+$")] = None,
) -> FileResponse:
    """Every record in reach as FtM entities, JSON Lines or CSV (a zip, or one `record_type`). Audited."""
    return await run_in_threadpool(export_file, state_of(request), caller.ctx, fmt, record_type)


class PackageRequest(BaseModel):
    purpose: str = Field(default="evidence package", min_length=1, max_length=200)


@router.post("/incidents/{incident_id}/package", responses=DOWNLOAD, response_class=FileResponse)
async def package(
    request: Request, caller: Packager, incident_id: Id, body: PackageRequest | None = None
) -> FileResponse:
    """The signed evidence package of an incident (a zip; verify with `svidok package verify`)."""
    purpose = body.purpose if body else "evidence package"
    return await run_in_threadpool(package_file, state_of(request), caller.ctx, incident_id, purpose)


@router.get("/public/statistics")
async def public_statistics(request: Request) -> dict[str, Any]:
    """Published counts with disclosure control (small counts withheld); no suspects, no units."""
    return await run_in_threadpool(public_tables, request)
