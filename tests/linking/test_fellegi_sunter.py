"""EM recovers the m/u probabilities that generated the comparisons, and weights explain themselves."""

from __future__ import annotations

import numpy as np

from svidok.linking import fellegi_sunter as fs

FEATURES = (fs.Feature("name", ("different", "similar", "same")), fs.Feature("year", ("different", "same")))
M = [np.array([0.05, 0.15, 0.80]), np.array([0.1, 0.9])]
U = [np.array([0.85, 0.12, 0.03]), np.array([0.95, 0.05])]


def _simulate(n: int, share: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    match = rng.random(n) < share
    gammas = np.empty((n, 2), dtype=np.int8)
    for i, (m, u) in enumerate(zip(M, U, strict=True)):
        gammas[match, i] = rng.choice(len(m), size=match.sum(), p=m)
        gammas[~match, i] = rng.choice(len(u), size=(~match).sum(), p=u)
    gammas[rng.random(n) < 0.2, 1] = -1  # a fifth of the pairs lack a birth year
    return gammas, match


def test_em_recovers_m_and_the_share_of_matches() -> None:
    rng = np.random.default_rng(3)
    gammas, match = _simulate(40_000, 0.15, rng)
    random_pairs, _ = _simulate(40_000, 0.0, rng)
    model = fs.train_em(gammas, FEATURES, prior=0.01, fixed_u=fs.estimate_u(random_pairs, FEATURES))
    assert abs(model.prior - 0.15) < 0.02
    for i in range(2):
        assert np.allclose(model.m[i], M[i], atol=0.04)
    p = fs.probabilities(model, gammas)
    assert p[match].mean() > 0.8 and p[~match].mean() < 0.1


def test_explanation_names_each_feature_with_its_bayes_factor() -> None:
    model = fs.Model(FEATURES, [m.copy() for m in M], [u.copy() for u in U], prior=0.1)
    reasons = fs.explain(model, np.array([2, -1], dtype=np.int8))
    assert reasons == ["name: same (×26.7)"]
    weights = fs.match_weights(model, np.array([[2, 1], [0, 0]], dtype=np.int8))
    assert weights[0] > 0 > weights[1]
