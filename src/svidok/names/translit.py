"""Writing names out in a romanisation system, and back.

`to_latin(text, system)` romanises Belarusian, Russian or Ukrainian Cyrillic by one
of the systems in `data/translit_systems.yaml` (ISO 9, ICAO, BGN/PCGN, the
Ukrainian and Belarusian national systems, Łacinka, Polish, German, French).
`to_cyrillic(text, system)` reads a romanised text back by greedy longest match
over the same table; it is exact for ISO 9 and a best guess for the others. The
matching engine does not rely on either: it reads Latin names under every system
at once (see `readings`).
"""

from __future__ import annotations

from functools import cache

from svidok.names._data import load_yaml

__all__ = ["SYSTEMS", "to_cyrillic", "to_latin"]

_VOWELS = frozenset("аеёиоуыэюяіїєАЕЁИОУЫЭЮЯІЇЄ'ьъЬЪ")
_SOFTENING = frozenset("еёюяіиєїь")


@cache
def _table(system: str) -> tuple[dict[str, str], dict[str, tuple[str, str]]]:
    data = load_yaml("translit_systems.yaml")
    if system not in data:
        raise ValueError(f"unknown transliteration system {system!r}; known: {', '.join(data)}")
    spec = data[system]
    letters = {k: str(v) for k, v in spec["letters"].items()}
    iotated = {k: (str(v[0]), str(v[1])) for k, v in spec.get("iotated", {}).items()}
    return letters, iotated


SYSTEMS: tuple[str, ...] = (
    "iso9",
    "icao",
    "bgn_ru",
    "national_uk",
    "national_be",
    "lacinka",
    "polish",
    "german",
    "french",
)


def _case(out: str, src: str, next_src: str) -> str:
    if not src.isupper() or not out:
        return out
    if next_src.isupper() or len(out) == 1:
        return out.upper()
    return out[0].upper() + out[1:]


def to_latin(text: str, system: str = "iso9") -> str:
    """Romanise the Cyrillic letters of `text` by `system`; other characters stay."""
    letters, iotated = _table(system)
    out: list[str] = []
    for i, ch in enumerate(text):
        low = ch.lower()
        prev = text[i - 1] if i else " "
        nxt = text[i + 1] if i + 1 < len(text) else ""
        if low in iotated:
            start = not prev.isalpha() or prev in _VOWELS
            rep = iotated[low][0 if start else 1]
        elif low == "л" and letters[low] == "ł" and nxt.lower() in _SOFTENING:
            rep = "l"  # Łacinka and Polish: soft л is l, hard л is ł
        elif low in letters:
            rep = letters[low]
        else:
            out.append(ch)
            continue
        out.append(_case(rep, ch, nxt))
    return "".join(out)


@cache
def _reverse(system: str) -> tuple[dict[str, str], int]:
    letters, iotated = _table(system)
    rev: dict[str, str] = {}
    for cyr, lat in letters.items():
        if lat and lat not in rev:
            rev[lat] = cyr
    for cyr, (start, after) in iotated.items():
        for lat in (start, after):
            if lat and lat not in rev:
                rev[lat] = cyr
    longest = max(len(k) for k in rev)
    return rev, longest


def to_cyrillic(text: str, system: str = "iso9") -> str:
    """Read a romanised text back into Cyrillic (greedy longest match)."""
    rev, longest = _reverse(system)
    out: list[str] = []
    i = 0
    low = text.lower()
    while i < len(text):
        for size in range(min(longest, len(text) - i), 0, -1):
            chunk = low[i : i + size]
            if chunk in rev:
                cyr = rev[chunk]
                out.append(cyr.upper() if text[i].isupper() else cyr)
                i += size
                break
        else:
            out.append(text[i])
            i += 1
    return "".join(out)
