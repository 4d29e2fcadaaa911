"""Operators' API: the intake queue routed by language and urgency, taking and reading submissions."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from svidok.access.routes import operation
from svidok.services.context import Actor
from svidok.web.api.public import PROBLEMS, Lang
from svidok.web.guard import api_operator
from svidok.web.state import state_of

router = APIRouter(prefix="/api/v1/intake", tags=["intake"], responses=PROBLEMS)
Operator = Annotated[Actor, Depends(api_operator)]
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
@operation("record.search")
async def queue(request: Request, operator: Operator, everyone: bool = False) -> list[QueueItem]:
    """Open submissions for this operator's languages (all with `everyone`), most urgent first."""
    state = state_of(request)
    rows = await run_in_threadpool(
        state.intake.queue, state.context(operator), operator.name, everyone=everyone
    )
    return [QueueItem(**row) for row in rows]


@router.put("/languages", response_model=Languages)
@operation("record.update")
async def set_languages(request: Request, operator: Operator, body: Languages) -> Languages:
    """The languages this operator reads (routing)."""
    state = state_of(request)
    await run_in_threadpool(
        state.intake.set_languages, state.context(operator), operator.name, list(body.languages)
    )
    return body


@router.post("/submissions/{submission_id}/take", response_model=QueueItem, responses=PROBLEMS)
@operation("record.update")
async def take(request: Request, operator: Operator, submission_id: SubmissionId) -> QueueItem:
    state = state_of(request)
    ctx = state.context(operator)
    await run_in_threadpool(state.intake.take, ctx, submission_id, operator.name)
    shown = await run_in_threadpool(state.intake.show, ctx, submission_id)
    return QueueItem(**shown)


@router.get("/submissions/{submission_id}", responses=PROBLEMS)
@operation("record.view")
async def show(request: Request, operator: Operator, submission_id: SubmissionId) -> dict[str, Any]:
    """A submission with its testimony, additions, mentions and files (audited)."""
    state = state_of(request)
    return await run_in_threadpool(state.intake.show, state.context(operator), submission_id)
