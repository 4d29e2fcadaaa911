"""Display text of search hits, with the matched words marked.

The index holds stems, not text: the words shown come from the records
themselves, read for the page of hits only, so field masking by role applies
to them exactly as to any other read (`ServiceContext.mask`).
"""

from __future__ import annotations

from sqlalchemy import Connection, select

from svidok.reports.text import is_cyrillic, matches_keys, matches_query, matches_stems, word_spans
from svidok.services.context import ServiceContext
from svidok.store.register import table_of

__all__ = ["WINDOW", "display_texts", "snippet"]

WINDOW = 180
_FIELDS = {
    "source": ("title", "text"),
    "incident": ("title", "place_text", "summary"),
    "person": ("pseudonym", "primary_name"),
    "unit": ("name", "abbreviation"),
    "place": ("name",),
}


def display_texts(conn: Connection, ctx: ServiceContext, kind: str, ids: list[str]) -> dict[str, list[str]]:
    """Per record id, the texts to show for it (masked as the actor's role requires)."""
    if not ids:
        return {}
    table = table_of(kind)
    fields = _FIELDS[kind]
    out: dict[str, list[str]] = {}
    rows = [dict(r) for r in conn.execute(select(table).where(table.c.id.in_(ids))).mappings()]
    for shown in ctx.mask(conn, kind, rows):
        out[str(shown["id"])] = [str(shown[f]) for f in fields if shown.get(f)]
    return out


def snippet(texts: list[str], stems: set[str], keys: set[str]) -> tuple[str, list[tuple[int, int]]]:
    """A window of the texts around a matched word; spans of the matched words in it.

    The window starts near the first word with a query stem, or, when no word has one (a
    Latin query over Cyrillic text), near the first that shares a name key; name keys are
    tested inside the window only otherwise: a testimony can hold hundreds of words, and
    each capitalised one costs a parse by the name engine."""
    whole = " — ".join(texts)
    words = list(word_spans(whole))
    # A stem is in one script: a Latin query's stems are not looked for in Cyrillic words.
    scripts = {is_cyrillic(s) for s in stems}
    first = next(
        ((a, b) for word, a, b in words if is_cyrillic(word) in scripts and matches_stems(word, stems)), None
    )
    if first is None:
        first = next(((a, b) for word, a, b in words if matches_keys(word, keys)), None)
    start = 0
    if first and first[0] > WINDOW // 3:
        start = whole.rfind(" ", 0, first[0] - WINDOW // 3) + 1
    end = min(len(whole), start + WINDOW)
    if end < len(whole):
        cut = whole.rfind(" ", start, end)
        end = cut if cut > start else end
    spans = [(a, b) for word, a, b in words if a >= start and b <= end and matches_query(word, stems, keys)]
    text = ("…" if start else "") + whole[start:end] + ("…" if end < len(whole) else "")
    shift = start - (1 if start else 0)
    return text, [(a - shift, b - shift) for a, b in spans]


def marked(text: str, marks: list[tuple[int, int]], before: str = "[", after: str = "]") -> str:
    """The text with each marked span wrapped (for terminals and plain output)."""
    out, last = [], 0
    for a, b in marks:
        out += [text[last:a], before, text[a:b], after]
        last = b
    out.append(text[last:])
    return "".join(out)
