"""Exports: FtM entities that followthemoney loads and validates; CSV per record type; statistics in reach."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from followthemoney import model
from sqlalchemy import ColumnElement, false, true

from svidok.services import register, reporting
from svidok.services.context import Actor, ServiceContext
from svidok.store.register import Store
from tests.factories import RECORDS, write_jsonl


def _register(store: Store, tmp_path: Path) -> None:
    register.import_file(store, write_jsonl(tmp_path / "records.jsonl", RECORDS))


def test_ftm_export_loads_with_the_followthemoney_model(store: Store, tmp_path: Path) -> None:
    _register(store, tmp_path)
    out = tmp_path / "entities.ftm.json"
    written = reporting.export(store, "ftm", out)
    entities = [model.get_proxy(json.loads(line), cleaned=False) for line in out.read_text().splitlines()]
    assert len(entities) == written["entities"]
    schemata = {e.schema.name for e in entities}
    assert {"Person", "Organization", "Event", "Document", "UnknownLink"} <= schemata
    by_id = {e.id: e for e in entities}
    event = by_id["svidok-in-1"]
    assert event.get("name") == ["Detentions at Freedom Square"]
    link = next(e for e in entities if e.schema.name == "UnknownLink")
    assert link.get("subject") == ["svidok-un-aomon"] and link.get("object") == ["svidok-in-1"]
    for entity in entities:  # every reference points at an exported entity
        for prop, value in entity.itervalues():
            if prop.type.name == "entity":
                assert value in by_id, (entity.id, prop.name, value)


def test_csv_export_has_one_file_per_record_type(store: Store, tmp_path: Path) -> None:
    _register(store, tmp_path)
    counts = reporting.export(store, "csv", tmp_path / "csv")
    with (tmp_path / "csv" / "act.csv").open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert counts["act"] == len(rows) == 1 and rows[0]["violation"] == "torture"
    assert json.loads(rows[0]["injuries"]) == ["bruising", "head_injury"]
    reporting.export(store, "jsonl", tmp_path / "all.jsonl")
    assert '"record":"incident"' in (tmp_path / "all.jsonl").read_text()


class _NoIncidents(ServiceContext):
    def visible(self, kind: str, id_column: ColumnElement[Any]) -> ColumnElement[bool]:
        return false() if kind == "incident" else true()


def test_statistics_and_exports_keep_to_ctx_visible(store: Store, tmp_path: Path) -> None:
    _register(store, tmp_path)
    assert reporting.statistics(store)["totals"]["incidents"] == 1
    hidden = _NoIncidents(store, Actor("limited"))
    assert reporting.statistics(hidden)["totals"] == {"incidents": 0, "acts": 0, "victims": 0, "suspects": 0}
    out = tmp_path / "hidden.ftm.json"
    reporting.export(hidden, "ftm", out)
    assert "svidok-in-1" not in out.read_text()


def test_statistics_by_every_dimension_and_csv(store: Store, tmp_path: Path) -> None:
    _register(store, tmp_path)
    stats = reporting.statistics(store)
    assert set(stats["tables"]) == {"day", "place", "violation", "unit", "status"}
    assert stats["tables"]["unit"] == [
        {"key": "un_aomon", "incidents": 1, "acts": 1, "victims": 1, "suspects": 0}
    ]
    paths = reporting.statistics_csv(store, tmp_path / "charts")
    text = (tmp_path / "charts" / "by_place.csv").read_text()
    assert len(paths) == 5 and text.startswith("key,label,incidents,acts,victims,suspects")
    assert "Плошча Свабоды" in text


def test_a_role_that_may_not_view_suspects_exports_none(store: Store, tmp_path: Path) -> None:
    from svidok.access.principal import Principal
    from svidok.services import accounts

    records = [
        *RECORDS,
        {
            "record": "involvement",
            "id": "iv_2",
            "act_id": "ac_1",
            "person_id": "pe_officer1",
            "role": "direct_perpetrator",
            "confidence": 0.6,
        },
    ]
    register.import_file(store, write_jsonl(tmp_path / "r.jsonl", records))
    system = ServiceContext(store, Actor("admin"))
    accounts.create_compartment(system, "case-a")
    for kind in ("incident", "source", "person", "act", "involvement"):
        accounts.assign_records(system, "case-a", kind, unassigned=True)
    investigator = ServiceContext(
        store,
        Actor("inv", "investigator"),
        principal=Principal("inv", "investigator", compartments=frozenset({"case-a"})),
    )
    with store.read() as conn:
        from svidok.reports.exports import ftm_entities

        shown = {e["id"] for e in ftm_entities(investigator, conn)}
        assert "svidok-pe-officer1" in shown and "svidok-iv-2" in shown

        class NoSuspects(ServiceContext):
            def can(self, operation: str) -> bool:
                return operation != "suspect.view"

        hidden = {e["id"] for e in ftm_entities(NoSuspects(store, Actor("x")), conn)}
    assert (
        "svidok-pe-officer1" not in hidden and "svidok-iv-2" not in hidden and "svidok-pe-victim1" in hidden
    )
