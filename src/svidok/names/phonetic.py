"""Phonetic skeletons: fold what transliteration and the three languages vary.

From a phoneme string (see `readings`) two skeletons are made:

* the *fine* skeleton keeps five vowel classes: A (a, o: Belarusian akanne writes
  unstressed o as a), E (e, э, є, and ё/е after a soft consonant, so Kovalyov =
  Kovalev), Y (я after a consonant, and ия: Юлия = Yulia = Iuliia), I (и, ы, і,
  y), U (у, ю); it keeps Евгения (…Y) apart from Eugene (…E);
* the *coarse* skeleton merges I and Y into E: Святлана = Светлана, and
  Ukrainian і for Russian е or и; an initial я is read as е (Ягораў = Егоров);
  з and с are one letter (German s is either: Kusnezow = Кузнецов), and so are ж
  and ш (German sch is either: Schukow = Жуков); л between a
  vowel and a consonant is в (Волков = Ваўкоў = Вовков); Belarusian у before a
  consonant at the start is в (Уласаў = Власов), and Belarusian в between а and у
  is dropped (Навумаў = Наумов).

Consonants fold г/ґ/h/х/g into G (Hennadiy = Gennady, Mikhail = Michail), ў/w into
v, дз into d (Дзмітрый = Дмитрий), ц before a front vowel into t (Ціханоўская =
Тихановская; not the Ukrainian soft ць: Швець = Швец), doubled letters into one.
After ш ж ч ц every a/o/e is A (Шевченко = Шаўчэнка, Чёрный = Чорний). Word-initial
я/ю/ё keep a J (Яна is not Анна); other iotation and soft signs are dropped, and a run
of vowels keeps its first class (Юлия = Yulia = Iuliia, Андреев = Andreyev).
"""

from __future__ import annotations

import re
from functools import lru_cache

__all__ = ["coarse", "fine", "skeletons"]

_CONS_MAP = {"g": "G", "h": "G", "X": "G", "w": "v", "q": "k", "x": "G"}
_SIBILANTS = frozenset("SZCc")
_VOWELS = frozenset("aeiouy")
_PRE = (
    (re.compile("dz"), "d"),
    (re.compile("dZ"), "Z"),
    (re.compile("ts"), "c"),
    (re.compile("kh"), "X"),
    # ц before a front vowel is т (Ціханоўская = Тихановская), but not the Ukrainian soft ць
    # (Швець = Швец, Горобець = Gorobets, Цьомик = Tsomyk)
    (re.compile("c(?=j|[iey])"), "t"),
)


@lru_cache(maxsize=400_000)
def fine(phon: str) -> str:
    """The fine skeleton of a phoneme string."""
    for pattern, repl in _PRE:
        if pattern.pattern[0] in phon:
            phon = pattern.sub(repl, phon)
    out: list[str] = []
    prev_cons = ""  # last consonant when the previous symbol was a consonant
    soft = False
    last_vowel = False
    if len(phon) > 1 and phon[0] == "j" and phon[1] in "aou":
        out.append("J")  # initial я ю ё stay apart from а у о: Яна is not Анна
        phon = phon[1:]
    for ch in phon:
        if ch == "'" or ch == "j":
            if prev_cons:
                soft = True
            continue
        if ch in _VOWELS:
            if prev_cons in _SIBILANTS:
                cls = "U" if ch == "u" else ("I" if ch in "iy" else "A")
            elif ch == "u":
                cls = "U"
            elif ch in "iy":
                cls = "I"
            elif ch == "a" and soft:
                cls = "Y"
            elif ch == "e" or soft:
                cls = "E"
            else:
                cls = "A"
            if last_vowel:
                if out[-1] == "I" and cls != "I":
                    out[-1] = "Y" if cls in "AY" else "E"  # ия, ія, iya: Юлия = Yulia
            else:
                out.append(cls)
            last_vowel = True
            prev_cons = ""
            soft = False
            continue
        cons = _CONS_MAP.get(ch, ch)
        if not out or out[-1] != cons:
            out.append(cons)
        prev_cons = cons
        soft = False
        last_vowel = False
    return "".join(out)


@lru_cache(maxsize=400_000)
def coarse(fine_skel: str) -> str:
    """The coarse skeleton (I merged into E) of a fine skeleton."""
    if fine_skel.startswith("JA"):
        fine_skel = "E" + fine_skel[2:]  # Belarusian Ягораў for Егоров
    elif fine_skel[:1] == "U" and fine_skel[1:2] not in ("", *"AEIUYJ"):
        fine_skel = "v" + fine_skel[1:]  # Belarusian у for в before a consonant: Уласаў = Власов
    if "AvU" in fine_skel:
        fine_skel = fine_skel.replace("AvU", "AU")  # Belarusian в between а and у: Навумаў = Наумов
    out: list[str] = []
    for ch in fine_skel.replace("I", "E").replace("Y", "E").replace("z", "s").replace("Z", "S"):
        if out and out[-1] == ch or ch in "AEU" and out and out[-1] in "AEU":
            continue
        out.append(ch)
    # л before a consonant is ў/в in Belarusian and Ukrainian: Волков = Ваўкоў = Вовков
    for i in range(1, len(out) - 1):
        if out[i] == "l" and out[i - 1] in "AEU" and out[i + 1] not in "AEU":
            out[i] = "v"
            if out[i + 1] == "v":
                out[i + 1] = ""  # a typo's лв: Гаврилвоа
    return "".join(out)


def skeletons(phon: str) -> tuple[str, str]:
    """(fine, coarse) skeletons of a phoneme string."""
    f = fine(phon)
    return f, coarse(f)
