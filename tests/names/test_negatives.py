"""Different persons who share parts of a name are kept apart."""

from __future__ import annotations

import pytest

from svidok.names import compare


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Иван Ковалёв", "Пётр Ковалёв"),  # same surname, other given name
        ("Ivan Kovalev", "Piatro Kavaliou"),
        ("Aleksandr Kovalev", "Aleksei Kovalev"),
        ("Anna Ivanova", "Inna Ivanova"),
        ("Alina Petrova", "Alena Petrova"),
        ("Yana Petrova", "Anna Petrova"),
    ],
)
def test_same_surname_other_given_name(a: str, b: str) -> None:
    result = compare(a, b)
    assert not result.same
    assert any("given names differ" in line for line in result.explanation)


def test_same_given_and_patronymic_other_surname() -> None:
    result = compare("Иван Сергеевич Петров", "Иван Сергеевич Сидоров")
    assert not result.same
    assert any("surnames differ" in line for line in result.explanation)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Aleksandr Kovalev", "Aleksandra Kovaleva"),
        ("Евгений Петров", "Евгения Петрова"),
        ("Саша Ковалёв", "Саша Ковалёва"),  # husband and wife, ambiguous diminutive
        ("Sergei Tikhanovsky", "Svetlana Tikhanovskaya"),
        ("Валентин Белый", "Валентина Белая"),
    ],
)
def test_gendered_forms_are_different_persons(a: str, b: str) -> None:
    result = compare(a, b)
    assert not result.same
    assert result.score < 0.5


def test_gender_conflict_is_explained() -> None:
    result = compare("Саша Ковалёв", "Саша Ковалёва")
    assert any("gender differs" in line for line in result.explanation)


def test_father_and_son() -> None:
    father = "Сергей Иванович Ковалёв"
    son = "Александр Сергеевич Ковалёв"
    assert not compare(father, son).same


def test_namesakes_with_other_patronymics() -> None:
    result = compare("Иван Сергеевич Петров", "Ivan Nikolaevich Petrov")
    assert not result.same
    assert any("patronymics differ" in line for line in result.explanation)


@pytest.mark.parametrize(
    "other",
    ["Ковалевский", "Коваленко", "Ковальчук", "Ковалевич", "Kowalewski"],
)
def test_lookalike_surnames(other: str) -> None:
    assert not compare("Александр Ковалёв", f"Александр {other}").same


@pytest.mark.parametrize(
    ("a", "b"),
    [("Иван Иванов", "Иван Иванцов"), ("Ekaterina Sidorova", "Ekaterina Fedorova")],
)
def test_one_letter_apart_short_surnames_are_not_typos(a: str, b: str) -> None:
    assert not compare(a, b).same
