"""Query latency and throughput at 10k, 100k (and 1M) chunks: `make bench-query`.

Starts a throwaway platform (auth and the rate limiter on), creates one collection through
the API and grows it to each size with synthetic chunks loaded straight into Postgres
(bench/synthetic_corpus.py says how they are made). At each size, through loopback HTTP and
the real API with an API key, for vector, lexical and hybrid search (k=10):

- p50/p95/p99 latency and QPS at concurrency 1, 4 and 16 (bench/search_load.py), with and
  without highlights; the queries are SciFact's real query texts;
- recall@10 against exact search: the API's vector results (the configured HNSW_EF_SEARCH,
  with the exact fallbacks dense.py applies) against an exact scan, and the HNSW index alone;
  hybrid against the same fusion over an exact dense list and exact BM25; lexical against
  exact BM25 in-process, in Postgres (every posting: no per-term cut; at tantivy's k1 1.2 and
  b 0.75 when the API's BM25 comes from its tantivy copy, LEXICAL_ENGINE=tantivy, so the
  figure is what the copy's one-byte lengths and block-max WAND cost);
- with LEXICAL_ENGINE=tantivy, each size is measured once the API's copy of the collection
  holds the loaded version (`load.lexical_copy_s`: how long the copy took to build);
- the server's per-stage time of a short hybrid query (its Server-Timing header);
- 1,000-character queries (issue 13), single client, per mode.

    cd backend && PYTHONPATH=. ../.venv/bin/python ../bench/bench_query.py \
        --dataset /work/shared/datasets/scifact --sizes 10k,100k

`--baseline REF` also serves the same database with git REF's code (bench/long_queries.py's
start_baseline); the single-client cases without highlights then send each query to both
APIs in turn, the order alternating (search_load.interleaved), so both meet the same drift.
JSON goes to bench/results/bench_query-<time>.json: `summary[size][mode]` holds p50_ms,
p95_ms, p99_ms, qps (single client, no highlights) and recall_at_10; `cases` every measured
case.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))

import search_load  # noqa: E402
from long_queries import make_queries, start_baseline  # noqa: E402
from report_file import write_report  # noqa: E402
from synthetic_corpus import Seeds, add_chunks, make_seeds  # noqa: E402

MODES = ["vector", "lexical", "hybrid"]


def parse_size(text: str) -> int:
    text = text.strip().lower()
    scale = {"k": 1_000, "m": 1_000_000}.get(text[-1:], 1)
    return int(float(text.rstrip("km")) * scale)


def label(n: int) -> str:
    return f"{n // 1_000_000}M" if n >= 1_000_000 else f"{n // 1000}k"


def server_stages(client: httpx.Client, queries: list[str], collection: str) -> dict[str, float]:
    """Median ms per stage of short hybrid searches, from the Server-Timing header."""
    stages: dict[str, list[float]] = {}
    for q in queries:
        resp = client.post("/api/v1/search", json={"query": q, "collection": collection,
                                                   "k": 10, "mode": "hybrid"})  # fmt: skip
        resp.raise_for_status()
        for part in resp.headers.get("server-timing", "").split(","):
            name, _, dur = part.strip().partition(";dur=")
            if dur:
                stages.setdefault(name, []).append(float(dur))
    return {k: round(statistics.median(v), 2) for k, v in stages.items()}


def recall(
    client: httpx.Client, collection: str, collection_id: Any, queries: list[str]
) -> dict[str, float]:
    """Mean recall@10 of the API's results against exact search (see the module docstring)."""
    from sqlalchemy import text

    from app.core.config import get_settings
    from app.core.db import session_scope
    from app.providers.embeddings import get_embedder
    from app.search import service
    from app.search.filters import SearchScope
    from app.search.lexical import lexical_search

    settings = get_settings()
    embedder = get_embedder()
    exact_sql = text("""
        WITH cand AS MATERIALIZED (SELECT id, embedding FROM chunks WHERE collection_id = :c)
        SELECT id, 1 - (embedding <=> CAST(:qv AS vector)) FROM cand
        ORDER BY embedding <=> CAST(:qv AS vector), id LIMIT :n""")
    hnsw_sql = text("""
        SELECT id FROM chunks WHERE collection_id = :c
        ORDER BY embedding <=> CAST(:qv AS vector) LIMIT 10""")
    sums = {"vector": 0.0, "hnsw_index": 0.0, "lexical": 0.0, "hybrid": 0.0}
    engine = settings.lexical_engine
    constants = {"k1": 1.2, "b": 0.75} if engine == "tantivy" else {}
    depth = settings.hybrid_candidates

    def top(mode: str, q: str) -> set[int]:
        resp = client.post("/api/v1/search", json={"query": q, "collection": collection,
                                                   "k": 10, "mode": mode})  # fmt: skip
        resp.raise_for_status()
        return {int(h["chunk_id"]) for h in resp.json()["results"]}

    def share(found: set[int], truth: list[int]) -> float:
        return len(found & set(truth)) / max(1, len(truth))

    settings.lexical_engine = "postgres"  # in this process only, for the reference
    with session_scope() as session:
        for q in queries:
            qv = "[" + ",".join(f"{x:.7g}" for x in embedder.embed_query(q)) + "]"
            exact = [(int(r[0]), float(r[1])) for r in
                     session.execute(exact_sql, {"c": collection_id, "qv": qv, "n": depth})]
            session.execute(text(f"SET LOCAL hnsw.ef_search = {int(settings.hnsw_ef_search)}"))
            index = {int(r[0]) for r in session.execute(hnsw_sql, {"c": collection_id, "qv": qv})}
            # the reference is exact BM25: every posting of every term (no per-term cut), in
            # Postgres, at tantivy's constants when the API's BM25 comes from its copy
            lex = lexical_search(session, q, SearchScope([collection_id]), depth,
                                 term_postings=0, **constants)
            fused = service.fuse({"vector": exact, "lexical": lex}) if lex else exact
            sums["vector"] += share(top("vector", q), [c for c, _ in exact[:10]])
            sums["hnsw_index"] += share(index, [c for c, _ in exact[:10]])
            sums["lexical"] += share(top("lexical", q), [c for c, _ in lex[:10]]) if lex else 1
            sums["hybrid"] += share(top("hybrid", q), [c for c, _ in fused[:10]])
    settings.lexical_engine = engine
    return {k: round(v / len(queries), 3) for k, v in sums.items()}


def run_size(
    args: argparse.Namespace, urls: dict[str, str], headers: dict[str, str], collection: str,
    short: list[str], long: list[str], cases: list[dict[str, Any]], size: str,
) -> list[dict[str, Any]]:  # fmt: skip
    """Every latency case at the current size, appended to `cases` as it is measured (an
    interrupted run keeps them). With a baseline, the single-client cases without highlights
    send each query to both APIs in turn (`search_load.interleaved`); the others run on this
    code only."""
    mine: list[dict[str, Any]] = []

    def keep(api: str, case: dict[str, Any]) -> None:
        if api != "this" and case.get("highlights") is False:
            case["highlights"] = None  # the baseline may not know `highlights`
        mine.append({"api": api, **case})
        cases.append({"size": size, "api": api, **case})
        print(f"  {api:<10} {case['mode']:<8} {case['query_chars']!s:>5} "
              f"hl={case['highlights']!s:<5} c={case['concurrency']:<3} p50 {case['p50_ms']:>7} "
              f"p95 {case['p95_ms']:>7} p99 {case.get('p99_ms', '-')!s:>7} "
              f"qps {case.get('qps', '-')!s:>6}", flush=True)

    clients = {api: httpx.Client(base_url=url, headers=headers, timeout=120)
               for api, url in urls.items()}  # fmt: skip
    # the baseline may not know `highlights` (it always highlighted): no field for it
    plain = {api: (clients[api], {"highlights": False} if api == "this" else {}) for api in urls}
    this = urls["this"]
    try:
        for mode in args.modes.split(","):
            for hl in (False, True):
                extra = {"highlights": hl}
                for threads in [int(c) for c in args.concurrency.split(",")]:
                    base = {"mode": mode, "highlights": hl, "concurrency": threads,
                            "query_chars": "short"}  # fmt: skip
                    if threads == 1 and not hl and len(urls) > 1:
                        rows = search_load.interleaved(plain, short, mode, collection, 10,
                                                       total=args.requests)  # fmt: skip
                        for api, row in rows.items():
                            keep(api, {**base, **row})
                        continue
                    for q in short[:5]:  # warm-up
                        clients["this"].post("/api/v1/search", json=search_load._body(
                            q, mode, collection, 10, extra)).raise_for_status()
                    total = args.requests if threads == 1 else max(args.requests, 8 * threads)
                    row = search_load.concurrent(
                        this, short, mode, collection, 10, threads=threads, total=total,
                        headers=headers, extra=extra)  # fmt: skip
                    keep("this", {**base, **row})
            if long:
                base = {"mode": mode, "highlights": False, "concurrency": 1,
                        "query_chars": args.long_chars}  # fmt: skip
                if len(urls) > 1:
                    rows = search_load.interleaved(plain, long, mode, collection, 10,
                                                   total=len(long))  # fmt: skip
                else:
                    rows = {"this": search_load.sequential(clients["this"], long, mode,
                                                           collection, 10, {"highlights": False})}
                for api, row in rows.items():
                    keep(api, {**base, **row})
    finally:
        for client in clients.values():
            client.close()
    return mine


def wait_for_copy(collection_id: uuid.UUID, timeout_s: float = 3600) -> float | None:
    """Seconds until the API's tantivy copy of the collection holds its current version
    (LEXICAL_ENGINE=tantivy: BM25 uses the copy from then on); None with the Postgres engine."""
    from app.core.config import get_settings
    from app.core.db import session_scope
    from app.search.lexical_index import lexical_version
    from app.search.tantivy_index import Replica

    settings = get_settings()
    if settings.lexical_engine != "tantivy":
        return None
    path = settings.lexical_root / str(collection_id)
    with session_scope() as session:
        version = lexical_version(session, collection_id)
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < timeout_s:
        if (path / "meta.json").exists() and Replica(path).version() == version:
            return round(time.perf_counter() - t0, 1)
        time.sleep(0.5)
    raise TimeoutError(f"the lexical copy of {collection_id} did not reach version {version}")


def measure(
    args: argparse.Namespace, sizes: list[int], report: dict[str, Any], plat: Any,
    embedder: Any, seeds: Seeds, urls: dict[str, str], headers: dict[str, str],
    collection: str, collection_id: Any, short: list[str], long: list[str],
) -> None:  # fmt: skip
    """Grow the collection to each size and measure it; results go into `report`."""
    dsn = plat.env["DATABASE_URL"].replace("postgresql+psycopg://", "postgresql://")
    loaded = 0
    for size in sizes:

        steps = add_chunks(dsn, collection_id, seeds, size - loaded,
                           model=embedder.model_name)  # fmt: skip
        loaded = size
        steps["lexical_copy_s"] = wait_for_copy(uuid.UUID(str(collection_id)))
        print(f"{label(size)}: loaded in {steps['total_s']}s {steps}", flush=True)
        cases = run_size(args, urls, headers, collection, short, long, report["cases"],
                         label(size))
        with httpx.Client(base_url=plat.api_url, headers=headers, timeout=120) as client:
            stages = server_stages(client, short[:60], collection)
            rec = recall(client, collection, collection_id, short[: args.recall_queries])
        print(f"  stages (ms): {stages}\n  recall@10: {rec}", flush=True)
        report["sizes"][label(size)] = {"chunks": size, "load": steps,
                                        "server_stages_ms": stages, "recall_at_10": rec}
        report["summary"][label(size)] = {
            c["mode"]: {"p50_ms": c["p50_ms"], "p95_ms": c["p95_ms"], "p99_ms": c["p99_ms"],
                        "qps": c["qps"], "recall_at_10": rec.get(c["mode"])}
            for c in cases if c["api"] == "this" and c["concurrency"] == 1
            and c["highlights"] is False and c["query_chars"] == "short"
        }  # fmt: skip


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dataset", type=Path, default=Path("/work/shared/datasets/scifact"),
                   help="a BEIR folder: corpus (seeds) and queries.jsonl (query texts)")
    p.add_argument("--sizes", default="10k,100k", help="chunk counts, growing (e.g. 10k,100k,1M)")
    p.add_argument("--concurrency", default="1,4,16")
    p.add_argument("--modes", default=",".join(MODES))
    p.add_argument("--requests", type=int, default=200, help="requests per case")
    p.add_argument("--recall-queries", type=int, default=50)
    p.add_argument("--seeds", type=int, default=1000, help="topic centroids (seed documents)")
    p.add_argument("--long-chars", type=int, default=1000, help="0: no long-query cases")
    p.add_argument("--long-queries", type=int, default=30)
    p.add_argument("--baseline", help="git ref to compare with (single client, same data)")
    p.add_argument("--label", default="")
    p.add_argument("--output", type=Path)
    args = p.parse_args()

    from platform_runner import Platform

    from app.eval.dataset import load_corpus, load_queries

    corpus = load_corpus(next(args.dataset.glob("corpus.jsonl*")))
    short = [q for q in load_queries(args.dataset / "queries.jsonl").values() if q.strip()]
    seed_texts = [d.content() for d in corpus[: args.seeds]]
    rest = [d.text for d in corpus[args.seeds :] if d.text] or seed_texts
    long = make_queries(rest, args.long_chars, args.long_queries) if args.long_chars else []
    sizes = [parse_size(s) for s in args.sizes.split(",")]
    report: dict[str, Any] = {"label": args.label, "sizes": {}, "summary": {}, "cases": []}
    plat = Platform()
    baseline: Any = None
    tree: Path | None = None
    try:
        plat.start()
        os.environ.update({k: v for k, v in plat.env.items() if k.isupper()})
        from app.core.config import get_settings

        get_settings.cache_clear()
        from app.providers.embeddings import get_embedder

        embedder = get_embedder()
        t0 = time.perf_counter()
        seeds: Seeds = make_seeds(seed_texts, embedder)
        print(f"{len(seeds.words)} seed centroids embedded in {time.perf_counter() - t0:.0f}s")
        headers = {"Authorization": f"Bearer {plat.api_key}"}
        collection = "bench-query"
        made = httpx.post(f"{plat.api_url}/api/v1/collections", json={"name": collection},
                          headers=headers, timeout=30)  # fmt: skip
        made.raise_for_status()
        collection_id = made.json()["id"]
        urls = {"this": plat.api_url}
        if args.baseline:
            baseline, urls["baseline"], tree = start_baseline(plat, args.baseline)
        measure(args, sizes, report, plat, embedder, seeds, urls, headers, collection,
                collection_id, short, long)
    except KeyboardInterrupt:  # Ctrl-C: keep what was measured
        report["interrupted"] = True
    finally:
        if baseline is not None:
            baseline.stop()
        if tree is not None:
            import subprocess

            subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force", str(tree)],
                           check=False, capture_output=True)  # fmt: skip
        plat.stop()
    report.update(date_utc=datetime.now(UTC).isoformat(timespec="seconds"),
                  cpus=os.cpu_count(), loadavg_1m=round(os.getloadavg()[0], 2))  # fmt: skip
    print_table(report)
    write_report("bench_query", report, args.output, args.label)
    return 0


def print_table(report: dict[str, Any]) -> None:
    print(f"\n{'size':>5} {'api':<9} {'mode':<8} {'query':>5} {'hl':<5} {'conc':>4} "
          f"{'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'qps':>7} {'recall@10':>9}")  # fmt: skip
    for c in report["cases"]:
        rec = report["sizes"].get(c["size"], {}).get("recall_at_10", {}).get(c["mode"], "")
        print(f"{c['size']:>5} {c['api']:<9} {c['mode']:<8} {c['query_chars']!s:>5} "
              f"{c['highlights']!s:<5} {c['concurrency']:>4} {c['p50_ms']:>8} {c['p95_ms']:>8} "
              f"{c['p99_ms']:>8} {c.get('qps', '-')!s:>7} {rec!s:>9}")
    print(f"machine: {report['cpus']} CPUs, load average (1 min) {report['loadavg_1m']}")


if __name__ == "__main__":
    sys.exit(main())
