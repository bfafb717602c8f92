"""Re-embed a SciFact collection into a second embedding space while search keeps serving.

Starts the platform (bench/platform_runner.py), ingests `--docs` SciFact abstracts with the
default model, measures search latency (hybrid, SciFact queries, sequential), then adds a
space (`--provider/--model`, default the bundled SmolLM2-135M GGUF, 576-d) and times its
re-embedding job from the POST until the space is ready, searching all the while; finally
activates it and measures search latency on the new space. The time for the whole SciFact
corpus is extrapolated from the chunks per second when `--docs` is a subset.

    python bench/space_switch.py /work/shared/datasets/scifact --docs 200
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
SCIFACT_DOCS = 5183


def pct(values: list[float], p: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(len(ordered) * p / 100))], 1)


def search_loop(client: httpx.Client, collection: str, queries: list[str],
                stop: threading.Event, out: list[tuple[float, int, float]]) -> None:
    """Search until stopped: (client ms, status, server took_ms) per query."""
    i = 0
    while not stop.is_set():
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


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("dataset", type=Path, help="a BEIR folder (corpus.jsonl[.gz], queries.jsonl)")
    p.add_argument("--docs", type=int, default=200, help="documents to ingest (subset)")
    p.add_argument("--queries", type=int, default=30, help="queries per fixed measurement")
    p.add_argument("--provider", default="llamacpp")
    p.add_argument("--model", default="SmolLM2-135M-Instruct")
    p.add_argument("--output", type=Path)
    args = p.parse_args()

    from platform_runner import Platform

    from app.eval.client import CairnClient
    from app.eval.dataset import load_corpus, load_queries
    from app.eval.ingest import ingest_corpus
    from app.eval.runner import progress_factory

    corpus = load_corpus(next(args.dataset.glob("corpus.jsonl*")))[: args.docs]
    queries = list(load_queries(args.dataset / "queries.jsonl").values())
    result: dict[str, Any] = {"docs": len(corpus), "provider": args.provider,
                              "model": args.model}
    with Platform() as plat:
        plat.start()
        plat.start_worker(pool="solo")
        collection = "scifact-spaces"
        cc = CairnClient(plat.api_url, api_key=plat.api_key)
        t0 = time.perf_counter()
        ingest_corpus(cc, corpus, collection, dataset="scifact", batch_size=50, concurrency=2,
                      progress=progress_factory(False))
        result["ingest_s"] = round(time.perf_counter() - t0, 1)
        cc.close()
        client = httpx.Client(base_url=plat.api_url, timeout=300,
                              headers={"Authorization": f"Bearer {plat.api_key}"})
        cid = next(c["id"] for c in client.get("/api/v1/collections").json()
                   if c["name"] == collection)
        base = f"/api/v1/collections/{cid}/embedding-spaces"
        fixed(client, collection, queries[:3])  # warm-up
        result["search_before"] = fixed(client, collection, queries[: args.queries])

        stop = threading.Event()
        during: list[tuple[float, int, float]] = []
        searcher = threading.Thread(
            target=search_loop, args=(httpx.Client(
                base_url=plat.api_url, timeout=300,
                headers={"Authorization": f"Bearer {plat.api_key}"}),
                collection, queries, stop, during), daemon=True)
        t0 = time.perf_counter()
        resp = client.post(base, json={"provider": args.provider, "model": args.model})
        resp.raise_for_status()
        space = resp.json()
        searcher.start()
        last = -1
        while space["status"] == "building":
            time.sleep(2)
            space = client.get(f"{base}/{space['id']}").json()
            if space["embedded"] != last:
                last = space["embedded"]
                print(f"  {time.perf_counter() - t0:7.1f}s {space['embedded']}/{space['total']}",
                      flush=True)
        reembed_s = time.perf_counter() - t0
        stop.set()
        searcher.join(timeout=300)
        if space["status"] != "ready":
            print(json.dumps(space, indent=2))
            return 1
        chunks = space["total"]
        result.update({
            "chunks": chunks, "dim": space["dim"], "reembed_s": round(reembed_s, 1),
            "chunks_per_s": round(chunks / reembed_s, 2),
            "search_during": summary(during),
            "extrapolated_full_scifact_s": round(reembed_s * SCIFACT_DOCS / len(corpus)),
        })
        resp = client.post(f"{base}/{space['id']}/activate")
        resp.raise_for_status()
        fixed(client, collection, queries[:3])
        result["search_after_switch"] = fixed(client, collection, queries[: args.queries])
        client.close()
    text = json.dumps(result, indent=2)
    print(text)
    if args.output:
        args.output.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
