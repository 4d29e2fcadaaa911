"""Operators' API: the intake queue routed by language and urgency, taking and reading submissions."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

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
