"""Break-glass (AUTH-07): a written reason, a time limit, an audit entry, the auditor's list."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from svidok.access import AccessDenied
from svidok.errors import InputError, NotFound
from svidok.services import accounts
from svidok.store.register import table_of
from tests.access.conftest import World

REASON = "Prosecutor's request 2026/17: victim may appear in the other case's custody logs."


def _sees(world: World, name: str, record_id: str) -> bool:
    incident = table_of("incident")
    ctx = world.as_user(name)
    with world.store.read() as conn:
        found = conn.execute(
            select(incident.c.id).where(incident.c.id == record_id, ctx.visible("incident", incident.c.id))
        ).first()
    return found is not None


def test_break_glass_needs_a_reason_a_limit_and_the_right_role(world: World) -> None:
    world.add_user("ivy", "investigator")
    world.add_user("ana", "analyst")
    ivy = world.as_user("ivy")
    with pytest.raises(InputError, match="reason"):
        accounts.open_break_glass(ivy, "", hours=1, compartment="case-b")
    with pytest.raises(InputError, match="reason"):
        accounts.open_break_glass(ivy, "because", hours=1, compartment="case-b")
    with pytest.raises(InputError, match="hours"):
        accounts.open_break_glass(ivy, REASON, hours=5, compartment="case-b")
    with pytest.raises(InputError, match="one compartment"):
        accounts.open_break_glass(ivy, REASON, hours=1)
    with pytest.raises(AccessDenied):
        accounts.open_break_glass(world.as_user("ana"), REASON, hours=1, compartment="case-b")


def test_break_glass_opens_a_compartment_until_it_expires(world: World) -> None:
    world.add_user("ivy", "investigator")
    assert not _sees(world, "ivy", "in_2")
    with pytest.raises(NotFound):
        world.as_user("ivy").require_record("record.view", "incident", "in_2")
    opened = accounts.open_break_glass(world.as_user("ivy"), REASON, hours=4, compartment="case-b")
    assert _sees(world, "ivy", "in_2")
    world.as_user("ivy").require_record("record.view", "incident", "in_2")
    assert _sees(world, "ivy", "in_1") and not _sees(world, "ivy", "in_3")
    world.clock.advance(hours=4)
    assert not _sees(world, "ivy", "in_2")  # ends by itself, exactly at the limit
    entries = [(a, d) for a, action, d in world.audit_actions() if action == "break_glass.open"]
    assert len(entries) == 1
    actor, details = entries[0]
    assert actor == "ivy" and details["break_glass"] == opened["id"] and details["minutes"] == 240
    assert REASON.encode() not in world.audit_bytes()  # the log holds its digest; the table the text


def test_break_glass_on_one_record(world: World) -> None:
    world.add_user("ivy", "investigator")
    accounts.open_break_glass(world.as_user("ivy"), REASON, hours=1, kind="incident", record_id="in_3")
    assert _sees(world, "ivy", "in_3") and not _sees(world, "ivy", "in_2")
    act = table_of("act")
    ctx = world.as_user("ivy")
    with world.store.read() as conn:
        assert set(conn.execute(select(act.c.id).where(ctx.visible("act", act.c.id))).scalars()) == {"ac_1"}


def test_the_auditor_lists_reviews_and_sees_overdue_openings(world: World) -> None:
    world.add_user("ivy", "investigator")
    world.add_user("aud", "auditor")
    opened = accounts.open_break_glass(world.as_user("ivy"), REASON, hours=1, compartment="case-b")
    with pytest.raises(AccessDenied):
        accounts.list_break_glass(world.as_user("ivy"))
    listed = accounts.list_break_glass(world.as_user("aud"), unreviewed=True)
    assert [g["id"] for g in listed] == [opened["id"]]
    assert listed[0]["reason"] == REASON and listed[0]["user"] == "ivy" and not listed[0]["overdue"]
    world.clock.advance(hours=24, seconds=1)
    assert accounts.list_break_glass(world.as_user("aud"))[0]["overdue"]
    accounts.review_break_glass(world.as_user("aud"), opened["id"])
    assert accounts.list_break_glass(world.as_user("aud"), unreviewed=True) == []
    assert accounts.list_break_glass(world.as_user("aud"))[0]["reviewed_by"] == "aud"
