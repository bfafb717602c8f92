"""Combine the rankings of several retrievers into one (pure functions, no I/O).

Two methods, chosen by `settings.fusion_method`:

- Reciprocal rank fusion: score(x) = sum over retrievers of 1 / (k + rank(x)), rank from 1.
  Uses ranks only, so it needs no calibration between retrievers.
- Weighted normalised scores: each retriever's scores are min-max normalised to [0, 1] over
  its own candidates, then combined as w * vector + (1 - w) * lexical. A candidate missing
  from a retriever's list contributes 0 from it.
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


def hybrid_weights(vector_weight: float) -> dict[str, float]:
    return {"vector": vector_weight, "lexical": 1.0 - vector_weight}


def ranked(scores: Mapping[K, float]) -> list[tuple[K, float]]:
    """Best first; ties keep first-seen order (dicts keep insertion order)."""
    return sorted(scores.items(), key=lambda kv: -kv[1])
