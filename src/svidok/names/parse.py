"""Tokenising a personal name and deciding which token plays which role.

Handles given-first and surname-first order, "Surname, Given Patronymic" comma
forms, capitalised surnames (КОВАЛЁВ Александр), initials with or without dots
("Kovalev A.S.", "А. С. Ковалёв", "Kovalev AS"), hyphenated double names, and
names with only a surname or only a given name. Each reading of the order is
scored with what the tokens look like (known given name, patronymic suffix,
surname ending, capitals); when two readings are nearly as good, both are kept.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from functools import lru_cache

from svidok.names.normalize import MAX_TOKENS, clean, fix_homoglyphs, script_of
from svidok.names.tokens import TokenInfo, analyse

__all__ = ["ParsedName", "Token", "parse_candidates", "parse_cleaned", "parse_name", "tokenize"]

_ASCII_LETTER = re.compile("[A-Za-z]")
_DIGRAPHS = frozenset("yu ya ye yo zh ch sh kh ts ia iu ie io dz sz cz dž".split())


@dataclass(frozen=True, slots=True, eq=False)
class Token:
    """One word of a name: its lower-case text and what its spelling says."""

    text: str
    caps: bool
    initial: bool
    comma_after: bool
    parts: tuple[str, ...]  # hyphen-separated parts (one for a simple word)
    info: TokenInfo  # analysis of the first part (enough to choose roles)


@lru_cache(maxsize=200_000)
def _token(text: str, caps: bool, initial: bool, comma: bool) -> Token:
    parts = tuple(p for p in text.split("-") if p) or (text,)
    return Token(text, caps, initial, comma, parts, analyse(parts[0]))


@dataclass(frozen=True, slots=True)
class ParsedName:
    """A name split into roles. Tokens are lower case; initials are single letters.

    `raw` is the cleaned text the parse was made from.
    """

    raw: str
    given: tuple[str, ...]
    patronymic: str | None
    surname: tuple[str, ...]
    given_is_initial: bool
    patronymic_is_initial: bool
    order: str

    @property
    def empty(self) -> bool:
        return not (self.given or self.patronymic or self.surname)


def _is_initial(word: str, dotted: bool) -> bool:
    letters = word.replace("'", "")
    if len(letters) == 1:
        return True
    return dotted and len(letters) == 2 and letters.lower() in _DIGRAPHS


@lru_cache(maxsize=200_000)
def _word(word: str, several: bool) -> tuple[Token, ...]:
    """Tokens of one cleaned word ("A.S." is two initials, so is "AS" among others)."""
    comma = word.endswith(",")
    word = word.rstrip(",")
    dotted = word.endswith(".")
    core = word.replace(".", "")
    if not core.strip("-'"):
        return ()
    letters = core.replace("-", "").replace("'", "")
    caps = letters.isupper() and len(letters) > 1
    if not core.isascii() and _ASCII_LETTER.search(core) and script_of(core) == "mixed":
        core = fix_homoglyphs(core)
    low = core.lower()
    if not any(analyse(p).fines for p in low.split("-") if p):
        return ()  # no letter the engine can read (Greek, CJK, ...)
    if caps and len(letters) == 2 and not dotted and several and low not in _DIGRAPHS:
        if "-" not in core:
            # "Kovalev AS": two capital initials written together.
            return (_token(low[0], False, True, False), _token(low[1], False, True, comma))
    return (_token(low, caps, _is_initial(core, dotted), comma),)


def tokenize(raw: str) -> list[Token]:
    """Tokens of a raw name, at most MAX_TOKENS, initials split apart."""
    return _tokens_cleaned(clean(raw))


def _tokens_cleaned(text: str) -> list[Token]:
    words = text.split()
    several = len(words) > 1
    tokens: list[Token] = []
    for word in words:
        tokens.extend(_word(word, several))
    return tokens[:MAX_TOKENS]


_G, _P, _S = "given", "patronymic", "surname"


def _role_score(role: str, tok: Token, n_words: int, any_caps: bool) -> float:
    info = tok.info
    if role == _G:
        if info.given_full and not info.given_fuzzy:
            score = 3.0
        elif info.given_dim:
            score = 2.0
        elif info.given_fuzzy:
            score = 0.8
        else:
            score = -1.0
        if tok.caps and any_caps:
            score -= 2.0
        if info.sur_classes and not info.is_given:
            score -= 1.5
        if info.pat_gender and not info.is_given:
            score -= 1.5
        return score
    if role == _S:
        score = 1.5 if info.sur_shaped else 0.0
        if tok.caps and any_caps:
            score += 2.5
        if info.is_given and not info.sur_shaped:
            score -= 2.0
        if info.pat_gender == "f" and info.pat_known:
            score -= 2.5
        elif info.pat_known:
            score -= 1.0  # Petrovich may be a surname, but is more often a patronymic
        return score
    # patronymic
    if not info.pat_gender:
        return -6.0
    score = 3.0 if info.pat_known else 1.5
    if n_words == 2 and info.pat_gender == "m":
        score -= 2.5  # "Ivan Karpovich": more often a surname than a bare patronymic
    if tok.caps and any_caps:
        score -= 2.0
    return score


_TEMPLATES: dict[int, list[tuple[str, ...]]] = {
    1: [(_S,), (_G,)],
    2: [(_G, _S), (_S, _G), (_G, _P)],
    3: [(_G, _P, _S), (_S, _G, _P), (_G, _G, _S), (_S, _G, _G), (_G, _S, _S)],
    4: [(_G, _G, _P, _S), (_S, _G, _G, _P), (_G, _P, _S, _S), (_S, _S, _G, _P), (_G, _G, _S, _S)],
}


def _templates(n: int) -> list[tuple[str, ...]]:
    if n in _TEMPLATES:
        return _TEMPLATES[n]
    # Long names: one patronymic at most, the rest given or surname.
    out = []
    for roles in itertools.product((_G, _S), repeat=n):
        out.append(roles)
    return out[:64]


# Per word: (score as given name, as patronymic, as surname, gender as each of them).
_Features = tuple[tuple[float, float, float], tuple[str, str, str]]
_SLOT = {_G: 0, _P: 1, _S: 2}


@lru_cache(maxsize=200_000)
def _features(tok: Token, n_words: int, any_caps: bool) -> _Features:
    info = tok.info
    scores = (
        _role_score(_G, tok, n_words, any_caps),
        _role_score(_P, tok, n_words, any_caps),
        _role_score(_S, tok, n_words, any_caps),
    )
    return scores, (info.given_gender, info.pat_gender, info.sur_gender)


def _order_bonus(
    roles: tuple[str, ...], feats: tuple[_Features, ...], latin: bool, comma_at: int | None
) -> float:
    bonus = 0.0
    if comma_at is not None:
        before = roles[: comma_at + 1]
        after = roles[comma_at + 1 :]
        bonus += 3.0 if all(r == _S for r in before) and _S not in after else -3.0
    if roles[0] == _G and latin:
        bonus += 0.3
    if roles[0] == _S and not latin:
        bonus += 0.2
    seen = ""
    for role, feat in zip(roles, feats, strict=True):
        g = feat[1][_SLOT[role]]
        if g:
            if seen and g != seen:
                bonus -= 1.0
                break
            seen = g
    return bonus


@lru_cache(maxsize=50_000)
def _choose(feats: tuple[_Features, ...], latin: bool, comma_at: int | None) -> tuple[tuple[str, ...], ...]:
    """The best one or two role assignments for words with these features.

    Names share few distinct feature patterns ("known given name, then a surname in
    -ov"), so the templates are scored once per pattern, not once per name.
    """
    scored: list[tuple[float, tuple[str, ...]]] = []
    for roles in _templates(len(feats)):
        if roles.count(_P) > 1:
            continue
        score = sum(feat[0][_SLOT[r]] for r, feat in zip(roles, feats, strict=True))
        score += _order_bonus(roles, feats, latin, comma_at)
        scored.append((score, roles))
    scored.sort(key=lambda item: -item[0])
    best = scored[0][0]
    out = [scored[0][1]]
    if len(scored) > 1 and best - scored[1][0] <= 1.0:
        out.append(scored[1][1])
    return tuple(out)


def parse_candidates(raw: str) -> list[ParsedName]:
    """The best one or two readings of a name's order, best first."""
    return list(parse_cleaned(clean(raw)))


@lru_cache(maxsize=200_000)
def parse_cleaned(text: str) -> tuple[ParsedName, ...]:
    """`parse_candidates` of text already passed through `clean`."""
    tokens = _tokens_cleaned(text)
    raw = text
    words = [t for t in tokens if not t.initial]
    initials = [t.text.replace("'", "")[:2] for t in tokens if t.initial]
    comma_at = next((i for i, t in enumerate(words) if t.comma_after), None)
    if comma_at is not None and comma_at == len(words) - 1:
        comma_at = None if len(words) > 1 else comma_at
    caps = [t.caps for t in words]
    any_caps = any(caps) and not all(caps)
    if len(words) == 1 and initials:
        chosen: tuple[tuple[str, ...], ...] = ((_S,),)  # "Kovalev A.S.": the one word is the surname
    elif words:
        n = len(words)
        feats = tuple([_features(t, n, any_caps) for t in words])
        chosen = _choose(feats, words[0].info.latin, comma_at)
    else:
        chosen = ((),)
    return tuple([_build(raw, words, roles, initials) for roles in chosen])


def _build(raw: str, words: list[Token], roles: tuple[str, ...], initials: list[str]) -> ParsedName:
    given = [t.text for r, t in zip(roles, words, strict=True) if r == _G]
    pats = [t.text for r, t in zip(roles, words, strict=True) if r == _P]
    surname = tuple(t.text for r, t in zip(roles, words, strict=True) if r == _S)
    patronymic = pats[0] if pats else None
    given_initial = patronymic_initial = False
    rest = list(initials)
    if not given and rest:
        given = [rest.pop(0)]
        given_initial = True
    if patronymic is None and rest:
        patronymic = rest.pop(0)
        patronymic_initial = True
    order = " ".join(roles) if roles else "initials"
    return ParsedName(
        raw=raw,
        given=tuple(given),
        patronymic=patronymic,
        surname=surname,
        given_is_initial=given_initial,
        patronymic_is_initial=patronymic_initial,
        order=order,
    )


def parse_name(raw: str) -> ParsedName:
    """The most likely reading of a raw personal name."""
    return parse_candidates(raw)[0]
