"""CSV import with a mapping (`services.csv_import`) against hostile spreadsheets: bad quoting,
NUL bytes, wrong encodings, BOMs, ragged rows, huge cells, stray carriage returns, hostile
mapping files. A batch is imported whole or refused whole; with a reject file, the header and the
bad records go there byte for byte, in order, and exactly the rest is imported."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from svidok.errors import ImportFailed, InputError, RecordProblem, SvidokError
from svidok.services import register
from svidok.store.register import Store
from tests.factories import RECORDS, write_jsonl
from tests.hostile.bounds import MIB, bounded
from tests.hostile.conftest import HOSTILE

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"
MAPPING = EXAMPLES / "custody-mapping.yaml"
HEADER = "Log no,Name,Born,Facility,Admitted,Released,Unit,Injuries,Notes"
CANARY = "КАНАРЕЙКА"
_log_numbers = itertools.count(1000)


@pytest.fixture
def with_places(store: Store, tmp_path: Path) -> Store:
    register.import_file(store, write_jsonl(tmp_path / "base.jsonl", RECORDS[:5]))
    return store


def _row(cells: list[str]) -> str:
    return ",".join(cells)


def _good_cells() -> list[str]:
    return [str(next(_log_numbers)), f"{CANARY} Иван", "1991", "ЦИП на ул. Ясной", "10.08.2020 23:10",
            "13.08.2020 11:00", "АМАП", "синяки; перелом", ""]  # fmt: skip


@st.composite
def hostile_row(draw: st.DrawFn) -> tuple[bytes, int]:
    """One record's bytes (ending with a line break) and how many lines it spans."""
    cells = _good_cells()
    how = draw(
        st.sampled_from(
            ["ragged", "quote", "nul", "cp1251", "date", "lookup", "code", "huge", "cr", "bom", "cell", "ok"]
        )
    )
    end = draw(st.sampled_from([b"\n", b"\r\n"]))
    lines = 1
    if how == "ragged":
        cells = (
            cells[: draw(st.integers(0, 8))]
            if draw(st.booleans())
            else cells + ["x"] * draw(st.integers(1, 5))
        )
    elif how == "quote":
        cells[draw(st.integers(1, 8))] = draw(st.sampled_from(['a"b"c', '"a"b', '""', '"a"""', 'x""y']))
    elif how == "nul":
        cells[draw(st.sampled_from([1, 7, 8]))] = "a\x00b"
    elif how == "cp1251":
        text = _row(cells).replace(f"{CANARY} Иван", "Пётр Вінцук")
        return text.encode("cp1251") + end, 1
    elif how == "date":
        cells[draw(st.sampled_from([2, 4, 5]))] = draw(
            st.sampled_from(["31.02.2020 10:00", "2020", "x", "99.99.9999 99:99", "0001"])
        )
    elif how == "lookup":
        cells[draw(st.sampled_from([3, 6]))] = draw(
            st.text(max_size=20).filter(
                lambda t: "," not in t and '"' not in t and "\n" not in t and "\r" not in t
            )
        )
    elif how == "code":
        cells[7] = draw(st.sampled_from(["sunburn", "синяки;;;;x", ";" * 50]))
    elif how == "huge":
        cells[draw(st.sampled_from([1, 8]))] = CANARY + "я" * draw(st.sampled_from([5_000, 1_100_000]))
    elif how == "cr":
        cells[8] = "a\rb"
    elif how == "bom":
        cells[1] = "\ufeff" + cells[1]
    elif how == "cell":
        cells[8] = (
            '"' + draw(st.sampled_from(["line one\nline two", "multi\r\nline", 'quoted ""word""'])) + '"'
        )
        lines = 1 + cells[8].count("\n")
    return _row(cells).encode() + end, lines


@st.composite
def spreadsheets(draw: st.DrawFn) -> list[tuple[bytes, int]]:
    rows = [(_row(_good_cells()).encode() + b"\n", 1) for _ in range(draw(st.integers(0, 3)))]
    for _ in range(draw(st.integers(1, 4))):
        rows.insert(draw(st.integers(0, len(rows))), draw(hostile_row()))
    return rows


def _write(path: Path, rows: list[tuple[bytes, int]], bom: bool = False) -> Path:
    path.write_bytes(
        (b"\xef\xbb\xbf" if bom else b"") + HEADER.encode() + b"\n" + b"".join(r for r, _ in rows)
    )
    return path


def _starts(rows: list[tuple[bytes, int]]) -> list[int]:
    starts, line = [], 2
    for _, lines in rows:
        starts.append(line)
        line += lines
    return starts


def _check_messages(problems: list[RecordProblem], path: Path) -> None:
    for problem in problems:
        assert problem.file == str(path)
        assert CANARY not in str(problem) and len(str(problem)) < 600, str(problem)[:300]


@HOSTILE
@given(rows=spreadsheets(), bom=st.booleans())
def test_a_bad_spreadsheet_is_refused_whole(
    with_places: Store, tmp_path: Path, rows: list[tuple[bytes, int]], bom: bool
) -> None:
    path = _write(tmp_path / "in.csv", rows, bom)
    before = with_places.counts()
    try:
        report = register.import_file(with_places, path, mapping=MAPPING)
    except ImportFailed as failed:
        assert with_places.counts() == before
        _check_messages(failed.problems, path)
        assert {p.line for p in failed.problems} <= set(_starts(rows))
    else:
        assert report.rejected == 0
        assert with_places.counts()["custody_record"] == before["custody_record"] + report.inserted_total


@HOSTILE
@given(rows=spreadsheets(), bom=st.booleans())
def test_with_a_reject_file_the_header_and_bad_records_go_there_byte_for_byte(
    with_places: Store, tmp_path: Path, rows: list[tuple[bytes, int]], bom: bool
) -> None:
    path = _write(tmp_path / "in.csv", rows, bom)
    rejects = tmp_path / "rejects.csv"
    before = with_places.counts()["custody_record"]
    report = register.import_file(with_places, path, mapping=MAPPING, reject_file=rejects)
    _check_messages(report.problems, path)
    bad = {p.line for p in report.problems}
    starts = _starts(rows)
    assert bad <= set(starts)
    expected = b"".join(row for (row, _), start in zip(rows, starts, strict=True) if start in bad)
    written = rejects.read_bytes()
    if bad:
        assert written == HEADER.encode() + b"\n" + expected
    else:
        assert written == b""
    assert with_places.counts()["custody_record"] == before + report.inserted_total
    blank = sum(1 for row, _ in rows if not row.decode("utf-8", "replace").strip())
    assert report.inserted_total + report.rejected + report.unchanged == len(rows) - blank


HAND_WRITTEN: dict[str, tuple[bytes, str]] = {
    "UTF-16 with BOM": (HEADER.encode("utf-16") + "\n1,a".encode("utf-16-le"), "the file is UTF-16"),
    "cp1251 header": ("Log no,Name,Born,Facility,Admitted,Released,Unit,Injuries,Примечания\n".encode("cp1251"), "line 1: the header is not UTF-8"),
    "empty file": (b"", "line 1: columns missing from the header"),
    "NUL-only file": (b"\x00" * 1000, "line 1: columns missing from the header"),
    "header only a quote": (b'"\n', "line 1: malformed CSV header"),
    "unclosed quote": (HEADER.encode() + b'\n1,"never closed,1991,a,b,c,d,e,f\n2,x,1991,a,b,c,d,e,f\n', ":2: malformed CSV (unexpected end of data)"),
    "cell above the field limit": (HEADER.encode() + b"\n1," + b"x" * 1_100_000 + b",1991,a,b,c,d,e,f\n", "field larger than field limit"),
    "unclosed quote over 8 MiB": (HEADER.encode() + b'\n1,"' + (b"x" * 1000 + b"\n") * 9000, ":2: a record is longer than 8 MiB"),
    "one line over 8 MiB": (HEADER.encode() + b"\n" + b"x" * (9 * MIB), ":2: a record is longer than 8 MiB"),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(HAND_WRITTEN))
def test_hand_written_hostile_spreadsheets(with_places: Store, tmp_path: Path, case: str) -> None:
    content, expected = HAND_WRITTEN[case]
    path = tmp_path / "in.csv"
    path.write_bytes(content)
    before = with_places.counts()
    with bounded(seconds=30, rss_bytes=128 * MIB), pytest.raises(SvidokError) as refused:
        register.import_file(with_places, path, mapping=MAPPING)
    assert with_places.counts() == before
    messages = [str(refused.value), *(str(p) for p in getattr(refused.value, "problems", []))]
    assert any(expected in m for m in messages), messages[0][:400]
    # with a reject file, a bad record is set aside; a bad file is still refused whole
    rejects = tmp_path / "r.csv"
    try:
        report = register.import_file(with_places, path, mapping=MAPPING, reject_file=rejects)
    except SvidokError as again:
        assert str(again) == str(refused.value) and not rejects.exists()
    else:
        assert report.rejected >= 1 and report.inserted_total == 0
        assert rejects.read_bytes() == content


MAPPINGS: dict[str, str] = {
    "not a mapping": "- a\n- b\n",
    "record is a list": "record: [source]\n",
    "fields is a list": "record: custody_record\nfields: [a, b]\n",
    "delimiter too long": "record: custody_record\ndelimiter: ';;'\nfields: {notes: {column: Notes}}\n",
    "delimiter a quote": "record: custody_record\ndelimiter: '\"'\nfields: {notes: {column: Notes}}\n",
    "split is a number": "record: custody_record\nfields: {injuries: {column: Injuries, split: 3}}\n",
    "map is a list": "record: custody_record\nfields: {injuries: {column: Injuries, map: [a]}}\n",
    "bad utc offset": "record: custody_record\nfields: {held_from: {column: Admitted, utc_offset: 'east'}}\n",
    "column is a map": "record: custody_record\nfields: {notes: {column: {a: b}}}\n",
    "field name is a number": "record: custody_record\nfields: {3: {column: Notes}}\n",
    "YAML bomb": "a: &a [x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
    "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\nrecord: *e\n",
    "python tag": "record: !!python/object/apply:os.system ['true']\n",
    "not YAML": "record: [\n",
}


@pytest.mark.parametrize("case", sorted(MAPPINGS))
def test_hostile_mapping_files_are_refused_naming_the_entry(
    with_places: Store, tmp_path: Path, case: str
) -> None:
    mapping = tmp_path / "m.yaml"
    mapping.write_text(MAPPINGS[case], "utf-8")
    path = _write(tmp_path / "in.csv", [(_row(_good_cells()).encode() + b"\n", 1)])
    with bounded(seconds=10, rss_bytes=64 * MIB), pytest.raises(InputError, match=str(mapping)):
        register.import_file(with_places, path, mapping=mapping)
    assert with_places.counts()["custody_record"] == 0
