"""Multiple systems estimation on simulated lists with a known total."""

from __future__ import annotations

import numpy as np
import pytest

from svidok.errors import InputError
from svidok.reports.mse import estimate, patterns


def _simulate(
    total: int, probs: list[float], seed: int, dependence: float = 0.0
) -> dict[tuple[int, ...], int]:
    rng = np.random.default_rng(seed)
    caps = rng.random((total, len(probs))) < np.array(probs)
    if dependence:  # being on list 0 makes list 1 likelier (referral between two organisations)
        caps[:, 1] |= caps[:, 0] & (rng.random(total) < dependence)
    counts: dict[tuple[int, ...], int] = {}
    for row in caps:
        key = tuple(int(v) for v in row)
        if any(key):
            counts[key] = counts.get(key, 0) + 1
    return counts


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_independent_lists_recover_the_known_total(seed: int) -> None:
    result = estimate(["a", "b", "c"], _simulate(3000, [0.3, 0.25, 0.2], seed), bootstrap=200, seed=seed)
    assert result.ci_low <= 3000 <= result.ci_high
    assert abs(result.total - 3000) / 3000 < 0.12
    assert result.observed < result.total


def test_a_dependence_between_two_lists_is_found_and_modelled() -> None:
    counts = _simulate(4000, [0.25, 0.2, 0.2, 0.3], seed=7, dependence=0.6)
    result = estimate(["a", "b", "c", "d"], counts, bootstrap=200)
    assert "a×b" in result.model
    assert result.ci_low <= 4000 <= result.ci_high
    naive = estimate(["a", "b", "c", "d"], counts, bootstrap=0)
    assert naive.total == pytest.approx(result.total)


def test_explanation_and_assumptions_are_plain() -> None:
    result = estimate(["ngo", "lawyers", "media"], _simulate(1000, [0.4, 0.3, 0.3], 5), bootstrap=50)
    text = result.explain()
    assert "documented by at least one of 3 lists" in text and "95 %" in text
    assert any("Closed population" in a for a in result.assumptions)
    assert result.models and {"aic", "bic", "total", "interactions"} <= set(result.models[0])


def test_bic_and_the_patterns() -> None:
    assert len(patterns(3)) == 7 and (0, 0, 0) not in patterns(3)
    result = estimate(["a", "b", "c"], _simulate(2000, [0.3, 0.3, 0.3], 9), criterion="bic", bootstrap=50)
    assert result.criterion == "bic"


def test_refuses_fewer_than_three_lists() -> None:
    with pytest.raises(InputError):
        estimate(["a", "b"], {(1, 0): 3, (0, 1): 4, (1, 1): 1})


def test_capture_histories_of_the_register_hold_no_identities(store, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from svidok.demo.generator import DemoConfig, generate
    from svidok.services import reporting

    generate(store, tmp_path, DemoConfig(scale=300, seed=4))
    table = reporting.capture_histories(store)
    assert table and all(len(p) == len(reporting.DEFAULT_LISTS) and set(p) <= {0, 1} for p in table)
    assert all(isinstance(n, int) and n > 0 for n in table.values())
    stats = reporting.statistics(store)
    assert sum(n for p, n in table.items() if p[3]) == stats["totals"]["victims"]
