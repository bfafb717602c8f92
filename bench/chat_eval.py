"""Answers with citations on a BEIR dataset (SciFact): ask each claim through POST
/api/v1/chat (streamed) and score the citations against the judged-relevant documents.

    python bench/chat_eval.py /work/shared/datasets/scifact --max-docs 600 --queries 300 \
        --providers extractive,llamacpp --llamacpp-queries 100

Reports per provider: the share of answers whose FIRST citation is a judged-relevant
document, the share citing ANY judged-relevant document, the share of "not found" answers,
and time to first token and total time (p50/p95, client side, streamed). Without --api-url
it starts the whole platform (bench/platform_runner.py) and ingests a subset of the corpus:
every document judged relevant to the chosen queries plus random distractors up to
--max-docs (the whole SciFact corpus takes ~25 min to ingest on 2 cores).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "backend"))
sys.path.insert(0, str(REPO / "bench"))


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def ask(http: httpx.Client, claim: str, collection: str, provider: str) -> dict[str, Any]:
    """One streamed question: sources, cited passage numbers, not_found, timings (s)."""
    started = time.perf_counter()
    first: float | None = None
    sources: list[dict[str, Any]] = []
    done: dict[str, Any] = {}
    event = ""
    body = {"message": claim[:4000], "collection": collection, "provider": provider,
            "stream": True}
    with http.stream("POST", "/api/v1/chat", json=body) as resp:
        if resp.status_code != 200:
            return {"error": f"{resp.status_code}: {resp.read()[:200]!r}"}
        for line in resp.iter_lines():
            if line.startswith("event:"):
                event = line[6:].strip()
            elif line.startswith("data:"):
                data = json.loads(line[5:].strip())
                if event == "retrieval":
                    sources = data["sources"]
                elif event == "token" and first is None:
                    first = time.perf_counter()
                elif event == "done":
                    done = data
                elif event == "error":
                    return {"error": data.get("message", "error")}
    end = time.perf_counter()
    return {"sources": sources, "cited": done.get("cited", []),
            "not_found": bool(done.get("not_found")),
            "ttft_s": (first or end) - started, "total_s": end - started}


def evaluate(http: httpx.Client, provider: str, claims: dict[str, str],
             qrels: dict[str, dict[str, int]], beir_of: dict[str, str],
             collection: str) -> dict[str, Any]:
    first_ok = any_ok = not_found = errors = 0
    ttft: list[float] = []
    total: list[float] = []
    for i, (qid, claim) in enumerate(claims.items(), 1):
        out = ask(http, claim, collection, provider)
        if "error" in out:
            errors += 1
            continue
        ttft.append(out["ttft_s"])
        total.append(out["total_s"])
        relevant = {d for d, g in qrels[qid].items() if g > 0}
        by_n = {s["n"]: beir_of.get(s["document_id"]) for s in out["sources"]}
        cited = [by_n.get(n) for n in out["cited"]]
        not_found += out["not_found"]
        first_ok += bool(cited) and cited[0] in relevant
        any_ok += any(c in relevant for c in cited)
        if i % 25 == 0:
            print(f"  {provider}: {i}/{len(claims)}", file=sys.stderr)
    n = max(1, len(claims) - errors)
    return {
        "provider": provider, "questions": len(claims), "errors": errors,
        "first_citation_relevant": first_ok / n, "any_citation_relevant": any_ok / n,
        "not_found": not_found / n,
        "ttft_p50_ms": pct(ttft, 0.5) * 1000, "ttft_p95_ms": pct(ttft, 0.95) * 1000,
        "total_p50_ms": pct(total, 0.5) * 1000, "total_p95_ms": pct(total, 0.95) * 1000,
    }


def table(rows: list[dict[str, Any]]) -> str:
    head = ("| provider | questions | first citation relevant | any citation relevant | "
            "not found | TTFT p50 / p95 (ms) | total p50 / p95 (ms) | errors |")
    lines = [head, "|" + "---|" * 8]
    for r in rows:
        lines.append(
            f"| {r['provider']} | {r['questions']} | {r['first_citation_relevant']:.1%} | "
            f"{r['any_citation_relevant']:.1%} | {r['not_found']:.1%} | "
            f"{r['ttft_p50_ms']:.0f} / {r['ttft_p95_ms']:.0f} | "
            f"{r['total_p50_ms']:.0f} / {r['total_p95_ms']:.0f} | {r['errors']} |")
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dataset", type=Path, help="a BEIR folder, e.g. .../datasets/scifact")
    ap.add_argument("--max-docs", type=int, default=600)
    ap.add_argument("--queries", type=int, default=300, help="judged claims to ask (extractive)")
    ap.add_argument("--llamacpp-queries", type=int, default=100,
                    help="claims asked to llamacpp (the first of --queries; it is slow)")
    ap.add_argument("--providers", default="extractive,llamacpp")
    ap.add_argument("--max-tokens", type=int, default=96, help="LLM_MAX_TOKENS of the API")
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--output", type=Path, default=REPO / "bench" / "results" / "chat_eval.json")
    args = ap.parse_args()

    from platform_runner import Platform
    from tqdm import tqdm

    from app.eval.client import CairnClient
    from app.eval.dataset import load_dataset
    from app.eval.ingest import ingest_corpus

    data = load_dataset(args.dataset)
    data.limit(args.queries)
    relevant = {d for docs in data.qrels.values() for d, g in docs.items() if g > 0}
    pool = [d for d in data.corpus if d.id not in relevant]
    random.Random(args.seed).shuffle(pool)
    keep = [d for d in data.corpus if d.id in relevant]
    keep += pool[: max(0, args.max_docs - len(keep))]
    providers = [p.strip() for p in args.providers.split(",") if p.strip()]
    os.environ["LLM_ALLOWED_PROVIDERS"] = json.dumps(providers)
    os.environ["LLM_MAX_TOKENS"] = str(args.max_tokens)
    print(f"{len(data.queries)} claims, {len(keep)} documents ({len(relevant)} judged relevant)",
          file=sys.stderr)
    with Platform() as platform:
        platform.start_worker(pool="solo", concurrency=1)
        client = CairnClient(platform.api_url, api_key=platform.api_key)
        collection = "scifact-chat"
        started = time.perf_counter()
        result = ingest_corpus(client, keep, collection, dataset=data.name, batch_size=20,
                               concurrency=2, progress=tqdm)
        ingest_s = time.perf_counter() - started
        beir_of = {cairn: beir for beir, cairn in result.document_of.items()}
        rows = []
        with httpx.Client(base_url=platform.api_url, timeout=300,
                          headers={"Authorization": f"Bearer {platform.api_key}"}) as http:
            for provider in providers:
                n = args.llamacpp_queries if provider == "llamacpp" else args.queries
                claims = dict(list(data.queries.items())[:n])
                rows.append(evaluate(http, provider, claims, data.qrels, beir_of, collection))
    print(table(rows))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps({
        "dataset": str(args.dataset), "documents": len(keep), "ingest_s": round(ingest_s, 1),
        "max_tokens": args.max_tokens, "load_avg": os.getloadavg(), "results": rows,
    }, indent=2))
    print(f"written {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
