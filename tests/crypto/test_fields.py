"""Field encryption binds each value to its place; blind indexes are sized and separated."""

from __future__ import annotations

import math
import random
import string

import pytest

from svidok.crypto.errors import DecryptionFailed
from svidok.crypto.fields import BlindIndex, blind_index_bits, open_field, seal_field

KEY = bytes(range(32))


def lookup(key_id: str) -> bytes:
    return KEY


def test_round_trip_and_fresh_nonce_per_value() -> None:
    tokens = {seal_field(KEY, "field", "person", "primary_name", "pe_1", "Ales") for _ in range(1000)}
    assert len(tokens) == 1000
    assert open_field(lookup, "person", "primary_name", "pe_1", tokens.pop()) == "Ales"


def test_moving_a_ciphertext_to_another_row_or_column_or_key_id_fails() -> None:
    token = seal_field(KEY, "field", "person", "primary_name", "pe_1", "Ales")
    with pytest.raises(DecryptionFailed, match="pe_2"):
        open_field(lookup, "person", "primary_name", "pe_2", token)
    with pytest.raises(DecryptionFailed):
        open_field(lookup, "person", "description", "pe_1", token)
    relabelled = token.replace("v1:field:", "v1:field2:")
    with pytest.raises(DecryptionFailed) as info:
        open_field(lookup, "person", "primary_name", "pe_1", relabelled)
    assert "Ales" not in str(info.value)


@pytest.mark.parametrize("rows", [10**4, 10**5, 10**6])
def test_blind_index_bits_follow_the_ciphersweet_bounds(rows: int) -> None:
    bits = blind_index_bits(rows)
    coincidences = rows / 2**bits
    assert 2 <= coincidences < math.sqrt(rows)


def test_blind_index_has_no_false_negatives_and_differs_between_tables() -> None:
    def derive(key_id: str, info: str) -> bytes:
        return info.encode().ljust(32, b"\0")[:32]

    names = BlindIndex.for_column(derive, "victims", "person", "primary_name", 10**4)
    suspects = BlindIndex.for_column(derive, "suspects", "person", "primary_name", 10**4)
    rng = random.Random(7)
    values = ["".join(rng.choices(string.ascii_letters, k=12)) for _ in range(10_000)]
    index: dict[str, list[int]] = {}
    for i, v in enumerate(values):
        index.setdefault(names.value(v), []).append(i)
    for i, v in enumerate(values):
        assert i in index[names.value(f"  {v.upper()} ")]
    assert names.value("  ALES  Bialiatski") == names.value("ales bialiatski")
    same = sum(names.value(v) == suspects.value(v) for v in values[:1000])
    assert same < 50  # unrelated values, only chance collisions of a truncated index
