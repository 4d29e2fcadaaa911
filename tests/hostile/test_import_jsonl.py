"""JSON Lines import (`svidok import`, `services.transfer` + `importer` + `validation`) against
hostile files: every batch is either imported whole or refused whole with errors naming line and
field; with a reject file, the bad lines (and what refers to them) are written there verbatim, in
file order, and exactly the rest is imported. Nothing is half-imported; no message quotes a
protected field; nothing crashes."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from svidok.errors import ImportFailed, InputError, RecordProblem, SvidokError
from svidok.services import register
from svidok.services.transfer import MAX_LINE_BYTES
from svidok.store.register import Store
from tests.hostile.bounds import MIB, bounded
from tests.hostile.conftest import HOSTILE

CANARY = "CANARY-PROTECTED"
_ids = itertools.count()


def _templates(n: int) -> list[dict[str, Any]]:
    """Valid records, fresh ids: a place, a person, a testimony and a mention of it."""
    return [
        {"record": "place", "id": f"pl_h{n}", "kind": "city", "name": "Горад", "names": {"en": "Town"}},
        {"record": "person", "id": f"pe_h{n}", "primary_name": f"{CANARY} Іван", "sex": "male"},
        {
            "record": "source",
            "id": f"so_h{n}",
            "kind": "testimony",
            "text": f"{CANARY} text",
            "received_at": "2020-08-12T09:15:00Z",
            "external_ref": f"ref-{n}",
        },
        {
            "record": "mention",
            "id": f"me_h{n}",
            "source_id": f"so_h{n}",
            "role": "victim",
            "raw_name": CANARY,
        },
    ]


json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.sampled_from([2**31, -(2**31) - 1, 2**63, 10**40, 10**400]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(alphabet=st.characters(exclude_categories=()), max_size=30),
    st.sampled_from(["", "\x00", "\ud800", "A" * 5000, "2020-13-45", "0001-01-01T00:00:00+05:00", "pl_x\n"]),
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
field_names = st.one_of(
    st.sampled_from(["id", "kind", "name", "names", "lat", "sex", "primary_name", "text", "received_at",
                     "external_ref", "source_id", "role", "credibility", "reliability", "birth_date"]),
    st.text(alphabet=st.characters(exclude_categories=()), max_size=12),
)  # fmt: skip


@st.composite
def hostile_line(draw: st.DrawFn, template: dict[str, Any]) -> bytes:
    how = draw(st.sampled_from(["field", "drop", "kind", "bytes", "json", "nested", "number", "huge"]))
    record = dict(template)
    if how == "field":
        record[draw(field_names)] = draw(json_values)
    elif how == "drop":
        record.pop(draw(st.sampled_from(sorted(record))))
    elif how == "kind":
        record["record"] = draw(st.one_of(json_scalars, st.sampled_from(["link", "app_user", "audit_entry"])))
    elif how == "bytes":
        return draw(st.binary(max_size=120)).replace(b"\n", b" ")
    elif how == "json":
        return json.dumps(draw(json_values)).encode()
    elif how == "nested":
        depth = draw(st.integers(100, 200_000))
        return b'{"record":"place","id":"pl_n","name":' + b"[" * depth + b"]" * depth + b"}"
    elif how == "number":
        return b'{"record":"place","id":"pl_n","kind":"city","name":"x","lat":' + b"9" * 5000 + b"}"
    else:
        record[draw(st.sampled_from(["name", "text", "primary_name"]))] = CANARY + "x" * 200_000
    return json.dumps(record).encode()


@st.composite
def batches(draw: st.DrawFn) -> list[bytes]:
    """A file: valid records with some lines made hostile (at least one)."""
    lines: list[bytes] = []
    for _ in range(draw(st.integers(1, 3))):
        for template in _templates(next(_ids)):
            if draw(st.integers(0, 3)) == 0:
                lines.append(draw(hostile_line(template)))
            else:
                lines.append(json.dumps(template, ensure_ascii=draw(st.booleans())).encode())
    if all(line.startswith(b"{") and b"CANARY" in line for line in lines):  # nothing hostile drawn
        lines.insert(draw(st.integers(0, len(lines))), draw(hostile_line(_templates(next(_ids))[0])))
    return lines


def _write(path: Path, lines: list[bytes]) -> Path:
    path.write_bytes(b"".join(line + b"\n" for line in lines))
    return path


def _ids_of(store: Store) -> set[tuple[str, str]]:
    with store.read() as conn:
        return {
            (kind, str(row[0]))
            for kind in ("place", "person", "source", "mention")
            for row in conn.exec_driver_sql(f"SELECT id FROM {kind}")
        }


def _backend(store: Store) -> str:
    return store.dialect


def _blank(line: bytes) -> bool:
    """A line the importer skips: nothing but (Unicode) white space."""
    try:
        return not line.decode("utf-8").strip()
    except UnicodeDecodeError:
        return False


def _check_messages(problems: list[RecordProblem], path: Path, lines: int) -> None:
    for problem in problems:
        assert problem.file == str(path) and 1 <= problem.line <= lines
        message = str(problem)
        assert CANARY not in message, message
        assert len(message) < 600, message


@HOSTILE
@given(lines=batches())
def test_a_bad_batch_is_refused_whole(store: Store, tmp_path: Path, lines: list[bytes]) -> None:
    path = _write(tmp_path / "in.jsonl", lines)
    before = store.counts()
    try:
        report = register.import_file(store, path)
    except ImportFailed as failed:
        assert store.counts() == before, "a refused import wrote something"
        _check_messages(failed.problems, path, len(lines))
        assert failed.problems
    else:
        assert report.rejected == 0 and not report.problems
        assert sum(store.counts().values()) == sum(before.values()) + report.inserted_total


@HOSTILE
@given(lines=batches())
def test_with_a_reject_file_bad_lines_go_there_verbatim_and_the_rest_is_imported(
    store: Store, tmp_path: Path, lines: list[bytes]
) -> None:
    path = _write(tmp_path / "in.jsonl", lines)
    rejects = tmp_path / "rejects.jsonl"
    before = _ids_of(store)
    report = register.import_file(store, path, reject_file=rejects)
    _check_messages(report.problems, path, len(lines))
    bad_lines = {p.line for p in report.problems}
    rejected = rejects.read_bytes().splitlines(keepends=True)
    assert len(rejected) == report.rejected
    # verbatim and in file order: exactly the named lines, byte for byte
    assert rejected == [lines[n - 1] + b"\n" for n in sorted(bad_lines)]
    after = _ids_of(store)
    kept = [json.loads(line) for n, line in enumerate(lines, 1) if n not in bad_lines and not _blank(line)]
    expected = {(r["record"], r["id"]) for r in kept}
    assert after - before == expected - before
    assert len(after) - len(before) == report.inserted_total
    # a mention whose testimony was rejected is rejected with it
    for record in kept:
        if record["record"] == "mention":
            assert ("source", record["source_id"]) in after


def test_the_reject_file_keeps_file_order_so_it_imports_again_once_fixed(
    store: Store, tmp_path: Path
) -> None:
    """A testimony refused late (its external_ref is taken) and a mention of it refused early (bad
    role) are written in file order, so the fixed reject file imports cleanly."""
    first, second = _templates(next(_ids)), _templates(next(_ids))
    register.import_file(store, _write(tmp_path / "first.jsonl", [json.dumps(first[2]).encode()]))
    source = second[2] | {"external_ref": first[2]["external_ref"]}
    mention = second[3] | {"role": "bystander-ish"}
    path = _write(tmp_path / "in.jsonl", [json.dumps(source).encode(), json.dumps(mention).encode()])
    rejects = tmp_path / "rejects.jsonl"
    report = register.import_file(store, path, reject_file=rejects)
    assert report.rejected == 2 and report.inserted_total == 0
    fixed = tmp_path / "fixed.jsonl"
    text = (
        rejects.read_text("utf-8")
        .replace(first[2]["external_ref"], "ref-fixed")
        .replace("bystander-ish", "victim")
    )
    fixed.write_text(text, "utf-8")
    assert register.import_file(store, fixed).inserted_total == 2


HAND_WRITTEN: dict[str, tuple[bytes, str]] = {
    "not UTF-8 mid-file": (b'{"record":"place","id":"pl_u1","kind":"city","name":"a"}\n\xff\xfe\x00\n', "2: not valid UTF-8"),
    "UTF-16 file": ('{"record":"place"}\n'.encode("utf-16"), "1: not valid UTF-8"),
    "Latin-1 text": ('{"record":"place","id":"pl_u2","kind":"city","name":"Łódź"}\n'.encode("cp1250"), "1: not valid UTF-8"),
    "NUL bytes": (b"\x00" * 64 + b"\n", "1: not valid JSON"),
    "deep nesting": (b"[" * 500_000 + b"\n", "1: JSON nested too deeply"),
    "5,000-digit number": (b'{"record":"place","lat":' + b"1" * 5000 + b"}\n", "1: a number in the line has too many digits"),
    "huge integer in a float field": (b'{"record":"place","id":"pl_u3","kind":"city","name":"a","lat":' + b"1" * 400 + b"}\n", "lat: must be a finite number"),
    "NaN": (b'{"record":"place","id":"pl_u4","kind":"city","name":"a","lat":NaN,"lon":1}\n', "lat: must be a finite number"),
    "int beyond PostgreSQL integer": (b'{"record":"incident","id":"in_u1","title":"t","start_at":"2020-01-01T00:00:00Z","start_offset_min":4294967296}\n', "start_offset_min: must be between"),
    "unpaired surrogate": (b'{"record":"person","id":"pe_u1","primary_name":"\\ud800"}\n', "primary_name: contains an unpaired surrogate"),
    "NUL in a name map": (b'{"record":"place","id":"pl_u5","kind":"city","name":"a","names":{"en":"\\u0000"}}\n', "names: contains a NUL character"),
    "time before year 1 in UTC": (b'{"record":"source","id":"so_u1","kind":"testimony","received_at":"0001-01-01T00:00:00+05:00"}\n', "received_at: is outside the years 1 to 9999"),
    "id with a newline": (b'{"record":"place","id":"pl_u6\\n","kind":"city","name":"a"}\n', "id: id must look like pl_"),
    "partial date with a newline": (b'{"record":"person","id":"pe_u2","primary_name":"a","birth_date":"1990\\n"}\n', "birth_date: must be a date"),
    "megabyte field name": (b'{"record":"place","id":"pl_u7","kind":"city","name":"a","' + b"k" * MIB + b'":1}\n', "'kkkkkkkk"),
    "unknown kind": (b'{"record":"app_user","id":"x"}\n', "record: unknown record kind 'app_user'"),
    "duplicate external_ref": (
        b'{"record":"source","id":"so_u2","kind":"testimony","received_at":"2020-01-01T00:00:00Z","external_ref":"R"}\n'
        b'{"record":"source","id":"so_u3","kind":"testimony","received_at":"2020-01-01T00:00:00Z","external_ref":"R"}\n',
        "2: external_ref: external_ref repeats a value",
    ),
    "duplicate citation": (
        b'{"record":"source","id":"so_u4","kind":"testimony","received_at":"2020-01-01T00:00:00Z"}\n'
        b'{"record":"citation","id":"ci_u1","source_id":"so_u4","subject_kind":"act","subject_id":"ac_x","field":""}\n'
        b'{"record":"citation","id":"ci_u2","source_id":"so_u4","subject_kind":"act","subject_id":"ac_x","field":""}\n',
        "3: subject_kind: subject_kind + subject_id + field + source_id repeats",
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(HAND_WRITTEN))
def test_hand_written_hostile_files_are_refused_with_a_clear_reason(
    store: Store, tmp_path: Path, case: str
) -> None:
    content, expected = HAND_WRITTEN[case]
    path = tmp_path / "in.jsonl"
    path.write_bytes(content)
    before = store.counts()
    with bounded(seconds=30, rss_bytes=256 * MIB), pytest.raises(SvidokError) as refused:
        register.import_file(store, path)
    assert store.counts() == before
    assert expected in str(refused.value), str(refused.value)[:500]
    assert len(str(refused.value)) < 2000


def test_a_bom_is_accepted(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "bom.jsonl"
    path.write_bytes(b'\xef\xbb\xbf{"record":"place","id":"pl_bom","kind":"city","name":"a"}\n')
    assert register.import_file(store, path).inserted_total == 1


def test_an_over_long_line_refuses_the_file_without_reading_it_into_memory(
    store: Store, tmp_path: Path
) -> None:
    path = tmp_path / "long.jsonl"
    with path.open("wb") as out:
        out.write(b'{"record":"place","id":"pl_l1","kind":"city","name":"a"}\n')
        out.write(b'{"record":"source","id":"so_l1","text":"')
        for _ in range(256):  # 256 MiB on one line
            out.write(b"x" * MIB)
        out.write(b'"}\n')
    before = store.counts()
    with (
        bounded(seconds=60, rss_bytes=64 * MIB, label=f"import: one 256 MiB line [{_backend(store)}]"),
        pytest.raises(InputError, match=r":2: line is longer than 8 MiB"),
    ):
        register.import_file(store, path, reject_file=tmp_path / "rejects.jsonl")
    assert store.counts() == before
    assert not (tmp_path / "rejects.jsonl").exists()
    assert MAX_LINE_BYTES == 8 * MIB


def test_many_large_bad_lines_with_a_reject_file_stay_within_memory(store: Store, tmp_path: Path) -> None:
    """400 MiB of bad 4 MiB lines: rejects stream to disk, chunks are bounded by size."""
    path = tmp_path / "big.jsonl"
    line = b'{"record":"person","id":"pe_big","primary_name":"' + b"x" * (4 * MIB) + b'"}\n'
    with path.open("wb") as out:
        for _ in range(100):
            out.write(line)
    rejects = tmp_path / "rejects.jsonl"
    with bounded(
        seconds=120,
        rss_bytes=160 * MIB,
        label=f"import: 100 bad 4 MiB lines, reject file [{_backend(store)}]",
    ):
        report = register.import_file(store, path, reject_file=rejects)
    assert report.rejected == 100 and report.inserted_total == 0
    assert rejects.stat().st_size == path.stat().st_size
