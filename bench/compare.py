"""Cairn against the pipeline users would otherwise build (LlamaIndex + PGVectorStore), same
machine, same run, same Postgres server, same model: ingest throughput, query latency and
SciFact nDCG@10 side by side.

    python bench/compare.py --dataset /path/to/scifact [--docs 1000] [--output ...]

`make bench-compare DATASET=path ARGS="--docs 1000"` prepares the LlamaIndex venv first
(bench/.venv-compare, bench/requirements-compare.txt). See bench/README.md.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import compare_data
import compare_queries
import compare_report
import proc_cpu
from platform_runner import REPO, SHARED_MODELS, Platform

DEFAULT_OUTPUT = REPO / "bench" / "results" / "compare.json"
DEFAULT_LLAMA_PYTHON = REPO / "bench" / ".venv-compare" / "bin" / "python"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--dataset", type=Path, help="a BEIR SciFact folder (required)")
    p.add_argument("--docs", type=int, default=1000,
                   help="documents to ingest (every judged document is included); 0 = all")
    p.add_argument("--queries", type=int, default=0,
                   help="only the first N judged queries (0: all; a quick check)")
    p.add_argument("--seed", type=int, default=20261201, help="draws the unjudged documents")
    p.add_argument("--k", type=int, default=10, help="documents per query (nDCG@k)")
    p.add_argument("--chunks-per-query", type=int, default=20,
                   help="LlamaIndex similarity_top_k (chunks, collapsed to --k documents)")
    p.add_argument("--worker", default=None,
                   help="Cairn worker pool:concurrency (default: WORKER_POOL:WORKER_CONCURRENCY,"
                        " as ./start.sh runs it)")
    p.add_argument("--upload-batch", type=int, default=20, help="files per upload request")
    p.add_argument("--warmup", type=int, default=5, help="untimed queries per mode first")
    p.add_argument("--llama-python", type=Path, default=DEFAULT_LLAMA_PYTHON,
                   help="the python of the LlamaIndex venv (make bench-compare builds it)")
    p.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    p.add_argument("--keep", action="store_true", help="keep the temp dir (logs) afterwards")
    args = p.parse_args(argv)
    if args.worker is None:
        from app.core.config import get_settings

        settings = get_settings()
        args.worker = f"{settings.worker_pool}:{settings.worker_concurrency}"
    if args.dataset is None:
        p.error("--dataset PATH is required: a BEIR SciFact folder (corpus.jsonl[.gz], "
                "queries.jsonl, qrels/test.tsv), e.g. from the BEIR downloads")
    if not args.llama_python.is_file():
        p.error(f"{args.llama_python} not found: run `make bench-compare`, which builds the "
                "LlamaIndex venv from bench/requirements-compare.txt")
    if args.docs < 0 or not 1 <= args.k <= 100 or args.chunks_per_query < args.k:
        p.error("--docs >= 0, 1 <= --k <= 100, --chunks-per-query >= --k")
    return args


def machine() -> dict[str, Any]:
    cpu = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    commit = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True, check=False).stdout.strip()
    return {"date_utc": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "nproc": len(os.sched_getaffinity(0)), "cpu": cpu,
            "python": platform.python_version(), "git_commit": commit,
            "loadavg_1m_start": round(os.getloadavg()[0], 2)}


@contextlib.contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    def handler(*_: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def cairn_ingest(args: argparse.Namespace, plat: Platform, client: Any,
                 docs: list[Any]) -> tuple[dict[str, Any], Any]:
    from app.eval.dataset import CorpusDoc
    from app.eval.ingest import ingest_corpus
    from app.eval.runner import progress_factory

    pool, _, conc = args.worker.partition(":")
    worker = plat.start_worker(pool=pool, concurrency=int(conc or 1))
    quiet = progress_factory(False)
    warm = [CorpusDoc(f"warmup-{i}", "Warm-up", f"warm-up document {i} " * 40) for i in range(4)]
    ingest_corpus(client, warm, "warmup", dataset="warmup", batch_size=4, concurrency=1,
                  progress=quiet, poll_s=0.2)  # the model is loaded before the clock
    print(f"cairn: ingesting {len(docs)} docs ...", file=sys.stderr, flush=True)
    assert plat.api is not None
    roots = {"worker": worker.pid, "api": plat.api.pid,
             "postgres": proc_cpu.postmaster_pid(plat.base / "pg")}
    before = {name: proc_cpu.tree_cpu_s(pid) for name, pid in roots.items()}
    client_before = time.process_time()
    result = ingest_corpus(client, docs, "scifact", dataset="scifact",
                           batch_size=args.upload_batch, concurrency=2, progress=quiet,
                           poll_s=0.2)
    parts = {name: round(proc_cpu.tree_cpu_s(pid) - before[name], 1)
             for name, pid in roots.items()}
    cpu_s = sum(parts.values())
    parts["client"] = round(time.process_time() - client_before, 1)  # not in cpu_s
    plat.stop_worker()  # idle now; gone so it cannot compete with the LlamaIndex side
    chunks, tokens, doc_rows = compare_data.cairn_chunk_stats(plat.env["DATABASE_URL"],
                                                              "scifact")
    n = result.unique_documents
    print(f"cairn: {result.wall_s:.1f}s, {chunks} chunks (+{doc_rows} whole-document rows), "
          f"{result.failed} failed", file=sys.stderr, flush=True)
    return {"docs": n, "chunks": chunks, "document_rows": doc_rows, "failed": result.failed,
            "wall_s": round(result.wall_s, 2), "upload_s": round(result.upload_s, 2),
            "docs_per_s": round(n / result.wall_s, 2),
            "chunks_per_s": round(chunks / result.wall_s, 1),
            "cpu_s": round(cpu_s, 1), "chunks_per_cpu_s": round(chunks / cpu_s, 1),
            "cpu_parts_s": parts, "tokens_per_chunk": round(tokens, 1), "worker": args.worker}, result


def start_llamaindex(args: argparse.Namespace, plat: Platform,
                     unique: list[Any]) -> compare_queries.LlamaIndexProcess:
    """Its own database in the same Postgres server; its own venv; returns after its ingest."""
    from app.core.config import get_settings
    from app.providers.embeddings.local_model import onnx_path, package_model_dir

    settings = get_settings()
    assert plat.pg is not None
    plat.pg.server.psql('CREATE DATABASE "llamaindex";')
    socket_dir = plat.base / "pg"
    model = settings.embedding_model
    cfg = {
        "pg_url": f"postgresql+psycopg2://postgres:@/llamaindex?host={socket_dir}",
        "pg_async_url": f"postgresql+asyncpg://postgres:@/llamaindex?host={socket_dir}",
        "onnx_path": str(onnx_path(model, SHARED_MODELS)),
        "tokenizer_path": str(package_model_dir(model) / "tokenizer.json"),
        "max_tokens": settings.embedding_max_tokens, "batch_size": settings.embedding_batch_size,
        "chunk_size": settings.chunk_size_tokens, "chunk_overlap": settings.chunk_overlap_tokens,
        "ef_search": settings.hnsw_ef_search, "k": args.k,
        "chunks_per_query": args.chunks_per_query,
        "postmaster_pid": proc_cpu.postmaster_pid(socket_dir),
        "documents": [{"id": d.id, "text": d.content()} for d in unique],
    }
    given = plat.base / "llama-in.json"
    given.write_text(json.dumps(cfg))
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    env |= {"HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    argv = [str(args.llama_python), str(REPO / "bench" / "compare_llamaindex.py"), str(given)]
    llama = compare_queries.LlamaIndexProcess(argv, env)
    llama.ingest["config"] = {k: v for k, v in cfg.items() if k != "documents"}
    return llama


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from app.eval.client import CairnClient
    from app.eval.dataset import DatasetError, load_dataset
    from app.eval.ingest import group_identical
    from app.eval.queries import HitMapper

    try:
        dataset = load_dataset(args.dataset)
    except DatasetError as exc:
        raise SystemExit(f"--dataset {args.dataset}: {exc}") from exc
    subset = compare_data.draw_subset(dataset, args.docs, args.seed, args.queries)
    groups = group_identical(subset.docs)
    unique = [d for d in subset.docs if d.id in groups]
    print(f"{len(subset.docs)} docs ({subset.judged_docs} judged), {len(subset.queries)} "
          f"queries", file=sys.stderr, flush=True)
    report: dict[str, Any] = {
        "machine": machine(), "args": {k: str(v) if isinstance(v, Path) else v
                                       for k, v in vars(args).items()},
        "dataset": {"name": dataset.name, "docs": len(subset.docs), "unique_docs": len(unique),
                    "judged_docs": subset.judged_docs, "queries": len(subset.queries),
                    "subset": subset.how},
    }
    started = time.perf_counter()
    with sigterm_as_interrupt(), contextlib.ExitStack() as stack:
        plat = stack.enter_context(Platform(keep=args.keep))
        os.environ.update(plat.env)
        client = CairnClient(plat.api_url, api_key=plat.api_key)
        stack.callback(client.close)
        cairn_ing, result = cairn_ingest(args, plat, client, subset.docs)
        report["machine"]["loadavg_1m_after_cairn_ingest"] = round(os.getloadavg()[0], 2)
        llama = start_llamaindex(args, plat, unique)
        stack.callback(llama.close)
        report["machine"]["loadavg_1m_after_llamaindex"] = round(os.getloadavg()[0], 2)
        queries = compare_queries.run(client, HitMapper(result.beir_ids()), llama,
                                      subset.queries, collection="scifact", k=args.k,
                                      warmup=args.warmup)
    report["machine"]["loadavg_1m_end"] = round(os.getloadavg()[0], 2)
    report["total_s"] = round(time.perf_counter() - started, 1)
    report["cairn"] = {"ingest": cairn_ing, "queries": queries["cairn"]}
    report["llamaindex"] = {"ingest": llama.ingest, "queries": queries["llamaindex"]}
    compare_report.score(report, subset.qrels, groups)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(compare_report.without_rankings(report), indent=2) + "\n")
    compare_report.print_table(report)
    print(f"\nwritten {args.output}  (total {report['total_s']}s)")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("interrupted: platform stopped", file=sys.stderr)
        sys.exit(130)
