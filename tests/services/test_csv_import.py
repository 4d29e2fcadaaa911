"""CSV import with a column mapping: custody lists and testimonies."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from svidok.errors import ImportFailed, InputError
from svidok.services import register
from svidok.store.register import Store
from tests.factories import RECORDS, write_jsonl

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"


@pytest.fixture
def with_places(store: Store, tmp_path: Path) -> Store:
    register.import_file(store, write_jsonl(tmp_path / "base.jsonl", RECORDS[:5]))  # places and units
    return store


def test_custody_list_imports_with_lookups_times_and_injury_codes(with_places: Store) -> None:
    report = register.import_file(
        with_places, EXAMPLES / "custody.csv", mapping=EXAMPLES / "custody-mapping.yaml"
    )
    assert report.inserted == {"custody_record": 3}
    records = {
        r["record"]["recorded_name"]: r["record"]
        for r in (register.show(with_places, "custody_record", rid) for rid in _ids(with_places))
    }
    first = records["КОВАЛЁВ Александр Сергеевич"]
    assert first["facility_id"] == "pl_bcip"  # found by its Russian name
    assert first["arresting_unit_id"] == "un_aomon"  # found by abbreviation
    assert first["held_from"] == "2020-08-10T20:10:00Z"  # +03:00 turned into UTC
    assert first["injuries"] == ["bruising", "fracture"]
    second = records["Тихановская Светлана"]
    assert second["held_to"] is None and second["notes"] == 'отказ в передаче, "без связи"'


def test_reimporting_a_csv_creates_no_duplicates(with_places: Store) -> None:
    args = {"mapping": EXAMPLES / "custody-mapping.yaml"}
    register.import_file(with_places, EXAMPLES / "custody.csv", **args)
    again = register.import_file(with_places, EXAMPLES / "custody.csv", **args)
    assert again.inserted_total == 0 and again.unchanged == 3
    assert with_places.counts()["custody_record"] == 3


def test_testimonies_csv(store: Store) -> None:
    report = register.import_file(
        store, EXAMPLES / "testimonies.csv", mapping=EXAMPLES / "testimony-mapping.yaml"
    )
    assert report.inserted == {"source": 3}
    assert store.counts()["source"] == 3


def test_bad_rows_are_named_by_line_and_column_and_nothing_is_written(
    with_places: Store, tmp_path: Path
) -> None:
    bad = tmp_path / "custody.csv"
    text = (EXAMPLES / "custody.csv").read_text("utf-8")
    text += "104,Іваноў Іван,1990,Unknown Prison,11.08.2020 02:05,,,,\n"
    text += "105,Петров Пётр,1990,ЦИП на ул. Ясной,31.02.2020 02:05,,,,\n"
    text += "106,Сидоров,1990,ЦИП на ул. Ясной,11.08.2020 02:05,,,ожоги,\n"
    text += '107,"unclosed,1990\n'
    bad.write_text(text, encoding="utf-8")
    with pytest.raises(ImportFailed) as error:
        register.import_file(with_places, bad, mapping=EXAMPLES / "custody-mapping.yaml")
    message = str(error.value)
    assert "custody.csv:5: facility_id (column 'Facility'): no place has the name given in this cell" in message
    assert "custody.csv:6: held_from (column 'Admitted'): does not match the time format" in message
    assert "custody.csv:7: injuries (column 'Injuries'): unknown codes ['ожоги']" in message
    assert "custody.csv:8: malformed CSV (unexpected end of data)" in message
    assert with_places.counts()["custody_record"] == 0


def test_reject_file_for_csv_keeps_the_header_and_the_bad_rows(with_places: Store, tmp_path: Path) -> None:
    bad = tmp_path / "custody.csv"
    shutil.copy(EXAMPLES / "custody.csv", bad)
    with bad.open("a", encoding="utf-8") as out:
        out.write("104,Іваноў Іван,1990,Unknown Prison,11.08.2020 02:05,,,,\n")
    rejects = tmp_path / "rejects.csv"
    report = register.import_file(
        with_places, bad, mapping=EXAMPLES / "custody-mapping.yaml", reject_file=rejects
    )
    assert report.inserted_total == 3 and report.rejected == 1
    lines = rejects.read_text("utf-8").splitlines()
    assert lines[0].startswith("Log no,Name") and lines[1].startswith("104,")


def test_mapping_errors_name_the_mapping_entry(tmp_path: Path, with_places: Store) -> None:
    mapping = tmp_path / "m.yaml"
    mapping.write_text("record: custody_record\nfields:\n  shoe_size: {column: Shoes}\n", "utf-8")
    with pytest.raises(InputError, match="fields.shoe_size: not a field of custody_record"):
        register.import_file(with_places, EXAMPLES / "custody.csv", mapping=mapping)
    with pytest.raises(InputError, match="needs --mapping"):
        register.import_file(with_places, EXAMPLES / "custody.csv")


def _ids(store: Store) -> list[str]:
    from sqlalchemy import select

    from svidok.store.register import table_of

    table = table_of("custody_record")
    with store.read() as conn:
        return [row[0] for row in conn.execute(select(table.c.id))]
