"""Cairn ingest + search benchmark, measured as ratios inside one run (the machine is noisy).

    python bench/ingest_bench.py [--docs 100] [--api-url URL] [--output bench/results/ingest.json]

Without --api-url it starts the platform itself in a temp dir (embedded Postgres and Redis,
migrations, the API under uvicorn, one Celery worker per pool setting) and tears it all down
at the end, also on Ctrl-C. See bench/README.md for what each number means.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import corpus
import httpx
import ingest_load
import raw_embed
import search_load
from platform_runner import REPO, Platform

DEFAULT_OUTPUT = REPO / "bench" / "results" / "ingest.json"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--docs", type=int, default=100, help="synthetic documents to ingest")
    p.add_argument("--api-url", help="benchmark a running API instead of starting one")
    p.add_argument("--api-key", default=os.environ.get("CAIRN_API_KEY"),
                   help="with --api-url: an API key (default: $CAIRN_API_KEY)")
    p.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    p.add_argument("--batch", type=int, default=20, help="files per upload request")
    p.add_argument("--queries", type=int, default=200, help="sequential queries per mode")
    p.add_argument("--threads", type=int, default=8, help="client threads, concurrent search")
    p.add_argument("--concurrent-requests", type=int, default=400,
                   help="requests per mode in the concurrent search run")
    p.add_argument("--pools", default="solo:1,prefork:2",
                   help="worker settings to ingest with, pool:concurrency, comma-separated "
                        "(ignored with --api-url)")
    p.add_argument("--timeout", type=float, default=900, help="seconds allowed per ingest")
    p.add_argument("--seed", type=int, default=20261125)
    p.add_argument("--keep", action="store_true", help="keep the temp dir (logs) afterwards")
    args = p.parse_args(argv)
    if not 1 <= args.docs <= 5000:
        p.error("--docs must be within 1..5000")
    if not 1 <= args.queries <= 5000 or not 1 <= args.threads <= 64:
        p.error("--queries must be within 1..5000 and --threads within 1..64")
    if args.api_url and not args.api_url.startswith(("http://127.0.0.1", "http://localhost")):
        p.error("--api-url must point at 127.0.0.1 / localhost: this tool only loads local hosts")
    return args


def parse_pools(spec: str) -> list[tuple[str, int]]:
    pools = []
    for item in spec.split(","):
        name, _, conc = item.strip().partition(":")
        if name not in ("solo", "prefork", "threads"):
            raise SystemExit(f"unknown pool {name!r}")
        pools.append((name, int(conc or 1)))
    return pools


def machine() -> dict[str, Any]:
    cpu = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    commit = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True, check=False).stdout.strip()
    return {
        "date_utc": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "nproc": len(os.sched_getaffinity(0)), "cpu": cpu, "python": platform.python_version(),
        "git_commit": commit, "loadavg_1m_start": round(os.getloadavg()[0], 2),
    }


@contextlib.contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    def handler(*_: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def run_ingests(args: argparse.Namespace, client: httpx.Client, plat: Platform | None,
                docs: list[corpus.SyntheticDoc], stamp: str) -> tuple[list[dict[str, Any]], str]:
    """Per worker setting: ingest the corpus, then time the raw embedder on the same texts.

    Each platform figure is paired with the raw figure measured right after it, so the two
    sides of a ratio see the same machine load. Returns the runs and the first collection.
    """
    runs: list[dict[str, Any]] = []
    configs: list[tuple[str, int] | None] = (
        [None] if plat is None else list(parse_pools(args.pools))
    )
    first = ""
    inputs: list[list[str]] = []
    for config in configs:
        label = "external" if config is None else f"{config[0]}-c{config[1]}"
        pid = None
        if plat is not None and config is not None:
            pid = plat.start_worker(pool=config[0], concurrency=config[1]).pid
            # warm-up: every worker process loads the model before the timed run
            warm = corpus.make_documents(2 * config[1], seed=args.seed + len(runs) + 1)
            for d in warm:
                d.filename = "warmup-" + d.filename
            ingest_load.ingest(client, warm, f"warmup-{label}-{stamp}", batch=args.batch,
                               worker_pid=None, timeout_s=300)
        collection = f"bench-{label}-{stamp}"
        print(f"ingesting {len(docs)} docs with worker {label} ...", flush=True)
        result = ingest_load.ingest(client, docs, collection, batch=args.batch, worker_pid=pid,
                                    timeout_s=args.timeout)
        ready = ingest_load.fill_details(client, result)
        print(f"  {result.wall_s:.1f}s, {result.docs_per_s:.2f} docs/s, "
              f"{result.failed} failed", flush=True)
        if plat is not None:
            plat.stop_worker()  # idle anyway; gone so it cannot compete with the raw run
        if not first:
            first, inputs = collection, embedding_inputs(client, ready, docs)
        print(f"raw embedder on {sum(map(len, inputs))} chunk texts ...", flush=True)
        raw = raw_embed.measure(inputs)
        ratio = result.docs_per_s / raw["per_doc_calls"]["docs_per_s"]
        runs.append({"worker": label, **result.as_dict(), "raw_after": raw,
                     "platform_over_raw": round(ratio, 3)})
    return runs, first


def embedding_inputs(client: httpx.Client, ready: list[dict[str, Any]],
                     docs: list[corpus.SyntheticDoc]) -> list[list[str]]:
    from app.ingest.embedding_text import title_embedded

    chunks = {d["id"]: ingest_load.document_chunks(client, d["id"]) for d in ready}
    return raw_embed.embedding_inputs(ready, chunks, docs, title_embedded())


def raw_summary(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The raw measurements of all runs, and their mean rates."""
    measurements = [r["raw_after"] for r in runs]
    out: dict[str, Any] = {k: v for k, v in measurements[0].items()
                           if k not in ("per_doc_calls", "bulk_call", "bulk_ways",
                                        "load_and_warmup_s")}
    for name in ("per_doc_calls", "bulk_call"):
        out[name] = {
            key: round(statistics.fmean(m[name][key] for m in measurements), 3)
            for key in ("wall_s", "docs_per_s", "chunks_per_s")
        }
    out["measurements"] = len(measurements)
    return out


def searches(args: argparse.Namespace, client: httpx.Client, collection: str,
             queries: list[str]) -> dict[str, Any]:
    modes = search_load.supported_modes(client, collection, queries[0])
    out: dict[str, Any] = {"modes": modes, "sequential": {}, "concurrent": {}}
    for mode, state in modes.items():
        if state != "ok":
            continue
        print(f"search mode {mode}: {len(queries)} sequential, "
              f"{args.concurrent_requests} over {args.threads} threads ...", flush=True)
        out["sequential"][mode] = search_load.sequential(client, queries, mode, collection, 10)
        out["concurrent"][mode] = search_load.concurrent(
            str(client.base_url), queries, mode, collection, 10,
            threads=args.threads, total=args.concurrent_requests, headers=dict(client.headers),
        )
    return out


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"


def print_report(report: dict[str, Any]) -> None:
    m = report["machine"]
    print(f"\n=== Cairn bench  {m['date_utc']}  nproc={m['nproc']}  {m['cpu']}  "
          f"commit {m['git_commit']}  load {m['loadavg_1m_start']}->{m.get('loadavg_1m_end')}")
    print(f"{'worker':<12}{'docs':>6}{'chunks':>8}{'wall s':>9}{'docs/s':>9}{'chunks/s':>10}"
          f"{'upload s':>10}{'RSS MB':>9}{'vs raw':>8}")
    for run in report["ingest"]:
        ratio = run["platform_over_raw"]
        print(f"{run['worker']:<12}{run['docs']:>6}{run['chunks']:>8}{run['wall_s']:>9.2f}"
              f"{run['docs_per_s']:>9.2f}{run['chunks_per_s']:>10.1f}{run['upload_s']:>10.2f}"
              f"{_num(run['peak_rss_tree_mb']):>9}{ratio:>8.2f}")
    for run in report["ingest"]:
        stages = run["stage_ms_total"]
        total = sum(stages.values()) or 1
        shares = "  ".join(f"{k.removesuffix('_ms')} {v / total:.0%}" for k, v in stages.items())
        print(f"  {run['worker']} pipeline time by stage: {shares}")
    for run in report["ingest"]:
        r = run["raw_after"]
        print(f"  raw after {run['worker']}: per-doc calls {r['per_doc_calls']['docs_per_s']:.2f}"
              f" docs/s, bulk {r['bulk_call']['docs_per_s']:.2f} docs/s")
    for name in ("per_doc_calls", "bulk_call"):
        r = report["raw_embedder"][name]
        print(f"{'raw mean ' + name:<24}{r['wall_s']:>9.2f}s{r['docs_per_s']:>9.2f} docs/s"
              f"{r['chunks_per_s']:>10.1f} chunks/s")
    print(f"\n{'search mode':<12}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'server p50':>12}"
          f"{'qps@' + str(report['args']['threads']):>9}{'c-p50 ms':>10}")
    s = report["search"]
    for mode, seq in s["sequential"].items():
        conc = s["concurrent"][mode]
        print(f"{mode:<12}{seq['p50_ms']:>9.1f}{seq['p95_ms']:>9.1f}{seq['p99_ms']:>9.1f}"
              f"{seq['server_took_p50_ms']:>12.1f}{conc['qps']:>9.1f}{conc['p50_ms']:>10.1f}")
    skipped = {k: v for k, v in s["modes"].items() if v != "ok"}
    if skipped:
        print(f"modes not accepted by the API: {skipped}")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    docs = corpus.make_documents(args.docs, seed=args.seed)
    queries = corpus.make_queries(docs, count=args.queries, seed=args.seed + 1)
    stamp = datetime.now(UTC).strftime("%H%M%S")
    report: dict[str, Any] = {"machine": machine(), "args": {
        k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()
        if k != "api_key"}}
    started = time.perf_counter()
    with sigterm_as_interrupt(), contextlib.ExitStack() as stack:
        plat = None
        if args.api_url:
            base_url, key = args.api_url.rstrip("/"), args.api_key
        else:
            plat = stack.enter_context(Platform(keep=args.keep))
            os.environ.update(plat.env)  # the in-process raw embedder reads the same settings
            base_url, key = plat.api_url, plat.api_key
        headers = {"X-API-Key": key} if key else {}
        client = stack.enter_context(httpx.Client(base_url=base_url, timeout=120, headers=headers))
        runs, collection = run_ingests(args, client, plat, docs, stamp)
        report["ingest"] = runs
        report["raw_embedder"] = raw_summary(runs)
        report["platform_over_raw"] = {r["worker"]: r["platform_over_raw"] for r in runs}
        report["search"] = searches(args, client, collection, queries)
    report["total_s"] = round(time.perf_counter() - started, 1)
    report["machine"]["loadavg_1m_end"] = round(os.getloadavg()[0], 2)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2) + "\n")
    print_report(report)
    print(f"\nwritten {args.output}  (total {report['total_s']}s)")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("interrupted: platform stopped", file=sys.stderr)
        sys.exit(130)
