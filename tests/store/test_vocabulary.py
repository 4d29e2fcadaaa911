"""Controlled vocabularies are data files with labels in five languages; unknown codes are refused."""

from __future__ import annotations

import pytest

from svidok.domain.vocabulary import LANGUAGES, all_vocabularies, vocabulary
from svidok.errors import UnknownCode


def test_every_term_has_a_label_in_every_language() -> None:
    vocabularies = all_vocabularies()
    assert len(vocabularies) >= 10
    for vocab in vocabularies.values():
        assert vocab.codes, vocab.name
        for term in vocab.terms.values():
            assert set(term.labels) == set(LANGUAGES)
            assert all(label.strip() for label in term.labels.values())


def test_violation_types_cover_the_convention_against_torture_and_istanbul_protocol() -> None:
    codes = set(vocabulary("violation_type").codes)
    assert {
        "torture", "cruel_treatment", "arbitrary_detention", "enforced_disappearance",
        "sexual_violence", "unlawful_force", "denial_of_medical_care", "threats", "property_destruction",
    } <= codes


def test_labels_differ_by_language() -> None:
    vocab = vocabulary("violation_type")
    assert vocab.label("torture", "be") == "Катаванне"
    assert vocab.label("torture", "pl") == "Tortury"


def test_unknown_code_is_refused_with_the_valid_codes() -> None:
    with pytest.raises(UnknownCode) as error:
        vocabulary("involvement_role").check("watched_tv")
    message = str(error.value)
    assert "watched_tv" in message
    assert "direct_perpetrator" in message and "gave_orders" in message
