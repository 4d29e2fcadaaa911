"""Public API: parsing, keys, explanations, search keys, robustness."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import svidok.names as names
from svidok.names import (
    ENGINE_VERSION,
    THRESHOLD,
    NameKeys,
    compare,
    compare_keys,
    name_keys,
    parse_name,
    score_pairs,
    search_keys,
    to_cyrillic,
    to_latin,
)


def test_public_api_is_explicit() -> None:
    assert set(names.__all__) >= {
        "parse_name",
        "name_keys",
        "compare",
        "compare_keys",
        "score_pairs",
        "search_keys",
        "THRESHOLD",
        "ENGINE_VERSION",
        "Comparison",
        "NameKeys",
    }
    assert ENGINE_VERSION == "names-v1"
    assert 0.0 < THRESHOLD < 1.0


def test_parse_roles() -> None:
    p = parse_name("КОВАЛЁВ Александр Сергеевич")
    assert p.surname == ("ковалёв",)
    assert p.given == ("александр",)
    assert p.patronymic == "сергеевич"
    p = parse_name("Kovalev A.S.")
    assert (p.surname, p.given, p.patronymic) == (("kovalev",), ("a",), "s")
    assert p.given_is_initial and p.patronymic_is_initial
    p = parse_name("Карпович Иван Сергеевич")  # -ич surname, then given and patronymic
    assert p.surname == ("карпович",) and p.patronymic == "сергеевич"
    p = parse_name("Kovalev, Aleksandr")
    assert p.surname == ("kovalev",) and p.given == ("aleksandr",)


def test_explanation_names_tokens_and_verdict() -> None:
    result = compare("Саша Ковалев", "КОВАЛЁВ Александр Сергеевич")
    text = "\n".join(result.explanation)
    assert "'саша' ~ 'александр': diminutive" in text
    assert "surname: 'ковалев' ~ 'ковалёв': same" in text
    assert f"threshold {THRESHOLD:.2f}" in text and "same person" in text


def test_compare_keys_equals_compare_and_batch() -> None:
    a, b = "Aliaksandr Kavaliou", "Александр Ковалёв"
    direct = compare(a, b)
    via_keys = compare_keys(name_keys(a), name_keys(b))
    assert direct.score == via_keys.score
    assert score_pairs([(a, b)]) == [(direct.score, direct.same)]


def test_keys_are_hashable_and_storable() -> None:
    keys = name_keys("Kovalev A.S.")
    hash(keys)
    data = json.loads(json.dumps(keys.to_dict()))
    restored = NameKeys.from_dict(data)
    other = name_keys("Аляксандр Сяргеевіч Кавалёў")
    assert compare_keys(restored, other).score == compare_keys(keys, other).score
    assert keys.blocking_keys() == list(keys.blocking)


def test_blocking_keys_shared_across_scripts() -> None:
    a = set(name_keys("Sviatlana Tsikhanouskaya").blocking_keys())
    b = set(name_keys("Светлана Тихановская").blocking_keys())
    c = set(name_keys("Swiatłana Cichanouska").blocking_keys())
    assert a & b & c


def test_search_keys_script_independent() -> None:
    shared = set(search_keys("Tsikhanouskaya")) & set(search_keys("Тихановская"))
    assert shared
    assert "g:aleksandr" in search_keys("Sasha")
    assert "g:aleksandr" in search_keys("Аляксандр")


def test_translit_systems() -> None:
    assert to_latin("Аляксандр Кавалёў", "national_be") == "Aliaksandr Kavaliou"
    assert to_latin("Юлія Шевченко", "german") == "Julija Schewtschenko"
    assert to_latin("Юлія Шевченко", "french") == "Iouliia Chevtchenko"
    assert to_latin("Святлана Ціханоўская", "lacinka") == "Sviatłana Cichanoŭskaja"
    assert to_latin("Олександр Ковальов", "national_uk") == "Oleksandr Kovalov"
    text = "Щербаков Ґедзь Ї'жак Ўлас"
    assert to_cyrillic(to_latin(text, "iso9"), "iso9") == text
    with pytest.raises(ValueError):
        to_latin("x", "klingon")


@pytest.mark.parametrize(
    "junk",
    ["", "   ", "\u202e\u202d", "😀😀", "12345", "...", "-", "\x00\x01\x02", ", ,"],
)
def test_unusable_input_scores_zero(junk: str) -> None:
    result = compare(junk, "Иван Петров")
    assert result.score == 0.0 and not result.same
    assert name_keys(junk).empty


def test_noise_around_a_name_is_ignored() -> None:
    noisy = "\u202eИва\u200bнов\u202c 😀 Пётр 1987"
    assert compare(noisy, "Piotr Iwanow").same


def test_mixed_script_homoglyphs() -> None:
    assert compare("Ивaнов Пётр", "Иванов Пётр").same  # Latin a inside Cyrillic
    assert compare("Ivanоv Petr", "Ivanov Petr").same  # Cyrillic о inside Latin


def test_very_long_input_is_bounded() -> None:
    long_name = "Иван Петров " + "а" * 10_000
    result = compare(long_name, "Иван Петров")
    assert 0.0 <= result.score <= 1.0
    assert len(parse_name("x" * 100_000).surname[0]) <= 256


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=60), st.text(max_size=60))
def test_arbitrary_unicode_never_crashes_and_is_symmetric(a: str, b: str) -> None:
    ab = compare(a, b)
    ba = compare(b, a)
    assert 0.0 <= ab.score <= 1.0
    assert ab.score == ba.score
    assert ab.same == ba.same


NAMEISH = st.lists(
    st.sampled_from(
        [
            "Aleksandr",
            "Kovalev",
            "Ковалёва",
            "Саша",
            "A.",
            "С.",
            "Sergeevich",
            "Іванаўна",
            "Tsikhanouskaya",
            "KOVALEV",
            "Petrova-Ivanova",
            ",",
        ]
    ),
    min_size=1,
    max_size=4,
).map(" ".join)


@settings(max_examples=150, deadline=None)
@given(NAMEISH, NAMEISH)
def test_namelike_inputs_are_symmetric(a: str, b: str) -> None:
    assert compare(a, b).score == compare(b, a).score
