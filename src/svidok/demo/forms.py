"""How a source writes a person's name: script, transliteration, order, initials, typos.

`render_name` turns a true identity into the raw name one testimony uses: the
Belarusian, Russian or Ukrainian Cyrillic form, or a Latin spelling (passport,
BGN/PCGN, ISO 9, Łacinka, Polish, German, ad-hoc English); surname first or
last, upper-case surname, initials, no patronymic, a diminutive, only the
surname after a rank, and now and then a one-letter typo. It also returns a
short tag naming the form, for benchmark breakdowns.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from svidok.demo.people import Identity
from svidok.demo.translit import transliterate

# (weight, cyrillic language: "native" or a code, latin scheme or None, given-name form)
_SCRIPT_CHOICES: dict[str, tuple[tuple[float, str, str | None, str | None], ...]] = {
    "be": ((80, "be", None, None), (12, "ru", None, None), (8, "be", "lacinka", None)),
    "ru": ((84, "ru", None, None), (16, "native", None, None)),
    "uk": ((85, "uk", None, None), (15, "ru", None, None)),
    "pl": (
        (35, "native", "polish", None),
        (20, "ru", "polish", "pl"),
        (25, "be", "lacinka", None),
        (20, "be", "by_national", None),
    ),
    "en": (
        (28, "native", "icao", None),
        (18, "ru", "bgn", None),
        (22, "ru", "english", "en"),
        (6, "ru", "iso9", None),
        (6, "ru", "german", None),
        (12, "be", "by_national", None),
        (8, "ru", "english", None),
    ),
}

_CIVILIAN = (
    ("GPS", 18),
    ("SGP", 18),
    ("SURNAME_GP", 6),
    ("S_GP.", 9),
    ("GP._S", 4),
    ("GS", 20),
    ("SG", 8),
    ("DS", 5),
    ("D", 3),
    ("S_G.", 4),
    ("G._S", 5),
)
_OFFICER = (
    ("S", 30),
    ("S_GP.", 12),
    ("SGP", 14),
    ("GPS", 7),
    ("GS", 10),
    ("SURNAME_GP", 8),
    ("G._S", 7),
    ("S_G.", 6),
    ("SG", 6),
)
_DIGRAPHS = ("Zh", "Ch", "Sh", "Kh", "Ts", "Ya", "Yu", "Ye", "Ia", "Iu", "Sz", "Cz", "Sch")
TYPO_RATE = 0.06


@dataclass(frozen=True)
class Rendered:
    """A raw name as written, and the tag of the form used."""

    text: str
    form: str


def _pick(rng: random.Random, options: tuple[tuple[str, float], ...]) -> str:
    names, weights = zip(*options, strict=True)
    return str(rng.choices(names, weights)[0])


def _initial(part: str, rng: random.Random) -> str:
    for digraph in _DIGRAPHS:
        if part.startswith(digraph) and rng.random() < 0.5:
            return digraph + "."
    return part[:1] + "."


def _arrange(pattern: str, g: str, p: str, s: str, d: str, rng: random.Random) -> str:
    if pattern == "GPS":
        return f"{g} {p} {s}"
    if pattern == "SGP":
        return f"{s} {g} {p}"
    if pattern == "SURNAME_GP":
        return f"{s.upper()} {g} {p}"
    if pattern == "S_GP.":
        return f"{s} {_initial(g, rng)} {_initial(p, rng)}"
    if pattern == "GP._S":
        return f"{_initial(g, rng)} {_initial(p, rng)} {s}"
    if pattern == "GS":
        return f"{g} {s}"
    if pattern == "SG":
        return f"{s} {g}"
    if pattern == "DS":
        return f"{d} {s}"
    if pattern == "D":
        return d
    if pattern == "S_G.":
        return f"{s} {_initial(g, rng)}"
    if pattern == "G._S":
        return f"{_initial(g, rng)} {s}"
    return s


def typo(text: str, rng: random.Random) -> str:
    """One-letter substitution, deletion, doubling or transposition inside a word."""
    spots = [i for i in range(1, len(text) - 1) if text[i].isalpha() and text[i - 1].isalpha()]
    if not spots:
        return text
    i = rng.choice(spots)
    kind = rng.randrange(4)
    if kind == 0:
        letters = [c for c in text.lower() if c.isalpha() and c != text[i].lower()]
        return text[:i] + (rng.choice(letters) if letters else "") + text[i + 1 :]
    if kind == 1:
        return text[:i] + text[i + 1 :]
    if kind == 2:
        return text[:i] + text[i] + text[i:]
    return text[: i - 1] + text[i] + text[i - 1] + text[i + 1 :]


def render_name(ident: Identity, lang: str, rng: random.Random, *, officer: bool = False) -> Rendered:
    """The raw name a testimony in `lang` gives for `ident`."""
    options = _SCRIPT_CHOICES[lang]
    weights = [o[0] for o in options]
    _, cyr, scheme, given_form = rng.choices(options, weights)[0]
    src = ident.native if cyr == "native" else cyr
    g, p, s = ident.given_in(src), ident.patronymic_in(src), ident.surname_in(src)
    dims = ident.given_name.diminutives.get(src) or (g,)
    d = rng.choice(dims)
    if scheme is not None:
        g, p, s, d = (transliterate(x, scheme, src) for x in (g, p, s, d))
        if given_form is not None:
            g = ident.given_in(given_form)
            if given_form == "pl":
                d = rng.choice(ident.given_name.diminutives.get("pl") or (g,))
    pattern = _pick(rng, _OFFICER if officer else _CIVILIAN)
    if lang in ("en", "pl") and "P" in pattern and rng.random() < 0.6:
        pattern = "GS" if pattern.startswith("G") else "SG"
    text = _arrange(pattern, g, p, s, d, rng)
    tag = f"{lang}:{scheme or 'cyr-' + src}:{pattern}"
    if rng.random() < TYPO_RATE:
        text, tag = typo(text, rng), tag + ":typo"
    return Rendered(text=text, form=tag)
