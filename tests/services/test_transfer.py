"""Lossless JSON Lines round trip, idempotent re-import, and bad input that loses nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from svidok.errors import ImportFailed
from svidok.services import register
from svidok.settings import Settings
from svidok.store.register import Store
from tests.factories import RECORDS, write_jsonl


def _counts_nonzero(store: Store) -> dict[str, int]:
    return {k: v for k, v in store.counts().items() if v}


def test_export_import_export_is_byte_identical(store: Store, settings: Settings, tmp_path: Path) -> None:
    register.import_file(store, write_jsonl(tmp_path / "in.jsonl", RECORDS))
    first = tmp_path / "first.jsonl"
    register.export_register(store, first)

    other_dir = tmp_path / "other"
    other = register.init_register(Settings(data_dir=other_dir))  # a fresh embedded register
    report = register.import_file(other, first)
    assert report.inserted_total == len(RECORDS)
    second = tmp_path / "second.jsonl"
    register.export_register(other, second)
    other.close()

    assert first.read_bytes() == second.read_bytes()
    lines = [json.loads(line) for line in first.read_text("utf-8").splitlines()]
    assert len(lines) == len(RECORDS)
    # parents precede children even though the child ids sort first
    places = [line["id"] for line in lines if line["record"] == "place"]
    assert places.index("pl_zcity") < places.index("pl_asquare")
    # values survive exactly: floats, lists, maps, times with their UTC marker, Cyrillic text
    act = next(line for line in lines if line["record"] == "act")
    assert act["injuries"] == ["bruising", "head_injury"]
    square = next(line for line in lines if line["id"] == "pl_asquare")
    assert square["lon"] == 27.556712 and square["names"] == {"en": "Freedom Square"}
    incident = next(line for line in lines if line["record"] == "incident")
    assert incident["start_at"] == "2020-08-10T18:30:00Z" and incident["start_offset_min"] == 180
    assert "Кавалёў" in first.read_text("utf-8")


def test_reimporting_the_same_file_creates_no_duplicates(store: Store, tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "in.jsonl", RECORDS)
    register.import_file(store, path)
    before = store.counts()
    again = register.import_file(store, path)
    assert again.inserted_total == 0
    assert again.unchanged == len(RECORDS)
    assert store.counts() == before


def test_a_changed_record_under_an_existing_id_is_a_conflict_not_an_overwrite(
    store: Store, tmp_path: Path
) -> None:
    register.import_file(store, write_jsonl(tmp_path / "in.jsonl", RECORDS))
    changed = [dict(r) for r in RECORDS]
    changed[9] = {**changed[9], "status": "verified"}  # the incident
    with pytest.raises(ImportFailed) as error:
        register.import_file(store, write_jsonl(tmp_path / "changed.jsonl", changed))
    message = str(error.value)
    assert "changed.jsonl:10: id: in_1 already exists with different status" in message
    shown = register.show(store, "incident", "in_1")
    assert shown["record"]["status"] == "alleged"


BAD_LINES = [
    ('{"record": "place", "id": "pl_x", "kind": "spaceport", "name": "X"}', "kind: unknown code 'spaceport'"),
    ('{"record": "person", "id": "pe_x", "pseudonym": "V-9"}', "primary_name: is required"),
    ('{"record": "nonsense", "id": "zz_1"}', "record: unknown record kind 'nonsense'"),
    ("{not json", "not valid JSON"),
    ('{"record": "act", "id": "ac_x", "incident_id": "in_missing", "violation": "torture"}',
     "incident_id: refers to incident in_missing, which does not exist"),
    ('{"record": "source", "id": "so_x", "kind": "testimony", "received_at": "yesterday", "reliability": "A"}',
     "received_at: must be an ISO 8601 time"),
    ('{"record": "source", "id": "so_y", "kind": "testimony", "received_at": "2020-08-10T00:00:00Z", '
     '"credibility": 9}', "credibility: 9 is not one of: 1, 2, 3, 4, 5, 6"),
    ('{"record": "incident", "id": "in_x", "title": "t", "start_at": "2020-08-10T10:00:00Z", '
     '"end_at": "2020-08-09T10:00:00Z"}', "end_at: is before start_at"),
    ('{"record": "place", "id": "pl_y", "kind": "city", "name": "Y", "lat": 123}', "lat: latitude must be"),
    ('{"record": "place", "id": "pl_z", "kind": "city", "name": "Z", "colour": "red"}',
     "colour: not a field of place"),
    ('{"record": "act", "id": "ac_y", "incident_id": "in_1", "violation": "torture", "injuries": ["bruising", '
     '"sunburn"]}', "injuries: unknown codes ['sunburn']"),
]


@pytest.mark.parametrize(("line", "expected"), BAD_LINES)
def test_a_bad_record_refuses_the_whole_file_naming_line_and_field(
    store: Store, tmp_path: Path, line: str, expected: str
) -> None:
    good = [json.dumps(r, ensure_ascii=False) for r in RECORDS]
    path = tmp_path / "bad.jsonl"
    path.write_text("\n".join([*good, line]) + "\n", encoding="utf-8")
    with pytest.raises(ImportFailed) as error:
        register.import_file(store, path)
    message = str(error.value)
    assert f"bad.jsonl:{len(good) + 1}: " in message
    assert expected in message
    assert "nothing written" in message
    assert _counts_nonzero(store) == {}


def test_reject_file_keeps_bad_lines_and_their_dependents_and_imports_the_rest(
    store: Store, tmp_path: Path
) -> None:
    records = [dict(r) for r in RECORDS]
    records[5] = {**records[5], "sex": "robot"}  # pe_victim1: bad; its name, act, custody depend on it
    path = write_jsonl(tmp_path / "in.jsonl", records)
    rejects = tmp_path / "rejects.jsonl"
    report = register.import_file(store, path, reject_file=rejects)
    rejected_ids = [json.loads(line)["id"] for line in rejects.read_text("utf-8").splitlines()]
    assert rejected_ids[0] == "pe_victim1"
    assert {"pn_1", "ac_1", "cu_1"} <= set(rejected_ids)
    assert report.rejected == len(rejected_ids)
    assert report.inserted_total == len(records) - len(rejected_ids)
    assert any("sex: 'robot' is not one of" in str(p) for p in report.problems)
    # the rejected lines are the original lines, so they can be fixed and re-imported
    fixed = rejects.read_text("utf-8").replace('"robot"', '"male"')
    second = register.import_file(store, write_text(tmp_path / "fixed.jsonl", fixed))
    assert second.rejected == 0
    assert sum(store.counts().values()) == len(records)


def test_forward_references_are_named(store: Store, tmp_path: Path) -> None:
    records = [r for r in RECORDS if r["record"] in ("place",)]
    path = write_jsonl(tmp_path / "fwd.jsonl", list(reversed(records)))
    with pytest.raises(ImportFailed) as error:
        register.import_file(store, path)
    assert "refers to place pl_zcity, which comes later in the file" in str(error.value)


def test_error_messages_do_not_repeat_protected_contents(store: Store, tmp_path: Path) -> None:
    records = [dict(r) for r in RECORDS]
    records[5] = {**records[5], "primary_name": "Аляксандр Кавалёў" * 40}  # too long
    with pytest.raises(ImportFailed) as error:
        register.import_file(store, write_jsonl(tmp_path / "in.jsonl", records))
    message = str(error.value)
    assert "primary_name: is longer than 300 characters" in message
    assert "Кавалёў" not in message


def write_text(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path
