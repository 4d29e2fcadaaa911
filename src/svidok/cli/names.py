"""`svidok names ...`: compare and score personal names across scripts and languages."""

from __future__ import annotations

import gc
import json
import os
import tempfile
from pathlib import Path
from typing import Annotated, Any, TextIO

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from svidok.errors import ImportFailed, InputError, RecordProblem
from svidok.names import ENGINE_VERSION, THRESHOLD, compare, score_pairs

app = typer.Typer(help="Compare personal names across scripts and languages.", no_args_is_help=True)

_BATCH = 100_000


def _fail(exc: InputError) -> typer.Exit:
    Console(stderr=True, soft_wrap=True).print(
        f"[red]error:[/red] {escape(str(exc))}", markup=True, highlight=False
    )
    return typer.Exit(exc.exit_code)


@app.command("compare")
def compare_cmd(
    a: Annotated[str, typer.Argument(help="First name, in any script or order.")],
    b: Annotated[str, typer.Argument(help="Second name.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Compare two names: score, decision and the reasons."""
    for label, value in (("A", a), ("B", b)):
        if not value.strip():
            raise _fail(InputError(f"name {label} is empty"))
    result = compare(a, b)
    if as_json:
        payload = {
            "score": result.score,
            "same": result.same,
            "explanation": result.explanation,
            "version": ENGINE_VERSION,
        }
        typer.echo(json.dumps(payload, ensure_ascii=False))
        return
    console = Console()
    verdict = "[green]same person[/green]" if result.same else "[red]different persons[/red]"
    table = Table(title=f"score {result.score:.2f} (threshold {THRESHOLD:.2f}): {verdict}")
    table.add_column("reason")
    for line in result.explanation:
        table.add_row(line)
    console.print(table)


def _check(line: str, number: int, source: str) -> tuple[dict[str, Any] | None, RecordProblem | None]:
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as exc:
        return None, RecordProblem(source, number, None, f"invalid JSON ({exc.msg})")
    if not isinstance(obj, dict):
        return None, RecordProblem(source, number, None, "not a JSON object")
    for key in ("a", "b"):
        if key not in obj:
            return None, RecordProblem(source, number, key, "missing")
        if not isinstance(obj[key], str):
            return None, RecordProblem(source, number, key, "not a string")
    return obj, None


def _output_line(line: str, obj: dict[str, Any], score: float, same: bool) -> str:
    """The input line with score and same added, all original keys kept in order."""
    text = line.rstrip()
    if "score" in obj or "same" in obj or not text.endswith("}") or not obj:
        obj = {**obj, "score": score, "same": same}
        return json.dumps(obj, ensure_ascii=False)
    return f'{text[:-1]}, "score": {score!r}, "same": {"true" if same else "false"}}}'


@app.command("score")
def score_cmd(
    input_path: Annotated[Path, typer.Option("--input", help='JSONL file of {"a": ..., "b": ...}.')],
    output_path: Annotated[Path, typer.Option("--output", help="Where to write the scored lines.")],
    reject_file: Annotated[
        Path | None,
        typer.Option(
            "--reject-file",
            help="Write bad lines here (with line number and reason) instead of refusing the whole file.",
        ),
    ] = None,
) -> None:
    """Score every pair of a JSONL file; lines keep their order and their keys."""
    try:
        _score_file(input_path, output_path, reject_file)
    except InputError as exc:
        raise _fail(exc) from None


def _score_file(input_path: Path, output_path: Path, reject_file: Path | None) -> None:
    """Stream the input in chunks into a temporary file renamed at the end.

    On a bad line without --reject-file the rest is still checked so that every bad
    line is reported, the temporary file is removed and nothing is written.
    """
    enabled = gc.isenabled()
    gc.disable()  # a million small dicts and no cycles: the collector only costs time
    try:
        _stream(input_path, output_path, reject_file)
    finally:
        if enabled:
            gc.enable()


def _stream(input_path: Path, output_path: Path, reject_file: Path | None) -> None:
    source = str(input_path)
    try:
        handle = input_path.open(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"{source}: cannot read ({exc.strerror})") from None
    problems: list[RecordProblem] = []
    rejected: list[str] = []
    fd, tmp_name = tempfile.mkstemp(prefix=".names-score-", suffix=".jsonl", dir=output_path.resolve().parent)
    try:
        with handle, os.fdopen(fd, "w", encoding="utf-8") as out:
            chunk: list[tuple[str, dict[str, Any]]] = []
            try:
                for number, line in enumerate(handle, start=1):
                    if not line.strip():
                        continue
                    obj, problem = _check(line, number, source)
                    if problem is not None:
                        problems.append(problem)
                        rejected.append(_reject_line(number, problem, line))
                    elif obj is not None and (reject_file is not None or not problems):
                        chunk.append((line, obj))
                        if len(chunk) >= _BATCH:
                            _write_chunk(out, chunk)
                            chunk = []
            except UnicodeDecodeError:
                raise InputError(f"{source}: not UTF-8 text") from None
            if problems and reject_file is None:
                raise ImportFailed(problems)
            _write_chunk(out, chunk)
        if reject_file is not None:
            reject_file.write_text("".join(r + "\n" for r in rejected), encoding="utf-8")
        os.replace(tmp_name, output_path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise


def _reject_line(number: int, problem: RecordProblem, line: str) -> str:
    record = {"line": number, "reason": str(problem), "text": line.rstrip("\n")}
    return json.dumps(record, ensure_ascii=False)


def _write_chunk(out: TextIO, chunk: list[tuple[str, dict[str, Any]]]) -> None:
    if not chunk:
        return
    results = score_pairs((obj["a"], obj["b"]) for _, obj in chunk)
    out.write(
        "\n".join(
            _output_line(line, obj, score, same)
            for (line, obj), (score, same) in zip(chunk, results, strict=True)
        )
    )
    out.write("\n")
