"""The name engine over hostile text: any Unicode, mixed scripts, control and bidi characters,
strings of tens of thousands of characters. A score is always a finite number in [0, 1], the
engine is symmetric (it compares the best reading of each side against the other's), and it never
raises on text."""

from __future__ import annotations

import math

from hypothesis import given
from hypothesis import strategies as st

from svidok.names import compare, name_keys, score_pairs, search_keys
from tests.hostile.bounds import MIB, bounded
from tests.hostile.conftest import HOSTILE

BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"
INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff\u00ad\u180e"
PIECES = [
    "Иван", "Ковалёв", "Kovalev", "Аляксандр", "Кавалёў", "Tsikhanouskaya", "Тихановская", "Ołeksandr",
    "Сергеевич", "-", "'", "’", ".", ",", " ", "\t", "\n", "\x00", "\x1b[31m", "\x7f", "\u0301", "ё",
    "İ", "ß", "ǅ", "ﬁ", "Ⅻ", "١٢", "𝔄𝔩𝔢𝔨𝔰", "😀", "👨‍👩‍👧", "\ud800", "\udfff", "Ａｌｅｋｓ", "ΑΛΕΞ", "אלכס",
    "阿列克谢", "o", "а", "о", *BIDI, *INVISIBLE,
]  # fmt: skip

# Any code point at all, including unpaired surrogates, controls and unassigned ones.
any_text = st.text(alphabet=st.characters(exclude_categories=()), max_size=80)
name_like = st.lists(st.sampled_from(PIECES), max_size=14).map("".join)
names = st.one_of(any_text, name_like, st.text(max_size=30))


def _check(score: float) -> None:
    assert isinstance(score, float)
    assert math.isfinite(score) and 0.0 <= score <= 1.0


@HOSTILE
@given(a=names, b=names)
def test_compare_is_a_bounded_symmetric_score(a: str, b: str) -> None:
    ab, ba = compare(a, b), compare(b, a)
    _check(ab.score)
    assert ab.same == (ab.score >= 0.75)
    assert ab.score == ba.score and ab.same == ba.same
    assert all(isinstance(line, str) for line in ab.explanation)


@HOSTILE
@given(pairs=st.lists(st.tuples(names, names), max_size=6))
def test_score_pairs_agrees_with_compare(pairs: list[tuple[str, str]]) -> None:
    for (score, same), (a, b) in zip(score_pairs(pairs), pairs, strict=True):
        _check(score)
        assert score == compare(a, b).score and same == compare(a, b).same


@HOSTILE
@given(text=names)
def test_keys_and_search_keys_are_total(text: str) -> None:
    keys = name_keys(text)
    assert keys.parses, "at least one reading, possibly empty"
    assert all(isinstance(k, str) for k in keys.blocking_keys())
    assert all(isinstance(k, str) for k in search_keys(text))
    itself = compare(text, text)
    _check(itself.score)
    # an empty reading is nobody; anything else agrees with itself at least partly
    assert (itself.score == 0.0) if keys.empty else (itself.score > 0.0)


def test_bidi_overrides_and_invisibles_do_not_change_a_name() -> None:
    plain = compare("Иван Ковалёв", "Ivan Kovalev")
    for mark in BIDI + INVISIBLE:
        assert compare(f"{mark}Иван Ков{mark}алёв{mark}", "Ivan Kovalev").score == plain.score, repr(mark)


LONG_CASES = {
    "100k letters": "а" * 100_000,
    "10k names": " ".join(["Иван Ковалёв"] * 10_000),
    "10k bidi marks": "\u202e" * 10_000 + "Иван",
    "50k combining marks": "И" + "\u0301" * 50_000,
    "20k tokens": " ".join("ab" for _ in range(20_000)),
    "10k hyphens": "-".join(["Ко"] * 10_000),
    "1 MB of mixed scripts": ("ИванIvanΑλέξ😀\u202e" * 80_000)[:1_000_000],
}


def test_very_long_names_are_bounded_in_time_and_memory() -> None:
    for label, text in LONG_CASES.items():
        with bounded(seconds=5, rss_bytes=64 * MIB):
            result = compare(text, "Иван Ковалёв")
            keys = search_keys(text)
        _check(result.score)
        assert len(keys) < 1000, label
