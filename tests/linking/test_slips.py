"""A slip of the pen in one testimony does not keep a person's mentions apart, nor join two people."""

from __future__ import annotations

import pytest

from svidok.linking.persons import slip_compatible
from svidok.names.keys import name_keys


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Климвоич Софья Денисовна", "Соф'я Клімовіч"),  # swapped letters, Belarusian form
        ("Олена Андаіївна Ткачук", "Елена Андреевна Ткачук"),  # a slip in the patronymic
        ("Svetlana Mooltina", "Светлана Кирилловна Молотина"),
        ("Bodaruk Ivan", "Иван Бондарук"),  # a dropped letter
    ],
)
def test_slips_in_surname_or_patronymic_are_no_conflict(a: str, b: str) -> None:
    assert slip_compatible(name_keys(a), name_keys(b))


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Иван Петров", "Иван Сидоров"),  # another surname
        ("Иван Петров", "Олег Петров"),  # another given name
        ("Анна Козлова", "Антон Козлов"),  # another person of the family
        ("Иван Сергеевич Петров", "Иван Олегович Петров"),  # another patronymic: a namesake
        ("И. Петров", "Иван Петров"),  # an initial is for the name engine to weigh, not a slip
    ],
)
def test_different_people_are_never_a_slip(a: str, b: str) -> None:
    assert not slip_compatible(name_keys(a), name_keys(b))
