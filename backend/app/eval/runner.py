"""One evaluation from start to finish: load, (start Cairn), ingest, search, score, report."""

from __future__ import annotations

import functools
import sys
import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from app.eval.client import ApiError, CairnClient, SearchCapabilities
from app.eval.dataset import BeirDataset, DatasetError, load_dataset
from app.eval.ingest import IngestResult, delete_created, ingest_corpus
from app.eval.metrics import evaluate_run, latency_summary
from app.eval.queries import HitMapper, ModeRun, run_mode
from app.eval.report import machine_info

# Settings that shape retrieval quality, reported with the numbers.
CONFIG_KEYS = (
    "embedding_provider", "embedding_model", "embedding_runtime", "embedding_max_tokens",
    "chunk_size_tokens", "chunk_overlap_tokens", "chunk_title_prefix",
    "chunk_title_embed",
    "default_text_search_config", "lexical_engine", "bm25_k1", "bm25_b",
    "fusion_method", "rrf_k", "hybrid_vector_weight", "fusion_long_query_words",
    "hybrid_candidates",
    "reranker", "reranker_model", "exact_search_max_chunks", "hnsw_ef_search",
)  # fmt: skip
CONFIG_PATHS = ("/api/v1/config", "/api/v1/settings", "/api/v1/system/config")


class UsageError(Exception):
    """The options cannot work with this dataset or API (exit code 2)."""


@dataclass
class EvalOptions:
    dataset_dir: Path
    api_url: str | None = None
    modes: list[str] = field(default_factory=lambda: ["vector", "lexical", "hybrid"])
    k: int = 100
    collection: str | None = None
    ignore_identical_ids: bool = False
    limit_queries: int | None = None
    batch_size: int = 64
    concurrency: int = 4
    output: Path | None = None
    keep: bool = False
    api_key: str | None = None
    progress: bool = True
    poll_s: float = 1.0
    sweep: bool = False


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def progress_factory(enabled: bool) -> Any:
    from tqdm import tqdm

    return functools.partial(tqdm, disable=not enabled, file=sys.stderr, dynamic_ncols=True)


def check_modes(modes: list[str], caps: SearchCapabilities) -> None:
    if not caps.mode and modes != ["vector"]:
        raise UsageError(
            f"this API's search has no `mode` field; only vector search can be evaluated "
            f"(asked for {', '.join(modes)})"
        )
    if caps.modes is not None:
        unknown = [m for m in modes if m not in caps.modes]
        if unknown:
            raise UsageError(f"unknown mode(s) {unknown}; this API offers {list(caps.modes)}")


def retrieval_config(client: CairnClient, ingest: IngestResult) -> dict[str, Any]:
    """The server's configuration when it publishes one, else this machine's settings."""
    paths = set(client.openapi().get("paths", {}))
    for path in CONFIG_PATHS:
        if path in paths:
            try:
                body = client.get_json(path)
            except ApiError:
                continue
            return {
                "source": f"GET {path}",
                **(body if isinstance(body, dict) else {"value": body}),
            }
    from app.core.config import get_settings

    settings = get_settings()
    config: dict[str, Any] = {"source": "local settings (environment / .env of this machine)"}
    for key in CONFIG_KEYS:
        if hasattr(settings, key):
            value = getattr(settings, key)
            config[key] = (
                value if isinstance(value, int | float | bool | str | None) else str(value)
            )
    # What the server actually embedded with, from one of the ingested documents.
    ready = client.list_documents(ingest.collection, "ready", limit=1)
    if ready:
        config["server_embedding_model"] = ready[0].get("embedding_model")
    return config


def score_mode(dataset: BeirDataset, run: ModeRun) -> dict[str, Any]:
    means, per_query = evaluate_run(dataset.qrels, run.rankings)
    empty = sum(1 for q in dataset.qrels if not run.rankings.get(q))
    return {
        "metrics": {m: round(v, 6) for m, v in means.items()},
        "latency": latency_summary(run.latencies_ms),
        "server_latency": latency_summary(run.server_ms),
        "queries": len(run.rankings),
        "queries_without_hits": empty,
        # Fewer than k means the API ran out of candidates (or grouped chunks into fewer docs).
        "mean_results_per_query": round(sum(run.hits) / len(run.hits), 2) if run.hits else 0,
        "min_results_per_query": min(run.hits, default=0),
        "errors": len(run.errors),
        "error_examples": dict(list(run.errors.items())[:5]),
        "wall_s": round(run.wall_s, 3),
        "queries_per_s": round(len(run.rankings) / run.wall_s, 2) if run.wall_s else None,
        "per_query": {q: {m: round(per_query[m][q], 6) for m in per_query} for q in dataset.qrels},
    }


def run_eval(options: EvalOptions) -> dict[str, Any]:
    started = time.perf_counter()
    dataset = load_dataset(options.dataset_dir)
    if dataset.missing_queries:
        shown = ", ".join(dataset.missing_queries[:10])
        log(
            f"warning: {len(dataset.missing_queries)} judged queries are not in queries.jsonl "
            f"and are skipped: {shown}{' ...' if len(dataset.missing_queries) > 10 else ''}"
        )
    if options.limit_queries:
        dataset.limit(options.limit_queries)
    progress = progress_factory(options.progress)
    collection = options.collection or (
        f"eval-{dataset.name}-{datetime.now(UTC).strftime('%Y%m%d-%H%M%S')}"
    )
    platform_timings: dict[str, float] = {}
    with ExitStack() as stack:
        api_url = options.api_url
        if api_url is None:
            from app.eval.platform import LocalPlatform

            log("starting a throwaway Cairn (Postgres, Redis, API, worker) ...")
            local = stack.enter_context(LocalPlatform(keep=options.keep))
            api_url = local.api_url
            platform_timings = {k: round(v, 3) for k, v in local.timings.items()}
            log(f"Cairn is up at {api_url} ({local.timings['platform_start_s']:.1f}s)")
        client = CairnClient(api_url, api_key=options.api_key, pool=max(8, options.concurrency * 2))
        stack.callback(client.close)
        client.wait_ready()
        caps = client.search_capabilities()
        check_modes(options.modes, caps)

        log(f"ingesting {len(dataset.corpus)} documents into collection {collection!r}")
        ingest = ingest_corpus(
            client, dataset.corpus, collection, dataset=dataset.name,
            batch_size=options.batch_size, concurrency=options.concurrency,
            progress=progress, poll_s=options.poll_s,
        )  # fmt: skip
        if ingest.refused:
            log(
                f"warning: the API refused {len(ingest.refused)} documents; they cannot be "
                f"retrieved: {', '.join(list(ingest.refused)[:5])} ..."
            )
        mapper = HitMapper(ingest.beir_ids())
        modes: dict[str, Any] = {}
        for mode in options.modes:
            run = run_mode(
                client, dataset.queries, mode=mode, collection=collection, k=options.k,
                caps=caps, mapper=mapper, ignore_identical_ids=options.ignore_identical_ids,
                concurrency=options.concurrency, progress=progress,
            )  # fmt: skip
            if run.errors and len(run.errors) == len(dataset.queries):
                raise ApiError(
                    f"every {mode} query failed, e.g.: {next(iter(run.errors.values()))}"
                )
            modes[mode] = score_mode(dataset, run)
        sweep: list[dict[str, Any]] | None = None
        if options.sweep:
            from app.eval.sweep import fetch_lists, run_sweep

            lists = fetch_lists(client, dataset.queries, collection=collection, mapper=mapper,
                                concurrency=options.concurrency, progress=progress)  # fmt: skip
            sweep = run_sweep(dataset.qrels, lists, queries=dataset.queries,
                              exclude_identical=options.ignore_identical_ids)  # fmt: skip
        config = retrieval_config(client, ingest)
        deleted = 0
        if options.api_url is not None and not options.keep:
            deleted = delete_created(client, ingest, options.concurrency)
    corpus_n = len(dataset.corpus)
    return {
        "dataset": {
            "name": dataset.name,
            "path": str(dataset.path),
            "corpus_documents": corpus_n,
            "queries_judged": len(dataset.qrels) + len(dataset.missing_queries),
            "queries_evaluated": len(dataset.queries),
            "queries_missing_from_queries_file": dataset.missing_queries,
            "queries_without_relevant_documents": dataset.queries_without_relevant(),
            "qrels_rows_naming_unknown_documents": dataset.unknown_docs,
        },
        "run": {
            "api_url": options.api_url or "started by cairn eval",
            "collection": collection,
            "collection_kept": options.keep,
            "documents_deleted_after": deleted,
            "modes": options.modes,
            "k": options.k,
            "group_by": "document" if caps.group_by else "chunk (collapsed to documents here)",
            "ignore_identical_ids": options.ignore_identical_ids,
            "batch_size": options.batch_size,
            "concurrency": options.concurrency,
            "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        },
        "config": config,
        "machine": machine_info(),
        "ingest": {
            "corpus_documents": corpus_n,
            "identical_documents": ingest.identical,
            "cairn_documents": ingest.unique_documents,
            "ready": ingest.ready,
            "failed": ingest.failed,
            "failures": ingest.failures,
            "refused": len(ingest.refused),
            "refused_examples": dict(list(ingest.refused.items())[:20]),
            "upload_s": round(ingest.upload_s, 3),
            "wall_s": round(ingest.wall_s, 3),
            "docs_per_s": round(corpus_n / ingest.wall_s, 2) if ingest.wall_s else None,
        },
        "modes": modes,
        **({"sweep": sweep} if sweep is not None else {}),
        "timings": {**platform_timings, "total_s": round(time.perf_counter() - started, 3)},
    }


__all__ = ["DatasetError", "EvalOptions", "UsageError", "run_eval"]
