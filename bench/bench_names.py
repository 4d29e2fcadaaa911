"""Benchmark of the name engine: dev-set quality and batch speed.

    .venv/bin/python bench/bench_names.py make-dev      # writes bench/data/names_dev.jsonl
    .venv/bin/python bench/bench_names.py make-pairs    # writes bench/data/names_pairs.jsonl
    .venv/bin/python bench/bench_names.py hand          # the hand-made set: figures and errors
    .venv/bin/python bench/bench_names.py run           # prints figures, writes bench/results/names.md

The development set is generated here from linguistic rules of its own (its own
transliteration tables and name forms, independent of the engine's data files):
fictional combinations of common Belarusian, Russian and Ukrainian names, written
in different languages, scripts, romanisation systems, orders, with initials,
diminutives and typos, and hard negatives (same surname with another given name,
same given name and patronymic with another surname, husband and wife, Aleksandr
and Aleksandra, father and son, namesakes with other patronymics, look-alike
surnames). No real person is named.
"""

from __future__ import annotations

import json
import os
import platform
import random
import resource
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from figures import record

ROOT = Path(__file__).resolve().parent
DEV = ROOT / "data" / "names_dev.jsonl"
HAND = ROOT / "data" / "names_hand.txt"
PAIRS = ROOT / "data" / "names_pairs.jsonl"
RESULTS = ROOT / "results" / "names.md"

# ---------------------------------------------------------------- name forms
# male given: ru, be, uk, Latin equivalents, diminutives (Cyrillic, Russian)
MALE = [
    ("Александр", "Аляксандр", "Олександр", ["Alexander", "Aleksander"], ["Саша", "Шура", "Саня"]),
    ("Алексей", "Аляксей", "Олексій", ["Alexei", "Alexey", "Aleksy"], ["Лёша", "Алёша"]),
    ("Андрей", "Андрэй", "Андрій", ["Andrzej", "Andrew"], ["Андрюша"]),
    ("Сергей", "Сяргей", "Сергій", ["Siergiej", "Serge"], ["Серёжа"]),
    ("Дмитрий", "Дзмітрый", "Дмитро", ["Dimitri"], ["Дима"]),
    ("Евгений", "Яўген", "Євген", ["Eugene", "Jewgienij"], ["Женя"]),
    ("Иван", "Іван", "Іван", ["Iwan"], ["Ваня"]),
    ("Николай", "Мікалай", "Микола", ["Nicolas", "Mikołaj"], ["Коля"]),
    ("Владимир", "Уладзімір", "Володимир", ["Wladimir", "Włodzimierz"], ["Володя", "Вова"]),
    ("Юрий", "Юрый", "Юрій", ["Jurij", "Youri"], ["Юра"]),
    ("Олег", "Алег", "Олег", [], []),
    ("Михаил", "Міхаіл", "Михайло", ["Michail", "Michał"], ["Миша"]),
    ("Павел", "Павел", "Павло", ["Paweł", "Paul"], ["Паша"]),
    ("Пётр", "Пятро", "Петро", ["Piotr", "Pierre"], ["Петя"]),
    ("Виктор", "Віктар", "Віктор", ["Wiktor", "Victor"], ["Витя"]),
    ("Геннадий", "Генадзь", "Геннадій", ["Giennadij"], ["Гена"]),
    ("Игорь", "Ігар", "Ігор", [], []),
    ("Василий", "Васіль", "Василь", ["Wasyl"], ["Вася"]),
    ("Константин", "Канстанцін", "Костянтин", ["Konstanty"], ["Костя"]),
    ("Анатолий", "Анатоль", "Анатолій", [], ["Толя"]),
    ("Вячеслав", "Вячаслаў", "В'ячеслав", ["Wiaczesław"], ["Слава"]),
    ("Григорий", "Рыгор", "Григорій", ["Grzegorz"], ["Гриша"]),
    ("Фёдор", "Фёдар", "Федір", ["Fiodor"], ["Федя"]),
    ("Максим", "Максім", "Максим", ["Maxim"], ["Макс"]),
    ("Роман", "Раман", "Роман", [], ["Рома"]),
    ("Валентин", "Валянцін", "Валентин", [], ["Валя"]),
    ("Станислав", "Станіслаў", "Станіслав", ["Stanisław"], ["Стас"]),
    ("Денис", "Дзяніс", "Денис", [], []),
    ("Вадим", "Вадзім", "Вадим", [], []),
    ("Ярослав", "Яраслаў", "Ярослав", ["Jarosław"], []),
]
FEMALE = [
    ("Александра", "Аляксандра", "Олександра", ["Alexandra", "Aleksandra"], ["Саша", "Шура"]),
    ("Светлана", "Святлана", "Світлана", ["Swietłana"], ["Света"]),
    ("Юлия", "Юлія", "Юлія", ["Julia"], ["Юля"]),
    ("Елена", "Алена", "Олена", ["Helena"], ["Лена"]),
    ("Ольга", "Вольга", "Ольга", [], ["Оля"]),
    ("Татьяна", "Тацяна", "Тетяна", ["Tatjana"], ["Таня"]),
    ("Наталья", "Наталля", "Наталія", ["Natalia"], ["Наташа"]),
    ("Ирина", "Ірына", "Ірина", ["Irena"], ["Ира"]),
    ("Екатерина", "Кацярына", "Катерина", ["Katarzyna", "Catherine"], ["Катя"]),
    ("Анна", "Ганна", "Ганна", ["Anna"], ["Аня"]),
    ("Мария", "Марыя", "Марія", ["Maria"], ["Маша"]),
    ("Евгения", "Яўгенія", "Євгенія", ["Eugenia"], ["Женя"]),
    ("Людмила", "Людміла", "Людмила", ["Ludmiła"], ["Люда"]),
    ("Галина", "Галіна", "Галина", ["Halina"], ["Галя"]),
    ("Анастасия", "Анастасія", "Анастасія", [], ["Настя"]),
    ("Марина", "Марына", "Марина", [], []),
    ("Валентина", "Валянціна", "Валентина", [], ["Валя"]),
    ("Надежда", "Надзея", "Надія", [], ["Надя"]),
    ("Оксана", "Аксана", "Оксана", [], []),
    ("Дарья", "Дар'я", "Дарина", ["Daria"], ["Даша"]),
    ("Станислава", "Станіслава", "Станіслава", [], []),
]
# Same root, other gender (hard negatives: Aleksandr / Aleksandra).
GENDER_TWINS = [(0, 0), (5, 11), (25, 16), (26, 20)]

# Father names for patronymics: (ru m, ru f, be m, be f, uk m, uk f)
PATRONYMICS = {
    0: ("Александрович", "Александровна", "Аляксандравіч", "Аляксандраўна", "Олександрович", "Олександрівна"),
    1: ("Алексеевич", "Алексеевна", "Аляксеевіч", "Аляксееўна", "Олексійович", "Олексіївна"),
    2: ("Андреевич", "Андреевна", "Андрэевіч", "Андрэеўна", "Андрійович", "Андріївна"),
    3: ("Сергеевич", "Сергеевна", "Сяргеевіч", "Сяргееўна", "Сергійович", "Сергіївна"),
    4: ("Дмитриевич", "Дмитриевна", "Дзмітрыевіч", "Дзмітрыеўна", "Дмитрович", "Дмитрівна"),
    5: ("Евгеньевич", "Евгеньевна", "Яўгенавіч", "Яўгенаўна", "Євгенович", "Євгенівна"),
    6: ("Иванович", "Ивановна", "Іванавіч", "Іванаўна", "Іванович", "Іванівна"),
    7: ("Николаевич", "Николаевна", "Мікалаевіч", "Мікалаеўна", "Миколайович", "Миколаївна"),
    8: ("Владимирович", "Владимировна", "Уладзіміравіч", "Уладзіміраўна", "Володимирович", "Володимирівна"),
    9: ("Юрьевич", "Юрьевна", "Юр'евіч", "Юр'еўна", "Юрійович", "Юріївна"),
    10: ("Олегович", "Олеговна", "Алегавіч", "Алегаўна", "Олегович", "Олегівна"),
    11: ("Михайлович", "Михайловна", "Міхайлавіч", "Міхайлаўна", "Михайлович", "Михайлівна"),
    12: ("Павлович", "Павловна", "Паўлавіч", "Паўлаўна", "Павлович", "Павлівна"),
    13: ("Петрович", "Петровна", "Пятровіч", "Пятроўна", "Петрович", "Петрівна"),
    14: ("Викторович", "Викторовна", "Віктаравіч", "Віктараўна", "Вікторович", "Вікторівна"),
    15: ("Геннадьевич", "Геннадьевна", "Генадзевіч", "Генадзеўна", "Геннадійович", "Геннадіївна"),
    16: ("Игоревич", "Игоревна", "Ігаравіч", "Ігараўна", "Ігорович", "Ігорівна"),
    17: ("Васильевич", "Васильевна", "Васільевіч", "Васільеўна", "Васильович", "Василівна"),
    19: ("Анатольевич", "Анатольевна", "Анатолевіч", "Анатолеўна", "Анатолійович", "Анатоліївна"),
    22: ("Фёдорович", "Фёдоровна", "Фёдаравіч", "Фёдараўна", "Федорович", "Федорівна"),
}
# Surnames (ru m, be m, uk m); feminine forms follow from the endings.
SURNAMES = [
    ("Ковалёв", "Кавалёў", "Ковальов"),
    ("Ковалевский", "Кавалеўскі", "Ковалевський"),
    ("Коваленко", "Каваленка", "Коваленко"),
    ("Ковальчук", "Кавальчук", "Ковальчук"),
    ("Тихановский", "Ціханоўскі", "Тихановський"),
    ("Лукашенко", "Лукашэнка", "Лукашенко"),
    ("Шевченко", "Шаўчэнка", "Шевченко"),
    ("Петров", "Пятроў", "Петров"),
    ("Петренко", "Пятрэнка", "Петренко"),
    ("Петровский", "Пятроўскі", "Петровський"),
    ("Иванов", "Іваноў", "Іванов"),
    ("Иваненко", "Іваненка", "Іваненко"),
    ("Кузнецов", "Кузняцоў", "Кузнєцов"),
    ("Сидоров", "Сідараў", "Сидоров"),
    ("Соколов", "Сакалоў", "Соколов"),
    ("Новиков", "Навікоў", "Новиков"),
    ("Морозов", "Марозаў", "Морозов"),
    ("Волков", "Ваўкоў", "Вовков"),
    ("Лебедев", "Лебедзеў", "Лебедєв"),
    ("Семёнов", "Сямёнаў", "Семенов"),
    ("Егоров", "Ягораў", "Єгоров"),
    ("Павлов", "Паўлаў", "Павлов"),
    ("Козлов", "Казлоў", "Козлов"),
    ("Степанов", "Сцяпанаў", "Степанов"),
    ("Николаев", "Мікалаеў", "Миколаєв"),
    ("Орлов", "Арлоў", "Орлов"),
    ("Андреев", "Андрэеў", "Андрєєв"),
    ("Макаров", "Макараў", "Макаров"),
    ("Захаров", "Захараў", "Захаров"),
    ("Зайцев", "Зайцаў", "Зайцев"),
    ("Белый", "Белы", "Білий"),
    ("Черный", "Чорны", "Чорний"),
    ("Жуков", "Жукаў", "Жуков"),
    ("Гончаренко", "Ганчарэнка", "Гончаренко"),
    ("Бондаренко", "Бандарэнка", "Бондаренко"),
    ("Ткаченко", "Ткачэнка", "Ткаченко"),
    ("Кравченко", "Краўчэнка", "Кравченко"),
    ("Мельник", "Мельнік", "Мельник"),
    ("Бойко", "Бойка", "Бойко"),
    ("Кравец", "Кравец", "Кравець"),
    ("Карпович", "Карповіч", "Карпович"),
    ("Шушкевич", "Шушкевіч", "Шушкевич"),
    ("Статкевич", "Статкевіч", "Статкевич"),
    ("Василевский", "Васілеўскі", "Василевський"),
    ("Якубович", "Якубовіч", "Якубович"),
    ("Жданович", "Ждановіч", "Жданович"),
    ("Пушкин", "Пушкін", "Пушкін"),
    ("Ильин", "Ільін", "Ільїн"),
    ("Дубровский", "Дуброўскі", "Дубровський"),
    ("Грищенко", "Грышчанка", "Грищенко"),
    ("Гаврилов", "Гаўрылаў", "Гаврилов"),
    ("Тарасов", "Тарасаў", "Тарасов"),
    ("Федоров", "Фёдараў", "Федоров"),
    ("Яковлев", "Якаўлеў", "Яковлєв"),
    ("Савицкий", "Савіцкі", "Савицький"),
    ("Литвиненко", "Літвіненка", "Литвиненко"),
    ("Юрченко", "Юрчанка", "Юрченко"),
    ("Дмитриев", "Дзмітрыеў", "Дмитрієв"),
    ("Цыганков", "Цыганкоў", "Циганков"),
    ("Щербаков", "Шчарбакоў", "Щербаков"),
    ("Хоменко", "Хоменка", "Хоменко"),
    ("Зеленский", "Зяленскі", "Зеленський"),
]
# Look-alike surname families (hard negatives between members).
FAMILIES = [
    [0, 1, 2, 3],
    [7, 8, 9],
    [10, 11],
    [4, 31],
    [33, 34, 35],
]


def feminine(surname: str, lang: str) -> str:
    """The feminine form of a masculine surname in one language."""
    s = surname
    for m, f in (
        ("ский", "ская"),
        ("цкий", "цкая"),
        ("ський", "ська"),
        ("цький", "цька"),
        ("скі", "ская"),
        ("цкі", "цкая"),
        ("ый", "ая"),
        ("ий", "а" if lang == "uk" else "ая"),
        ("ы", "ая"),
        ("оў", "ова"),
        ("аў", "ава"),
        ("ёў", "ёва"),
        ("еў", "ева"),
        ("ов", "ова"),
        ("ёв", "ёва"),
        ("ев", "ева"),
        ("єв", "єва"),
        ("ьов", "ьова"),
        ("ин", "ина"),
        ("ін", "іна"),
        ("їн", "їна"),
        ("ын", "ына"),
    ):
        if s.endswith(m):
            return s[: -len(m)] + f
    return s


# ---------------------------------------------------------------- transliteration
VOW = set("аеёиоуыэюяіїєАЕЁИОУЫЭЮЯІЇЄ'ьъў")


def _translit(word: str, table: dict[str, str], soft: dict[str, tuple[str, str]] | None = None) -> str:
    out = []
    low = word.lower()
    for i, ch in enumerate(low):
        prev = low[i - 1] if i else ""
        if soft and ch in soft:
            initial_form, after_cons = soft[ch]
            rep = after_cons if prev and prev not in VOW else initial_form
        else:
            rep = table.get(ch, ch)
        out.append(rep)
    text = "".join(out)
    return text[:1].upper() + text[1:]


BASE = {
    "а": "a",
    "б": "b",
    "в": "v",
    "г": "g",
    "ґ": "g",
    "д": "d",
    "з": "z",
    "и": "i",
    "і": "i",
    "к": "k",
    "л": "l",
    "м": "m",
    "н": "n",
    "о": "o",
    "п": "p",
    "р": "r",
    "с": "s",
    "т": "t",
    "у": "u",
    "ф": "f",
    "ы": "y",
    "э": "e",
    "'": "",
    "ь": "",
    "ъ": "",
}
SYSTEMS = {
    "bgn": (
        dict(BASE, ж="zh", х="kh", ц="ts", ч="ch", ш="sh", щ="shch", й="y", ў="w"),
        {
            "е": ("ye", "e"),
            "ё": ("yo", "yo"),
            "ю": ("yu", "yu"),
            "я": ("ya", "ya"),
            "є": ("ye", "ie"),
            "ї": ("yi", "i"),
        },
    ),
    "icao": (
        dict(BASE, ж="zh", х="kh", ц="ts", ч="ch", ш="sh", щ="shch", й="i", ў="u", ъ="ie"),
        {
            "е": ("e", "e"),
            "ё": ("e", "e"),
            "ю": ("iu", "iu"),
            "я": ("ia", "ia"),
            "є": ("ie", "ie"),
            "ї": ("i", "i"),
        },
    ),
    "by": (
        dict(BASE, г="h", ж="zh", х="kh", ц="ts", ч="ch", ш="sh", й="i", ў="u"),
        {"е": ("ye", "ie"), "ё": ("yo", "io"), "ю": ("yu", "iu"), "я": ("ya", "ia")},
    ),
    "ua": (
        dict(BASE, г="h", ж="zh", х="kh", ц="ts", ч="ch", ш="sh", щ="shch", й="i", и="y"),
        {"є": ("ye", "ie"), "ї": ("yi", "i"), "ю": ("yu", "iu"), "я": ("ya", "ia"), "е": ("e", "e")},
    ),
    "iso9": (
        dict(BASE, ж="ž", х="h", ц="c", ч="č", ш="š", щ="ŝ", й="j", ў="ǔ", ь="ʹ", ъ="ʺ", і="ì", э="è"),
        {
            "е": ("e", "e"),
            "ё": ("ë", "ë"),
            "ю": ("û", "û"),
            "я": ("â", "â"),
            "є": ("ê", "ê"),
            "ї": ("ï", "ï"),
        },
    ),
    "scholarly": (
        dict(BASE, ж="ž", х="ch", ц="c", ч="č", ш="š", щ="šč", й="j", ў="ŭ", ь="ʹ"),
        {
            "е": ("e", "e"),
            "ё": ("ë", "ë"),
            "ю": ("ju", "ju"),
            "я": ("ja", "ja"),
            "є": ("je", "je"),
            "ї": ("ji", "ji"),
        },
    ),
    "german": (
        dict(BASE, в="w", ж="sh", з="s", х="ch", ц="z", ч="tsch", ш="sch", щ="schtsch", й="j", ў="u", ь="j"),
        {
            "е": ("je", "e"),
            "ё": ("jo", "jo"),
            "ю": ("ju", "ju"),
            "я": ("ja", "ja"),
            "є": ("je", "je"),
            "ї": ("ji", "i"),
        },
    ),
    "french": (
        dict(BASE, ж="j", х="kh", ц="ts", ч="tch", ш="ch", щ="chtch", й="ï", у="ou", ў="ou"),
        {
            "е": ("ie", "e"),
            "ё": ("io", "io"),
            "ю": ("iou", "iou"),
            "я": ("ia", "ia"),
            "є": ("ie", "ie"),
            "ї": ("ï", "ï"),
        },
    ),
    "polish": (
        dict(BASE, в="w", ж="ż", х="ch", ц="c", ч="cz", ш="sz", щ="szcz", й="j", ў="u", л="ł"),
        {
            "е": ("je", "ie"),
            "ё": ("jo", "io"),
            "ю": ("ju", "iu"),
            "я": ("ja", "ia"),
            "є": ("je", "ie"),
            "ї": ("ji", "i"),
        },
    ),
    "lacinka": (
        dict(BASE, г="h", ж="ž", х="ch", ц="c", ч="č", ш="š", й="j", ў="ŭ", л="ł"),
        {"е": ("je", "ie"), "ё": ("jo", "io"), "ю": ("ju", "iu"), "я": ("ja", "ia")},
    ),
}
LANG_SYSTEMS = {
    "ru": ["bgn", "icao", "iso9", "scholarly", "german", "french", "polish", "adhoc"],
    "be": ["by", "icao", "lacinka", "polish", "iso9", "bgn"],
    "uk": ["ua", "iso9", "german", "polish", "bgn", "icao"],
}


def romanise(word: str, system: str) -> str:
    if system == "adhoc":  # Wikipedia/English press style
        text = romanise(word, "bgn")
        for a, b in (("iy", "y"), ("kS", "x"), ("ks", "x"), ("yev", "ev"), ("yo", "e")):
            if random.random() < 0.5:
                text = text.replace(a, b)
        return text
    table, soft = SYSTEMS[system]
    text = _translit(word, table, soft)
    if system in ("lacinka", "polish"):
        text = text.replace("łi", "li").replace("łe", "le").replace("łia", "la").replace("Łi", "Li")
    if system == "bgn":
        text = text.replace("yy", "y").replace("iy", "iy")
    return text


def typo(word: str, rng: random.Random) -> str:
    if len(word) < 7:
        return word
    i = rng.randrange(2, len(word) - 2)
    kind = rng.choice(["swap", "double", "drop"])
    if kind == "swap":
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    if kind == "double":
        return word[:i] + word[i] + word[i:]
    return word[:i] + word[i + 1 :]


# ---------------------------------------------------------------- persons and variants
class Person:
    def __init__(self, sex: str, given: int, father: int | None, surname: int) -> None:
        self.sex, self.given, self.father, self.surname = sex, given, father, surname

    def forms(self, lang: str) -> tuple[str, str | None, str]:
        li = {"ru": 0, "be": 1, "uk": 2}[lang]
        table = MALE if self.sex == "m" else FEMALE
        given = table[self.given][li]
        pat = None
        if self.father is not None and self.father in PATRONYMICS:
            pat = PATRONYMICS[self.father][2 * li + (0 if self.sex == "m" else 1)]
        sur = SURNAMES[self.surname][li]
        if self.sex == "f":
            sur = feminine(sur, lang)
        return given, pat, sur


def render(p: Person, rng: random.Random, fmt: str = "any", dims: bool = True) -> str:
    """One written form of a person: a random language, script, system and layout.

    fmt: "any" (everything, including surname only and initials), "full" (given
    name, patronymic and surname, no initials), "gs" (given name and surname, no
    initials). dims=False never uses a diminutive.
    """
    lang = rng.choice(["ru", "ru", "be", "uk"])
    given, pat, sur = p.forms(lang)
    table = MALE if p.sex == "m" else FEMALE
    entry = table[p.given]
    latin = rng.random() < 0.6
    system = rng.choice(LANG_SYSTEMS[lang])
    if dims and rng.random() < 0.12 and entry[4]:
        given = rng.choice(entry[4])  # diminutive
    use_equiv = latin and entry[3] and rng.random() < 0.15

    def rom(w: str) -> str:
        return romanise(w, system) if latin else w

    g = rng.choice(entry[3]) if use_equiv else rom(given)
    s = rom(sur)
    if rng.random() < 0.06:
        s = typo(s, rng)
    pt = rom(pat) if pat else None
    if fmt == "full" and pt:
        return rng.choice([f"{g} {pt} {s}", f"{s} {g} {pt}", f"{s.upper()} {g} {pt}", f"{s}, {g} {pt}"])
    if fmt in ("gs", "full"):
        return rng.choice([f"{g} {s}", f"{g} {s}", f"{s} {g}", f"{s}, {g}", f"{g} {s.upper()}"])
    x = rng.random()
    if x < 0.05:
        return s  # surname only
    if x < 0.12:
        gi = g[0] + "."
        pi = (pt[0] + ".") if pt else ""
        return rng.choice([f"{s} {gi}{pi}", f"{gi} {pi} {s}".replace("  ", " "), f"{gi}{pi} {s}"])
    if x < 0.35 and pt:
        return rng.choice([f"{g} {pt} {s}", f"{s} {g} {pt}", f"{s.upper()} {g} {pt}", f"{s}, {g} {pt}"])
    if x < 0.45 and pt:
        return f"{s} {g[0]}. {pt[0]}."
    return rng.choice([f"{g} {s}", f"{g} {s}", f"{s} {g}", f"{s}, {g}", f"{g} {s.upper()}"])


def make_dev(n_persons: int = 1500, seed: int = 7) -> list[dict[str, object]]:
    rng = random.Random(seed)
    random.seed(seed)
    rows: list[dict[str, object]] = []

    def person(sex: str | None = None) -> Person:
        sex = sex or rng.choice("mf")
        n = len(MALE) if sex == "m" else len(FEMALE)
        return Person(sex, rng.randrange(n), rng.choice(list(PATRONYMICS)), rng.randrange(len(SURNAMES)))

    def add(a: str, b: str, same: bool, kind: str) -> None:
        if a.strip() and b.strip():
            rows.append({"a": a, "b": b, "same": same, "kind": kind})

    def full(p: Person) -> str:
        return render(p, rng, "gs" if rng.random() < 0.5 else "full")

    def with_parts(p: Person, need_pat: bool, dims: bool = True) -> str:
        return render(p, rng, "full" if need_pat else "gs", dims)

    for _ in range(n_persons):
        p = person()
        add(render(p, rng), render(p, rng), True, "variant")
        add(full(p), full(p), True, "variant-full")
    for _ in range(n_persons // 3):
        p = person()
        # same surname, different given name (same sex)
        n = len(MALE) if p.sex == "m" else len(FEMALE)
        q = Person(p.sex, (p.given + rng.randrange(1, n)) % n, p.father, p.surname)
        add(with_parts(p, False), with_parts(q, False), False, "same-surname")
        # same given + patronymic, different surname
        r = Person(p.sex, p.given, p.father, (p.surname + rng.randrange(1, len(SURNAMES))) % len(SURNAMES))
        add(with_parts(p, True), with_parts(r, True), False, "same-given-patronymic")
        # namesake with another patronymic
        fathers = [f for f in PATRONYMICS if f != p.father]
        t = Person(p.sex, p.given, rng.choice(fathers), p.surname)
        add(with_parts(p, True), with_parts(t, True), False, "other-patronymic")
        # husband and wife
        h = Person("m", rng.randrange(len(MALE)), p.father, p.surname)
        w = Person("f", rng.randrange(len(FEMALE)), rng.choice(list(PATRONYMICS)), p.surname)
        add(with_parts(h, False), with_parts(w, False), False, "husband-wife")
        # father and son
        fathers_with_pat = [f for f in PATRONYMICS if f < len(MALE)]
        fa = rng.choice(fathers_with_pat)
        son_given = rng.choice([i for i in range(len(MALE)) if i != fa])
        father = Person("m", fa, rng.choice(list(PATRONYMICS)), p.surname)
        son = Person("m", son_given, fa, p.surname)
        add(with_parts(father, False), with_parts(son, True), False, "father-son")
        # look-alike surnames
        fam = rng.choice(FAMILIES)
        s1, s2 = rng.sample(fam, 2)
        add(
            with_parts(Person(p.sex, p.given, p.father, s1), False),
            with_parts(Person(p.sex, p.given, p.father, s2), False),
            False,
            "similar-surname",
        )
    for _ in range(n_persons // 4):
        mi, fi = rng.choice(GENDER_TWINS)
        s = rng.randrange(len(SURNAMES))
        f = rng.choice(list(PATRONYMICS))
        add(
            with_parts(Person("m", mi, f, s), False, dims=False),
            with_parts(Person("f", fi, f, s), False, dims=False),
            False,
            "gender-twin",
        )
        add(render(person(), rng), render(person(), rng), False, "random")
    return rows


def hand_rows(path: Path = HAND) -> list[dict[str, object]]:
    """Pairs of the hand-made set (format described at the top of names_hand.txt)."""
    rows: list[dict[str, object]] = []
    ref: str | None = None
    previous: tuple[str, str] | None = None  # (kind, name) of the last variant of this person
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("@"):
            ref, previous = line[1:].strip(), None
            continue
        sign = line[0] if line[0] in "+-" else ""
        kind, sep, rest = line.lstrip("+-").partition(":")
        kind, rest = kind.strip(), rest.strip()
        if not sep or not kind or not rest:
            raise SystemExit(f"{path}:{number}: cannot read {line!r}")
        if "|" in rest:
            a, b = (x.strip() for x in rest.split("|", 1))
            rows.append({"a": a, "b": b, "same": sign != "-", "kind": kind})
            continue
        if ref is None:
            raise SystemExit(f"{path}:{number}: a variant before any @ person")
        rows.append({"a": ref, "b": rest, "same": sign != "-", "kind": kind})
        if sign != "-":
            # Parts of a double surname (kind "double") are not paired with each other.
            if previous is not None and not (kind == previous[0] == "double"):
                rows.append({"a": previous[1], "b": rest, "same": True, "kind": "cross"})
            previous = (kind, rest)
    return rows


def evaluate(rows: list[dict[str, object]]) -> dict[str, object]:
    """Precision, recall, F1 of the engine's own decision, accuracy by kind, the errors."""
    from svidok.names import score_pairs

    results = score_pairs((str(r["a"]), str(r["b"])) for r in rows)
    tp = fp = fn = 0
    by_kind: dict[str, list[int]] = {}
    errors: list[tuple[str, str, str, float]] = []
    for r, (score, same) in zip(rows, results, strict=True):
        k = by_kind.setdefault(str(r["kind"]), [0, 0, int(bool(r["same"]))])
        k[0] += 1
        k[1] += int(same == r["same"])
        tp += int(same and bool(r["same"]))
        fp += int(same and not r["same"])
        fn += int(not same and bool(r["same"]))
        if same != r["same"]:
            errors.append((str(r["kind"]), str(r["a"]), str(r["b"]), score))
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    n_pos = sum(1 for r in rows if r["same"])
    return {
        "pairs": len(rows),
        "same": n_pos,
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "by_kind": by_kind,
        "errors": errors,
    }


def kinds_table(result: dict[str, object]) -> str:
    by_kind = result["by_kind"]
    assert isinstance(by_kind, dict)
    lines = []
    for kind, (n, good, same) in sorted(by_kind.items(), key=lambda kv: (-kv[1][2], kv[0])):
        what = "recall" if same else "kept apart"
        lines.append(f"| {kind} | {'same' if same else 'different'} | {n} | {good / n:.3f} ({what}) |")
    return "\n".join(lines)


def show_hand() -> None:
    sys.path.insert(0, str(ROOT.parent / "src"))
    result = evaluate(hand_rows())
    print(
        f"hand set: {result['pairs']} pairs, {result['same']} same: precision {result['precision']:.4f} "
        f"recall {result['recall']:.4f} F1 {result['f1']:.4f}"
    )
    print(kinds_table(result))
    errors = result["errors"]
    assert isinstance(errors, list)
    for kind, a, b, score in errors:
        print(f"  {kind:16} {score:.3f}  {a}  |  {b}")


def write_jsonl(path: Path, rows: list[dict[str, object]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")


def make_pairs(n_pairs: int = 1_000_000, n_names: int = 50_000, seed: int = 11) -> None:
    """A large pair file: variants of persons, half related pairs, half random."""
    rng = random.Random(seed)
    random.seed(seed)
    persons = [Person(rng.choice("mf"), 0, None, 0) for _ in range(n_names // 4)]
    for p in persons:
        n = len(MALE) if p.sex == "m" else len(FEMALE)
        p.given, p.father, p.surname = (
            rng.randrange(n),
            rng.choice(list(PATRONYMICS)),
            rng.randrange(len(SURNAMES)),
        )
    names: list[list[str]] = []
    seen: set[str] = set()
    while len(seen) < n_names:
        p = rng.choice(persons)
        text = render(p, rng)
        if rng.random() < 0.5:
            text = text + " " * rng.randrange(1, 3)  # distinct strings, same name
        if text in seen:
            continue
        seen.add(text)
        names.append([text, str(id(p))])
    by_person: dict[str, list[str]] = {}
    for text, pid in names:
        by_person.setdefault(pid, []).append(text)
    groups = [g for g in by_person.values() if len(g) > 1]
    flat = [t for t, _ in names]
    with PAIRS.open("w", encoding="utf-8") as fh:
        for i in range(n_pairs):
            if i % 2 and groups:
                g = rng.choice(groups)
                a, b = rng.sample(g, 2)
            else:
                a, b = rng.choice(flat), rng.choice(flat)
            fh.write(json.dumps({"a": a, "b": b}, ensure_ascii=False) + "\n")


def run() -> None:
    sys.path.insert(0, str(ROOT.parent / "src"))
    from svidok.names import ENGINE_VERSION, THRESHOLD

    rows = [json.loads(line) for line in DEV.open(encoding="utf-8")]
    dev = evaluate(rows)
    precision, recall, f1 = float(dev["precision"]), float(dev["recall"]), float(dev["f1"])  # type: ignore[arg-type]
    n_pos = sum(1 for r in rows if r["same"])
    n_hard = sum(1 for r in rows if not r["same"] and r["kind"] != "random")
    print(f"dev set: {len(rows)} pairs, {n_pos} same, {len(rows) - n_pos} different ({n_hard} hard)")
    print(f"precision {precision:.4f} recall {recall:.4f} F1 {f1:.4f} at threshold {THRESHOLD}")
    kinds = kinds_table(dev)
    hand = evaluate(hand_rows())
    h_p, h_r, h_f1 = float(hand["precision"]), float(hand["recall"]), float(hand["f1"])  # type: ignore[arg-type]
    print(f"hand set: {hand['pairs']} pairs, {hand['same']} same: P {h_p:.4f} R {h_r:.4f} F1 {h_f1:.4f}")
    hand_kinds = kinds_table(hand)
    hand_errors = "\n".join(
        f"| {kind} | {a} | {b} | {score:.2f} |"
        for kind, a, b, score in hand["errors"]  # type: ignore[attr-defined]
    )

    pairs = [json.loads(line) for line in PAIRS.open(encoding="utf-8")]
    tuples = [(p["a"], p["b"]) for p in pairs]
    distinct = len({t for pair in tuples for t in pair})
    # Interleaved rounds (engine cold, engine warm, CLI end to end) so that the ratios
    # hold on a shared machine; the best round of each is the figure.
    colds: list[float] = []
    warms: list[float] = []
    clis: list[float] = []
    loads: list[str] = []
    for _ in range(ROUNDS):
        loads.append(_load())
        cold, warm = _engine_rates(tuples)
        colds.append(cold)
        warms.append(warm)
        clis.append(_cli_rate(len(tuples)))
        print(f"round: engine cold {cold:,.0f}, warm {warm:,.0f}, CLI {clis[-1]:,.0f} pairs/s ({loads[-1]})")
    rate_cold, rate_warm, rate_cli = max(colds), max(warms), max(clis)
    load_after = _load()
    rounds = "\n".join(
        f"| {i + 1} | {c:,.0f} | {w:,.0f} | {x:,.0f} | {x / c:.2f} | {ld} |"
        for i, (c, w, x, ld) in enumerate(zip(colds, warms, clis, loads, strict=True))
    )
    command = ".venv/bin/python bench/bench_names.py run"
    record("names", "dev F1", round(f1, 4), "", goal=">= 0.95", met=f1 >= 0.95, command=command)
    record("names", "dev precision", round(precision, 4), "", command=command)
    record("names", "dev recall", round(recall, 4), "", command=command)
    record("names", "hand-made set F1", round(h_f1, 4), "", goal=">= 0.95", met=h_f1 >= 0.95, command=command)
    record("names", "hand-made set precision", round(h_p, 4), "", command=command)
    record("names", "hand-made set recall", round(h_r, 4), "", command=command)
    record(
        "names",
        "svidok names score end to end",
        round(rate_cli),
        "pairs/s (CPU, one core)",
        goal=">= 100000",
        met=rate_cli >= 100_000,
        command=command,
        note=f"best of {ROUNDS} interleaved rounds; load {', '.join(loads)}",
    )
    record("names", "engine cold (score_pairs)", round(rate_cold), "pairs/s (CPU, one core)", command=command)
    record("names", "engine warm (keys cached)", round(rate_warm), "pairs/s (CPU, one core)", command=command)
    record(
        "names",
        "CLI / engine cold",
        round(rate_cli / rate_cold, 3),
        "ratio",
        goal=">= 0.8",
        met=rate_cli / rate_cold >= 0.8,
        command=command,
    )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        f"""# Name engine benchmark ({ENGINE_VERSION})

Produced by `.venv/bin/python bench/bench_names.py run` (after `make-dev` and `make-pairs`),
one process, one core; {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.machine()},
{os.cpu_count()} cores shared with other engineers' jobs, Python {platform.python_version()}.

## Development set (`bench/data/names_dev.jsonl`)

{len(rows)} pairs: {n_pos} same person, {len(rows) - n_pos} different ({n_hard} hard negatives).
Decision: the engine's own `same` at its threshold {THRESHOLD}.

| precision | recall | F1 |
| --- | --- | --- |
| {precision:.4f} | {recall:.4f} | {f1:.4f} |

Accuracy by kind of pair (for kinds of the same person this is the recall of that kind;
for kinds of different persons, the share kept apart):

| kind | truth | pairs | accuracy |
| --- | --- | --- | --- |
{kinds}

## Hand-made set (`bench/data/names_hand.txt`)

Written by hand from linguistic knowledge, not by the generator above and not from the
engine's tables: {len(hand["by_kind"])} kinds, {hand["pairs"]} pairs, {hand["same"]} of the same person
(fictional combinations of common names). Each person has a reference form and published
variants (English press and Wikipedia, BGN/PCGN, ICAO, ISO 9, German, French, Polish and
Czech Wikipedia spellings, the Belarusian and Ukrainian national systems, Łacinka, the
Belarusian or Ukrainian Cyrillic form against the Russian, no patronymic, initials, surname
first, diminutives, double surnames, typos, ё/е/є, apostrophes), each variant is also paired
with the one before it ("cross": two foreign-language labels of one person), and hard
negatives (same surname, same given name and patronymic, husband and wife, father and son,
another patronymic, look-alike surname, the other gender).

| precision | recall | F1 |
| --- | --- | --- |
| {h_p:.4f} | {h_r:.4f} | {h_f1:.4f} |

| kind | truth | pairs | accuracy |
| --- | --- | --- | --- |
{hand_kinds}

Errors left (`.venv/bin/python bench/bench_names.py hand` lists them):

| kind | A | B | score |
| --- | --- | --- | --- |
{hand_errors}

## Speed (`bench/data/names_pairs.jsonl`)

{len(tuples):,} pairs over {distinct:,} distinct names. Rates are pairs per second of CPU
time of one process (user + system), in {ROUNDS} interleaved rounds:

- engine cold: `score_pairs` with every name parsed and keyed inside the timing;
- engine warm: the same pairs again, keys cached;
- CLI: `svidok names score --input bench/data/names_pairs.jsonl --output ...` as its own
  process, end to end (process start, imports, JSON in and out, keys computed once per
  distinct name).

| round | engine cold | engine warm | CLI end to end | CLI / cold | load average (1, 5, 15 min) before the round |
| --- | --- | --- | --- | --- | --- |
{rounds}

Best rounds: engine cold {rate_cold:,.0f}, warm {rate_warm:,.0f}, **CLI {rate_cli:,.0f} pairs/s**
(goal 100,000). Load average after the run: {load_after}. CPU time still inflates under
load (two cores shared with several engineers: caches and hyper-threads are shared), so
the CLI / engine ratio is the figure that carries over between runs.

`names_pairs.jsonl` (69 MB) is not committed: `make-pairs` regenerates it (seeded).

### Round of 2026-12-08: column-wise batch scoring

Where the time went at e059217 (cProfile, and timing each phase alone in one process):
of about 7 s of CPU, parsing the lines 1.0 s, keying the 50,000 distinct names 2.1 s,
and scoring 3.8 s, of which most was one Python call chain per distinct pair of names
(588,703 of them) and a dict look-up per line. What was done (same output, byte for byte,
on the 1M-pair file; same dev and hand-made figures):

- `PairScorer` (now `names/batch.py`) scores a batch column-wise with numpy. A name with
  one reading becomes the numbers of its surname, given-name and patronymic parts, which
  names share (3,460 distinct surnames, 989 given names, 766 patronymics in this file), so
  296,701 distinct pairs of surnames, 164,936 of given names and 42,431 of patronymics are
  compared (each once, remembered across batches in sorted numpy arrays), and the score
  is computed once per distinct combination of the three similarities and a gender clash
  (787 here), with `_compare_parse`'s own operations in its order. Names with two
  readings or none (234 here) go pair by pair through `_best`, as before.
- The CLI reads 1 MB blocks (parsed while still in the CPU cache: `map(orjson.loads)`,
  `itemgetter` columns and type checks in C instead of Python loops), gathers plain lines
  into batches of 100,000 for the scorer, and renders each distinct result's tail once
  (`PairScorer.score_codes` gives result numbers).
- `keys._parts` is cached (names share their parts); list comprehensions in
  `parse_cleaned`.

Interleaved before (e059217) / after (f86466f) on the whole file, each `svidok names
score` as its own process (the before side as `PYTHONPATH=<export of e059217>/src`),
in the same minutes, CPU time of the child (user + system); load 8-10 from other
engineers' jobs, so both sides are inflated:

| round | load (1, 5, 15 min) | before: CPU s | pairs/s | after: CPU s | pairs/s | after / before |
| --- | --- | --- | --- | --- | --- | --- |
| 1 | 8.90, 9.24, 9.21 | 21.28 | 46,990 | 9.45 | 105,821 | 0.44 |
| 2 | 9.91, 9.53, 9.32 | 16.00 | 62,516 | 8.19 | 122,097 | 0.51 |
| 3 | 7.97, 9.09, 9.19 | 14.70 | 68,008 | 8.49 | 117,755 | 0.58 |

A single run of d4563d2 (the scorer and CLI changes above without the last two small\nones) at load 5.4 took 6.21 s of CPU (161,000 pairs/s). The `run` above (01:37 UTC, code of f86466f, load
5.4-6.5) is the recorded figure: CLI best round 145,751 pairs/s (rounds 129,738-145,751).

Instruction counts (`valgrind --tool=callgrind .venv/bin/python -c "from svidok.cli import
main; main()" names score --input F --output O`, deterministic whatever the load): the
whole 1M-pair file 39.1 G at e059217, 30.3 G at f86466f (-22 %); its first 200,000 pairs
19.1 G at e059217, 18.2 G at d4563d2 (-5 %: those pairs already hold 49,945 of the 50,000
names, so keying, which this round barely touched, dominates them); a one-line file 1.23 G
and 1.49 G (start-up: numpy's import costs 0.26 G, about 0.09 s). CPU time fell far more
than instructions (0.44-0.58 against 0.78): the old per-pair path was dict look-ups in
tables of hundreds of thousands of entries and many short-lived objects, costs of memory
and cache rather than of instructions, which a loaded machine inflates most. What is left
(timed alone at load 5-10): parsing 0.8-0.9 s, keying the names 2.1-2.3 s (0.85 s of it
the 5,075 distinct words' analysis: readings under six romanisation systems, given-name
look-up with typo tolerance), the scorer's look-up of each line's two names 0.8-1.4 s,
the part comparisons 0.6-0.9 s.

### Round of 2026-11-22

Where the CLI's time went and what was done (2026-11-22): the file has 652,431 distinct
raw pairs, 649,482 distinct pairs of keyed names and 588,703 unordered ones, so
`PairScorer` now scores each distinct unordered pair once (the score is symmetric, which
the hostile tests check) and skips building explanations in batch; role templates are
scored once per pattern of word features instead of once per name; Latin reading rules
whose literal is absent are skipped; the CLI keeps each line's head in one pass and
imports rich only to print. Instruction counts (valgrind, deterministic) of the CLI on
the first 200,000 pairs: 24.7 G at 81c3d89, 20.1 G at 4e2b87d, 19.1 G at 69cd378 (-22 %); a one-line file costs 2.0 G
(start, imports, the given-name registry). Engine cold also clears the parse caches
added this round (`_features`, `_choose`).

CPU time per pair varies by ±20 % between runs on this shared virtual machine even at
a 1-minute load below 1 (engine cold alone ranged 97k-183k on unchanged code), so every
run of this round is listed (best CLI round of 3, its range, load before the rounds):

| time (UTC) | commit | CLI best | CLI rounds | engine cold best | load (1 min) |
| --- | --- | --- | --- | --- | --- |
| 04:37 | 8142f0a (before) | 87,489 | 79,514-87,489 | 146,897 | 0.48-0.77 |
| 06:16 | b0395b9 | 94,582 | 77,137-94,582 | 135,661 | 3.47-5.31 |
| 06:19 | b0395b9 | 106,225 | 94,088-106,225 | 183,219 | 1.69-2.16 |
| 06:23 | c671800 | 102,119 | 90,826-102,119 | 173,457 | 1.05-1.11 |
| 06:26 | 082baa0 | 97,578 | 77,041-97,578 | 162,023 | 0.82-0.92 |
| 06:28 | ee96402 | 97,246 | 85,102-97,246 | 162,082 | 0.71-0.88 |
| 06:29 | ee96402 | 97,311 | 88,446-97,311 | 155,504 | 0.73-0.89 |
| 06:35 | 69cd378 | 85,171 | 75,847-85,171 | 134,215 | 0.48-1.45 |
| 06:41 | 69cd378 | 83,408 | 69,042-83,408 | 149,679 | 2.47-2.72 |
| 06:47 | 69cd378 (the run above) | 84,433 | 76,001-84,433 | 134,141 | 0.16-0.67 |

Interleaved with the code from before this round (81c3d89) in the same minutes (load
2.7-3.1), the CLI took 14.1 / 14.0, 15.2 / 11.6 and 12.6 / 10.6 s of CPU (before / after).
""",
        encoding="utf-8",
    )


ROUNDS = 3


def _load() -> str:
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


def _engine_rates(tuples: list[tuple[str, str]]) -> tuple[float, float]:
    from svidok.names import score_pairs
    from svidok.names.keys import _keys_cleaned, _part, _parts, name_keys
    from svidok.names.parse import _choose, _features, _token, _word, parse_cleaned
    from svidok.names.tokens import analyse

    for cached in (
        name_keys,
        _keys_cleaned,
        _part,
        _parts,
        _token,
        _word,
        parse_cleaned,
        analyse,
        _features,
        _choose,
    ):
        cached.cache_clear()  # cold: every name and token analysed inside the timing
    start = time.process_time()
    score_pairs(tuples)
    cold = time.process_time() - start
    start = time.process_time()
    score_pairs(tuples)
    warm = time.process_time() - start
    return len(tuples) / cold, len(tuples) / warm


def _cli_rate(n: int) -> float:
    out_path = ROOT / "data" / "names_pairs_scored.jsonl"
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    code = "from svidok.cli import main; main()"
    args = ["names", "score", "--input", str(PAIRS), "--output", str(out_path)]
    subprocess.run([sys.executable, "-c", code, *args], check=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    out_path.unlink()
    return n / ((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime))


def main() -> None:
    cmd = sys.argv[1] if len(sys.argv) > 1 else "run"
    if cmd == "make-dev":
        rows = make_dev()
        write_jsonl(DEV, rows)
        print(f"wrote {len(rows)} pairs to {DEV}")
    elif cmd == "make-pairs":
        make_pairs()
        print(f"wrote {PAIRS}")
    elif cmd == "hand":
        show_hand()
    elif cmd == "run":
        run()
    else:
        raise SystemExit(f"unknown command {cmd!r}; use make-dev, make-pairs or run")


if __name__ == "__main__":
    main()
