"""The languages of the pages: Babel message catalogues for be, ru, uk, pl and en.

Catalogues are the `.po` files under `web/locale/<lang>/LC_MESSAGES/`, read
with Babel at start-up (no compiled `.mo` files to keep in step). The language
of a request is, in order: `?lang=`, a `lang` form field, the browser's
`Accept-Language`, English. No cookie is set: a source's browser keeps nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from babel.messages.pofile import read_po

from svidok.domain.vocabulary import LANGUAGES

__all__ = ["LANGUAGES", "NAMES", "Translator", "negotiate", "translator"]

NAMES = {"be": "Беларуская", "ru": "Русский", "uk": "Українська", "pl": "Polski", "en": "English"}


@dataclass(frozen=True)
class Translator:
    lang: str
    messages: dict[str, str]

    def gettext(self, message: str, **values: Any) -> str:
        text = self.messages.get(message) or message
        return text.format(**values) if values else text


@cache
def translator(lang: str) -> Translator:
    """The catalogue of `lang` (English, the source language, has an empty one)."""
    if lang not in LANGUAGES:
        lang = "en"
    path = resources.files("svidok.web").joinpath("locale", lang, "LC_MESSAGES", "messages.po")
    messages: dict[str, str] = {}
    if path.is_file():
        with path.open("rb") as handle:
            catalog = read_po(handle, locale=lang)
        for message in catalog:
            if (
                message.id
                and isinstance(message.id, str)
                and isinstance(message.string, str)
                and message.string
            ):
                if not message.fuzzy:
                    messages[message.id] = message.string
    return Translator(lang, messages)


def negotiate(query_lang: str | None, form_lang: str | None, accept_language: str | None) -> str:
    """The language to answer in."""
    for choice in (query_lang, form_lang):
        if choice in LANGUAGES:
            return str(choice)
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        base = tag.strip().lower().split("-")[0]
        if base in LANGUAGES and quality > 0:
            ranked.append((-quality, position, base))
    return sorted(ranked)[0][2] if ranked else "en"
