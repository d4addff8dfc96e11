"""How well a risk score ranks late orders: AUC and precision in the top share (pure Python)."""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["auc", "precision_at"]


def auc(scores: Sequence[float], labels: Sequence[bool]) -> float:
    """Area under the ROC curve (Mann-Whitney, ties count half); 0.5 if one class is absent."""
    pairs = sorted(zip(scores, labels, strict=True), key=lambda p: p[0])
    positives = sum(1 for _, y in pairs if y)
    negatives = len(pairs) - positives
    if not positives or not negatives:
        return 0.5
    rank_sum = 0.0
    i = 0
    while i < len(pairs):
        j = i
        while j < len(pairs) and pairs[j][0] == pairs[i][0]:
            j += 1
        mid_rank = (i + 1 + j) / 2  # ranks i+1..j share their mean
        rank_sum += mid_rank * sum(1 for k in range(i, j) if pairs[k][1])
        i = j
    return (rank_sum - positives * (positives + 1) / 2) / (positives * negatives)


def precision_at(scores: Sequence[float], labels: Sequence[bool], share: float = 0.1) -> float:
    """Share of late orders among the ``share`` highest scores.

    Ties at the cut are broken by their average (a coarse score, such as a count of
    rule flags, gets the precision expected from a random pick among the tied orders).
    """
    n = max(1, round(len(scores) * share))
    order = sorted(zip(scores, labels, strict=True), key=lambda p: -p[0])
    if not order:
        return 0.0
    cut = order[n - 1][0]
    above = [y for s, y in order if s > cut]
    tied = [y for s, y in order if s == cut]
    take = n - len(above)
    hits = sum(above) + (sum(tied) / len(tied) * take if tied else 0.0)
    return hits / n
