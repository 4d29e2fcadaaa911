"""Small Latin renderers of Cyrillic names, written for the demo alone.

They imitate how real sources spell East Slavic names: passports (ICAO 9303 and
the Ukrainian national table), BGN/PCGN, ISO 9, Belarusian Łacinka and the
Belarusian national system, Polish and German press conventions, and ad-hoc
English. They are deliberately simple and independent of `svidok.names`: the
demo must not borrow the engine it is meant to test.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache

VOWELS = set("аеёиоуыэюяіїєў")
IOTATED = set("еёюяєї")
SOFTENING = set("ьіеёюяиєї")
BREAKERS = set("ьъ'’ʼ")


@dataclass(frozen=True, eq=False)
class Scheme:
    """A table-driven transliteration.

    `base` maps lower-case letters; `iotated` gives the word-initial/after-vowel form
    and the after-consonant form of е ё ю я є ї; `after_l` (Łacinka, Polish) the form
    of those vowels after л; `soft` maps a consonant followed by ь; `hard_l` writes a
    hard л as ł; `finals` rewrites a word ending (adjectival surnames) first.
    """

    name: str
    base: dict[str, str]
    iotated: dict[str, tuple[str, str]]
    finals: tuple[tuple[str, str], ...] = ()
    soft: dict[str, str] = field(default_factory=dict)
    after_l: dict[str, str] = field(default_factory=dict)
    hard_l: bool = False
    by_lang: dict[str, dict[str, str]] = field(default_factory=dict)
    iotated_by_lang: dict[str, dict[str, tuple[str, str]]] = field(default_factory=dict)

    def word(self, word: str, lang: str) -> str:
        lower = word.lower()
        tail = ""
        for suffix, latin in self.finals:
            if lower.endswith(suffix) and len(lower) > len(suffix) + 1:
                lower, tail = lower[: -len(suffix)], latin
                break
        base, iotated = _tables(self, lang)
        out: list[str] = []
        skip = False
        for i, ch in enumerate(lower):
            if skip:
                skip = False
                continue
            prev = lower[i - 1] if i else ""
            nxt = lower[i + 1] if i + 1 < len(lower) else ""
            if ch in iotated:
                if prev == "л" and ch in self.after_l:
                    out.append(self.after_l[ch])
                elif not prev or prev in VOWELS or prev in BREAKERS:
                    out.append(iotated[ch][0])
                else:
                    out.append(iotated[ch][1])
            elif nxt == "ь" and ch in self.soft:
                out.append(self.soft[ch])
                skip = True
            elif ch == "л" and self.hard_l:
                out.append("l" if nxt in SOFTENING else "ł")
            else:
                out.append(base.get(ch, ch))
        latin = "".join(out) + tail
        if len(word) > 1 and word.isupper():
            return latin.upper()
        if word[:1].isupper():
            return latin[:1].upper() + latin[1:]
        return latin

    def __call__(self, text: str, lang: str = "ru") -> str:
        """Transliterate `text` written in the Cyrillic of `lang` (be, ru, uk)."""
        out: list[str] = []
        word: list[str] = []
        for ch in text + " ":
            if ch.isalpha() or (ch in "'’ʼ" and word):
                word.append(ch)
                continue
            if word:
                out.append(self.word("".join(word), lang))
                word = []
            out.append(ch)
        return "".join(out)[:-1]


@cache
def _tables(scheme: Scheme, lang: str) -> tuple[dict[str, str], dict[str, tuple[str, str]]]:
    """The scheme's letter tables with the overrides for `lang` applied (computed once)."""
    base = {**scheme.base, **scheme.by_lang.get(lang, {})}
    iotated = {**scheme.iotated, **scheme.iotated_by_lang.get(lang, {})}
    return base, iotated


_COMMON = {
    "а": "a",
    "б": "b",
    "в": "v",
    "г": "g",
    "д": "d",
    "з": "z",
    "и": "i",
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
    "і": "i",
    "ў": "u",
    "ґ": "g",
    "'": "",
    "’": "",
    "ʼ": "",
    "ъ": "",
    "ь": "",
}
_EAST_UK = {"г": "h", "и": "y", "е": "e"}

ICAO = Scheme(
    "icao",
    {**_COMMON, "ж": "zh", "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh", "щ": "shch", "й": "i", "ъ": "ie"},
    {
        "е": ("e", "e"),
        "ё": ("e", "e"),
        "ю": ("iu", "iu"),
        "я": ("ia", "ia"),
        "є": ("ie", "ie"),
        "ї": ("i", "i"),
    },
    by_lang={"be": {"г": "h"}, "uk": {**_EAST_UK, "й": "i"}},
    iotated_by_lang={
        "uk": {"є": ("ye", "ie"), "ї": ("yi", "i"), "ю": ("yu", "iu"), "я": ("ya", "ia"), "е": ("e", "e")}
    },
)

BGN = Scheme(
    "bgn",
    {
        **_COMMON,
        "ж": "zh",
        "х": "kh",
        "ц": "ts",
        "ч": "ch",
        "ш": "sh",
        "щ": "shch",
        "й": "y",
        "ь": "ʹ",
        "ъ": "ʺ",
    },
    {
        "е": ("ye", "e"),
        "ё": ("yë", "ë"),
        "ю": ("yu", "yu"),
        "я": ("ya", "ya"),
        "є": ("ye", "ie"),
        "ї": ("yi", "i"),
    },
    by_lang={"be": {"г": "h", "ў": "w"}, "uk": {**_EAST_UK, "ь": "ʹ"}},
    iotated_by_lang={"be": {"е": ("ye", "ye"), "ё": ("yo", "yo")}, "uk": {"е": ("e", "e")}},
)

ISO9 = Scheme(
    "iso9",
    {
        **_COMMON,
        "ж": "ž",
        "х": "h",
        "ц": "c",
        "ч": "č",
        "ш": "š",
        "щ": "ŝ",
        "й": "j",
        "ь": "ʹ",
        "ъ": "ʺ",
        "э": "è",
        "і": "ì",
        "ў": "ŭ",
        "ґ": "g̀",
    },
    {"е": ("e", "e"), "ё": ("ë", "ë"), "ю": ("û", "û"), "я": ("â", "â"), "є": ("ê", "ê"), "ї": ("ï", "ï")},
)

LACINKA = Scheme(
    "lacinka",
    {**_COMMON, "г": "h", "ж": "ž", "х": "ch", "ц": "c", "ч": "č", "ш": "š", "щ": "šč", "й": "j", "ў": "ŭ"},
    {
        "е": ("je", "ie"),
        "ё": ("jo", "io"),
        "ю": ("ju", "iu"),
        "я": ("ja", "ia"),
        "є": ("je", "ie"),
        "ї": ("ji", "i"),
    },
    soft={"з": "ź", "с": "ś", "н": "ń", "ц": "ć", "л": "l"},
    after_l={"е": "e", "ё": "o", "ю": "u", "я": "a"},
    hard_l=True,
    by_lang={"ru": {"и": "i", "г": "h"}, "uk": {"и": "y"}},
)

BELARUS_NATIONAL = Scheme(
    "by_national",
    {
        **_COMMON,
        "г": "h",
        "ж": "ž",
        "х": "ch",
        "ц": "c",
        "ч": "č",
        "ш": "š",
        "щ": "šč",
        "й": "j",
        "ў": "ŭ",
        "ь": "'",
    },
    {
        "е": ("je", "ie"),
        "ё": ("jo", "io"),
        "ю": ("ju", "iu"),
        "я": ("ja", "ia"),
        "є": ("je", "ie"),
        "ї": ("ji", "i"),
    },
    soft={"з": "ź", "с": "ś", "н": "ń", "ц": "ć"},
    by_lang={"uk": {"и": "y"}},
)

POLISH = Scheme(
    "polish",
    {
        **_COMMON,
        "в": "w",
        "ж": "ż",
        "х": "ch",
        "ц": "c",
        "ч": "cz",
        "ш": "sz",
        "щ": "szcz",
        "й": "j",
        "и": "i",
    },
    {
        "е": ("je", "ie"),
        "ё": ("jo", "io"),
        "ю": ("ju", "iu"),
        "я": ("ja", "ia"),
        "є": ("je", "ie"),
        "ї": ("ji", "i"),
    },
    finals=(
        ("ская", "ska"),
        ("ский", "ski"),
        ("скі", "ski"),
        ("ський", "ski"),
        ("ська", "ska"),
        ("цкая", "cka"),
        ("цкий", "cki"),
        ("цкі", "cki"),
        ("цький", "cki"),
        ("цька", "cka"),
        ("ий", "ij"),
        ("ый", "y"),
        ("ая", "a"),
    ),
    soft={"з": "ź", "с": "ś", "н": "ń", "ц": "ć", "л": "l"},
    after_l={"е": "e", "ё": "o", "ю": "u", "я": "a"},
    hard_l=True,
    by_lang={"be": {"г": "h"}, "uk": {"г": "h", "и": "y", "е": "e"}},
)

GERMAN = Scheme(
    "german",
    {
        **_COMMON,
        "в": "w",
        "з": "s",
        "ж": "sch",
        "х": "ch",
        "ц": "z",
        "ч": "tsch",
        "ш": "sch",
        "щ": "schtsch",
        "й": "j",
    },
    {
        "е": ("je", "e"),
        "ё": ("jo", "jo"),
        "ю": ("ju", "ju"),
        "я": ("ja", "ja"),
        "є": ("je", "je"),
        "ї": ("ji", "i"),
    },
    finals=(
        ("ский", "ski"),
        ("ская", "skaja"),
        ("скі", "ski"),
        ("ий", "i"),
        ("ый", "y"),
        ("ей", "ei"),
        ("ой", "oi"),
    ),
    by_lang={"be": {"г": "h"}, "uk": {"г": "h", "и": "y"}},
)

ENGLISH = Scheme(
    "english",
    {**_COMMON, "ж": "zh", "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh", "щ": "shch", "й": "y"},
    {
        "е": ("ye", "e"),
        "ё": ("yo", "yo"),
        "ю": ("yu", "yu"),
        "я": ("ya", "ya"),
        "є": ("ye", "ye"),
        "ї": ("yi", "i"),
    },
    finals=(("ский", "sky"), ("ская", "skaya"), ("скі", "ski"), ("ий", "y"), ("ый", "y"), ("ей", "ei")),
    by_lang={"be": {"г": "h"}, "uk": {"г": "h", "и": "y", "е": "e"}},
)

SCHEMES: dict[str, Scheme] = {
    s.name: s for s in (ICAO, BGN, ISO9, LACINKA, BELARUS_NATIONAL, POLISH, GERMAN, ENGLISH)
}


def transliterate(text: str, scheme: str, lang: str = "ru") -> str:
    """`text` (Cyrillic of `lang`) in the Latin scheme named `scheme`."""
    return SCHEMES[scheme](text, lang)
