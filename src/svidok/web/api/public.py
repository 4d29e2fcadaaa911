"""Public API: submit a testimony, add to it with the receipt, read the vocabularies."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Body, Request
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from svidok.access.routes import operation
from svidok.domain.vocabulary import all_vocabularies, vocabulary
from svidok.errors import NotFound
from svidok.services.intake import Perpetrator, SubmissionDraft, Victim, reported_time
from svidok.web.problems import PROBLEM_TYPE
from svidok.web.state import state_of

router = APIRouter(prefix="/api/v1", tags=["public"])
Lang = Literal["be", "ru", "uk", "pl", "en"]
Short = Annotated[str, Field(max_length=300)]
PROBLEMS: dict[int | str, dict[str, object]] = {
    code: {"description": text, "content": {PROBLEM_TYPE: {"schema": {"type": "object"}}}}
    for code, text in (
        (401, "Not signed in: an API token is needed"),
        (403, "Not allowed for this role or token"),
        (404, "Not found"),
        (409, "Conflict"),
        (422, "Invalid input"),
    )
}


class VictimIn(BaseModel):
    name: Short = ""
    description: Annotated[str, Field(max_length=4000)] = ""


class PerpetratorIn(BaseModel):
    name: Short = ""
    rank: Annotated[str, Field(max_length=100)] = ""
    badge_number: Annotated[str, Field(max_length=40)] = ""
    unit: Short = ""
    uniform: Short = ""
    vehicle: Short = ""


class SubmissionIn(BaseModel):
    language: Lang = "en"
    what_happened: Annotated[str, Field(min_length=1, max_length=20_000)]
    author_role: Literal[
        "victim", "witness", "insider", "relative", "lawyer", "medic", "journalist", "unknown"
    ] = "unknown"
    when_date: Annotated[str, Field(pattern=r"^(\d{4}-\d{2}-\d{2})?$")] = ""
    when_time: Annotated[str, Field(pattern=r"^(\d{2}:\d{2})?$")] = ""
    when_precision: Literal["minute", "hour", "day", "week"] = "day"
    place_text: Short = ""
    lat: Annotated[float, Field(ge=-90, le=90)] | None = None
    lon: Annotated[float, Field(ge=-180, le=180)] | None = None
    victims: Annotated[list[VictimIn], Field(max_length=10)] = []
    perpetrators: Annotated[list[PerpetratorIn], Field(max_length=20)] = []
    injuries: Annotated[list[Annotated[str, Field(max_length=40)]], Field(max_length=20)] = []
    urgent: list[Literal["ongoing_detention", "missing_person", "needs_medical_care"]] = []
    contact: Annotated[str, Field(max_length=2000)] = ""


class ReceiptOut(BaseModel):
    receipt_code: str
    passphrase: str
    note: str = "Shown once: keep both to add information later."


class AdditionIn(BaseModel):
    receipt_code: Annotated[str, Field(max_length=100)]
    passphrase: Annotated[str, Field(max_length=200)]
    text: Annotated[str, Field(min_length=1, max_length=20_000)]


class Accepted(BaseModel):
    status: Literal["added"] = "added"


class Term(BaseModel):
    code: str
    labels: dict[str, str]


class VocabularyOut(BaseModel):
    name: str
    description: str
    terms: list[Term]


@router.get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}


@router.post("/submissions", status_code=201, response_model=ReceiptOut, responses=PROBLEMS)
@operation("submission.create")
async def create_submission(request: Request, body: Annotated[SubmissionIn, Body()]) -> ReceiptOut:
    """Submit a testimony; the answer is the receipt, shown once."""
    state = state_of(request)
    start, end, precision = reported_time(
        body.when_date, body.when_time, body.when_precision, state.web.timezone
    )
    draft = SubmissionDraft(
        language=body.language,
        what_happened=body.what_happened,
        author_role=body.author_role,
        reported_start=start,
        reported_end=end,
        reported_precision=precision,
        place_text=body.place_text,
        lat=body.lat,
        lon=body.lon,
        victims=[Victim(v.name, v.description) for v in body.victims],
        perpetrators=[
            Perpetrator(p.name, p.rank, p.badge_number, p.unit, p.uniform, p.vehicle)
            for p in body.perpetrators
        ],
        injuries=body.injuries,
        urgent=list(body.urgent),
        contact=body.contact,
    )
    receipt = await state.intake.submit_async(state.context(), draft)
    return ReceiptOut(receipt_code=receipt.code, passphrase=receipt.passphrase)


@router.post("/submissions/additions", response_model=Accepted, responses=PROBLEMS)
@operation("submission.receipt")
async def add_to_submission(request: Request, body: Annotated[AdditionIn, Body()]) -> Accepted:
    """Add text to a submission with its receipt."""
    state = state_of(request)
    await run_in_threadpool(
        state.intake.add_information, state.context(), body.receipt_code, body.passphrase, body.text
    )
    return Accepted()


@router.get("/vocabularies", response_model=list[str])
@operation("vocabulary.read")
async def vocabularies() -> list[str]:
    return sorted(all_vocabularies())


@router.get("/vocabularies/{name}", response_model=VocabularyOut, responses=PROBLEMS)
@operation("vocabulary.read")
async def vocabulary_terms(name: Annotated[str, Field(max_length=40)]) -> VocabularyOut:
    if name not in all_vocabularies():
        raise NotFound("vocabulary", name)
    found = vocabulary(name)
    return VocabularyOut(
        name=found.name,
        description=found.description,
        terms=[Term(code=t.code, labels=t.labels) for t in found.terms.values()],
    )
