"""HNSW recall@10 and latency against `hnsw.ef_search` at one size: `make bench-hnsw`.

bench-query measures the API at the configured HNSW_EF_SEARCH; this sweeps the setting to
show what recall each value buys and what it costs, on the same synthetic data
(bench/synthetic_corpus.py: chunks clustered around real SciFact abstracts' vectors, the
same COPY load and HNSW build). Starts a throwaway platform, loads `--size` chunks, then for
each ef_search and each of `--queries` real SciFact queries (embedded by the configured
model), runs the index's top 10 (the dense SQL of search/dense.py, in-process, no HTTP)
and compares it with an exact scan's top 10: recall@10, and ann-benchmarks' epsilon
recall (the share of the 10 returned whose cosine distance is within 1 + 0.01 of the true
10th's: a near-tie counts, which matters on clusters as dense as these). Prints a table and
writes bench/results/hnsw_sweep-<time>.json (`rows`: ef_search, recall_at_10,
eps_recall_at_10, p50_ms, p95_ms). `--hold` keeps the platform up afterwards (its database
URL printed) until the process is stopped, for more measurements on the same data.

    cd backend && PYTHONPATH=. ../.venv/bin/python ../bench/hnsw_sweep.py \
        --dataset /work/shared/datasets/scifact --size 1M --ef 40,100,200,400,1000
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
sys.path.insert(0, str(REPO / "bench"))

from bench_query import parse_size  # noqa: E402
import report_file  # noqa: E402
from synthetic_corpus import load_collection  # noqa: E402

_EXACT = """
    WITH cand AS MATERIALIZED (SELECT id, embedding FROM chunks WHERE collection_id = :c)
    SELECT id, embedding <=> CAST(:qv AS vector) FROM cand
    ORDER BY embedding <=> CAST(:qv AS vector), id LIMIT 10"""
_INDEX = """
    SELECT id, embedding <=> CAST(:qv AS vector) FROM chunks WHERE collection_id = :c
    ORDER BY embedding <=> CAST(:qv AS vector) LIMIT 10"""
EPSILON = 0.01


def sweep(dsn_url: str, collection_id: str, vectors: list[str], efs: list[int],
          repeats: int) -> list[dict[str, Any]]:  # fmt: skip
    from sqlalchemy import create_engine, text

    engine = create_engine(dsn_url)
    rows: list[dict[str, Any]] = []
    with engine.connect() as conn:
        t0 = time.perf_counter()
        truth = [[(int(r[0]), float(r[1])) for r in
                  conn.execute(text(_EXACT), {"c": collection_id, "qv": v})]
                 for v in vectors]  # fmt: skip
        exact_ms = (time.perf_counter() - t0) * 1000 / max(1, len(vectors))
        print(f"exact top 10: {exact_ms:.0f} ms a query", flush=True)
        for ef in efs:
            conn.execute(text(f"SET hnsw.ef_search = {int(ef)}"))
            for v in vectors[:5]:  # warm the pages this ef_search visits
                conn.execute(text(_INDEX), {"c": collection_id, "qv": v}).all()
            times: list[float] = []
            hits = near = 0
            for _ in range(repeats):
                for v, best in zip(vectors, truth, strict=True):
                    t = time.perf_counter()
                    got = [(int(r[0]), float(r[1])) for r in
                           conn.execute(text(_INDEX), {"c": collection_id, "qv": v})]
                    times.append((time.perf_counter() - t) * 1000)
                    hits += len({c for c, _ in got} & {c for c, _ in best})
                    bound = best[-1][1] * (1 + EPSILON) if best else 0.0
                    near += sum(1 for _, d in got if d <= bound)
            q = statistics.quantiles(times, n=100)
            total = 10 * len(truth) * repeats
            row = {"ef_search": ef, "recall_at_10": round(hits / total, 4),
                   "eps_recall_at_10": round(near / total, 4),
                   "p50_ms": round(q[49], 1), "p95_ms": round(q[94], 1)}  # fmt: skip
            rows.append(row)
            print(f"  ef_search {ef:>5}  recall@10 {row['recall_at_10']:.3f}  "
                  f"eps-recall {row['eps_recall_at_10']:.3f}  "
                  f"p50 {row['p50_ms']:>6} ms  p95 {row['p95_ms']:>6} ms", flush=True)
        rows.append({"ef_search": "exact", "recall_at_10": 1.0, "eps_recall_at_10": 1.0,
                     "p50_ms": round(exact_ms, 1)})
    engine.dispose()
    return rows


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dataset", type=Path, default=Path("/work/shared/datasets/scifact"),
                   help="a BEIR folder: corpus (seeds) and queries.jsonl (query texts)")
    p.add_argument("--size", default="100k", help="chunk count (e.g. 100k, 1M)")
    p.add_argument("--ef", default="40,100,200,400,1000", help="ef_search values to sweep")
    p.add_argument("--queries", type=int, default=100)
    p.add_argument("--repeats", type=int, default=1, help="passes over the queries per value")
    p.add_argument("--seeds", type=int, default=1000, help="topic centroids (seed documents)")
    p.add_argument("--output", type=Path)
    p.add_argument("--hold", action="store_true",
                   help="keep the platform up afterwards (stop: Ctrl-C / SIGINT)")
    args = p.parse_args()

    from platform_runner import Platform

    from app.eval.dataset import load_corpus, load_queries

    corpus = load_corpus(next(args.dataset.glob("corpus.jsonl*")))
    queries = [q for q in load_queries(args.dataset / "queries.jsonl").values() if q.strip()]
    size = parse_size(args.size)
    report: dict[str, Any] = {"size": size, "queries": args.queries}
    plat = Platform()
    try:
        plat.start()
        collection_id, report["load"], embedder = load_collection(
            plat, [d.content() for d in corpus[: args.seeds]], size, "hnsw-sweep")
        print(f"loaded {size} chunks: {report['load']}", flush=True)
        vectors = ["[" + ",".join(f"{x:.7g}" for x in embedder.embed_query(q)) + "]"
                   for q in queries[: args.queries]]  # fmt: skip
        report["rows"] = sweep(plat.env["DATABASE_URL"], collection_id, vectors,
                               [int(e) for e in args.ef.split(",")], args.repeats)
        write_report(args, report)
        if args.hold:
            print(f"holding: DATABASE_URL={plat.env['DATABASE_URL']} API={plat.api_url} "
                  f"API_KEY={plat.api_key} collection={collection_id}", flush=True)
            while True:
                time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        plat.stop()
    return 0


def write_report(args: argparse.Namespace, report: dict[str, Any]) -> None:
    report.update(date_utc=datetime.now(UTC).isoformat(timespec="seconds"),
                  cpus=os.cpu_count(), loadavg_1m=round(os.getloadavg()[0], 2))  # fmt: skip
    print(f"\n{'ef_search':>9} {'recall@10':>9} {'eps-rec':>8} {'p50 ms':>8} {'p95 ms':>8}"
          f"   ({report['size']} chunks)")
    for r in report["rows"]:
        print(f"{r['ef_search']!s:>9} {r['recall_at_10']:>9} {r['eps_recall_at_10']:>8} "
              f"{r['p50_ms']:>8} {r.get('p95_ms', '-')!s:>8}")
    print(f"machine: {report['cpus']} CPUs, load average (1 min) {report['loadavg_1m']}")
    report_file.write_report("hnsw_sweep", report, args.output)


if __name__ == "__main__":
    sys.exit(main())
