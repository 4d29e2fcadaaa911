"""The knowledge files load, are well formed, and do not contradict themselves."""

from __future__ import annotations

from svidok.names._data import load_tsv, load_yaml
from svidok.names.givennames import registry


def test_given_name_classes_are_complete() -> None:
    data = load_yaml("given_names.yaml")
    assert len(data) >= 140
    for cid, spec in data.items():
        assert spec["g"] in ("m", "f"), cid
        assert spec.get("ru") or spec.get("be") or spec.get("uk"), cid


def test_no_full_form_belongs_to_two_genders() -> None:
    reg = registry()
    for skel, classes in reg.full.items():
        genders = {reg.gender(c) for c in classes}
        assert len(genders) == 1, (skel, classes)


def test_shared_diminutives_are_intended() -> None:
    reg = registry()
    sasha = reg.lookup(("sASA",), False)
    assert sasha[1] == {"aleksandr", "aleksandra"}


def test_cyrillic_table_covers_three_alphabets() -> None:
    letters = {row[0] for row in load_tsv("cyrillic.tsv")}
    for ch in "абвгґдеёєжзиіїйклмнопрстуўфхцчшщъыьэюя'":
        assert ch in letters, ch
