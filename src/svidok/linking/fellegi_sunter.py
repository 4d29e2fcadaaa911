"""Fellegi–Sunter record linkage: m/u probabilities trained by EM, match weights, explanations.

Each candidate pair is a vector of comparison levels, one per feature (`-1`
where either side lacks the value: a missing value is no evidence either way).
EM (as in Splink and the original Fellegi–Sunter/Winkler work) estimates, for
every feature and level, m = P(level | same entity) and u = P(level | different
entities), and the prior share λ of matching pairs. A pair's match weight is
log2(λ/(1-λ)) + Σ log2(m/u) over its non-missing features; its probability is
2^w / (1 + 2^w). The explanation lists each feature's Bayes factor.

Vectorised with NumPy: training counts distinct level patterns once, so its cost
depends on the number of patterns, not pairs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

EPS = 1e-6


@dataclass(frozen=True)
class Feature:
    """A compared attribute and the labels of its levels, lowest (most different) first."""

    name: str
    levels: tuple[str, ...]


@dataclass
class Model:
    """Trained parameters; serialisable with `as_dict` so a run can be reproduced."""

    features: tuple[Feature, ...]
    m: list[npt.NDArray[np.float64]]
    u: list[npt.NDArray[np.float64]]
    prior: float
    iterations: int = 0
    history: list[float] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "prior": self.prior,
            "iterations": self.iterations,
            "features": {
                f.name: {
                    level: {"m": round(float(self.m[i][j]), 6), "u": round(float(self.u[i][j]), 6)}
                    for j, level in enumerate(f.levels)
                }
                for i, f in enumerate(self.features)
            },
        }

    def log2_factors(self) -> list[npt.NDArray[np.float64]]:
        return [np.log2(m / u) for m, u in zip(self.m, self.u, strict=True)]


def initial_model(features: tuple[Feature, ...], prior: float = 0.01) -> Model:
    """Starting values: m rises and u falls toward the most similar level."""
    m, u = [], []
    for feature in features:
        k = len(feature.levels)
        ramp = np.arange(1, k + 1, dtype=np.float64)
        m.append(ramp**2 / np.sum(ramp**2))
        u.append(ramp[::-1] ** 2 / np.sum(ramp**2))
    return Model(features, m, u, prior)


def train_em(
    gammas: npt.NDArray[np.int8],
    features: tuple[Feature, ...],
    *,
    prior: float = 0.01,
    max_iterations: int = 50,
    tolerance: float = 1e-5,
    fixed_u: list[npt.NDArray[np.float64]] | None = None,
) -> Model:
    """Estimate m, u and λ from unlabelled comparison vectors (rows: pairs; columns: features).

    With `fixed_u` (estimated from random pairs, as Splink recommends), only m and λ are learned.
    """
    patterns, counts = distinct_patterns(gammas)
    weights = counts.astype(np.float64)
    model = initial_model(features, prior)
    if fixed_u is not None:
        model.u = [np.clip(u, EPS, 1.0) for u in fixed_u]
    for iteration in range(1, max_iterations + 1):
        posterior = _posterior(model, patterns)
        new_prior = float(np.sum(weights * posterior) / np.sum(weights))
        shift = abs(new_prior - model.prior)
        for i, feature in enumerate(features):
            column = patterns[:, i]
            present = column >= 0
            m_new = np.zeros(len(feature.levels))
            u_new = np.zeros(len(feature.levels))
            for level in range(len(feature.levels)):
                at = present & (column == level)
                m_new[level] = np.sum(weights[at] * posterior[at])
                u_new[level] = np.sum(weights[at] * (1 - posterior[at]))
            m_new = np.clip(m_new / max(m_new.sum(), EPS), EPS, 1.0)
            shift = max(shift, float(np.max(np.abs(m_new - model.m[i]))))
            model.m[i] = m_new
            if fixed_u is None:
                u_new = np.clip(u_new / max(u_new.sum(), EPS), EPS, 1.0)
                shift = max(shift, float(np.max(np.abs(u_new - model.u[i]))))
                model.u[i] = u_new
        model.prior = min(max(new_prior, EPS), 1 - EPS)
        model.iterations = iteration
        model.history.append(shift)
        if shift < tolerance:
            break
    return model


def distinct_patterns(gammas: npt.NDArray[np.int8]) -> tuple[npt.NDArray[np.int8], npt.NDArray[np.int64]]:
    """The distinct rows of `gammas` (in the order of `np.unique(axis=0)`) and how often each occurs.

    Each row is read as one number (level + 1 in base 8, first feature most significant), so
    the rows are sorted as plain integers: many times faster than sorting rows of a matrix.
    """
    if gammas.shape[0] == 0 or gammas.shape[1] > 20:
        return np.unique(gammas, axis=0, return_counts=True)
    codes = np.zeros(gammas.shape[0], dtype=np.int64)
    for column in range(gammas.shape[1]):
        codes = codes * 8 + (gammas[:, column].astype(np.int64) + 1)
    _, first, counts = np.unique(codes, return_index=True, return_counts=True)
    return gammas[first], counts


def estimate_u(gammas: npt.NDArray[np.int8], features: tuple[Feature, ...]) -> list[npt.NDArray[np.float64]]:
    """u probabilities from comparisons of random (almost surely non-matching) pairs."""
    out = []
    for i, feature in enumerate(features):
        column = gammas[:, i]
        column = column[column >= 0]
        counts = np.bincount(column.astype(np.int64), minlength=len(feature.levels)).astype(np.float64)
        counts += 1.0  # Laplace smoothing: an unseen level is rare, not impossible
        out.append(counts / counts.sum())
    return out


def _posterior(model: Model, gammas: npt.NDArray[np.int8]) -> npt.NDArray[np.float64]:
    weights = match_weights(model, gammas)
    return 1.0 / (1.0 + np.exp2(-weights))


def match_weights(model: Model, gammas: npt.NDArray[np.int8]) -> npt.NDArray[np.float64]:
    """log2 Bayes factor of every pair, including the prior."""
    total = np.full(gammas.shape[0], np.log2(model.prior / (1 - model.prior)))
    for i, factors in enumerate(model.log2_factors()):
        column = gammas[:, i]
        present = column >= 0
        total[present] += factors[column[present]]
    return total


def probabilities(model: Model, gammas: npt.NDArray[np.int8]) -> npt.NDArray[np.float64]:
    return 1.0 / (1.0 + np.exp2(-match_weights(model, gammas)))


def explain(model: Model, gamma: npt.NDArray[np.int8]) -> list[str]:
    """Each feature's level and Bayes factor, strongest evidence first."""
    factors = model.log2_factors()
    parts = []
    for i, feature in enumerate(model.features):
        level = int(gamma[i])
        if level < 0:
            continue
        bf = float(2 ** factors[i][level])
        parts.append((abs(factors[i][level]), f"{feature.name}: {feature.levels[level]} (×{bf:.3g})"))
    return [text for _, text in sorted(parts, key=lambda p: -p[0])]
