"""Quality of a clustering against ground truth: pairwise precision/recall/F1 and B-cubed.

Counts come from the contingency table of (predicted, true) labels, so the cost
is linear in the number of records, never quadratic in pairs.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Quality:
    precision: float
    recall: float
    f1: float
    bcubed_precision: float
    bcubed_recall: float
    bcubed_f1: float
    records: int


def _pairs(n: int) -> int:
    return n * (n - 1) // 2


def _f1(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if p + r else 0.0


def cluster_quality(predicted: Sequence[object], truth: Sequence[object]) -> Quality:
    """Compare two labelings of the same records."""
    if len(predicted) != len(truth):
        raise ValueError("predicted and true labels differ in length")
    joint = Counter(zip(predicted, truth, strict=True))
    by_pred = Counter(predicted)
    by_true = Counter(truth)
    together = sum(_pairs(n) for n in joint.values())
    pred_pairs = sum(_pairs(n) for n in by_pred.values())
    true_pairs = sum(_pairs(n) for n in by_true.values())
    precision = together / pred_pairs if pred_pairs else 1.0
    recall = together / true_pairs if true_pairs else 1.0
    n = len(predicted)
    b_precision = sum(c * c / by_pred[p] for (p, _t), c in joint.items()) / n if n else 1.0
    b_recall = sum(c * c / by_true[t] for (_p, t), c in joint.items()) / n if n else 1.0
    return Quality(
        precision, recall, _f1(precision, recall), b_precision, b_recall, _f1(b_precision, b_recall), n
    )
