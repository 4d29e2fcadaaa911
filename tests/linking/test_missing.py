"""A family's missing-person case is matched to the custody record that shows where the person is."""

from __future__ import annotations

from pathlib import Path

from svidok.linking.missing import MissingLinkSettings, suggest_missing_links
from svidok.services import register
from svidok.store.register import Store
from tests.factories import RECORDS, write_jsonl

EXTRA = [
    # same surname, wrong given name: not the person
    {"record": "custody_record", "id": "cu_other", "recorded_name": "Кавалёва Марына", "facility_id": "pl_bcip",
     "held_from": "2020-08-10T23:30:00Z"},
    # right name, but held two months later: not this disappearance
    {"record": "custody_record", "id": "cu_late", "recorded_name": "Kavaliou Aliaksandr", "facility_id": "pl_bcip",
     "held_from": "2020-10-15T10:00:00Z"},
    # a fellow detainee's testimony names him the next night
    {"record": "source", "id": "so_cell", "kind": "testimony", "received_at": "2020-08-14T10:00:00Z",
     "reported_start": "2020-08-11T01:00:00Z"},
    {"record": "mention", "id": "me_cell", "source_id": "so_cell", "role": "detainee", "raw_name": "Саша Ковалев"},
]


def test_a_missing_person_is_found_in_custody_and_in_a_testimony(store: Store, tmp_path: Path) -> None:
    register.import_file(store, write_jsonl(tmp_path / "r.jsonl", RECORDS + EXTRA))
    with store.read() as conn:
        found = suggest_missing_links(conn, MissingLinkSettings())
    custody = [s for s in found if s.kind == "missing_custody"]
    assert [s.to_id for s in custody] == ["cu_1"]
    assert custody[0].from_id == "mc_1"
    assert any(r.startswith("time: in custody at") for r in custody[0].explanation)
    mentions = [s.to_id for s in found if s.kind == "missing_mention"]
    assert mentions == ["me_cell"]
    stored_text = " ".join(r for s in found for r in s.explanation)
    assert "Кавал" not in stored_text and "Ковал" not in stored_text  # no names in link explanations
