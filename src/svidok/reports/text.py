"""Words to index terms: tokens, per-language stems, cross-script name keys.

The same functions make the terms of a document and of a query, so both sides
always agree, on SQLite (FTS5) and PostgreSQL (tsvector) alike.

- Stems: Snowball (PyStemmer) for ru, en, pl; a light suffix stripper for uk
  and be, which have no Snowball stemmer. A document is stemmed in its own
  language; a query word in every language of its script (it may be a Russian
  or a Belarusian word), and any of those stems may match.
- Name keys: `svidok.names.search_keys` gives script-independent keys of a word
  ("Tsikhanouskaya" and "Тихановская" share one). Documents carry the keys of
  their capitalised words (names of people, places, units), hashed into short
  ASCII tokens in a column of their own so phrases over stems stay contiguous.
- Blind terms (PostgreSQL only): `BlindTerms` turns each stem and name-key token
  into a keyed token under a key of the register's keyring, on both sides, so
  the database holds no word of any testimony or name (docs/security.md).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from functools import lru_cache

import Stemmer

from svidok.crypto.fields import FieldCipher
from svidok.names import search_keys

__all__ = [
    "LANGS",
    "BlindTerms",
    "doc_terms",
    "highlight_terms",
    "is_cyrillic",
    "key_tokens",
    "matches_keys",
    "matches_query",
    "matches_stems",
    "query_alternatives",
    "stem",
    "tokens",
    "word_spans",
]

LANGS = ("be", "ru", "uk", "pl", "en")
SNOWBALL = {"ru": "russian", "en": "english", "pl": "polish"}
CYRILLIC_LANGS = ("ru", "uk", "be")
LATIN_LANGS = ("en", "pl")
_WORD = re.compile(r"[^\W_]+(?:['’ʼ][^\W_]+)*", re.UNICODE)
_CYR = re.compile(r"[\u0400-\u04ff]")
_MIN_STEM = 3

# Light stemmers for Ukrainian and Belarusian: longest ending first, stem kept ≥ 3 letters.
_ENDINGS = {
    "uk": sorted(
        (
            "ями ами ові еві ів ях ах ом ем ою ею ій ий ої ого ому ими іми их іх ую юю ая яя "
            "ення ання ість ості ати ити ено ана ені ено ла ли ло ти ть ся сь у ю а я о е і и ї є"
        ).split(),
        key=len,
        reverse=True,
    ),
    "be": sorted(
        (
            "ямі амі аў яў ах ях ам ям ой ай ей ым ім ых іх ага яга аму яму ую юю ая яя ое ае "
            "ення анне енне асць ці лі ла ло ць ся у ю а я о е і ы э"
        ).split(),
        key=len,
        reverse=True,
    ),
}
_stemmers: dict[str, Stemmer.Stemmer] = {}


def fold(word: str) -> str:
    """Lower case; ё→е, apostrophes dropped (м'ясо, мʼясо and мясо meet)."""
    return word.lower().replace("ё", "е").replace("'", "").replace("’", "").replace("ʼ", "")


def tokens(text: str) -> list[str]:
    """Words of a text, in order, as written."""
    return _WORD.findall(text)


def _light(word: str, lang: str) -> str:
    for ending in _ENDINGS[lang]:
        if word.endswith(ending) and len(word) - len(ending) >= _MIN_STEM:
            return word[: -len(ending)]
    return word


@lru_cache(maxsize=400_000)
def stem(word: str, lang: str) -> str:
    """The stem of a folded word in a language (the word itself for unknown languages)."""
    if lang in SNOWBALL:
        stemmer = _stemmers.get(lang)
        if stemmer is None:
            stemmer = _stemmers[lang] = Stemmer.Stemmer(SNOWBALL[lang])
        return str(stemmer.stemWord(word))
    if lang in _ENDINGS:
        return _light(word, lang)
    return word


def doc_lang(lang: str | None, word: str) -> str:
    """The language a document word is stemmed in: the document's, else a guess by script."""
    if lang in SNOWBALL or lang in _ENDINGS:
        return str(lang)
    return "ru" if _CYR.search(word) else "en"


def query_langs(word: str) -> tuple[str, ...]:
    return CYRILLIC_LANGS if _CYR.search(word) else LATIN_LANGS


@lru_cache(maxsize=200_000)
def key_tokens(word: str) -> tuple[str, ...]:
    """Short ASCII tokens of a word's cross-script name keys."""
    return tuple("k" + hashlib.blake2b(key.encode(), digest_size=6).hexdigest() for key in search_keys(word))


def doc_terms(texts: Iterable[str | None], lang: str | None) -> tuple[str, str]:
    """(stems in reading order, name-key tokens) of a document's texts."""
    stems: list[str] = []
    keys: dict[str, None] = {}
    for text in texts:
        if not text:
            continue
        for word in tokens(text):
            folded = fold(word)
            stems.append(stem(folded, doc_lang(lang, folded)))
            if word[0].isupper() and len(word) > 2:
                keys.update(dict.fromkeys(key_tokens(word)))
        stems.append("")  # a field boundary: no phrase runs across two fields
    return " ".join(s for s in stems if s), " ".join(keys)


def query_alternatives(word: str) -> tuple[list[str], list[str]]:
    """(stems in every language of the word's script, name-key tokens) of one query word."""
    folded = fold(word)
    stems = sorted({stem(folded, lang) for lang in query_langs(folded)} | {folded})
    return stems, list(key_tokens(word)) if len(word) > 2 else []


def is_cyrillic(word: str) -> bool:
    return _CYR.search(word) is not None


def matches_stems(word: str, stems: set[str]) -> bool:
    """True when `word` has one of the query's stems (in any language of its script)."""
    folded = fold(word)
    return folded in stems or any(stem(folded, lang) in stems for lang in (*query_langs(folded), "x"))


def matches_keys(word: str, keys: set[str]) -> bool:
    """True when `word` is capitalised and shares a name key with the query.

    Costs a parse by the name engine (about a millisecond for a word not seen before)."""
    return bool(keys) and len(word) > 2 and word[0].isupper() and bool(keys.intersection(key_tokens(word)))


def matches_query(word: str, stems: set[str], keys: set[str]) -> bool:
    """True when a query with these stems and name keys matched `word` (for highlighting)."""
    return matches_stems(word, stems) or matches_keys(word, keys)


def word_spans(text: str) -> Iterable[tuple[str, int, int]]:
    """(word, start, end) of every word of `text`, in order."""
    for match in _WORD.finditer(text):
        yield match.group(0), match.start(), match.end()


def highlight_terms(text: str, stems: set[str], keys: set[str]) -> list[tuple[int, int]]:
    """Character spans of the words of `text` that a query matched (for highlighting)."""
    return [(a, b) for word, a, b in word_spans(text) if matches_query(word, stems, keys)]


_BASE32 = "abcdefghijklmnopqrstuvwxyz234567"
BLIND_BITS = 60
"""Bits of a blind term: 2^-60 makes two different words' tokens equal by chance never in
practice (a false match), and truncation could not hide frequencies anyway (see
docs/security.md: what blind terms leak)."""
_CACHE = 500_000


class BlindTerms:
    """Keyed tokens for index words (PostgreSQL): `term(stem)`, `name(key_token)`.

    A token is the keyed BLAKE2b blind index of the word (`FieldCipher.blind`, a key per
    column derived from the keyring's `blind-index` key), 60 bits written as "w" and 12
    base-32 letters: PostgreSQL's text-search parser keeps such a word whole (a token that
    starts with a digit may be split at an "e", as a number). Stems and name keys use
    different keys, so a stem never meets a name key by accident.
    """

    def __init__(self, cipher: FieldCipher) -> None:
        self._cipher = cipher
        self._memo: dict[tuple[str, str], str] = {}

    def _token(self, column: str, word: str) -> str:
        found = self._memo.get((column, word))
        if found is None:
            if len(self._memo) >= _CACHE:
                self._memo.clear()
            number = int(self._cipher.blind("search_doc", column, word, bits=BLIND_BITS), 16)
            found = "w" + "".join(_BASE32[(number >> shift) & 31] for shift in range(55, -1, -5))
            self._memo[(column, word)] = found
        return found

    def term(self, stem_: str) -> str:
        return self._token("terms", stem_)

    def name(self, key_token: str) -> str:
        return self._token("names", key_token)

    def terms(self, text: str) -> str:
        """A document's `terms` (space-separated stems in order) as blind tokens, same order."""
        return " ".join(self.term(w) for w in text.split())

    def names(self, text: str) -> str:
        return " ".join(self.name(w) for w in text.split())
