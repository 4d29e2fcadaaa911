"""`svidok names ...`: compare and score personal names across scripts and languages."""

from __future__ import annotations

import codecs
import gc
import json
import operator
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer

from svidok.errors import ImportFailed, InputError, RecordProblem
from svidok.names import ENGINE_VERSION, THRESHOLD, PairScorer, compare

app = typer.Typer(help="Compare personal names across scripts and languages.", no_args_is_help=True)

_READ_HINT = 1 << 20  # bytes of lines per block: parsed while still in the CPU's cache
_SCORE_BATCH = 100_000  # plain lines scored together: the scorer's work per batch is column-wise
_WRITE_BUFFER = 8 << 20


def _fail(exc: InputError) -> typer.Exit:
    from rich.console import Console  # rich only when there is something to show: batch runs start faster
    from rich.markup import escape

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
    from rich.console import Console
    from rich.table import Table

    console = Console()
    verdict = "[green]same person[/green]" if result.same else "[red]different persons[/red]"
    table = Table(title=f"score {result.score:.2f} (threshold {THRESHOLD:.2f}): {verdict}")
    table.add_column("reason")
    for line in result.explanation:
        table.add_row(line)
    console.print(table)


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
    """Stream the input in blocks into a temporary file renamed at the end.

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


def _check(line: bytes, number: int, source: str) -> RecordProblem:
    """Why a line is not a JSON object with string fields "a" and "b"."""
    try:
        obj = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        return RecordProblem(source, number, None, f"invalid JSON ({exc.msg})")
    if not isinstance(obj, dict):
        return RecordProblem(source, number, None, "not a JSON object")
    for key in ("a", "b"):
        if key not in obj:
            return RecordProblem(source, number, key, "missing")
        if not isinstance(obj[key], str):
            return RecordProblem(source, number, key, "not a string")
    raise AssertionError("_check called on a good line")  # pragma: no cover


def _stream(input_path: Path, output_path: Path, reject_file: Path | None) -> None:
    source = str(input_path)
    try:
        handle = input_path.open("rb")
    except OSError as exc:
        raise InputError(f"{source}: cannot read ({exc.strerror})") from None
    problems: list[RecordProblem] = []
    rejected: list[bytes] = []
    scorer = PairScorer()  # one name cache for the whole file, not one per block
    tails: list[bytes] = []  # the bytes spliced into a line, per result code of the scorer
    try:
        where = output_path.resolve().parent
        fd, tmp_name = tempfile.mkstemp(prefix=".names-score-", suffix=".jsonl", dir=where)
    except OSError as exc:
        handle.close()
        raise InputError(f"{output_path}: cannot write there ({exc.strerror})") from None
    try:
        with handle, os.fdopen(fd, "wb", buffering=_WRITE_BUFFER) as out:
            number = 0
            pending = _Pending()
            while block := handle.readlines(_READ_HINT):
                if number == 0 and block[0].startswith(codecs.BOM_UTF8):
                    block[0] = block[0][len(codecs.BOM_UTF8) :]  # Windows editors start files with one
                fast = _parse_plain_block(block)
                number += len(block)
                if fast is not None:
                    if reject_file is None and problems:
                        continue  # refused anyway: only look for further bad lines
                    pending.add(*fast)
                    if len(pending.heads) >= _SCORE_BATCH:
                        out.write(pending.render(scorer, tails))
                    continue
                out.write(pending.render(scorer, tails))  # lines stay in order
                heads, pairs = _parse_block(block, number - len(block) + 1, source, problems, rejected)
                if reject_file is None and problems:
                    continue
                out.write(_render_block(heads, scorer.score(pairs)))
            out.write(pending.render(scorer, tails))
            if problems and reject_file is None:
                raise ImportFailed(problems)
        if reject_file is not None:
            try:
                reject_file.write_bytes(b"".join(r + b"\n" for r in rejected))
            except OSError as exc:
                raise InputError(f"{reject_file}: cannot write there ({exc.strerror})") from None
        os.replace(tmp_name, output_path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise


def _parse_plain_block(block: list[bytes]) -> tuple[list[bytes], list[str], list[str]] | None:
    """Heads (lines without their closing brace) and the columns a and b when every line
    of the block is a plain good one; None when any line needs the line-by-line path (a
    bad or blank line, a line with a score or same already). Whole-block passes in C
    (`map`) cost far less per line than a Python loop.
    """
    try:
        objs = list(map(orjson.loads, block))
        if set(map(len, objs)) == {2}:  # the usual file: {"a": ..., "b": ...} and nothing else
            a, b = list(map(_get_a, objs)), list(map(_get_b, objs))  # TypeError on a list or string
            if set(map(type, a)) == set(map(type, b)) == {str}:
                return _heads(block), a, b
            return None
    except (orjson.JSONDecodeError, KeyError, TypeError):
        return None  # not JSON, not an object, no "a" or "b", not a string: the line-by-line path
    try:
        pairs = [(obj["a"], obj["b"]) for obj in objs]
    except (KeyError, TypeError):
        return None
    if not all(type(a) is str and type(b) is str for a, b in pairs):
        return None
    if not all(len(obj) == 2 or not ("score" in obj or "same" in obj) for obj in objs):
        return None
    a_column, b_column = (list(column) for column in zip(*pairs, strict=True))
    return _heads(block), a_column, b_column


_get_a = operator.itemgetter("a")
_get_b = operator.itemgetter("b")


class _Pending:
    """Plain lines parsed but not yet scored, gathered from several blocks."""

    def __init__(self) -> None:
        self.heads: list[bytes] = []
        self.a: list[str] = []
        self.b: list[str] = []

    def add(self, heads: list[bytes], a: list[str], b: list[str]) -> None:
        self.heads += heads
        self.a += a
        self.b += b

    def render(self, scorer: PairScorer, tails: list[bytes]) -> bytes:
        """The pending lines scored and rendered (b"" when there are none); then none are."""
        if not self.heads:
            return b""
        codes, results = scorer.score_codes(self.a, self.b)
        data = _render_plain(self.heads, codes, results, tails)
        self.heads, self.a, self.b = [], [], []
        return data


def _heads(block: list[bytes]) -> list[bytes]:
    """Each line stripped, without its closing brace (the lines are JSON objects)."""
    return [raw.strip()[:-1] for raw in block]


def _parse_block(
    block: list[bytes], start: int, source: str, problems: list[RecordProblem], rejected: list[bytes]
) -> tuple[list[bytes | dict[str, Any]], list[tuple[str, str]]]:
    """Line by line: per good line the line without its closing brace, or (rarely) the
    parsed object when it already has a score or same to replace; bad lines are recorded."""
    loads, decode_error = orjson.loads, orjson.JSONDecodeError
    heads: list[bytes | dict[str, Any]] = []
    pairs: list[tuple[str, str]] = []
    for number, raw in enumerate(block, start):
        line = raw.strip()
        if not line:
            continue
        try:
            obj = loads(line)
        except decode_error:
            obj = None
        if type(obj) is dict and type(a := obj.get("a")) is str and type(b := obj.get("b")) is str:
            plain = len(obj) == 2 or not ("score" in obj or "same" in obj)
            heads.append(line[:-1] if plain else obj)
            pairs.append((a, b))
            continue
        problem = _check(line, number, source)
        problems.append(problem)
        rejected.append(_reject_line(number, problem, raw))
    return heads, pairs


def _tail(result: tuple[float, bool]) -> bytes:
    score, same = result
    return b', "score": %r, "same": %s}\n' % (score, b"true" if same else b"false")


def _render_plain(
    heads: list[bytes], codes: list[int], results: Sequence[tuple[float, bool]], tails: list[bytes]
) -> bytes:
    """Heads and tails interleaved by slice assignment (no per-line loop in Python).

    `codes` index the scorer's `results`; `tails` caches the bytes of each result and
    grows with it."""
    tails.extend(_tail(result) for result in results[len(tails) :])
    parts = [b""] * (2 * len(heads))
    parts[0::2] = heads
    parts[1::2] = map(tails.__getitem__, codes)
    return b"".join(parts)


def _reject_line(number: int, problem: RecordProblem, raw: bytes) -> bytes:
    text = raw.rstrip(b"\r\n").decode("utf-8", errors="replace")
    return orjson.dumps({"line": number, "reason": str(problem), "text": text})


def _render_block(heads: list[bytes | dict[str, Any]], results: list[tuple[float, bool]]) -> bytes:
    """Each input line with score and same appended, all original keys kept in order.

    The usual line is copied byte for byte and the two fields spliced in before its
    closing brace; the few lines that already carry a score/same are re-serialised
    with those values replaced.
    """
    tails: dict[tuple[float, bool], bytes] = {}  # scores have 4 decimals: few distinct tails
    parts: list[bytes] = []
    append = parts.append
    for head, result in zip(heads, results, strict=True):
        if type(head) is bytes:
            tail = tails.get(result)
            if tail is None:
                score, same = result
                tail = tails[result] = b', "score": %r, "same": %s}\n' % (
                    score,
                    b"true" if same else b"false",
                )
            append(head)
            append(tail)
        else:
            assert isinstance(head, dict)  # nosec B101 # type narrowing: orjson parsed an object
            append(orjson.dumps({**head, "score": result[0], "same": result[1]}) + b"\n")
    return b"".join(parts)


def run_alone(args: list[str]) -> None:
    """`svidok names ARGS` without loading the root app; errors as the root app shows them."""
    from typer.main import get_command

    from svidok.errors import SvidokError

    try:
        get_command(app).main(args=args, prog_name="svidok names")
    except SvidokError as error:  # the root app's handling, in case one escapes a command
        typer.echo(f"error: {error}", err=True)
        raise SystemExit(error.exit_code) from None
