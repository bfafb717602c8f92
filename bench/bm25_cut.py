"""`make bench-bm25-cut`: what BM25's per-term cut (BM25_TERM_POSTINGS) costs in recall and
saves in time, at one collection size, in one run.

A throwaway platform (bench/platform_runner.py) gets a collection of `--size` synthetic
chunks (bench/synthetic_corpus.py: SciFact words at SciFact's frequencies). Each of
`--queries` SciFact queries is then searched in this process by `lexical_search` at the
depth hybrid search asks for (HYBRID_CANDIDATES), once per cut in `--cuts` (0 = every
posting, exact BM25: the reference), the order of the cuts rotating from query to query so
drift meets all alike. Per cut: p50/p95/mean milliseconds, and recall@10 / recall@100 of the
exact ranking's top 10 / 100. Printed as a table; JSON to bench/results/bm25_cut-<time>.json.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "backend"))
sys.path.insert(0, str(REPO / "bench"))

from bench_query import parse_size  # noqa: E402
from long_queries import pct  # noqa: E402
from report_file import write_report  # noqa: E402
from synthetic_corpus import load_collection  # noqa: E402


def study(collection_id: Any, queries: list[str], cuts: list[int]) -> dict[str, Any]:
    from app.core.config import get_settings
    from app.core.db import session_scope
    from app.search.filters import SearchScope
    from app.search.lexical import lexical_search, query_terms

    depth = get_settings().hybrid_candidates
    scope = SearchScope([collection_id])
    times: dict[int, list[float]] = {c: [] for c in cuts}
    found: dict[int, list[list[int]]] = {c: [] for c in cuts}
    with session_scope() as session:
        for q in queries[:5]:  # warm the caches
            lexical_search(session, q, scope, depth, term_postings=0)
        for i, q in enumerate(queries):
            terms = query_terms(session, q, scope)
            for cut in cuts[i % len(cuts):] + cuts[: i % len(cuts)]:
                t0 = time.perf_counter()
                hits = lexical_search(session, q, scope, depth, terms=terms, term_postings=cut)
                times[cut].append((time.perf_counter() - t0) * 1000)
                found[cut].append([c for c, _ in hits])

    def recall(cut: int, k: int) -> float:
        shares = [len(set(got[:k]) & set(ref[:k])) / len(ref[:k])
                  for got, ref in zip(found[cut], found[0], strict=True) if ref]
        return round(statistics.fmean(shares), 4) if shares else 1.0

    return {str(c): {"p50_ms": pct(times[c], 50), "p95_ms": pct(times[c], 95),
                     "mean_ms": round(statistics.fmean(times[c]), 2),
                     "recall_at_10": recall(c, 10), "recall_at_100": recall(c, 100)}
            for c in cuts}  # fmt: skip


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("dataset", type=Path, help="a BEIR folder (corpus.jsonl[.gz], queries.jsonl)")
    p.add_argument("--size", default="100k", help="synthetic chunks (10k, 100k, 1M)")
    p.add_argument("--queries", type=int, default=200)
    p.add_argument("--cuts", default="0,500,1000,2000,4000", help="0 (exact) comes first")
    p.add_argument("--seeds", type=int, default=1000, help="topic centroids (seed documents)")
    p.add_argument("--output", type=Path)
    args = p.parse_args()
    cuts = [int(c) for c in args.cuts.split(",")]
    if 0 not in cuts or any(c < 0 for c in cuts):
        p.error("--cuts: non-negative, and 0 (the exact reference) among them")
    cuts = [0] + [c for c in cuts if c]

    from platform_runner import Platform

    from app.eval.dataset import load_corpus, load_queries

    corpus = load_corpus(next(args.dataset.glob("corpus.jsonl*")))
    queries = [q for q in load_queries(args.dataset / "queries.jsonl").values() if q.strip()]
    plat = Platform()
    report: dict[str, Any] = {"size": args.size, "queries": min(args.queries, len(queries))}
    try:
        plat.start()
        collection_id, report["load"], _ = load_collection(
            plat, [d.content() for d in corpus[: args.seeds]], parse_size(args.size), "bm25-cut")
        report["cuts"] = study(collection_id, queries[: args.queries], cuts)
    finally:
        plat.stop()
    report.update(date_utc=datetime.now(UTC).isoformat(timespec="seconds"),
                  cpus=os.cpu_count(), loadavg_1m=round(os.getloadavg()[0], 2))  # fmt: skip
    from app.core.config import get_settings

    print(f"\nBM25 per-term cut, {args.size} chunks, {report['queries']} SciFact queries, "
          f"depth {get_settings().hybrid_candidates}, nproc {os.cpu_count()}")
    print(f"{'cut':>6}{'p50 ms':>9}{'p95 ms':>9}{'mean ms':>9}{'R@10':>8}{'R@100':>8}")
    for cut, r in report["cuts"].items():
        print(f"{cut if cut != '0' else 'exact':>6}{r['p50_ms']:>9}{r['p95_ms']:>9}"
              f"{r['mean_ms']:>9}{r['recall_at_10']:>8}{r['recall_at_100']:>8}")
    write_report("bm25_cut", report, args.output)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
