"""Score rankings with ranx, and summarise latencies.

ranx gotchas handled here (ranx 0.3.21):
- `evaluate` asserts that run and qrels have the same query ids; `make_comparable=True` adds
  an empty ranking for every judged query that has none, so such queries score 0.
- A Run in which *every* ranking is empty cannot be built at all (ValueError from max() of an
  empty sequence), so that case is scored 0 here without calling ranx.
- Rankings are passed with scores derived from rank (n, n-1, ...): the API's own scores may
  tie, and ranx would then order tied documents arbitrarily.
- ranx stores document ids as fixed-width numpy strings ("<U{longest id}"), and numba compiles
  (and caches) its metric kernels once per such width: tens of seconds each. Ids are therefore
  renamed to fixed 12-character keys before scoring, so one compiled kernel serves every run.
- nDCG uses linear gains (ranx "ndcg", Järvelin & Kekäläinen), as trec_eval's ndcg_cut does.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

METRICS = ("ndcg@10", "recall@100", "mrr@10")


def ranking_to_scores(ranking: Sequence[str]) -> dict[str, float]:
    """Ranked ids (best first, duplicates ignored) -> {id: score} preserving the order."""
    scores: dict[str, float] = {}
    for doc_id in ranking:
        if doc_id not in scores:
            scores[doc_id] = float(len(ranking) - len(scores))
    return scores


def evaluate_run(
    qrels: dict[str, dict[str, int]],
    rankings: dict[str, list[str]],
    metrics: Sequence[str] = METRICS,
) -> tuple[dict[str, float], dict[str, dict[str, float]]]:
    """Mean and per-query scores over every judged query; a query with no hits scores 0."""
    from ranx import Qrels, Run, evaluate

    per_query: dict[str, dict[str, float]] = {m: dict.fromkeys(qrels, 0.0) for m in metrics}
    keys: dict[str, str] = {}

    def key(doc_id: str) -> str:
        return keys.setdefault(doc_id, f"{len(keys):012d}")

    fixed_qrels = {q: {key(d): g for d, g in docs.items()} for q, docs in qrels.items()}
    run_dict = {
        q: {key(d): s for d, s in ranking_to_scores(r).items()}
        for q, r in rankings.items()
        if q in qrels and r
    }
    if run_dict:
        run = Run(run_dict)
        evaluate(
            Qrels(fixed_qrels),
            run,
            list(metrics),
            make_comparable=True,
            return_mean=False,
        )
        for metric in metrics:
            for qid, value in run.scores[metric].items():
                per_query[metric][str(qid)] = float(value)
    means = {m: (sum(v.values()) / len(v) if v else 0.0) for m, v in per_query.items()}
    return means, per_query


def percentile(values: Sequence[float], pct: float) -> float:
    """Linear-interpolated percentile (numpy's default method); NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = (len(ordered) - 1) * pct / 100
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def latency_summary(latencies_ms: Sequence[float]) -> dict[str, float | None]:
    """p50/p95/mean in milliseconds; None (JSON null) when nothing was measured."""
    if not latencies_ms:
        return {"p50_ms": None, "p95_ms": None, "mean_ms": None}
    return {
        "p50_ms": round(percentile(latencies_ms, 50), 2),
        "p95_ms": round(percentile(latencies_ms, 95), 2),
        "mean_ms": round(sum(latencies_ms) / len(latencies_ms), 2),
    }
