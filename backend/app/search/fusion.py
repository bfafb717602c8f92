"""Combine the rankings of several retrievers into one (pure functions, no I/O).

Four methods, chosen by `settings.fusion_method`:

- Reciprocal rank fusion: score(x) = sum over retrievers of 1 / (k + rank(x)), rank from 1.
  Uses ranks only, so it needs no calibration between retrievers.
- Weighted normalised scores: each retriever's scores are min-max normalised to [0, 1] over
  its own candidates, then combined as w * vector + (1 - w) * lexical. A candidate missing
  from a retriever's list contributes 0 from it.
- Weighted z-scores: the same, with each retriever's scores standardised ((s - mean) / std
  over its own candidates) instead; a candidate missing from a list gets that list's lowest
  z-score (as min-max gives it the list's minimum, 0). Less sensitive than min-max to one
  outlying best or worst score.
- Adaptive weights: weighted min-max fusion whose weights are also scaled per query by how
  clearly each retriever's best candidate stands out of its own list (`peak`), renormalised,
  so a query with a sharp BM25 winner (a rare name) leans lexical and one with a flat BM25
  list leans dense; with no peak anywhere the configured weights apply.

The three weighted methods share one rule on query length: the lexical weight is full up to
half of `FUSION_LONG_QUERY_WORDS` words and falls linearly to zero at that many (0 turns it
off). BM25 over a paragraph-long query scores chunks on many common words at once: on pydocs
(paragraph queries) every fusion without the fade landed below dense retrieval alone, while
on SciFact (one-sentence claims) fusion is worth +0.04 nDCG@10. Measured with `cairn eval`
(README, "Evaluation").
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Mapping, Sequence
from typing import TypeVar

K = TypeVar("K", bound=Hashable)
H = TypeVar("H", bound=Hashable)
_WORD = re.compile(r"\w+")


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


def peak(scored: Sequence[tuple[K, float]], depth: int = 10) -> float:
    """How clearly the best candidate of a best-first list stands out, in [0, 1]: one minus
    the mean min-max normalised score (over the whole list) of the next `depth - 1`
    candidates. A lone candidate is 1 (nothing competes), no candidate or all-equal
    scores 0."""
    if depth < 2:
        raise ValueError("peak depth must be >= 2")
    if len(scored) < 2:
        return float(len(scored))
    norm = min_max(scored)
    runners_up = [norm[item] for item, _ in scored[1:depth]]
    return 1.0 - sum(runners_up) / len(runners_up)


def query_words(text: str) -> int:
    return len(_WORD.findall(text))


def length_factor(words: int, long_words: int) -> float:
    """The lexical weight's factor: 1 up to long_words / 2 words, linearly down to 0 at
    long_words; always 1 when long_words is 0 (off)."""
    if long_words <= 0:
        return 1.0
    half = long_words / 2
    return min(1.0, max(0.0, (long_words - words) / half))


def adaptive_weights(
    scored: Mapping[str, Sequence[tuple[K, float]]], weights: Mapping[str, float],
    depth: int = 10,
) -> dict[str, float]:  # fmt: skip
    """This query's weights: each given weight times its list's peak, summing to 1; the
    given weights when no list has a peak."""
    raw = {name: w * peak(scored.get(name, ()), depth) for name, w in weights.items()}
    total = sum(raw.values())
    if total <= 0:
        return dict(weights)
    return {name: w / total for name, w in raw.items()}


def faded(weights: Mapping[str, float], words: int, long_words: int) -> dict[str, float]:
    """The weights with the lexical one faded for a query of `words` words."""
    out = dict(weights)
    if "lexical" in out:
        out["lexical"] *= length_factor(words, long_words)
    return out


def adaptive(
    scored: Mapping[str, Sequence[tuple[K, float]]], weights: Mapping[str, float],
    *, words: int = 0, long_words: int = 0, depth: int = 10,
) -> dict[K, float]:  # fmt: skip
    """Weighted min-max fusion with this query's adaptive weights (a query of `words` words;
    the lexical weight faded by `length_factor`)."""
    return weighted(scored, adaptive_weights(scored, faded(weights, words, long_words), depth))


def hybrid_weights(vector_weight: float) -> dict[str, float]:
    return {"vector": vector_weight, "lexical": 1.0 - vector_weight}


def combine(
    scored: Mapping[str, Sequence[tuple[K, float]]], method: str, *, vector_weight: float,
    rrf_k: int, query: str = "", long_query_words: int = 0,
    heads: Mapping[str, int] | None = None,
) -> dict[K, float]:  # fmt: skip
    """The named method (FUSION_METHOD) over the "vector" and "lexical" lists of `query`; the
    weighted methods fade the lexical weight on a long query (`long_query_words`).

    `heads` (items per list) fuses each list's head alone, exactly as if the lists had been
    that long, and ranks the items found only deeper after all of them (in their full-depth
    fused order): a search that asks the retrievers for more candidates, to fill a deeper
    page, then keeps the order of its first page."""
    if heads is None:
        return _combine(scored, method, vector_weight, rrf_k, query, long_query_words)
    head = {name: items[: heads.get(name, len(items))] for name, items in scored.items()}
    fused = _combine(head, method, vector_weight, rrf_k, query, long_query_words)
    if all(len(head[name]) == len(items) for name, items in scored.items()):
        return fused  # no list goes deeper than its head: nothing to rank after it
    full = _combine(scored, method, vector_weight, rrf_k, query, long_query_words)
    tail = {item: score for item, score in full.items() if item not in fused}
    if tail and fused:
        shift = max(tail.values()) - min(fused.values()) + 1.0
        tail = {item: score - shift for item, score in tail.items()}
    return fused | tail


def _combine(
    scored: Mapping[str, Sequence[tuple[K, float]]], method: str, vector_weight: float,
    rrf_k: int, query: str, long_query_words: int,
) -> dict[K, float]:  # fmt: skip
    if method == "rrf":
        return rrf({name: [item for item, _ in items] for name, items in scored.items()}, rrf_k)
    weights = faded(hybrid_weights(vector_weight), query_words(query), long_query_words)
    if method == "weighted":
        return weighted(scored, weights)
    if method == "zscore":
        return weighted_z(scored, weights)
    if method == "adaptive":
        return weighted(scored, adaptive_weights(scored, weights))
    raise ValueError(f"unknown fusion method {method!r}")


def best_per_key(
    items: Sequence[tuple[K, float]], key_of: Mapping[K, H]
) -> list[tuple[H, float]]:
    """A best-first list of items as a best-first list of their keys (a chunk list as a
    document list), each key at its first (best) item's score; items without a key dropped."""
    best: dict[H, float] = {}
    for item, score in items:
        key = key_of.get(item)
        if key is not None and key not in best:
            best[key] = score
    return list(best.items())


def ranked(scores: Mapping[K, float]) -> list[tuple[K, float]]:
    """Best first; ties keep first-seen order (dicts keep insertion order)."""
    return sorted(scores.items(), key=lambda kv: -kv[1])
