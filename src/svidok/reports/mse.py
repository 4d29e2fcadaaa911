"""Multiple systems estimation: how many victims no list documented.

Input is a capture-history table only (which of k ≥ 3 lists include a victim,
and how many victims share each pattern), never identities (STAT-01). The
counts of the 2^k − 1 observable patterns are fitted by Poisson log-linear
models (statsmodels GLM): main effects of every list plus a subset of two-way
interactions (list dependences). Every such model is fitted (greedy forward
selection past 4 lists); the model with the lowest AIC (or BIC) is chosen; the
undocumented count is exp(intercept), the fitted count of the unobservable
all-absent pattern. A 95 % interval comes from a parametric bootstrap: counts
drawn from the chosen model's fit, refitted, estimate recomputed.
"""

from __future__ import annotations

import itertools
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from svidok.errors import InputError


def _statsmodels() -> Any:
    """statsmodels (with pandas) on first use: it costs 1-2 s of every `svidok serve` start otherwise."""
    import statsmodels.api as sm

    return sm


__all__ = ["ASSUMPTIONS", "Estimate", "estimate", "patterns"]

ASSUMPTIONS = (
    "Closed population: the victims counted are one fixed group (same events, same period).",
    "Perfect matching: the linking engine (with human review) joined the same victim across lists "
    "and never joined two different victims; matching errors bias the estimate.",
    "Dependences between lists are captured by the two-way interactions chosen; the highest-order "
    "interaction (a dependence among all lists at once) is assumed absent, since it cannot be estimated.",
    "Heterogeneity of capture (some victims easier to document than others) is only partly absorbed "
    "by the interactions; stratify (by region or period) when it is strong.",
    "The estimate describes the victims these lists could have reached; it is not a count of events.",
)


@dataclass
class Model:
    interactions: list[tuple[int, int]]
    aic: float
    bic: float
    unobserved: float


@dataclass
class Estimate:
    lists: list[str]
    observed: int
    unobserved: float
    total: float
    ci_low: float
    ci_high: float
    criterion: str
    model: list[str]
    models: list[dict[str, Any]] = field(default_factory=list)
    assumptions: tuple[str, ...] = ASSUMPTIONS

    def explain(self) -> str:
        deps = ", ".join(self.model) or "none (lists independent)"
        return (
            f"{self.observed} victims are documented by at least one of {len(self.lists)} lists "
            f"({', '.join(self.lists)}). A log-linear model chosen by {self.criterion.upper()} "
            f"(list dependences: {deps}) estimates {self.unobserved:.0f} more that no list documented: "
            f"about {self.total:.0f} victims in all (95 % interval {self.ci_low:.0f}–{self.ci_high:.0f})."
        )


def patterns(k: int) -> list[tuple[int, ...]]:
    """The 2^k − 1 observable capture patterns, e.g. (1, 0, 1) = on lists A and C only."""
    return [p for p in itertools.product((0, 1), repeat=k) if any(p)]


def _design(k: int, interactions: list[tuple[int, int]]) -> np.ndarray:
    rows = []
    for p in patterns(k):
        rows.append([1.0, *p, *(p[i] * p[j] for i, j in interactions)])
    return np.array(rows, dtype=float)


def _fit(counts: np.ndarray, k: int, interactions: list[tuple[int, int]]) -> Model:
    x = _design(k, interactions)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sm = _statsmodels()
        result = sm.GLM(counts, x, family=sm.families.Poisson()).fit()
    bic = float(-2 * result.llf + x.shape[1] * np.log(max(counts.sum(), 1)))
    return Model(interactions, float(result.aic), bic, float(np.exp(result.params[0])))


def _candidates(counts: np.ndarray, k: int, criterion: str) -> list[Model]:
    pairs = list(itertools.combinations(range(k), 2))
    if k <= 4:
        subsets = [list(s) for r in range(len(pairs) + 1) for s in itertools.combinations(pairs, r)]
        return [_fit(counts, k, s) for s in subsets if len(s) + k + 1 < len(counts)]
    chosen: list[tuple[int, int]] = []
    models = [_fit(counts, k, chosen)]
    while True:
        options = [_fit(counts, k, [*chosen, p]) for p in pairs if p not in chosen]
        if not options:
            return models
        best = min(options, key=lambda m: getattr(m, criterion))
        if getattr(best, criterion) >= getattr(models[-1], criterion):
            return models
        chosen = best.interactions
        models.append(best)


def estimate(
    lists: list[str],
    counts: dict[tuple[int, ...], int],
    *,
    criterion: str = "aic",
    bootstrap: int = 300,
    seed: int = 1,
) -> Estimate:
    """Estimate the total from a capture-history table (pattern → victims with that pattern)."""
    k = len(lists)
    if k < 3:
        raise InputError("multiple systems estimation needs at least three lists")
    if criterion not in ("aic", "bic"):
        raise InputError("criterion must be aic or bic")
    y = np.array([counts.get(p, 0) for p in patterns(k)], dtype=float)
    if y.sum() == 0:
        raise InputError("the lists are empty")
    models = _candidates(y, k, criterion)
    best = min(models, key=lambda m: getattr(m, criterion))
    x = _design(k, best.interactions)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sm = _statsmodels()
        fitted = sm.GLM(y, x, family=sm.families.Poisson()).fit().fittedvalues
    rng = np.random.default_rng(seed)
    draws = []
    for _ in range(bootstrap):
        sample = rng.poisson(fitted)
        if sample.sum() == 0:
            continue
        try:
            unobserved = _fit(sample.astype(float), k, best.interactions).unobserved
        except (ValueError, np.linalg.LinAlgError):
            continue
        if np.isfinite(unobserved):
            draws.append(sample.sum() + unobserved)
    observed = int(y.sum())
    low, high = np.percentile(draws, [2.5, 97.5]) if draws else (np.nan, np.nan)
    names = [f"{lists[i]}×{lists[j]}" for i, j in best.interactions]
    table = [
        {
            "interactions": [f"{lists[i]}×{lists[j]}" for i, j in m.interactions],
            "aic": round(m.aic, 3),
            "bic": round(m.bic, 3),
            "total": round(observed + m.unobserved, 1),
        }
        for m in sorted(models, key=lambda m: getattr(m, criterion))[:10]
    ]
    return Estimate(
        lists,
        observed,
        best.unobserved,
        observed + best.unobserved,
        float(low),
        float(high),
        criterion,
        names,
        table,
    )
