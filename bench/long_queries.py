"""Search latency for short and long queries (100, 1,000 and 10,000 characters) per mode.

One command: starts a throwaway platform (or uses --api-url), ingests a BEIR subset (e.g.
SciFact's first --docs documents) through the API, builds queries of each length from
corpus text that was NOT ingested (whole sentences, cut at a word boundary), runs them
sequentially per mode and prints p50/p95 of the client latency and of the server's took_ms.
With --profile (started platform only) it also times, in this process against the same
database, the stages of one search: query embedding, dense SQL, lexical SQL, hydration and
highlights, response serialisation.

    cd backend && PYTHONPATH=. ../.venv/bin/python ../bench/long_queries.py \
        /work/shared/datasets/scifact --docs 1000 --queries 20 --profile

(PYTHONPATH=. makes the API and this script run the checkout's code rather than whatever
the venv's editable install points at.) JSON goes to bench/results/long_queries-<time>.json.

`--baseline REF` (a started platform only) also serves the same database with the code of
git REF (a temporary worktree, a second API process) and sends every query to both APIs in
turn, so the before/after comparison sees the same data and the same machine load.
"""

from __future__ import annotations

import argparse
import functools
import os
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))

from report_file import write_report  # noqa: E402


def pct(values: list[float], p: float) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return round(values[0], 1)
    return round(statistics.quantiles(values, n=100, method="inclusive")[int(p) - 1], 1)


def make_queries(texts: list[str], length: int, n: int) -> list[str]:
    """n queries of about `length` characters, each from consecutive texts (wrapping)."""
    out: list[str] = []
    i = 0
    for q in range(n):
        parts: list[str] = []
        size = 0
        start = (q * 7) % len(texts)
        i = start
        while size < length:
            parts.append(texts[i % len(texts)])
            size += len(parts[-1]) + 1
            i += 1
        joined = " ".join(parts)[:length]
        cut = joined.rfind(" ")
        out.append(joined[:cut] if cut > length * 0.9 else joined)
    return out


def run_case(
    clients: dict[str, httpx.Client], queries: list[str], mode: str, collection: str,
    warmup: int,
) -> dict[str, dict[str, Any]]:  # fmt: skip
    """Per API: latency of each query (the APIs take turns, query by query)."""
    client_ms: dict[str, list[float]] = {name: [] for name in clients}
    server_ms: dict[str, list[float]] = {name: [] for name in clients}
    statuses: dict[str, dict[str, int]] = {name: {} for name in clients}
    for i, query in enumerate(queries[:warmup] + queries):
        body = {"query": query, "mode": mode, "collection": collection, "k": 10,
                "group_by": "document"}  # fmt: skip
        # alternate who goes first: the second API meets caches the first one warmed
        order = list(clients.items())
        for name, client in order if i % 2 == 0 else order[::-1]:
            t0 = time.perf_counter()
            resp = client.post("/api/v1/search", json=body)
            elapsed = (time.perf_counter() - t0) * 1000
            if i < warmup:
                continue
            code = str(resp.status_code)
            statuses[name][code] = statuses[name].get(code, 0) + 1
            if resp.status_code == 200:
                client_ms[name].append(elapsed)
                server_ms[name].append(float(resp.json()["took_ms"]))
    out: dict[str, dict[str, Any]] = {}
    for name in clients:
        c, s = client_ms[name], server_ms[name]
        out[name] = {"n": len(queries), "ok": len(c), "statuses": statuses[name],
                     "client_p50_ms": pct(c, 50), "client_p95_ms": pct(c, 95),
                     "server_p50_ms": pct(s, 50), "server_p95_ms": pct(s, 95)}  # fmt: skip
    return out


def start_baseline(plat: Any, ref: str) -> tuple[Any, str, Path]:
    """An API process running git `ref`'s code on the platform's database."""
    import subprocess
    import tempfile

    from app.core.embedded import free_port
    from app.launcher import argv as cmd
    from app.launcher.procs import Proc, wait_api_ready

    tree = Path(tempfile.mkdtemp(prefix="longq-base-", dir="/tmp")) / "tree"
    subprocess.run(["git", "-C", str(REPO), "worktree", "add", "--detach", str(tree), ref],
                   check=True, capture_output=True)  # fmt: skip
    port = free_port()
    env = {**plat.env, "PYTHONPATH": str(tree / "backend")}
    proc = Proc("api-baseline", cmd.api_argv("127.0.0.1", port, log_level="warning",
                                             access_log=False),
                env, plat.base / "logs", cwd=tree / "backend")  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    wait_api_ready(url, proc, 180)
    return proc, url, tree


def profile(env: dict[str, str], collection: str, queries: dict[int, list[str]]) -> dict[str, Any]:
    """Median milliseconds per stage of a hybrid search, in this process, same database."""
    os.environ.update({k: v for k, v in env.items() if k.isupper()})
    from app.core.config import get_settings

    get_settings.cache_clear()
    from sqlalchemy import select

    from app.collections.models import Collection
    from app.core.db import session_scope
    from app.providers.embeddings import get_embedder
    from app.search import service
    from app.search.dense import dense_search
    from app.search.filters import SearchScope
    from app.search.hydrate import load_sources
    from app.search.lexical import lexical_search, query_terms
    from app.search.schemas import SearchResponse

    embedder = get_embedder()
    out: dict[str, Any] = {}
    with session_scope() as session:
        cid = session.scalars(select(Collection.id).where(Collection.name == collection)).one()
        scope = SearchScope([cid])
        for length, qs in queries.items():
            stages: dict[str, list[float]] = {}

            def timed(name: str, fn: Any, *a: Any, _s: dict[str, list[float]] = stages) -> Any:
                t0 = time.perf_counter()
                value = fn(*a)
                _s.setdefault(name, []).append((time.perf_counter() - t0) * 1000)
                return value

            for q in qs[:10]:
                vec = timed("embed_query", embedder.embed_query, q)
                dense = timed("dense_sql", dense_search, session, vec, scope, 100)
                terms = timed("lexical_terms_sql", query_terms, session, q, scope)
                lex = timed("lexical_bm25_sql", functools.partial(
                    lexical_search, session, q, scope, 100, terms=terms))
                fused = timed("fuse", service.fuse, {"vector": dense, "lexical": lex})
                ids = [c for c, _ in fused[:10]]
                srcs = timed("hydrate_highlights", load_sources, session, ids, q,
                             terms.lexemes())
                resp = SearchResponse(query=q, mode="hybrid", results=[], took_ms=0,
                                      total_candidates=len(srcs))  # fmt: skip
                timed("serialise_query_echo", resp.model_dump_json)
            out[str(length)] = {k: round(statistics.median(v), 1) for k, v in stages.items()}
    return out


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("dataset", type=Path, help="a BEIR folder (corpus.jsonl[.gz])")
    p.add_argument("--docs", type=int, default=1000, help="documents to ingest")
    p.add_argument("--queries", type=int, default=20, help="queries per length and mode")
    p.add_argument("--lengths", default="100,1000,10000")
    p.add_argument("--modes", default="hybrid,lexical,vector")
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--api-url")
    p.add_argument("--api-key", default=os.environ.get("CAIRN_API_KEY"))
    p.add_argument("--collection", help="search an existing collection (skip the ingest)")
    p.add_argument("--profile", action="store_true", help="time the stages in-process")
    p.add_argument("--label", default="", help="a word stored with the results (before/after)")
    p.add_argument("--baseline", help="git ref to compare with, query by query (see above)")
    p.add_argument("--output", type=Path)
    args = p.parse_args()

    from app.eval.client import CairnClient
    from app.eval.dataset import load_corpus
    from app.eval.ingest import ingest_corpus
    from app.eval.runner import progress_factory

    corpus_path = next(args.dataset.glob("corpus.jsonl*"))
    corpus = load_corpus(corpus_path)
    docs, rest = corpus[: args.docs], corpus[args.docs :] or corpus
    texts = [d.text for d in rest if d.text]
    lengths = [int(x) for x in args.lengths.split(",")]
    queries = {n: make_queries(texts, n, args.queries + args.warmup) for n in lengths}
    plat: Any = None
    baseline: Any = None
    tree: Path | None = None
    try:
        if args.api_url:
            api_url, api_key = args.api_url, args.api_key
        else:
            from platform_runner import Platform

            plat = Platform()
            plat.start()
            plat.start_worker(pool="solo")
            api_url, api_key = plat.api_url, plat.api_key
        collection = args.collection or f"longq-{datetime.now(UTC).strftime('%H%M%S')}"
        if not args.collection:
            client = CairnClient(api_url, api_key=api_key)
            t0 = time.perf_counter()
            ingest_corpus(client, docs, collection, dataset=args.dataset.name, batch_size=50,
                          concurrency=2, progress=progress_factory(False))  # fmt: skip
            print(f"ingested {len(docs)} documents in {time.perf_counter() - t0:.0f}s")
            client.close()
        if plat is not None:
            plat.stop_worker()  # idle: out of the way of the timings
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        urls = {"this": api_url}
        if args.baseline and plat is not None:
            baseline, urls[f"base {args.baseline}"], tree = start_baseline(plat, args.baseline)
        results: list[dict[str, Any]] = []
        clients = {n: httpx.Client(base_url=u, headers=headers, timeout=120)
                   for n, u in urls.items()}  # fmt: skip
        try:
            for length in lengths:
                for mode in args.modes.split(","):
                    qs = queries[length]
                    rows = run_case(clients, qs[args.warmup :], mode, collection, args.warmup)
                    for name, row in rows.items():
                        results.append({"chars": length, "mode": mode, "api": name, **row})
        finally:
            for c in clients.values():
                c.close()
        prof = profile(plat.env, collection, queries) if args.profile and plat else None
    finally:
        if baseline is not None:
            baseline.stop()
        if tree is not None:
            import subprocess

            subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force", str(tree)],
                           check=False, capture_output=True)  # fmt: skip
        if plat is not None:
            plat.stop()
    header = f"{'chars':>6} {'mode':<8} {'api':<16} {'ok/n':>6} {'p50 ms':>8} {'p95 ms':>8} " \
             f"{'srv p50':>8} {'srv p95':>8}"  # fmt: skip
    print(header)
    for r in results:
        print(f"{r['chars']:>6} {r['mode']:<8} {r['api'][:16]:<16} {r['ok']:>3}/{r['n']:<2} "
              f"{r['client_p50_ms'] or '-':>8} {r['client_p95_ms'] or '-':>8} "
              f"{r['server_p50_ms'] or '-':>8} {r['server_p95_ms'] or '-':>8}"
              + ("" if r["ok"] == r["n"] else f"  statuses {r['statuses']}"))  # fmt: skip
    if prof:
        print("hybrid stages, median ms (in-process, same database):")
        for length, stages in prof.items():
            print(f"  {length:>6} chars: " + ", ".join(f"{k} {v}" for k, v in stages.items()))
    report = {
        "label": args.label, "date_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "dataset": str(args.dataset), "docs": len(docs), "queries_per_case": args.queries,
        "loadavg_1m": round(os.getloadavg()[0], 2), "results": results, "profile": prof,
    }  # fmt: skip
    write_report("long_queries", report, args.output, args.label)
    return 0


if __name__ == "__main__":
    sys.exit(main())
