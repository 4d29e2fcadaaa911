"""Each kind of variation of one person's name is recognised as the same person."""

from __future__ import annotations

import pytest

from svidok.names import compare

SAME = [
    # transliteration systems of one Belarusian/Russian name
    ("Аляксандр Кавалёў", "Aliaksandr Kavaliou"),  # Belarusian passport
    ("Аляксандр Кавалёў", "Alexander Kovalev"),  # Russian form, ad hoc English
    ("Александр Ковалёв", "Aleksandr Kovalyov"),  # BGN/PCGN
    ("Александр Ковалёв", "Aleksandr Kovalëv"),  # ISO-ish ë
    ("Александр Ковалёв", "Alexander Kowaljow"),  # German
    ("Александр Ковалёв", "Aleksander Kowalow"),  # Polish
    ("Аляксандр Кавалёў", "Aliaksandr Kavaloŭ"),  # Łacinka
    ("Олександр Ковальов", "Oleksandr Kovalov"),  # Ukrainian national
    ("Юлія Шевченко", "Yuliia Shevchenko"),
    ("Юлія Шевченко", "Julija Schewtschenko"),  # German
    ("Юлія Шевченко", "Ioulia Chevtchenko"),  # French
    ("Юлія Шевченко", "Julia Szewczenko"),  # Polish
    ("Юлія Шевченко", "Ûlìâ Ševčenko"),  # ISO 9
    ("Юлия Шевченко", "Yulia Shevchenko"),
    ("Іван Кравець", "Иван Кравец"),  # Ukrainian soft ць is Russian ц, not т
    ("Іван Кравець", "Ivan Kravets"),
    ("Оксана Горобець", "Oksana Horobez"),  # German
    ("Оксана Цьомик", "Oksana Tsomyk"),
    ("Геннадий Коваленко", "Hennadiy Kovalenko"),  # Ukrainian г = h
    ("Генадзь Каваленка", "Gennady Kovalenko"),  # Belarusian -ка, дз
    ("Дзмітрый Лукашэнка", "Dmitry Lukashenko"),
    ("Святлана Ціханоўская", "Svetlana Tikhanovskaya"),
    ("Святлана Ціханоўская", "Sviatlana Tsikhanouskaya"),
    ("Святлана Ціханоўская", "Swiatłana Cichanouska"),
    ("Святлана Ціханоўская", "Світлана Тихановська"),
    ("Алексей Волков", "Aliaksei Vaukou"),  # л before a consonant is ў
    ("Мікалай Мікалаеў", "Nikolai Nikolaev"),  # surname from a given name
    ("Мар'яна Іваненка", "Maryana Ivanenko"),  # apostrophe
    ("Вячаслаў Сідараў", "В'ячеслав Сидоров"),
]


@pytest.mark.parametrize(("a", "b"), SAME)
def test_transliteration_and_language_variants_match(a: str, b: str) -> None:
    result = compare(a, b)
    assert result.same, result.explanation
    assert result.score >= 0.9


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Aleksei Petrov", "Alexey Petrov"),
        ("Aleksei Petrov", "Oleksiy Petrov"),
        ("Алег Пятроў", "Олег Петров"),
        ("Юрый Пятроў", "Юрій Петров"),
        ("Yuri Petrov", "Iurii Petrov"),
        ("Евгений Петров", "Yauhen Piatrou"),
        ("Ирина Петрова", "Iryna Petrova"),
        ("Александр Петров", "Aleksander Petrov"),
        ("Владимир Петров", "Uladzimir Piatrou"),
        ("Владимир Петров", "Volodymyr Petrov"),
    ],
)
def test_given_name_equivalents_across_languages(a: str, b: str) -> None:
    assert compare(a, b).same


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Саша Ковалев", "Александр Ковалёв"),
        ("Шура Ковалев", "Aleksandr Kovalev"),
        ("Саша Ковалева", "Александра Ковалёва"),
        ("Женя Петров", "Евгений Петров"),
        ("Женя Петрова", "Евгения Петрова"),
        ("Zhenya Petrova", "Yevgeniya Petrova"),
        ("Дима Сидоренко", "Dzmitry Sidarenka"),
    ],
)
def test_diminutives(a: str, b: str) -> None:
    result = compare(a, b)
    assert result.same, result.explanation
    assert any("diminutive" in line for line in result.explanation)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("КОВАЛЁВ Александр Сергеевич", "Александр Сергеевич Ковалёв"),
        ("Kovalev, Aleksandr Sergeevich", "Aleksandr Sergeevich Kovalev"),
        ("Ковалёв Александр", "Александр Ковалёв"),
        ("Aleksandr KOVALEV", "Ковалёв Александр"),
        ("Ivanova, Anna", "Anna Ivanova"),
    ],
)
def test_name_order_and_comma_forms(a: str, b: str) -> None:
    assert compare(a, b).same


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Kovalev A.S.", "Александр Сергеевич Ковалёв"),
        ("Kovalev A. S.", "Aliaksandr Siarhieevich Kavaliou"),
        ("А. С. Ковалёв", "Aleksandr Sergeevich Kovalev"),
        ("Kovalev AS", "Aleksandr Sergeevich Kovalev"),
        ("Yu. Petrov", "Юрий Петров"),
        ("Ю. Петров", "Iurii Petrov"),
        ("U. Piatrou", "Владимир Петров"),  # Belarusian У for В
        ("Павлава Л. Н.", "Людміла Мікалаеўна Паўлава"),  # Н. and М. both Nikolai's daughter
    ],
)
def test_initials(a: str, b: str) -> None:
    result = compare(a, b)
    assert result.same, result.explanation


def test_wrong_initial_is_a_different_person() -> None:
    result = compare("Kovalev P.S.", "Александр Сергеевич Ковалёв")
    assert not result.same
    assert any("initial differs" in line for line in result.explanation)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Сергеевич", "Siarhieevich"),
        ("Иванович", "Іванавіч"),
        ("Иванович", "Ivanovych"),
        ("Сергеевна", "Serhiivna"),
        ("Николаевич", "Mykolaiovych"),
    ],
)
def test_patronymic_variants(a: str, b: str) -> None:
    result = compare(f"Петр {a} Кузнецов", f"Петр {b} Кузнецов")
    assert result.same, result.explanation
    assert any("same father's name" in line for line in result.explanation)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Анна Ковалева-Петрова", "Анна Ковалева-Петрова"),
        ("Anna Kovaleva-Petrova", "Анна Ковалёва-Пятрова"),
        ("Анна Ковалёва-Петрова", "Анна Петрова"),
        ("Анна-Мария Петрова", "Anna-Maria Petrova"),
    ],
)
def test_double_names_and_hyphens(a: str, b: str) -> None:
    assert compare(a, b).same


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Александр Кузнецов", "Aleksandr Kuzentsov"),  # transposed letters
        ("Aleksnadr Kuznetsov", "Александр Кузнецов"),  # typo in the given name
        ("Светлана Ковальчук", "Svetlana Kovalchuk"),
    ],
)
def test_typos(a: str, b: str) -> None:
    assert compare(a, b).same


def test_surname_only_matches_full_name_of_same_gender() -> None:
    assert compare("Kowaljow", "Aliaksandr Kavaliou").same
    assert not compare("Kowaljowa", "Aliaksandr Kavaliou").same
