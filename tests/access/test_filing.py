"""New records go into compartments: the creator's own, or their origin's."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from svidok.access import AccessDenied
from svidok.access.compartments import copy_compartments
from svidok.errors import InputError
from svidok.services import accounts
from svidok.store.models import Base
from tests.access.conftest import World

RC = Base.metadata.tables["record_compartment"]


def _compartments(world: World, kind: str, record_id: str) -> set[str]:
    with world.store.read() as conn:
        return set(conn.execute(
            select(RC.c.compartment).where(RC.c.kind == kind, RC.c.record_id == record_id)
        ).scalars())


def test_a_user_files_into_their_own_compartment(world: World) -> None:
    world.add_user("op", "intake_operator")
    ctx = world.as_user("op")
    chosen = accounts.filing_compartments(ctx, "incident")
    assert chosen == ["case-a"]
    with world.store.begin() as conn:
        accounts.file_records(conn, "incident", ["in_3"], chosen)
    assert _compartments(world, "incident", "in_3") == {"case-a"}
    with pytest.raises(AccessDenied):
        accounts.filing_compartments(ctx, "incident", ["case-b"])
    world.add_user("two", "intake_operator", compartments=("case-a", "case-b"))
    with pytest.raises(InputError, match="name the compartment"):
        accounts.filing_compartments(world.as_user("two"), "incident")
    assert accounts.filing_compartments(world.as_user("two"), "incident", ["case-b"]) == ["case-b"]
    assert accounts.filing_compartments(world.system, "incident") == []


def test_copy_compartments_from_origin_records(world: World) -> None:
    with world.store.begin() as conn:
        added = copy_compartments(conn, [
            ("person", "pe_victim2", "source", "so_t1"),   # a linker person from a case-a source
            ("person", "pe_victim2", "source", "so_t2"),   # ... and a case-b one: already there
            ("incident", "in_3", "incident", "in_2"),
        ])
        assert added == 2
        assert copy_compartments(conn, [("incident", "in_3", "incident", "in_2")]) == 0
    assert _compartments(world, "person", "pe_victim2") == {"case-a", "case-b"}
    assert _compartments(world, "incident", "in_3") == {"case-b"}
