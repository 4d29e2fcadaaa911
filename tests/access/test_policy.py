"""The policy file is complete and consistent with the tables, and the doc is generated from it."""

from __future__ import annotations

from pathlib import Path

import pytest

from svidok.access import load_policy, policy
from svidok.access.doc import generated_part, render
from svidok.errors import ConfigError
from svidok.store.models import RECORD_TABLES, Base

DOC = Path(__file__).resolve().parents[2] / "docs" / "access.md"


def test_every_protected_column_is_in_exactly_one_field_group() -> None:
    p = policy()
    for kind in RECORD_TABLES:
        table = Base.metadata.tables[kind]
        for column in table.columns:
            groups = [g.name for g in p.field_groups.values() if column.name in g.fields.get(kind, frozenset())]
            if column.info.get("protected"):
                assert len(groups) == 1, f"{kind}.{column.name} is protected but in groups {groups}"
    for group in p.field_groups.values():
        for kind, columns in group.fields.items():
            table = Base.metadata.tables[kind]
            for name in columns:
                assert name in table.columns, f"{group.name}: {kind}.{name} is not a column"
                assert table.columns[name].info.get("protected"), f"{kind}.{name} is in a group but not protected"


def test_compartment_rules_name_real_tables_and_columns() -> None:
    p = policy()
    for kind, parents in p.parents.items():
        for parent, column in parents:
            assert column in Base.metadata.tables[kind].columns
            fk = {f.column.table.name for f in Base.metadata.tables[kind].columns[column].foreign_keys}
            assert fk == {parent}
    for kinds in (k for ends in p.link_ends.values() for end in ends for k in end):
        assert kinds in RECORD_TABLES
    for kind in p.shared_kinds:
        assert kind in RECORD_TABLES


def test_the_document_is_generated_from_the_policy() -> None:
    part = generated_part(DOC.read_text("utf-8"))
    assert part is not None, "docs/access.md lost its generated-section markers"
    assert part.strip() == render(policy()).strip(), "run: python -m svidok.access.doc docs/access.md"


def test_a_policy_with_a_typo_is_refused(tmp_path: Path) -> None:
    text = (Path(__file__).resolve().parents[2] / "src/svidok/access/policy.yaml").read_text("utf-8")
    bad = tmp_path / "policy.yaml"
    bad.write_text(text.replace("roles: [protection_officer]", "roles: [protection_oficer]", 1), "utf-8")
    with pytest.raises(ConfigError, match="unknown roles"):
        load_policy(bad)
    bad.write_text(text.replace("\n    record: true", "\n    recrod: true", 1), "utf-8")
    with pytest.raises(ConfigError, match="unknown keys"):
        load_policy(bad)


def test_unknown_role_or_operation_is_denied() -> None:
    p = policy()
    assert not p.allows("analyst", "record.delete")
    assert not p.allows("superuser", "record.view")
