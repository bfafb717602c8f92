"""`cairn eval --sweep`: a small grid of fusion settings scored on the dataset's judgements.

Per query the harness asks the API once for the vector list and once for the lexical list
(chunks, `HYBRID_CANDIDATES`-like depth: k=100 each, the API's largest page), then fuses them
here with app/search/fusion.py, the server's own functions, at document level (each list's
chunks as documents at their best chunk's score, as the server fuses with group_by=document)
for every setting of the grid, and scores the ranking with the harness's metrics. Two
requests per query cover the whole grid, and the server needs no restart.

The server's hybrid goes deeper when grouping leaves a page short (it asks the retrievers
for more candidates), so a grid row can differ slightly from the server's own hybrid with
the same setting; the report shows the server's hybrid row beside the grid for that reason.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from typing import Any

from app.core.config import get_settings
from app.eval.client import ApiError, CairnClient
from app.eval.metrics import METRICS, evaluate_run
from app.eval.queries import HitMapper
from app.search import fusion

# (label, method, parameter): the weight of the vector side, or RRF's k.
GRID: tuple[tuple[str, str, float], ...] = (
    ("weighted w=0.3", "weighted", 0.3),
    ("weighted w=0.4", "weighted", 0.4),
    ("weighted w=0.5", "weighted", 0.5),
    ("weighted w=0.6", "weighted", 0.6),
    ("weighted w=0.7", "weighted", 0.7),
    ("zscore w=0.4", "zscore", 0.4),
    ("zscore w=0.5", "zscore", 0.5),
    ("zscore w=0.6", "zscore", 0.6),
    ("adaptive w=0.4", "adaptive", 0.4),
    ("adaptive w=0.5", "adaptive", 0.5),
    ("adaptive w=0.6", "adaptive", 0.6),
    ("rrf k=20", "rrf", 20),
    ("rrf k=60", "rrf", 60),
)
Hit = tuple[int, float, list[str]]  # chunk id, the retriever's score, the BEIR ids it stands for


def fuse(lists: dict[str, list[Hit]], method: str, param: float, query: str = "") -> list[str]:
    """BEIR ids best first under one grid setting, fused at document level as the server
    does with group_by=document (each retriever's chunks as documents at their best chunk's
    score); the weighted methods fade the lexical weight by this machine's
    FUSION_LONG_QUERY_WORDS."""
    document_of = {cid: tuple(ids) for hits in lists.values() for cid, _, ids in hits if ids}
    scored = {name: fusion.best_per_key([(cid, score) for cid, score, _ in hits], document_of)
              for name, hits in lists.items()}  # fmt: skip
    scores = fusion.combine(scored, method, vector_weight=param, rrf_k=int(param), query=query,
                            long_query_words=get_settings().fusion_long_query_words)  # fmt: skip
    ranking: dict[str, None] = {}
    for beir_ids, _ in fusion.ranked(scores):
        for beir_id in beir_ids:
            ranking.setdefault(beir_id)
    return list(ranking)


def fetch_lists(
    client: CairnClient, queries: dict[str, str], *, collection: str, mapper: HitMapper,
    concurrency: int, progress: Callable[..., Any],
) -> dict[str, dict[str, list[Hit]]]:  # fmt: skip
    out: dict[str, dict[str, list[Hit]]] = {}
    lock = threading.Lock()

    def one(qid: str, text: str) -> None:
        lists: dict[str, list[Hit]] = {}
        for mode in ("vector", "lexical"):
            body = {"query": text, "mode": mode, "collection": collection, "k": 100,
                    "group_by": "chunk"}  # fmt: skip
            try:
                response, _ = client.search(body)
            except ApiError:
                response = {"results": []}
            lists[mode] = [(int(h["chunk_id"]), float(h["retrievers"][mode]["score"]), mapper(h))
                           for h in response.get("results", [])]  # fmt: skip
        with lock:
            out[qid] = lists

    bar = progress(total=len(queries), desc="sweep lists", unit="q")
    try:
        with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
            for future in as_completed([pool.submit(one, q, t) for q, t in queries.items()]):
                future.result()
                bar.update(1)
    finally:
        bar.close()
    return out


def run_sweep(
    qrels: dict[str, dict[str, int]], lists: dict[str, dict[str, list[Hit]]],
    *, exclude_identical: bool = False, queries: dict[str, str] | None = None,
) -> list[dict[str, Any]]:  # fmt: skip
    rows = []
    text = queries or {}
    for label, method, param in GRID:
        rankings = {
            q: [
                d
                for d in fuse(ls, method, param, text.get(q, ""))
                if not (exclude_identical and d == q)
            ]
            for q, ls in lists.items()
        }
        means, _ = evaluate_run(qrels, rankings)
        rows.append({"setting": label, "method": method, "param": param,
                     **{m: round(means[m], 6) for m in METRICS}})  # fmt: skip
    return rows


def render_sweep(rows: list[dict[str, Any]], server: dict[str, Any] | None) -> str:
    lines = [f"{'fusion (client-side, 100+100 chunks)':<38} {'nDCG@10':>8} {'R@100':>8} "
             f"{'MRR@10':>8}"]  # fmt: skip
    best = max(rows, key=lambda r: r["ndcg@10"])["setting"] if rows else None
    for r in rows:
        mark = "  <- best nDCG@10" if r["setting"] == best else ""
        lines.append(f"{r['setting']:<38} {r['ndcg@10']:>8.4f} {r['recall@100']:>8.4f} "
                     f"{r['mrr@10']:>8.4f}{mark}")  # fmt: skip
    if server:
        m = server["metrics"]
        lines.append(f"{'server hybrid (its configured fusion)':<38} {m['ndcg@10']:>8.4f} "
                     f"{m['recall@100']:>8.4f} {m['mrr@10']:>8.4f}")  # fmt: skip
    return "\n".join(lines)
