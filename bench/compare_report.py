"""Score both sides with Cairn's eval metrics (ranx), and print the side-by-side table."""

from __future__ import annotations

from typing import Any

from app.eval.metrics import evaluate_run

# (side, query key, label in the table)
ROWS = (
    ("cairn", "hybrid", "Cairn hybrid (HTTP)"),
    ("cairn", "vector", "Cairn dense (HTTP)"),
    ("llamaindex", "dense", "LlamaIndex dense"),
    ("llamaindex", "hybrid_rrf", "LlamaIndex hybrid RRF"),
    ("llamaindex", "hybrid_union", "LlamaIndex hybrid union"),
)


def _expand(ranking: list[str], groups: dict[str, list[str]]) -> list[str]:
    """Identical corpus entries were ingested once: a hit on one stands for all of them."""
    out: list[str] = []
    for doc in ranking:
        for beir_id in groups.get(doc, [doc]):
            if beir_id not in out:
                out.append(beir_id)
    return out


def score(report: dict[str, Any], qrels: dict[str, dict[str, int]],
          groups: dict[str, list[str]]) -> None:
    """Adds ndcg@10 (and recall@10) next to each query mode's latencies, in place."""
    for side in ("cairn", "llamaindex"):
        for run in report[side]["queries"].values():
            rankings = {q: _expand(r, groups) for q, r in run["rankings"].items()}
            means, _ = evaluate_run(qrels, rankings, ("ndcg@10", "recall@10"))
            run["ndcg_at_10"] = round(means["ndcg@10"], 4)
            run["recall_at_10"] = round(means["recall@10"], 4)
            run["queries"] = len(run["latencies_ms"])


def without_rankings(report: dict[str, Any]) -> dict[str, Any]:
    """The JSON written to disk: figures only (rankings and raw latencies dropped)."""
    out = {k: v for k, v in report.items() if k not in ("cairn", "llamaindex")}
    for side in ("cairn", "llamaindex"):
        out[side] = {k: v for k, v in report[side].items() if k != "queries"}
        out[side]["queries"] = {
            mode: {k: v for k, v in run.items() if k not in ("rankings", "latencies_ms")}
            for mode, run in report[side]["queries"].items()
        }
    return out


def print_table(report: dict[str, Any]) -> None:
    m, d = report["machine"], report["dataset"]
    print(f"\n=== bench-compare  {m['date_utc']}  nproc={m['nproc']}  {m['cpu']}  "
          f"commit {m['git_commit']}  load {m['loadavg_1m_start']} -> "
          f"{m['loadavg_1m_after_cairn_ingest']} -> {m['loadavg_1m_after_llamaindex']} -> "
          f"{m['loadavg_1m_end']}")
    print(f"{d['name']}: {d['docs']} docs, {d['queries']} queries; {d['subset']}")
    print(f"\n{'ingest to all-searchable':<31}{'docs':>6}{'chunks':>8}{'wall s':>9}"
          f"{'tok/chunk':>10}{'docs/s':>9}{'chunks/s':>10}{'CPU s':>8}{'chunks/CPU s':>14}")
    for side, label in (("cairn", "Cairn (API + worker)"),
                        ("llamaindex", "LlamaIndex (IngestionPipeline)")):
        i = report[side]["ingest"]
        print(f"{label:<31}{i['docs']:>6}{i['chunks']:>8}{i['wall_s']:>9.1f}"
              f"{i['tokens_per_chunk']:>10.0f}"
              f"{i['docs_per_s']:>9.2f}{i['chunks_per_s']:>10.1f}{i['cpu_s']:>8.0f}"
              f"{i['chunks_per_cpu_s']:>14.1f}")
    extra = report["cairn"]["ingest"].get("document_rows")
    if extra:
        print(f"(Cairn also embedded {extra} whole-document rows, not counted as chunks above)")
    print(f"\n{'queries (k=' + str(report['args']['k']) + ', 1 client)':<31}{'p50 ms':>9}"
          f"{'p95 ms':>9}{'nDCG@10':>9}{'R@10':>7}{'server p50':>12}")
    for side, key, label in ROWS:
        run = report[side]["queries"].get(key)
        if run is None:
            continue
        server = run.get("server_p50_ms")
        print(f"{label:<31}{run['p50_ms']:>9.1f}{run['p95_ms']:>9.1f}"
              f"{run['ndcg_at_10']:>9.3f}{run['recall_at_10']:>7.3f}"
              f"{'-' if server is None else format(server, '.1f'):>12}")
