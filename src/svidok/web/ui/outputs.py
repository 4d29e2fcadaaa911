"""Outputs in the web: search, export downloads, evidence packages, public statistics (issue 8).

Each page calls the service the CLI calls (`services.search.search`,
`services.reporting.export` and `public_statistics`, `reports.package.build_package`);
the access checks are the services' own. Downloads are written to a spool folder
inside the register's data directory (never the system's temporary folder: they
hold plaintext records) and removed once sent. Exports and packages are POSTs
with the session's CSRF token: each one writes audit entries.

The public statistics need no login: they are the disclosure-controlled tables
of `public_statistics` (never suspects or units), cached for a few minutes so an
anonymous visitor cannot make the register count a million records per request.
"""

from __future__ import annotations

import calendar
import copy
import csv
import io
import shutil
import tempfile
import threading
import time
import zipfile
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse, HTMLResponse, Response
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool

from svidok.domain.vocabulary import vocabulary
from svidok.errors import ConfigError, InputError
from svidok.reports import exports
from svidok.reports.documents import KINDS
from svidok.reports.package import build_package
from svidok.services import browse, reporting
from svidok.services.context import Actor, ServiceContext
from svidok.services.search import SearchFilters, SearchResult, search
from svidok.web.auth import Caller, form, page
from svidok.web.state import WebState, state_of
from svidok.web.ui.register import qdate, qint, qlist
from svidok.web.ui.render import lang_of, render

router = APIRouter(include_in_schema=False)
Searcher = Annotated[Caller, Depends(page("record.search"))]
ExportPage = Annotated[Caller, Depends(page("register.export"))]
Exporter = Annotated[Caller, Depends(form("register.export"))]
PackagePage = Annotated[Caller, Depends(page("evidence.export"))]
Packager = Annotated[Caller, Depends(form("evidence.export"))]
PAGE = 20
FORMATS = ("ftm", "jsonl", "csv")
PUBLIC_COUNTER = Actor("public-statistics")
PUBLIC_TTL = 300.0
"""Seconds the public statistics are served from memory before they are counted again."""


# -- search ---------------------------------------------------------------------------------------


def search_filters(request: Request) -> SearchFilters:
    """The search filters of a page's query string (the same names as the API's parameters)."""
    params = request.query_params
    return SearchFilters(
        kinds=qlist(request, "kind"),
        date_from=qdate(request, "from"),
        date_to=qdate(request, "to"),
        place=params.get("place") or None,
        violations=qlist(request, "violation"),
        units=qlist(request, "unit"),
        statuses=qlist(request, "status"),
        lang=params.get("lang_filter") or None,
        compartment=params.get("compartment") or None,
    )


def segments(snippet: str, marks: list[tuple[int, int]]) -> list[tuple[str, bool]]:
    """A snippet cut into (text, highlighted) pieces, so the template escapes every piece."""
    out: list[tuple[str, bool]] = []
    at = 0
    for start, end in sorted(marks):
        if start < at:
            continue
        if start > at:
            out.append((snippet[at:start], False))
        out.append((snippet[start:end], True))
        at = end
    if at < len(snippet):
        out.append((snippet[at:], False))
    return out


@dataclass
class FacetValue:
    value: str
    label: str
    count: int
    href: str


HIT_LINKS = {"incident": "/incidents/", "person": "/persons/", "unit": "/units/"}


def _month_range(month: str) -> tuple[str, str]:
    year, number = (int(x) for x in month.split("-"))
    return f"{month}-01", f"{month}-{calendar.monthrange(year, number)[1]:02d}"


def _facet_links(
    request: Request, found: SearchResult, names: dict[str, dict[str, str]], lang: str
) -> dict[str, list[FacetValue]]:
    base = [(k, v) for k, v in request.query_params.multi_items() if k != "offset"]
    param = {"kind": "kind", "status": "status", "place": "place", "lang": "lang_filter"}
    param |= {"violation": "violation", "unit": "unit", "compartment": "compartment"}
    vocab = {"violation": "violation_type", "status": "incident_status"}
    out: dict[str, list[FacetValue]] = {}
    for facet, counts in found.facets.items():
        values = []
        for value, count in counts.items():
            if facet == "month":
                first, last = _month_range(value)
                extra = [("from", first), ("to", last)]
                kept = [(k, v) for k, v in base if k not in ("from", "to")]
            else:
                extra = [(param.get(facet, facet), value)]
                kept = base
            label = value
            if facet in vocab:
                try:
                    label = vocabulary(vocab[facet]).label(value, lang)
                except Exception:  # noqa: BLE001 - an unknown code is shown as itself
                    label = value
            elif facet in names:
                label = names[facet].get(value, value)
            values.append(FacetValue(value, label, count, "/search?" + urlencode([*kept, *extra])))
        out[facet] = values
    return out


def _search_page(caller: Caller, request: Request, lang: str) -> dict[str, Any]:
    q = request.query_params.get("q", "").strip()[:500]
    f = search_filters(request)
    offset = qint(request, "offset")
    places = browse.places(caller.ctx)
    units = browse.units(caller.ctx)
    names = {
        "place": {p["id"]: (p["names"] or {}).get(lang) or p["name"] for p in places},
        "unit": {u["id"]: u["name"] for u in units},
    }
    context: dict[str, Any] = {
        "caller": caller,
        "q": q,
        "f": f,
        "kinds": KINDS,
        "places": places,
        "units": units,
        "violations": vocabulary("violation_type").codes,
        "statuses": vocabulary("incident_status").codes,
        "found": None,
        "offset": offset,
        "limit": PAGE,
        "links": HIT_LINKS,
        "segments": segments,
        "query_without_offset": urlencode(
            [(k, v) for k, v in request.query_params.multi_items() if k != "offset"]
        ),
    }
    if q:
        found = search(caller.ctx, q, f, limit=PAGE, offset=offset)
        context["found"] = found
        context["facets"] = _facet_links(request, found, names, lang)
        context["place_names"] = names["place"]
    return context


@router.get("/search", response_class=HTMLResponse)
async def search_page(request: Request, caller: Searcher) -> HTMLResponse:
    lang = lang_of(request)
    context = await run_in_threadpool(_search_page, caller, request, lang)
    return render(request, "search.html", context)


# -- downloads ------------------------------------------------------------------------------------


def spool_dir(state: WebState) -> Path:
    """A new private folder for one download, inside the data directory."""
    root = state.protection.keyring.data_dir / ".downloads"
    root.mkdir(mode=0o700, exist_ok=True)
    return Path(tempfile.mkdtemp(dir=root))


def _sent_then_removed(path: Path, folder: Path, media_type: str, filename: str) -> FileResponse:
    return FileResponse(
        path,
        media_type=media_type,
        filename=filename,
        background=BackgroundTask(shutil.rmtree, folder, ignore_errors=True),
        headers={"cache-control": "no-store"},
    )


def export_file(state: WebState, ctx: ServiceContext, fmt: str, record_type: str | None) -> FileResponse:
    """Run `reporting.export` into a spool folder and answer with the file (CSV: one type, or a zip)."""
    if fmt not in FORMATS:
        raise InputError(f"format: one of {', '.join(FORMATS)}")
    if record_type and fmt != "csv":
        raise InputError("record type: only for the csv format")
    folder = spool_dir(state)
    try:
        stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
        if fmt == "csv":
            out = folder / "csv"
            reporting.export(ctx, "csv", out, record_types=[record_type] if record_type else None)
            if record_type:
                path = out / f"{record_type}.csv"
                name = f"{record_type}-{stamp}.csv"
                return _sent_then_removed(path, folder, "text/csv; charset=utf-8", name)
            path = folder / "export.zip"
            with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
                for item in sorted(out.iterdir()):
                    z.write(item, item.name)
            return _sent_then_removed(path, folder, "application/zip", f"svidok-csv-{stamp}.zip")
        path = folder / "export.jsonl"
        reporting.export(ctx, fmt, path)
        name = f"svidok-{stamp}.ftm.jsonl" if fmt == "ftm" else f"svidok-{stamp}.jsonl"
        return _sent_then_removed(path, folder, "application/x-ndjson", name)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise


def package_file(state: WebState, ctx: ServiceContext, incident_id: str, purpose: str) -> FileResponse:
    """Build the signed evidence package of an incident and answer with the zip."""
    purpose = " ".join(purpose.split())[:200] or "evidence package"
    evidence = state.intake.evidence
    if evidence is None:
        raise ConfigError("no evidence store is configured: packages need one")
    folder = spool_dir(state)
    try:
        path = folder / "package.zip"
        build_package(ctx, state.protection, evidence.blobs, incident_id, path, purpose=purpose)
        response = _sent_then_removed(path, folder, "application/zip", f"{incident_id}-package.zip")
        response.headers["x-svidok-verifier-key"] = str(state.protection.audit.key.verifier_key)
        return response
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise


@router.get("/exports", response_class=HTMLResponse)
async def exports_page(request: Request, caller: ExportPage) -> HTMLResponse:
    kinds = exports.csv_kinds(caller.ctx)
    return render(request, "exports.html", {"caller": caller, "record_types": kinds, "formats": FORMATS})


@router.post("/exports")
async def export_download(request: Request, caller: Exporter) -> Response:
    data = await request.form()
    fmt, record_type = data.get("format"), data.get("record_type")
    return await run_in_threadpool(
        export_file,
        state_of(request),
        caller.ctx,
        fmt if isinstance(fmt, str) else "",
        record_type if isinstance(record_type, str) and record_type else None,
    )


@router.get("/incidents/{incident_id}/package", response_class=HTMLResponse)
async def package_page(request: Request, incident_id: str, caller: PackagePage) -> HTMLResponse:
    shown = await run_in_threadpool(browse.incident_detail, caller.ctx, incident_id)
    key = state_of(request).protection.audit.key.verifier_key
    return render(request, "package.html", {"caller": caller, "incident": shown["incident"], "key": key})


@router.post("/incidents/{incident_id}/package")
async def package_download(request: Request, incident_id: str, caller: Packager) -> Response:
    data = await request.form()
    purpose = data.get("purpose")
    return await run_in_threadpool(
        package_file, state_of(request), caller.ctx, incident_id, purpose if isinstance(purpose, str) else ""
    )


# -- public statistics ----------------------------------------------------------------------------

_public_lock = threading.Lock()


def public_tables(request: Request) -> dict[str, Any]:
    """`public_statistics` of the whole register, counted at most once every PUBLIC_TTL seconds."""
    holder = request.app.state
    with _public_lock:
        cached = getattr(holder, "svidok_public_statistics", None)
        if cached is not None and time.monotonic() - cached[0] < PUBLIC_TTL:
            return copy.deepcopy(cached[1])
        # The published tables count the whole register (that is what disclosure control is for);
        # an anonymous visitor's own context would see no compartment at all.
        protection = state_of(request).protection
        counter = ServiceContext(protection.store, PUBLIC_COUNTER, audit=protection.audit)
        found = reporting.public_statistics(counter)
        found["counted_at"] = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
        holder.svidok_public_statistics = (time.monotonic(), found)
        return copy.deepcopy(found)


def _label(table: str, cell: dict[str, Any], lang: str) -> str:
    key = str(cell["key"])
    vocab = {"acts_by_violation": "violation_type", "incidents_by_status": "incident_status"}.get(table)
    if vocab:
        try:
            return vocabulary(vocab).label(key, lang)
        except Exception:  # noqa: BLE001 - an unknown code is shown as itself
            return key
    return str(cell.get("label") or key)


def public_csv(stats: dict[str, Any]) -> str:
    """Every published cell as CSV: table, key, label, count (empty when withheld), withheld."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["table", "key", "label", "count", "withheld"])
    for table in stats["tables"]:
        for cell in table["cells"]:
            count = "" if cell["suppressed"] else cell["count"]
            label = cell.get("label") or cell["key"]
            writer.writerow([table["name"], cell["key"], label, count, "yes" if cell["suppressed"] else "no"])
        total = "" if table["total"] is None else table["total"]
        writer.writerow([table["name"], "", "total", total, "yes" if table["total"] is None else "no"])
    return buffer.getvalue()


@router.get("/public/statistics", response_class=HTMLResponse)
async def public_statistics_page(request: Request) -> HTMLResponse:
    lang = lang_of(request)
    stats = await run_in_threadpool(public_tables, request)
    for table in stats["tables"]:
        table["rows"] = [(_label(table["name"], c, lang), c) for c in table["cells"]]
    return render(request, "public_statistics.html", {"stats": stats})


@router.get("/public/statistics.csv")
async def public_statistics_csv(request: Request) -> Response:
    stats = await run_in_threadpool(public_tables, request)
    stamp = date.today().isoformat()
    return Response(
        public_csv(stats),
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="svidok-public-statistics-{stamp}.csv"'},
    )
