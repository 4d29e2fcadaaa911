"""The register services answer only within the actor's compartments: a record out of reach is
indistinguishable from a missing one in show, statistics, exports and review."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from svidok.access import REDACTED, AccessDenied
from svidok.errors import NotFound
from svidok.services import register, review
from tests.access.conftest import World


def _error(call) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    try:
        call()
    except NotFound as error:
        return type(error).__name__, str(error)
    raise AssertionError("no error")


def test_show_answers_a_hidden_record_exactly_like_a_missing_one(world: World) -> None:
    world.add_user("ana", "analyst")
    ctx = world.as_user("ana")
    hidden = _error(lambda: register.show(ctx, "incident", "in_2"))
    missing = _error(lambda: register.show(ctx, "incident", "in_9"))
    assert hidden[0] == missing[0] == "NotFound"
    assert hidden[1].replace("in_2", "X") == missing[1].replace("in_9", "X")
    shown = register.show(ctx, "person", "pe_victim1")
    assert shown["record"]["primary_name"] == REDACTED  # analysts see pseudonyms
    assert [link["id"] for link in shown["links"]] == []  # li_x reaches into case-b: not shown
    assert "CANARY" not in json.dumps(shown)


def test_statistics_count_only_what_the_actor_may_see(world: World) -> None:
    world.add_user("ana", "analyst")
    everything = register.counts(world.system)
    mine = register.counts(world.as_user("ana"))
    assert everything["incident"] == 3 and mine["incident"] == 1
    assert mine["person"] < everything["person"]


def test_an_export_holds_nothing_from_another_compartment(world: World, tmp_path: Path) -> None:
    world.add_user("ivan", "investigator", identity=("case-a",))
    out = tmp_path / "mine.jsonl"
    register.export_register(world.as_user("ivan"), out)
    text = out.read_text("utf-8")
    assert "CANARY" not in text and "in_2" not in text and "SECRET-SUMMARY-B" not in text
    assert '"id":"in_1"' in text
    world.add_user("adam", "admin")
    with pytest.raises(AccessDenied):
        register.export_register(world.as_user("adam"), tmp_path / "admin.jsonl")


def test_review_lists_and_decides_only_links_in_reach(world: World) -> None:
    world.add_user("ana", "analyst")
    ctx = world.as_user("ana")
    listed = {link["id"] for link in review.list_links(ctx, kind="mention_person")}
    assert listed == {"li_1"}
    hidden = _error(lambda: review.decide(ctx, "li_2", "confirm"))
    missing = _error(lambda: review.decide(ctx, "li_9", "confirm"))
    assert hidden[1].replace("li_2", "X") == missing[1].replace("li_9", "X")
