"""The statistics page: counts by day, place, violation type, unit and status, charted as SVG."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from svidok.domain.vocabulary import vocabulary
from svidok.services import browse
from svidok.services.reporting import statistics
from svidok.web.auth import Caller, page
from svidok.web.ui.charts import bar_chart
from svidok.web.ui.render import lang_of, render

router = APIRouter(include_in_schema=False)
Counter = Annotated[Caller, Depends(page("register.stats"))]
MEASURE = "acts"


@router.get("/statistics", response_class=HTMLResponse)
async def statistics_page(request: Request, caller: Counter) -> HTMLResponse:
    lang = lang_of(request)

    def load() -> dict[str, Any]:
        stats = statistics(caller.ctx)
        names: dict[str, dict[str, str]] = {"place": {}, "unit": {}}
        if caller.can("record.search"):
            names["place"] = {
                p["id"]: (p["names"] or {}).get(lang) or p["name"] for p in browse.places(caller.ctx)
            }
            names["unit"] = {u["id"]: u["name"] for u in browse.units(caller.ctx)}
        return {"stats": stats, "names": names}

    loaded = await run_in_threadpool(load)
    names = loaded["names"]

    def labeller(dimension: str) -> Any:
        vocab = {"violation": "violation_type", "status": "incident_status"}.get(dimension)

        def label(key: str) -> str:
            if vocab:
                try:
                    return vocabulary(vocab).label(key, lang)
                except Exception:  # noqa: BLE001 - an unknown code is shown as itself
                    return key
            return str(names.get(dimension, {}).get(key, key))

        return label

    stats = loaded["stats"]
    titles = {
        "day": "By day",
        "place": "By place",
        "violation": "By violation type",
        "unit": "By unit",
        "status": "By status",
    }
    charts = [
        (
            dimension,
            bar_chart(
                rows,
                MEASURE,
                labeller(dimension),
                titles.get(dimension, dimension),
                limit=120 if dimension == "day" else 40,
                by_value=dimension != "day",
            ),
        )
        for dimension, rows in stats["tables"].items()
    ]
    return render(
        request,
        "statistics.html",
        {"caller": caller, "totals": stats["totals"], "charts": charts, "titles": titles},
    )
