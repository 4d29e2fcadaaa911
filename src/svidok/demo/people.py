"""True identities of the fictional population and their canonical Cyrillic forms.

An `Identity` is who a person really is: sex, given name, father's given name
(the patronymic derives from it), surname root, native language and birth
date. Its forms in Belarusian, Russian and Ukrainian Cyrillic are computed here;
`forms` renders them the way a particular source writes them.
"""

from __future__ import annotations

from dataclasses import dataclass

from svidok.demo.data import GivenName, SurnameRoot, given_names, surname_roots

_ENDINGS: dict[str, dict[str, tuple[str, str]]] = {
    "poss": {"ru": ("в", "ва"), "be": ("ў", "ва"), "uk": ("в", "ва")},
    "in": {"ru": ("н", "на"), "be": ("н", "на"), "uk": ("н", "на")},
    "sky": {"ru": ("ский", "ская"), "be": ("скі", "ская"), "uk": ("ський", "ська")},
    "tsky": {"ru": ("цкий", "цкая"), "be": ("цкі", "цкая"), "uk": ("цький", "цька")},
    "adj": {"ru": ("ый", "ая"), "be": ("ы", "ая"), "uk": ("ий", "а")},
    "inv": {"ru": ("", ""), "be": ("", ""), "uk": ("", "")},
}


@dataclass(slots=True, eq=False)
class Identity:
    """A person as they truly are; `person_id` is set when the register holds them."""

    key: str
    sex: str
    given: int
    father: int
    surname: int
    native: str
    birth_date: str
    kind: str
    person_id: str | None = None

    @property
    def given_name(self) -> GivenName:
        return given_names()[self.sex][self.given]

    @property
    def father_name(self) -> GivenName:
        return given_names()["male"][self.father]

    @property
    def root(self) -> SurnameRoot:
        return surname_roots()[self.surname]

    def given_in(self, lang: str) -> str:
        return self.given_name.forms[lang]

    def patronymic_in(self, lang: str) -> str:
        """The patronymic in be, ru or uk Cyrillic."""
        return patronymic(self.father_name, lang, self.sex)

    def surname_in(self, lang: str) -> str:
        """The surname in be, ru or uk Cyrillic, with the ending for this person's sex."""
        return surname(self.root, lang, self.sex)

    def canonical(self, lang: str | None = None) -> str:
        """'Given Patronymic Surname' in the Cyrillic of `lang` (native language by default)."""
        lang = lang or self.native
        return f"{self.given_in(lang)} {self.patronymic_in(lang)} {self.surname_in(lang)}"


def patronymic(father: GivenName, lang: str, sex: str) -> str:
    """Derive the patronymic from the father's given name (stem rules, see given_names.yaml)."""
    stem = father.patronymic[lang]
    if isinstance(stem, tuple):
        return stem[0] if sex == "male" else stem[1]
    if lang == "ru":
        return stem + ("ич" if sex == "male" else "на")
    if lang == "be":
        return stem + "іч" if sex == "male" else stem[:-1] + "ўна"
    if sex == "male":
        return stem + "ич"
    for old, new in (("йов", "їв"), ("ьов", "ів"), ("ов", "ів")):
        if stem.endswith(old):
            return stem[: -len(old)] + new + "на"
    return stem + "на"


def surname(root: SurnameRoot, lang: str, sex: str) -> str:
    male, female = _ENDINGS[root.type][lang]
    return root.stems[lang] + (male if sex == "male" else female)
