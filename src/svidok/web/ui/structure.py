"""The operator structures a submission, with the linking engine's suggestions beside the form."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from svidok.domain.vocabulary import vocabulary
from svidok.errors import InputError
from svidok.services import browse, intake_queue
from svidok.services.intake_queue import ActPlan, MentionPlan, MissingPlan, Structure
from svidok.web.auth import Caller, form, page
from svidok.web.state import state_of
from svidok.web.ui.render import render

router = APIRouter(include_in_schema=False)
Creator = Annotated[Caller, Depends(page("record.create"))]
CreatorForm = Annotated[Caller, Depends(form("record.create"))]
ACTS, MENTIONS = 3, 2


def _text(data: FormData, name: str, limit: int = 2000) -> str:
    value = data.get(name)
    return value.strip()[:limit] if isinstance(value, str) else ""


def _moment(data: FormData, day_field: str, time_field: str, tz: ZoneInfo) -> datetime | None:
    """A local date and time from the form as the naive UTC the register stores."""
    day = _text(data, day_field, 10)
    if not day:
        return None
    try:
        clock = _text(data, time_field, 5)
        local = datetime.combine(date.fromisoformat(day), time.fromisoformat(clock) if clock else time(12))
    except ValueError:
        raise InputError(f"{day_field}: a date YYYY-MM-DD and a time HH:MM") from None
    return local.replace(tzinfo=tz).astimezone(UTC).replace(tzinfo=None)


def _local(moment: datetime | None, tz: ZoneInfo) -> datetime | None:
    return moment.replace(tzinfo=UTC).astimezone(tz).replace(tzinfo=None) if moment else None


def plan_of(data: FormData, tz: ZoneInfo) -> Structure:
    """The operator's form as a `Structure` (empty rows are skipped)."""
    acts = [
        ActPlan(
            violation=_text(data, f"act_{i}_violation", 40),
            victim_mention=_text(data, f"act_{i}_victim", 32) or None,
            injuries=[v for v in data.getlist(f"act_{i}_injury") if isinstance(v, str) and v][:20],
            description=_text(data, f"act_{i}_description", 4000),
        )
        for i in range(1, ACTS + 1)
        if _text(data, f"act_{i}_violation", 40)
    ]
    mentions = [
        MentionPlan(
            raw_name=_text(data, f"mention_{i}_name", 300),
            role=_text(data, f"mention_{i}_role", 40) or "perpetrator",
            rank=_text(data, f"mention_{i}_rank", 100),
            badge_number=_text(data, f"mention_{i}_badge", 40),
            unit_text=_text(data, f"mention_{i}_unit", 300),
        )
        for i in range(1, MENTIONS + 1)
        if _text(data, f"mention_{i}_name", 300)
    ]
    missing = None
    if _text(data, "missing_name", 300):
        missing = MissingPlan(
            missing_name=_text(data, "missing_name", 300),
            birth_date=_text(data, "missing_birth", 10) or None,
            last_seen_at=_moment(data, "missing_seen_date", "missing_seen_time", tz),
            last_seen_text=_text(data, "missing_seen_text", 300),
        )
    credibility = _text(data, "credibility", 1)
    return Structure(
        title=_text(data, "title", 300),
        start_at=_moment(data, "start_date", "start_time", tz),
        start_precision=_text(data, "precision", 10) or "day",
        place_id=_text(data, "place", 32) or None,
        place_text=_text(data, "place_text", 300),
        status=_text(data, "status", 40) or "alleged",
        incident_id=_text(data, "incident_id", 32) or None,
        acts=acts,
        mentions=mentions,
        missing=missing,
        reliability=_text(data, "reliability", 1) or "F",
        credibility=int(credibility) if credibility.isdigit() else 6,
        compartment=_text(data, "compartment", 80) or None,
    )


def _context(request: Request, caller: Caller, submission_id: str) -> dict[str, Any]:
    state = state_of(request)
    shown = state.intake.show(caller.ctx, submission_id)
    return {
        "caller": caller,
        "s": shown,
        "suggested": intake_queue.suggestions(caller.ctx, submission_id),
        "places": browse.places(caller.ctx),
        "violations": vocabulary("violation_type").codes,
        "injuries": vocabulary("injury_type").codes,
        "statuses": vocabulary("incident_status").codes,
        "roles": vocabulary("mention_role").codes,
        "compartments": sorted(c for c in caller.principal.compartments if c != "*"),
        "acts": range(1, ACTS + 1),
        "new_mentions": range(1, MENTIONS + 1),
        "error": None,
        "reported": _local(shown["sources"][0]["reported_start"], ZoneInfo(state.web.timezone)),
        "timezone": state.web.timezone,
    }


@router.get("/intake/{submission_id}/structure", response_class=HTMLResponse)
async def structure_form(request: Request, submission_id: str, caller: Creator) -> HTMLResponse:
    context = await run_in_threadpool(_context, request, caller, submission_id)
    return render(request, "structure.html", context)


@router.post("/intake/{submission_id}/structure")
async def structure(request: Request, submission_id: str, caller: CreatorForm) -> Response:
    data = await request.form()
    try:
        plan = plan_of(data, ZoneInfo(state_of(request).web.timezone))
        made = await run_in_threadpool(intake_queue.structure, caller.ctx, submission_id, plan)
    except InputError as exc:
        context = await run_in_threadpool(_context, request, caller, submission_id)
        context["error"] = str(exc)
        return render(request, "structure.html", context, status=422)
    return RedirectResponse(f"/incidents/{made['incident']}", status_code=303)
