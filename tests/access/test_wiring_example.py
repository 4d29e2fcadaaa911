"""How a service uses the hooks, on the shape of `register.show`: the reference for wiring.

`require_record` first (outside the transaction), then every related query filtered by
`visible`, every row passed through `mask`. A hidden record and a missing one then give
the same error; a visible record shows no trace of the other compartment.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import or_, select

from svidok.access import REDACTED, AccessDenied
from svidok.errors import NotFound
from svidok.services.context import ServiceContext
from svidok.store.register import table_of
from tests.access.conftest import World


def show_in_reach(ctx: ServiceContext, kind: str, record_id: str) -> dict[str, Any]:
    ctx.require_record("record.view", kind, record_id)
    table, link, act = table_of(kind), table_of("link"), table_of("act")
    with ctx.store.read() as conn:
        row = conn.execute(select(table).where(table.c.id == record_id)).mappings().one()
        links = conn.execute(
            select(link)
            .where(or_(link.c.from_id == record_id, link.c.to_id == record_id), ctx.visible("link", link.c.id))
            .order_by(link.c.id)
        ).mappings()
        acts = conn.execute(
            select(act).where(act.c.victim_id == record_id, ctx.visible("act", act.c.id)).order_by(act.c.id)
        ).mappings()
        return {
            "record": ctx.mask(conn, kind, [dict(row)])[0],
            "links": [r["id"] for r in links],
            "acts": ctx.mask(conn, "act", [dict(a) for a in acts]),
        }


def _answer(ctx: ServiceContext, kind: str, record_id: str) -> tuple[str, str]:
    try:
        return "ok", json.dumps(show_in_reach(ctx, kind, record_id), default=str)
    except NotFound as error:
        return type(error).__name__, str(error)


def test_hidden_and_missing_answer_alike_and_nothing_leaks(world: World) -> None:
    world.add_user("ana", "analyst", compartments=("case-a",))
    ctx = world.as_user("ana")
    status, body = _answer(ctx, "person", "pe_officer1")
    assert status == "ok"
    shown = json.loads(body)
    assert shown["links"] == ["li_1"]  # li_x (to the case-b person) is not there
    assert shown["record"]["primary_name"] == REDACTED and shown["record"]["pseudonym"] == "P-0001"
    assert "CANARY" not in body

    hidden = _answer(ctx, "person", "pe_victim2")
    table = table_of("person")
    with world.store.begin() as conn:
        conn.execute(table.insert(), {"id": "pe_gone", "primary_name": "x", "pseudonym": "x", "sex": "x"})
        conn.execute(table.delete().where(table.c.id == "pe_gone"))
    missing = _answer(ctx, "person", "pe_gone")
    assert hidden[0] == missing[0] == "NotFound"
    assert hidden[1].replace("pe_victim2", "ID") == missing[1].replace("pe_gone", "ID")


@pytest.mark.parametrize("role", ["admin", "auditor"])
def test_admin_and_auditor_never_read_contents(world: World, role: str) -> None:
    world.add_user(role, role)
    with pytest.raises(AccessDenied):
        show_in_reach(world.as_user(role), "person", "pe_victim1")
