"""Reading a token into neutral phoneme strings ("phon").

A Cyrillic token has one reading. A Latin token is read under every romanisation
family in `data/latin_readings.yaml` (English/BGN/ICAO, Belarusian passport,
German, Polish/Łacinka, French, ISO 9/scholarly) and keeps each distinct result:
"Michail" is Михаил only when read as German, "Chevtchenko" is Шевченко only when
read as French. Mixed-script tokens are read run by run. A Czech feminine surname
(Petrovová, Kovalčuková) is also read without the Czech -ová.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache, lru_cache

from svidok.names._data import load_tsv, load_yaml

__all__ = ["SYSTEMS", "cyrillic_phon", "latin_phon", "readings"]

# (pattern, replacement, a literal the text must contain for the pattern to match, or "")
_Rule = tuple[re.Pattern[str], str, str]

_LOOKAROUND = re.compile(r"\(\?<?[=!][^()]*\)|\$$")


def _needed(pattern: str) -> str:
    """A literal without which `pattern` cannot match ("" when there is none simple to find).

    Most rules are literals ("shch", "zh") or a literal between lookarounds; testing
    `literal in text` first skips most of the regex calls (each Latin token is read
    under six systems of some forty rules each).
    """
    core = _LOOKAROUND.sub("", pattern)
    if core and re.escape(core) == core:
        return core
    return ""


@cache
def _cyrillic_table() -> dict[str, str]:
    return {row[0]: row[1] for row in load_tsv("cyrillic.tsv")}


def _compile(rules: list[list[str]]) -> list[_Rule]:
    return [(re.compile(pattern), repl, _needed(pattern)) for pattern, repl in rules]


@cache
def _systems() -> dict[str, list[_Rule]]:
    data = load_yaml("latin_readings.yaml")
    common = _compile(data["common"])
    iotation = _compile(data["iotation"])
    bel_u = _compile(data["belarusian_u"])
    systems: dict[str, list[_Rule]] = {}
    for name, spec in data["systems"].items():
        rules = bel_u if spec.get("belarusian_u") else []
        rules = rules + _compile(spec["rules"])
        if spec.get("iotation"):
            rules = rules + iotation
        systems[name] = rules + common
    return systems


SYSTEMS: tuple[str, ...] = ("english", "belarusian", "german", "polish", "french", "scholarly")

_KEEP = frozenset("abcdefghijklmnopqrstuvwxyzSCZX'")


def _finish(text: str) -> str:
    """Drop combining marks and anything outside the phoneme alphabet."""
    if not text.isascii():
        text = "".join(ch for ch in unicodedata.normalize("NFD", text) if not unicodedata.combining(ch))
    return "".join(ch for ch in text if ch in _KEEP)


def cyrillic_phon(token: str) -> str:
    """The phoneme string of a lower-case Cyrillic token."""
    table = _cyrillic_table()
    return _finish("".join(table.get(ch, ch) for ch in token))


def latin_phon(token: str, system: str) -> str:
    """The phoneme string of a lower-case Latin token read under one system."""
    text = token
    for pattern, repl, needed in _systems()[system]:
        if needed and needed not in text:
            continue
        text = pattern.sub(repl, text)
    return _finish(text)


def _is_cyrillic(ch: str) -> bool:
    return "\u0400" <= ch <= "\u052f"


@lru_cache(maxsize=200_000)
def readings(token: str) -> tuple[str, ...]:
    """Distinct phoneme readings of a lower-case token (hyphens and dots removed)."""
    token = token.replace("-", "").replace(".", "").replace(",", "")
    if not token:
        return ()
    runs: list[tuple[bool, str]] = []
    for ch in token:
        cyr = _is_cyrillic(ch) or ch == "'" and bool(runs) and runs[-1][0]
        if runs and runs[-1][0] == cyr:
            runs[-1] = (cyr, runs[-1][1] + ch)
        else:
            runs.append((cyr, ch))
    if len(runs) == 1 and runs[0][0]:
        phon = cyrillic_phon(token)
        return (phon,) if phon else ()
    out: list[str] = []
    for system in SYSTEMS:
        phon = "".join(cyrillic_phon(text) if cyr else latin_phon(text, system) for cyr, text in runs)
        if phon and phon not in out:
            out.append(phon)
    base = _czech_feminine_base(token)
    if base:
        out += [phon for phon in readings(base) if phon not in out]
    return tuple(out)


_CZECH_STEMS = ("ov", "ev", "ěv", "in", "yn")


def _czech_feminine_base(token: str) -> str:
    """The foreign surname inside a Czech feminine form, or "".

    Czech adds -ová to a woman's foreign surname: Petrova is Petrovová, Kovalčuk is
    Kovalčuková, Nikolajeva is Nikolajevová. The accent makes it unambiguous; without it
    only the doubled -ovová/-evová/-inová shape is taken.
    """
    if len(token) < 6:
        return ""
    if token.endswith("ová"):
        stem = token[:-3]
    elif token.endswith(("ovova", "evova", "inova", "ynova")):
        stem = token[:-3]
    else:
        return ""
    return stem + "a" if stem.endswith(_CZECH_STEMS) else stem
