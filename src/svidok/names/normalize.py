"""Cleaning raw name text before parsing: Unicode, case, apostrophes, scripts.

`clean` is total: any string gives a (possibly empty) cleaned string in time linear
in a bounded prefix of the input. Only letters, apostrophes, hyphens, dots and
commas survive (combining marks that do not compose with their letter are dropped);
digits, emoji, symbols, control characters and bidi overrides become separators or
vanish. Mixed-script tokens caused by
look-alike letters (a Latin "o" inside a Cyrillic word) are repaired.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = [
    "MAX_INPUT_CHARS",
    "MAX_TOKENS",
    "clean",
    "fix_homoglyphs",
    "script_of",
]

#: Only this many characters of raw input are looked at; names are far shorter.
MAX_INPUT_CHARS = 256
#: Only this many tokens of a cleaned name are used.
MAX_TOKENS = 8

_APOSTROPHES = "'’ʼ`´ʹ‘′ꞌʻ＇"
_DASHES = "‐‑‒–—―−﹣－"
# Invisible format characters: bidi embeddings and overrides, zero-width joiners,
# soft hyphen, byte-order mark. They vanish (a zero-width space inside a word
# must not split it).
_INVISIBLE = (
    "\u00ad\u061c\u180e\u200b\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d"
    "\u202e\u2060\u2061\u2062\u2063\u2064\u2066\u2067\u2068\u2069\ufeff"
)
# Combining marks that NFKC could not fold into a letter: stress marks of dictionaries and
# Russian Wikipedia (Алекса́ндр), ISO 9's Ukrainian g̀. They vanish; left in, they would
# split the word (they are not word characters).
_COMBINING = "".join(chr(c) for c in range(0x300, 0x370))
_TABLE = str.maketrans(
    {
        **dict.fromkeys(_APOSTROPHES, "'"),
        **dict.fromkeys(_DASHES, "-"),
        **dict.fromkeys(_INVISIBLE + _COMBINING, None),
    }
)
# Anything that is not a letter, apostrophe, hyphen, dot or comma separates words.
_NOT_NAME = re.compile(r"[^\w'\-.,]|[\d_]")

# Look-alike letters between the Latin and Cyrillic alphabets (lower case).
_LAT_TO_CYR = dict(zip("aeopcxyikmthbs", "аеорсхуікмтнвѕ", strict=True))
_CYR_TO_LAT = {
    "а": "a",
    "е": "e",
    "о": "o",
    "р": "p",
    "с": "c",
    "х": "x",
    "у": "y",
    "і": "i",
    "к": "k",
    "м": "m",
    "т": "t",
    "н": "h",
    "в": "b",
    "ѕ": "s",
}


def clean(raw: str) -> str:
    """Cleaned text: NFKC letters with original case, separators normalised."""
    text = unicodedata.normalize("NFKC", raw[: MAX_INPUT_CHARS * 4]).translate(_TABLE)
    text = _NOT_NAME.sub(" ", text)
    if "." in text:
        text = text.replace(".", ". ")
    if "," in text:
        text = text.replace(",", ", ")
    words: list[str] = []
    for word in text.split():
        word = word.strip("'-")
        if word.strip(".,'-"):
            words.append(word)
        elif word.startswith(",") and words:
            words[-1] += ","
    return " ".join(words)[:MAX_INPUT_CHARS]


def script_of(token: str) -> str:
    """'cyrl', 'latn', 'mixed' or 'none' for the letters of one token."""
    cyr = lat = 0
    for ch in token:
        if not ch.isalpha():
            continue
        if "\u0400" <= ch <= "\u052f":
            cyr += 1
        elif ch < "\u0250" or "\u1e00" <= ch <= "\u1eff":
            lat += 1
    if cyr and lat:
        return "mixed"
    if cyr:
        return "cyrl"
    if lat:
        return "latn"
    return "none"


def fix_homoglyphs(token: str) -> str:
    """Move look-alike letters of a mixed-script token into its majority script."""
    low = token.lower()
    cyr = sum(1 for ch in low if "\u0400" <= ch <= "\u052f")
    lat = sum(1 for ch in low if ch.isascii() and ch.isalpha())
    if not cyr or not lat:
        return low
    table = _LAT_TO_CYR if cyr >= lat else _CYR_TO_LAT
    return "".join(table.get(ch, ch) for ch in low)
