"""Combine the rankings of several retrievers into one (pure functions, no I/O).

Three methods, chosen by `settings.fusion_method`:

- Reciprocal rank fusion: score(x) = sum over retrievers of 1 / (k + rank(x)), rank from 1.
  Uses ranks only, so it needs no calibration between retrievers.
- Weighted normalised scores: each retriever's scores are min-max normalised to [0, 1] over
  its own candidates, then combined as w * vector + (1 - w) * lexical. A candidate missing
  from a retriever's list contributes 0 from it.
- Weighted z-scores: the same, with each retriever's scores standardised ((s - mean) / std
  over its own candidates) instead; a candidate missing from a list gets that list's lowest
  z-score (as min-max gives it the list's minimum, 0). Less sensitive than min-max to one
  outlying best or worst score.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import TypeVar

K = TypeVar("K", bound=Hashable)


def rrf(rankings: Mapping[str, Sequence[K]], k: int = 60) -> dict[K, float]:
    """Reciprocal rank fusion of best-first lists of ids."""
    if k < 0:
        raise ValueError("rrf k must be >= 0")
    fused: dict[K, float] = {}
    for ranking in rankings.values():
        for rank, item in enumerate(ranking, start=1):
            fused[item] = fused.get(item, 0.0) + 1.0 / (k + rank)
    return fused


def min_max(scored: Sequence[tuple[K, float]]) -> dict[K, float]:
    """Scores scaled to [0, 1] over this list; all equal scores map to 1."""
    if not scored:
        return {}
    values = [s for _, s in scored]
    low, high = min(values), max(values)
    if high == low:
        return {item: 1.0 for item, _ in scored}
    return {item: (s - low) / (high - low) for item, s in scored}


def weighted(
    scored: Mapping[str, Sequence[tuple[K, float]]], weights: Mapping[str, float]
) -> dict[K, float]:
    """Weighted sum of min-max normalised scores; retrievers without a weight count 0."""
    fused: dict[K, float] = {}
    for name, items in scored.items():
        weight = weights.get(name, 0.0)
        for item, norm in min_max(items).items():
            fused[item] = fused.get(item, 0.0) + weight * norm
    return fused


def z_scores(scored: Sequence[tuple[K, float]]) -> dict[K, float]:
    """(s - mean) / population std over this list; all equal scores map to 0."""
    if not scored:
        return {}
    values = [s for _, s in scored]
    mean = sum(values) / len(values)
    std = (sum((v - mean) ** 2 for v in values) / len(values)) ** 0.5
    if std == 0:
        return {item: 0.0 for item, _ in scored}
    return {item: (s - mean) / std for item, s in scored}


def weighted_z(
    scored: Mapping[str, Sequence[tuple[K, float]]], weights: Mapping[str, float]
) -> dict[K, float]:
    """Weighted sum of z-scores; a candidate a retriever missed gets that list's lowest."""
    per_list = {name: z_scores(items) for name, items in scored.items()}
    everyone = {item for z in per_list.values() for item in z}
    fused: dict[K, float] = {}
    for name, z in per_list.items():
        weight = weights.get(name, 0.0)
        floor = min(z.values(), default=0.0)
        for item in everyone:
            fused[item] = fused.get(item, 0.0) + weight * z.get(item, floor)
    # keep first-seen order for ties (ranked() is stable): lists' order, not set order
    order = [item for items in scored.values() for item, _ in items]
    return {item: fused[item] for item in dict.fromkeys(order)}


def hybrid_weights(vector_weight: float) -> dict[str, float]:
    return {"vector": vector_weight, "lexical": 1.0 - vector_weight}


def ranked(scores: Mapping[K, float]) -> list[tuple[K, float]]:
    """Best first; ties keep first-seen order (dicts keep insertion order)."""
    return sorted(scores.items(), key=lambda kv: -kv[1])
