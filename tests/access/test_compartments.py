"""A record outside one's compartments answers exactly as a record that does not exist."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from svidok.access import REDACTED
from svidok.errors import NotFound
from svidok.services import accounts
from svidok.services.context import ServiceContext
from svidok.store.models import RECORD_TABLES
from svidok.store.register import table_of
from tests.access.conftest import World


def _error(ctx: ServiceContext, op: str, kind: str, record_id: str) -> tuple[type[BaseException], str]:
    with pytest.raises(NotFound) as caught:
        ctx.require_record(op, kind, record_id)
    return type(caught.value), str(caught.value)


def _visible_ids(ctx: ServiceContext, kind: str) -> set[str]:
    table = table_of(kind)
    with ctx.store.read() as conn:
        return set(conn.execute(select(table.c.id).where(ctx.visible(kind, table.c.id))).scalars())


def _counts(ctx: ServiceContext) -> dict[str, int]:
    out = {}
    with ctx.store.read() as conn:
        for kind in RECORD_TABLES:
            table = table_of(kind)
            out[kind] = conn.execute(
                select(func.count()).select_from(table).where(ctx.visible(kind, table.c.id))
            ).scalar_one()
    return out


def test_hidden_record_is_indistinguishable_from_a_missing_one(world: World) -> None:
    world.add_user("ana", "analyst")
    ctx = world.as_user("ana")
    ctx.require_record("record.view", "incident", "in_1")  # in reach: no error
    hidden = _error(ctx, "record.view", "incident", "in_2")
    table = table_of("incident")
    with world.store.begin() as conn:  # the same id, now truly missing
        conn.execute(table.delete().where(table.c.id == "in_3"))
    missing_with_same_shape = _error(ctx, "record.view", "incident", "in_3")
    assert hidden[0] is missing_with_same_shape[0] is NotFound
    assert hidden[1] == "no incident with id 'in_2'"
    assert missing_with_same_shape[1] == "no incident with id 'in_3'"
    never = _error(ctx, "record.view", "incident", "in_2")
    assert never == hidden  # the answer does not change with repeated probing
    # the probe of a hidden record is noted for the auditor, the missing one is not
    denials = [d for _, action, d in world.audit_actions() if action == "access.deny"]
    assert [d["reason"] for d in denials] == ["compartment", "compartment"]


def test_search_counts_and_links_never_reveal_another_compartment(world: World) -> None:
    world.add_user("ana", "analyst")
    ctx = world.as_user("ana")
    assert _visible_ids(ctx, "incident") == {"in_1"}
    assert _visible_ids(ctx, "person") == {"pe_victim1", "pe_officer1"}
    assert _visible_ids(ctx, "source") == {"so_t1"}
    # children follow their parent
    assert _visible_ids(ctx, "act") == {"ac_1"}
    assert _visible_ids(ctx, "involvement") == {"iv_1"}
    assert _visible_ids(ctx, "mention") == {"me_1"}
    assert _visible_ids(ctx, "person_name") == {"pn_1"}
    assert _visible_ids(ctx, "evidence") == {"ev_1"}
    assert _visible_ids(ctx, "custody_record") == {"cu_1"}
    # a link shows only when both ends do: li_x joins me_1 (case-a) to pe_victim2 (case-b)
    assert _visible_ids(ctx, "link") == {"li_1"}
    # shared reference data
    assert _visible_ids(ctx, "place") == {"pl_zcity", "pl_asquare", "pl_bcip"}
    # statistics equal those of a register without the other compartment
    counts = _counts(ctx)
    assert counts["incident"] == 1 and counts["person"] == 2 and counts["link"] == 1 and counts["act"] == 1

    other = world.add_user("bob", "analyst", compartments=("case-b",))
    assert other.role == "analyst"
    ctx_b = world.as_user("bob")
    assert _visible_ids(ctx_b, "incident") == {"in_2"}
    assert _visible_ids(ctx_b, "link") == {"li_2"}


def test_visible_works_on_foreign_columns_and_aliases(world: World) -> None:
    world.add_user("ana", "analyst")
    ctx = world.as_user("ana")
    mention, link = table_of("mention"), table_of("link")
    with ctx.store.read() as conn:
        # mentions whose linked person is visible (visibility through another table's column)
        rows = conn.execute(select(mention.c.id).where(ctx.visible("person", mention.c.person_id))).scalars()
        assert set(rows) == set()  # no mention is resolved to a person in the fixture
        # links by a column that is not link.id of the link table itself
        alias = link.alias()
        ids = conn.execute(select(alias.c.id).where(ctx.visible("link", alias.c.id))).scalars()
        assert set(ids) == {"li_1"}
        act = table_of("act").alias()
        assert set(conn.execute(select(act.c.id).where(ctx.visible("act", act.c.id))).scalars()) == {"ac_1"}


def test_own_assignment_overrides_the_parent(world: World) -> None:
    accounts.create_compartment(world.system, "sealed-evidence")
    accounts.assign_records(world.system, "sealed-evidence", "evidence", ["ev_1"])
    world.add_user("ana", "analyst")
    assert _visible_ids(world.as_user("ana"), "evidence") == set()
    world.add_user("eve", "investigator", compartments=("case-a", "sealed-evidence"))
    assert _visible_ids(world.as_user("eve"), "evidence") == {"ev_1"}


def test_unassigned_records_are_nobodys_until_assigned(world: World) -> None:
    world.add_user("ana", "analyst", compartments=("case-a", "case-b"))
    ctx = world.as_user("ana")
    assert "in_3" not in _visible_ids(ctx, "incident")
    added = accounts.assign_records(world.system, "case-b", "incident", unassigned=True)
    assert added == 1
    assert "in_3" in _visible_ids(ctx, "incident")
    assert accounts.assign_records(world.system, "case-b", "incident", unassigned=True) == 0


def test_withdrawn_grant_stops_at_the_next_request(world: World) -> None:
    world.add_user("ana", "analyst")
    assert _visible_ids(world.as_user("ana"), "incident") == {"in_1"}
    accounts.withdraw_compartment(world.system, "ana", "case-a")
    assert _visible_ids(world.as_user("ana"), "incident") == set()


def test_system_context_sees_everything(world: World) -> None:
    assert _visible_ids(world.system, "incident") == {"in_1", "in_2", "in_3"}


# -- field groups -------------------------------------------------------------------------------


def _person_rows(ctx: ServiceContext) -> dict[str, dict[str, object]]:
    person = table_of("person")
    with ctx.store.read() as conn:
        rows = [dict(r) for r in conn.execute(
            select(person).where(ctx.visible("person", person.c.id)).order_by(person.c.id)
        ).mappings()]
        return {str(r["id"]): r for r in ctx.mask(conn, "person", rows)}


def test_analyst_sees_pseudonyms_not_names_unless_the_compartment_grants_identity(world: World) -> None:
    world.add_user("ana", "analyst")
    rows = _person_rows(world.as_user("ana"))
    assert rows["pe_victim1"]["pseudonym"] == "V-0001"
    assert rows["pe_victim1"]["primary_name"] == REDACTED
    assert rows["pe_victim1"]["birth_date"] == REDACTED
    world.add_user("ida", "analyst", identity=("case-a",))
    granted = _person_rows(world.as_user("ida"))
    assert granted["pe_victim1"]["primary_name"] == "Аляксандр Кавалёў"
    # an identity grant on one compartment reveals nothing in another
    world.add_user("mix", "analyst", compartments=("case-a", "case-b"), identity=("case-b",))
    mixed = _person_rows(world.as_user("mix"))
    assert mixed["pe_victim1"]["primary_name"] == REDACTED
    assert mixed["pe_victim2"]["primary_name"] == "CANARY-NAME-B"


def test_field_groups_per_role(world: World) -> None:
    source = table_of("source")
    for name, role in [("op", "intake_operator"), ("po", "protection_officer"), ("adm", "admin")]:
        world.add_user(name, role)
    with world.store.read() as conn:
        row = [dict(conn.execute(select(source).where(source.c.id == "so_t1")).mappings().one())]
        assert world.as_user("op").mask(conn, "source", row)[0]["text"] == row[0]["text"]
        assert world.as_user("po").mask(conn, "source", row)[0]["text"] == REDACTED
        assert world.as_user("adm").mask(conn, "source", row)[0]["text"] == REDACTED
    assert _person_rows(world.as_user("po"))["pe_victim1"]["primary_name"] == "Аляксандр Кавалёў"
    assert _person_rows(world.as_user("op"))["pe_victim1"]["primary_name"] == "Аляксандр Кавалёў"
