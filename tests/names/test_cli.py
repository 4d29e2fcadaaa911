"""`svidok names compare` and `svidok names score` through Typer's runner."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from svidok.cli.app import app
from svidok.names import THRESHOLD, compare

runner = CliRunner()


def test_compare_json() -> None:
    result = runner.invoke(app, ["names", "compare", "Аляксандр Кавалёў", "Kovalev A.S.", "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert set(payload) >= {"score", "same", "explanation"}
    assert payload["same"] is True and 0.0 <= payload["score"] <= 1.0
    assert any("surname" in line for line in payload["explanation"])


def test_compare_rich_output() -> None:
    result = runner.invoke(app, ["names", "compare", "Иван Петров", "Пётр Петров"])
    assert result.exit_code == 0, result.output
    assert "different persons" in result.stdout
    assert "given names differ" in result.stdout


def test_compare_empty_name_is_an_error() -> None:
    result = runner.invoke(app, ["names", "compare", "   ", "Иван Петров", "--json"])
    assert result.exit_code == 2
    assert "name A is empty" in result.output


def _write(path: Path, lines: list[str]) -> Path:
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def test_score_round_trip_keeps_order_and_keys(tmp_path: Path) -> None:
    rows = [
        {"id": 3, "a": "Sviatlana Tsikhanouskaya", "b": "Светлана Тихановская", "note": "x"},
        {"a": "Aleksandr Kovalev", "b": "Aleksandra Kovaleva", "id": 1},
        {"b": "Саша Ковалёв", "a": "Kowaljow", "extra": {"nested": [1, 2]}},
        {"a": "Іван Петров", "b": "Ivan Petrov", "score": "old"},
    ]
    src = _write(tmp_path / "pairs.jsonl", [json.dumps(r, ensure_ascii=False) for r in rows])
    out = tmp_path / "out.jsonl"
    result = runner.invoke(app, ["names", "score", "--input", str(src), "--output", str(out)])
    assert result.exit_code == 0, result.output
    got = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(got) == len(rows)
    for row, line in zip(rows, got, strict=True):
        expected = compare(row["a"], row["b"])
        assert line["score"] == expected.score
        assert line["same"] == expected.same == (expected.score >= THRESHOLD)
        assert [k for k in line if k not in ("score", "same")] == [k for k in row if k != "score"]
        assert {k: v for k, v in line.items() if k not in ("score", "same")} == {
            k: v for k, v in row.items() if k != "score"
        }
    assert [line["same"] for line in got] == [True, False, True, True]


def test_bad_line_refuses_file_and_writes_nothing(tmp_path: Path) -> None:
    src = _write(
        tmp_path / "pairs.jsonl",
        ['{"a": "Иван Петров", "b": "Ivan Petrov"}', "{not json", '{"a": "x"}', '{"a": 1, "b": "y"}'],
    )
    out = tmp_path / "out.jsonl"
    result = runner.invoke(app, ["names", "score", "--input", str(src), "--output", str(out)])
    assert result.exit_code == 2
    assert "pairs.jsonl:2" in result.output and "invalid JSON" in result.output
    assert "pairs.jsonl:3: b: missing" in result.output
    assert "pairs.jsonl:4: a: not a string" in result.output
    assert not out.exists()
    assert list(tmp_path.iterdir()) == [src]  # no temporary file left behind


def test_reject_file_keeps_good_lines(tmp_path: Path) -> None:
    src = _write(
        tmp_path / "pairs.jsonl",
        ['{"a": "Иван Петров", "b": "Ivan Petrov"}', "[1, 2]", '{"a": "Anna", "b": "Hanna"}'],
    )
    out = tmp_path / "out.jsonl"
    rejects = tmp_path / "rejects.jsonl"
    result = runner.invoke(
        app,
        ["names", "score", "--input", str(src), "--output", str(out), "--reject-file", str(rejects)],
    )
    assert result.exit_code == 0, result.output
    assert len(out.read_text(encoding="utf-8").splitlines()) == 2
    rejected = [json.loads(line) for line in rejects.read_text(encoding="utf-8").splitlines()]
    assert rejected[0]["line"] == 2 and "not a JSON object" in rejected[0]["reason"]


def test_missing_input_file(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["names", "score", "--input", str(tmp_path / "nope.jsonl"), "--output", str(tmp_path / "o")]
    )
    assert result.exit_code == 2
    assert "cannot read" in result.output


def test_blocks_share_keys_and_keep_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Tiny read blocks: many blocks, one name cache, lines in input order, CRLF and BOM accepted."""
    import svidok.cli.names as names_cli

    monkeypatch.setattr(names_cli, "_READ_HINT", 1)
    names = ["Іван Петров", "Ivan Petrov", "Петров И.", "Анна Ковалёва", "Kovaleva Hanna", "Ганна"]
    rows = [{"id": i, "a": names[i % 6], "b": names[(i * 5 + 1) % 6]} for i in range(40)]
    text = "\ufeff" + "".join(json.dumps(r, ensure_ascii=False) + "\r\n" for r in rows)
    src = tmp_path / "pairs.jsonl"
    src.write_text(text, encoding="utf-8")
    out = tmp_path / "out.jsonl"
    result = runner.invoke(app, ["names", "score", "--input", str(src), "--output", str(out)])
    assert result.exit_code == 0, result.output
    got = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [g["id"] for g in got] == list(range(40))
    for g in got:
        expected = compare(g["a"], g["b"])
        assert (g["score"], g["same"]) == (expected.score, expected.same)


def test_invalid_utf8_line_is_named(tmp_path: Path) -> None:
    src = tmp_path / "pairs.jsonl"
    src.write_bytes(b'{"a": "Ivan Petrov", "b": "Petrov I."}\n{"a": "\xff\xfe", "b": "x"}\n')
    out = tmp_path / "out.jsonl"
    result = runner.invoke(app, ["names", "score", "--input", str(src), "--output", str(out)])
    assert result.exit_code == 2
    assert "pairs.jsonl:2: invalid JSON" in result.output
    assert not out.exists()


def test_entry_point_runs_names_without_the_root_app(tmp_path: Path) -> None:
    """`svidok names score` as a process: same output as through the root app, errors as exit 2."""
    src = _write(tmp_path / "pairs.jsonl", ['{"a": "Іван Петров", "b": "Ivan Petrov"}'])
    out = tmp_path / "out.jsonl"
    code = "from svidok.cli import main; main()"
    done = subprocess.run(
        [sys.executable, "-c", code, "names", "score", "--input", str(src), "--output", str(out)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    line = json.loads(out.read_text(encoding="utf-8"))
    assert line["same"] is True and line["score"] == compare("Іван Петров", "Ivan Petrov").score
    missing = str(tmp_path / "nope.jsonl")
    done = subprocess.run(
        [sys.executable, "-c", code, "names", "score", "--input", missing, "--output", str(out)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2 and "cannot read" in done.stderr


def test_unwritable_output_is_an_error_not_a_crash(tmp_path: Path) -> None:
    src = _write(tmp_path / "pairs.jsonl", ['{"a": "Ivan Petrov", "b": "Иван Петров"}'])
    out = tmp_path / "missing-dir" / "out.jsonl"
    result = runner.invoke(app, ["names", "score", "--input", str(src), "--output", str(out)])
    assert result.exit_code == 2 and "cannot write there" in result.output
    rejects = tmp_path / "missing-dir" / "rejects.jsonl"
    args = ["--output", str(tmp_path / "o.jsonl"), "--reject-file", str(rejects)]
    result = runner.invoke(app, ["names", "score", "--input", str(src), *args])
    assert result.exit_code == 2 and "cannot write there" in result.output
    assert not (tmp_path / "o.jsonl").exists()


def test_spliced_lines_stay_valid_json(tmp_path: Path) -> None:
    """Every output line parses and equals its input object plus score and same, whatever the
    input's spacing, key order, escapes or nesting (the fields are spliced in as bytes)."""
    lines = [
        '{"a": "Іван Петров", "b": "Ivan Petrov"}   \t',  # trailing blanks
        '{"a":"Ivan Petrov","b":"Петров И."}',  # compact
        '   {"b": "Kovalev A.S.", "x": {"y": [1, {"z": "}"}]}, "a": "Аляксандр Кавалёў"}',  # nested, brace in a string
        '{"a": "\\u0418\\u0432\\u0430\\u043d \\u041f\\u0435\\u0442\\u0440\\u043e\\u0432", "b": "Ivan \\"Vanya\\" Petrov"}',
        '{"a": "Petrov\\\\", "b": "Petrov", "same": "old"}',  # backslash at the end of a string; stale same
        '{"a": "Анна", "b": "Hanna", "n": null, "t": true, "f": 1.5e3, "e": {}, "l": []}',
    ]
    src = _write(tmp_path / "pairs.jsonl", lines)
    out = tmp_path / "out.jsonl"
    result = runner.invoke(app, ["names", "score", "--input", str(src), "--output", str(out)])
    assert result.exit_code == 0, result.output
    got = out.read_text(encoding="utf-8").splitlines()
    assert len(got) == len(lines)
    for raw, line in zip(lines, got, strict=True):
        row = json.loads(raw)
        parsed = json.loads(line)  # valid JSON
        expected = compare(row["a"], row["b"])
        assert (parsed["score"], parsed["same"]) == (expected.score, expected.same)
        assert {k: v for k, v in parsed.items() if k not in ("score", "same")} == {
            k: v for k, v in row.items() if k not in ("score", "same")
        }
        assert [k for k in parsed if k not in ("score", "same")] == [
            k for k in row if k not in ("score", "same")
        ]


def test_plain_lines_batched_across_blocks_keep_their_place(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Plain lines are gathered over several blocks before scoring; a block that needs the
    line-by-line path (a bad line, a stale score) between them keeps every line in place."""
    import svidok.cli.names as names_cli

    monkeypatch.setattr(names_cli, "_READ_HINT", 200)
    monkeypatch.setattr(names_cli, "_SCORE_BATCH", 7)
    names = ["Іван Петров", "Ivan Petrov", "Петров И.", "Анна Ковалёва", "Kovaleva Hanna", "Ганна", ""]
    lines = []
    for i in range(120):
        a, b = names[i % 7], names[(i * 3 + 1) % 7]
        if i % 37 == 5:
            lines.append('{"a": "broken')  # rejected
        elif i % 23 == 7:
            lines.append(json.dumps({"a": a, "b": b, "score": 0, "id": i}, ensure_ascii=False))
        else:
            lines.append(json.dumps({"a": a, "b": b}, ensure_ascii=False))
    src = _write(tmp_path / "pairs.jsonl", lines)
    out, rejects = tmp_path / "out.jsonl", tmp_path / "rejects.jsonl"
    args = ["names", "score", "--input", str(src), "--output", str(out), "--reject-file", str(rejects)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    good = [json.loads(raw) for raw in lines if "broken" not in raw]
    got = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [(g["a"], g["b"], g.get("id")) for g in got] == [(r["a"], r["b"], r.get("id")) for r in good]
    for g in got:
        expected = compare(g["a"], g["b"])
        assert (g["score"], g["same"]) == (expected.score, expected.same)
    assert [json.loads(r)["line"] for r in rejects.read_text(encoding="utf-8").splitlines()] == [
        i + 1 for i in range(120) if i % 37 == 5
    ]
