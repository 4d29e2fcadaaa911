"""Operators' API: the intake queue routed by language and urgency, taking and reading submissions."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Path, Request
from pydantic import BaseModel, Field, field_validator
from starlette.concurrency import run_in_threadpool

from svidok.services import intake_queue
from svidok.services.intake_queue import ActPlan, MentionPlan, MissingPlan, Structure
from svidok.web.api.public import PROBLEMS, Lang
from svidok.web.auth import Caller, api
from svidok.web.state import state_of

router = APIRouter(prefix="/api/v1/intake", tags=["intake"], responses=PROBLEMS)
SubmissionId = Annotated[str, Path(max_length=32, pattern=r"^sb_[0-9a-f]{20}$")]


class QueueItem(BaseModel):
    id: str
    language: str
    urgency: int
    urgent_reasons: list[str]
    injuries: list[str]
    status: str
    assigned_to: str | None
    received_at: datetime

    @field_validator("received_at")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        # stored times are naive UTC; the schema's date-time (RFC 3339) needs the offset
        return value if value.tzinfo else value.replace(tzinfo=UTC)


class Languages(BaseModel):
    languages: Annotated[list[Lang], Field(max_length=5)]


@router.get("/queue", response_model=list[QueueItem])
async def queue(
    request: Request, caller: Annotated[Caller, Depends(api("record.search"))], everyone: bool = False
) -> list[QueueItem]:
    """Open submissions for this operator's languages (all with `everyone`), most urgent first."""
    state = state_of(request)
    rows = await run_in_threadpool(state.intake.queue, caller.ctx, caller.principal.name, everyone=everyone)
    return [QueueItem(**row) for row in rows]


@router.put("/languages", response_model=Languages)
async def set_languages(
    request: Request, caller: Annotated[Caller, Depends(api("record.update"))], body: Languages
) -> Languages:
    """The languages this operator reads (routing)."""
    state = state_of(request)
    await run_in_threadpool(
        state.intake.set_languages, caller.ctx, caller.principal.name, list(body.languages)
    )
    return body


@router.post("/submissions/{submission_id}/take", response_model=QueueItem)
async def take(
    request: Request, caller: Annotated[Caller, Depends(api("record.update"))], submission_id: SubmissionId
) -> QueueItem:
    state = state_of(request)
    await run_in_threadpool(state.intake.take, caller.ctx, submission_id, caller.principal.name)
    shown = await run_in_threadpool(state.intake.show, caller.ctx, submission_id)
    return QueueItem(**shown)


@router.get("/submissions/{submission_id}")
async def show(
    request: Request, caller: Annotated[Caller, Depends(api("record.view"))], submission_id: SubmissionId
) -> dict[str, Any]:
    """A submission with its testimony, additions, mentions and files (audited)."""
    state = state_of(request)
    return await run_in_threadpool(state.intake.show, caller.ctx, submission_id)


class ActIn(BaseModel):
    violation: Annotated[str, Field(max_length=40)]
    victim_mention: Annotated[str | None, Field(max_length=32)] = None
    injuries: Annotated[list[Annotated[str, Field(max_length=40)]], Field(max_length=20)] = []
    description: Annotated[str, Field(max_length=4000)] = ""
    occurred_at: datetime | None = None


class MentionIn(BaseModel):
    raw_name: Annotated[str, Field(min_length=1, max_length=300)]
    role: Annotated[str, Field(max_length=40)] = "perpetrator"
    rank: Annotated[str, Field(max_length=100)] = ""
    badge_number: Annotated[str, Field(max_length=40)] = ""
    unit_text: Annotated[str, Field(max_length=300)] = ""


class MissingIn(BaseModel):
    missing_name: Annotated[str, Field(min_length=1, max_length=300)]
    sex: Literal["male", "female", "unknown"] = "unknown"
    birth_date: Annotated[str | None, Field(pattern=r"^\d{4}(-\d{2}(-\d{2})?)?$")] = None
    last_seen_at: datetime | None = None
    last_seen_text: Annotated[str, Field(max_length=300)] = ""


class StructureIn(BaseModel):
    title: Annotated[str, Field(max_length=300)] = ""
    start_at: datetime | None = None
    start_precision: Literal["minute", "hour", "day", "week"] = "day"
    place_id: Annotated[str | None, Field(max_length=32)] = None
    place_text: Annotated[str, Field(max_length=300)] = ""
    status: Annotated[str, Field(max_length=40)] = "alleged"
    incident_id: Annotated[str | None, Field(max_length=32)] = None
    acts: Annotated[list[ActIn], Field(max_length=50)] = []
    mentions: Annotated[list[MentionIn], Field(max_length=50)] = []
    missing: MissingIn | None = None
    reliability: Literal["A", "B", "C", "D", "E", "F"] = "F"
    credibility: Annotated[int, Field(ge=1, le=6)] = 6
    compartment: Annotated[str | None, Field(max_length=80)] = None


def _naive(moment: datetime | None) -> datetime | None:
    if moment is None or moment.tzinfo is None:
        return moment
    return moment.astimezone(UTC).replace(tzinfo=None)


@router.get("/submissions/{submission_id}/suggestions")
async def suggestions(
    caller: Annotated[Caller, Depends(api("record.create"))], submission_id: SubmissionId
) -> dict[str, list[dict[str, Any]]]:
    """Per person the submission describes, the persons the linking engine proposes."""
    return await run_in_threadpool(intake_queue.suggestions, caller.ctx, submission_id)


@router.post("/submissions/{submission_id}/structure", status_code=201)
async def structure(
    caller: Annotated[Caller, Depends(api("record.create"))],
    submission_id: SubmissionId,
    body: Annotated[StructureIn, Body()],
) -> dict[str, Any]:
    """Structure a submission into an incident, acts, mentions, evidence links and a missing case."""
    plan = Structure(
        title=body.title,
        start_at=_naive(body.start_at),
        start_precision=body.start_precision,
        place_id=body.place_id,
        place_text=body.place_text,
        status=body.status,
        incident_id=body.incident_id,
        acts=[
            ActPlan(a.violation, a.victim_mention, list(a.injuries), a.description, _naive(a.occurred_at))
            for a in body.acts
        ],
        mentions=[
            MentionPlan(m.raw_name, m.role, m.rank, m.badge_number, m.unit_text) for m in body.mentions
        ],
        missing=MissingPlan(
            body.missing.missing_name,
            body.missing.sex,
            body.missing.birth_date,
            _naive(body.missing.last_seen_at),
            body.missing.last_seen_text,
        )
        if body.missing
        else None,
        reliability=body.reliability,
        credibility=body.credibility,
        compartment=body.compartment,
    )
    return await run_in_threadpool(intake_queue.structure, caller.ctx, submission_id, plan)
