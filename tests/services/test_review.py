"""Human decisions on links: confirm, reject, merge, split; and they survive re-runs."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from svidok.errors import ConflictError, InputError
from svidok.services import register, review
from svidok.services.context import Actor, ServiceContext
from svidok.store.links import Suggestion, write_suggestions
from svidok.store.register import Store, table_of
from tests.factories import RECORDS, write_jsonl

EXTRA = [
    {"record": "person", "id": "pe_dup", "primary_name": "Дмитрий Савицкий", "pseudonym": "P-9", "sex": "male"},
    {"record": "mention", "id": "me_2", "source_id": "so_t1", "role": "perpetrator", "raw_name": "Д. Савицкий",
     "person_id": "pe_dup"},
    {"record": "mention", "id": "me_3", "source_id": "so_t1", "role": "witness", "raw_name": "Ирина",
     "person_id": "pe_dup"},
]


@pytest.fixture
def ctx(store: Store, tmp_path: Path) -> ServiceContext:
    register.import_file(store, write_jsonl(tmp_path / "r.jsonl", RECORDS + EXTRA))
    return ServiceContext(store, Actor("reviewer-1", "analyst"))


def _mention_person(store: Store, mention_id: str) -> str | None:
    mention = table_of("mention")
    with store.read() as conn:
        return conn.execute(select(mention.c.person_id).where(mention.c.id == mention_id)).scalar_one()


def test_confirm_resolves_the_mention_and_reject_undoes_it(ctx: ServiceContext) -> None:
    confirmed = review.decide(ctx, "li_1", "confirm")
    assert confirmed["status"] == "confirmed" and confirmed["decided_by"] == "reviewer-1"
    assert _mention_person(ctx.store, "me_1") == "pe_officer1"
    rejected = review.decide(ctx, "li_1", "reject")
    assert rejected["status"] == "rejected"
    assert _mention_person(ctx.store, "me_1") is None
    with pytest.raises(InputError):
        review.decide(ctx, "li_1", "maybe")


def test_a_rerun_never_overwrites_a_decision(ctx: ServiceContext) -> None:
    review.decide(ctx, "li_1", "reject")
    with ctx.store.begin() as conn:
        write_suggestions(
            conn,
            [Suggestion("mention_person", "me_1", "pe_officer1", 0.99, ["again"], "names-v1")],
            now=datetime(2021, 1, 1),
        )
    [row] = review.list_links(ctx, status="rejected")
    assert row["id"] == "li_1" and row["score"] == 0.91 and row["decided_by"] == "reviewer-1"
    assert review.list_links(ctx, kind="mention_person") == []


def test_merge_moves_every_reference_and_is_recorded(ctx: ServiceContext) -> None:
    moved = review.merge_persons(ctx, "pe_officer1", "pe_dup")
    assert moved["mention"] == 2
    assert _mention_person(ctx.store, "me_2") == "pe_officer1"
    [merge] = review.list_links(ctx, kind="person_person", status="confirmed")
    assert merge["from_id"] == "pe_dup" and merge["to_id"] == "pe_officer1"
    names = register.show(ctx.store, "person", "pe_officer1")["related"]["person_name"]
    assert [n["kind"] for n in names] == ["merged"]
    with pytest.raises(ConflictError, match="was merged into pe_officer1"):
        review.merge_persons(ctx, "pe_dup", "pe_victim1")


def test_split_moves_mentions_to_a_new_person_and_pins_them(ctx: ServiceContext) -> None:
    new_person = review.split_person(ctx, "pe_dup", ["me_3"])
    assert _mention_person(ctx.store, "me_3") == new_person
    assert _mention_person(ctx.store, "me_2") == "pe_dup"
    rejected = review.list_links(ctx, kind="mention_person", status="rejected")
    assert [(r["from_id"], r["to_id"]) for r in rejected] == [("me_3", "pe_dup")]
    with pytest.raises(InputError, match="me_1 is not linked to person pe_dup"):
        review.split_person(ctx, "pe_dup", ["me_1"])
