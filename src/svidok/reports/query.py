"""A search string to a full-text query, the same meaning on FTS5 and PostgreSQL tsquery.

Syntax: words (all must match, in any form: any word form of be/ru/uk/pl/en
through stemming, any script through name keys), "quoted phrases" (the words
next to each other, in order), and -word to exclude.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from svidok.errors import InputError
from svidok.reports.text import BlindTerms, fold, query_alternatives, query_langs, stem, tokens

__all__ = ["Parsed", "parse", "to_fts5", "to_tsquery"]

_PART = re.compile(r'(-?)"([^"]*)"|(-?)(\S+)')
MAX_WORDS = 16


@dataclass
class Parsed:
    words: list[tuple[list[str], list[str]]] = field(default_factory=list)  # (stems, key tokens)
    phrases: list[list[list[str]]] = field(default_factory=list)  # alternatives, each a stem sequence
    excluded: list[list[str]] = field(default_factory=list)
    stems: set[str] = field(default_factory=set)  # everything that may be highlighted
    keys: set[str] = field(default_factory=set)

    @property
    def empty(self) -> bool:
        return not (self.words or self.phrases)


def _phrase(words: list[str]) -> list[list[str]]:
    folded = [fold(w) for w in words]
    options = {tuple(stem(w, lang) for w in folded) for lang in query_langs(folded[0])}
    return [list(o) for o in sorted(options)]


def parse(text: str) -> Parsed:
    parsed = Parsed()
    count = 0
    for m in _PART.finditer(text):
        negative = bool(m.group(1) or m.group(3))
        words = tokens(m.group(2) if m.group(2) is not None else m.group(4))
        if not words:
            continue
        count += len(words)
        if count > MAX_WORDS:
            raise InputError(f"a search may have at most {MAX_WORDS} words")
        if negative:
            parsed.excluded.extend(query_alternatives(w)[0] for w in words)
            continue
        if m.group(2) is not None and len(words) > 1:
            options = _phrase(words)
            parsed.phrases.append(options)
            parsed.stems |= {s for o in options for s in o}
            continue
        for word in words:
            stems, keys = query_alternatives(word)
            parsed.words.append((stems, keys))
            parsed.stems |= set(stems)
            parsed.keys |= set(keys)
    return parsed


def _q(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


def to_fts5(p: Parsed, *, prefix: bool = False) -> str:
    """An FTS5 MATCH expression over the columns `terms` and `names`."""
    star = "*" if prefix else ""
    parts = []
    for stems, keys in p.words:
        alts = [f"terms:{_q(s)}{star}" for s in stems] + [f"names:{_q(k)}" for k in keys]
        parts.append("(" + " OR ".join(alts) + ")")
    for options in p.phrases:
        parts.append("(" + " OR ".join("terms:" + _q(" ".join(o)) for o in options) + ")")
    expr = " AND ".join(parts)
    for stems in p.excluded:
        expr += " NOT (" + " OR ".join(f"terms:{_q(s)}" for s in stems) + ")"
    return expr


def _t(term: str) -> str:
    return "'" + term.replace("'", "''").replace("\\", "") + "'"


def to_tsquery(p: Parsed, blind: BlindTerms | None = None) -> str:
    """A PostgreSQL tsquery (configuration 'simple') over `terms || ' ' || names`.

    With `blind` (a register opened with its keyring), every stem and name key becomes the
    keyed token the index holds for it, so the query never carries a word in plaintext."""

    def term(s: str) -> str:
        return _t(blind.term(s) if blind else s)

    def key(k: str) -> str:
        return _t(blind.name(k) if blind else k)

    parts = []
    for stems, keys in p.words:
        parts.append("(" + " | ".join([*(term(s) for s in stems), *(key(k) for k in keys)]) + ")")
    for options in p.phrases:
        parts.append("(" + " | ".join("(" + " <-> ".join(term(s) for s in o) + ")" for o in options) + ")")
    for stems in p.excluded:
        parts.append("!(" + " | ".join(term(s) for s in stems) + ")")
    return " & ".join(parts)
