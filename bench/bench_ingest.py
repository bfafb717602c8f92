"""`make bench-ingest`: ingest throughput against the raw embedder, in one run.

    python bench/bench_ingest.py [--dataset /path/to/scifact] [--docs 300] [--pdfs 6 --docx 6]
                                 [--big-pdf-pages 200] [--output bench/results/bench_ingest.json]

Starts the platform in a temp dir (bench/platform_runner.py: embedded Postgres and Redis, the
API under uvicorn, one Celery worker as ./start.sh runs it), then, per corpus part (SciFact
abstracts from --dataset, or synthetic text files without it; then a synthetic mix of larger
PDFs and DOCX): uploads through the API, waits until every document is ready (= searchable),
reads the chunks back and runs the embedder alone in this process on exactly those strings.
Headline: raw embedder time / platform time on the same texts (chunks and
document rows). Then a 200-page PDF: the parse's peak
memory in a subprocess, its ingest (worker peak RSS), and the time to delete it (>= 1,000
chunks). See bench/README.md.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import corpus
import docs_mix
import httpx
import ingest_load
import proc_cpu
import raw_embed
from ingest_bench import machine, sigterm_as_interrupt
from platform_runner import REPO, Platform

DEFAULT_OUTPUT = REPO / "bench" / "results" / "bench_ingest.json"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    from app.core.config import get_settings

    s = get_settings()
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--dataset", type=Path, help="a BEIR folder (e.g. SciFact); optional")
    p.add_argument("--docs", type=int, default=300,
                   help="abstracts from --dataset, or synthetic text files without it")
    p.add_argument("--pdfs", type=int, default=6, help="synthetic PDFs of 4-12 pages")
    p.add_argument("--docx", type=int, default=6, help="synthetic DOCX of 1,500-4,000 words")
    p.add_argument("--big-pdf-pages", type=int, default=200,
                   help="pages of the big PDF (parse memory, ingest, delete); 0 = skip")
    p.add_argument("--pool", default=s.worker_pool, help="worker pool (as ./start.sh)")
    p.add_argument("--concurrency", type=int, default=s.worker_concurrency,
                   help="worker concurrency (as ./start.sh)")
    p.add_argument("--batch", type=int, default=20, help="files per upload request")
    p.add_argument("--timeout", type=float, default=1800, help="seconds allowed per ingest")
    p.add_argument("--seed", type=int, default=20261201)
    p.add_argument("--raw-per-doc", action="store_true",
                   help="also time the raw embedder with one call per document")
    p.add_argument("--label", default="", help="a name for this run, kept in the JSON")
    p.add_argument("--keep", action="store_true", help="keep the temp dir (logs) afterwards")
    p.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    args = p.parse_args(argv)
    if not 0 <= args.docs <= 6000 or not 0 <= args.pdfs <= 100 or not 0 <= args.docx <= 100:
        p.error("--docs within 0..6000, --pdfs and --docx within 0..100")
    if not 0 <= args.big_pdf_pages <= 1000:
        p.error("--big-pdf-pages within 0..1000")
    return args


def cpu_roots(plat: Platform) -> dict[str, int]:
    """The processes whose CPU an ingest spends: the worker (with its children), Postgres
    (the postmaster, its backends and the ones it reaped) and the API."""
    assert plat.api is not None
    return {"worker": plat.workers["worker"].pid,
            "postgres": proc_cpu.postmaster_pid(plat.base / "pg"), "api": plat.api.pid}


def cpu_now(roots: dict[str, int]) -> dict[str, float]:
    return {name: proc_cpu.tree_cpu_s(pid) for name, pid in roots.items()}


def cpu_split(before: dict[str, float], after: dict[str, float], wall_s: float, docs: int,
              raw: dict[str, Any]) -> dict[str, Any]:
    """Why the platform is slower than the raw embedder, as two factors whose product is
    `÷ raw` exactly: `cpu_bound` = the raw embedder's wall time x the cores ÷ the CPU the
    platform spent (the speed it would reach if it kept every core busy), and `busy` = that
    CPU ÷ (its wall time x the cores) (how much of the machine it kept busy)."""
    cores = os.cpu_count() or 1
    spent = {name: after[name] - before[name] for name in after}
    total = sum(spent.values())
    raw_wall = raw["bulk_call"]["wall_s"]
    out: dict[str, Any] = {f"{name}_s": round(s, 2) for name, s in spent.items()}
    out |= {"total_s": round(total, 2), "cores": cores,
            "per_doc_ms": {name: round(1000 * s / max(docs, 1), 1) for name, s in spent.items()},
            "raw_model_cpu_s": raw["bulk_call"]["cpu_s"],
            "cpu_bound": round(raw_wall * cores / total, 3) if total else None,
            "busy": round(total / (wall_s * cores), 3) if wall_s else None}
    return out


def ingest_part(client: httpx.Client, plat: Platform, name: str, docs: list[corpus.SyntheticDoc],
                args: argparse.Namespace, stamp: str) -> dict[str, Any]:
    """Upload `docs` into a fresh collection, wait for all ready, then the raw embedder on the
    very strings the pipeline embedded."""
    from app.ingest.embedding_text import title_embedded

    collection = f"bench-{name}-{stamp}"
    print(f"[{name}] ingesting {len(docs)} documents ...", flush=True)
    load = os.getloadavg()[0]
    roots = cpu_roots(plat)
    cpu_before = cpu_now(roots)
    result = ingest_load.ingest(client, docs, collection, batch=args.batch,
                                worker_pid=plat.workers["worker"].pid, timeout_s=args.timeout)
    cpu_after = cpu_now(roots)  # all searchable: before the bench reads anything back
    ready = ingest_load.fill_details(client, result)
    chunks = {d["id"]: ingest_load.document_chunks(client, d["id"]) for d in ready}
    tokens = sum(c["token_count"] for cs in chunks.values() for c in cs)
    inputs = raw_embed.embedding_inputs(ready, chunks, docs, title_embedded())
    # The rows the platform embedded besides chunks (a document's whole-text row, with
    # INDEX_GRANULARITY=document) are not in the chunk API: read them, so both sides do the
    # same embedding work.
    extra = raw_embed.extra_rows(plat.env["DATABASE_URL"], [d["id"] for d in ready])
    for doc, texts in zip(ready, inputs, strict=True):
        texts.extend(extra.get(doc["id"], []))
    print(f"[{name}] {result.wall_s:.1f}s; raw embedder on {sum(map(len, inputs))} texts ...",
          flush=True)
    load_ingested = os.getloadavg()[0]
    raw = raw_embed.measure(inputs, per_doc_calls=args.raw_per_doc)
    out = {"part": name, **result.as_dict(), "tokens": tokens,
           "tokens_per_s": round(tokens / result.wall_s, 1),
           "time_to_all_searchable_s": round(result.wall_s, 3),
           "loadavg_1m": {"start": round(load, 2), "ingested": round(load_ingested, 2),
                          "raw_done": round(os.getloadavg()[0], 2)},
           "raw": raw}
    out["extra_rows"] = sum(map(len, extra.values()))
    # Same texts on both sides, so the ratio of rates is the ratio of times.
    out["platform_over_raw_bulk"] = round(raw["bulk_call"]["wall_s"] / result.wall_s, 3)
    out["cpu"] = cpu_split(cpu_before, cpu_after, result.wall_s, result.docs, raw)
    print(f"[{name}] platform {result.chunks_per_s:.1f} chunks/s, raw embedder "
          f"{raw['bulk_call']['chunks_per_s']:.1f} chunks/s: {out['platform_over_raw_bulk']:.2f}",
          flush=True)
    if args.raw_per_doc:
        out["platform_over_raw_per_doc"] = round(
            raw["per_doc_calls"]["wall_s"] / result.wall_s, 3)
    return out


_PARSE_PEAK = """
import sys, threading, time
import psutil
from app.ingest.parsers import parse
data = open(sys.argv[1], "rb").read()
me, peak, done = psutil.Process(), [0], threading.Event()
def sample():
    while not done.is_set():
        peak[0] = max(peak[0], me.memory_info().rss)
        done.wait(0.005)
base = me.memory_info().rss
threading.Thread(target=sample, daemon=True).start()
t = time.perf_counter()
parsed = parse(data, "application/pdf", "big.pdf")
took = time.perf_counter() - t
done.set()
print(base // 1024, max(peak[0], me.memory_info().rss) // 1024, took, parsed.page_count,
      len(parsed.text))
"""


def parse_peak(doc: docs_mix.BinaryDoc, env: dict[str, str]) -> dict[str, Any]:
    """Peak RSS of parsing the PDF alone, in a fresh interpreter: resident memory sampled
    every 5 ms during the parse, against the resident memory just before it (imports and
    the file's bytes already loaded)."""
    with tempfile.NamedTemporaryFile(suffix=".pdf") as f:
        f.write(doc.data)
        f.flush()
        out = subprocess.run([sys.executable, "-c", _PARSE_PEAK, f.name], env=env, check=True,
                             capture_output=True, text=True, cwd=REPO / "backend").stdout.split()
    before, after = int(out[0]) / 1024, int(out[1]) / 1024
    return {"file_mb": round(len(doc.data) / 2**20, 2), "pages": int(out[3]),
            "text_chars": int(out[4]), "parse_s": round(float(out[2]), 2),
            "rss_before_parse_mb": round(before, 1), "peak_rss_parse_mb": round(after, 1),
            "parse_growth_mb": round(after - before, 1)}


def big_pdf_part(client: httpx.Client, plat: Platform, args: argparse.Namespace,
                 stamp: str) -> dict[str, Any]:
    pages = args.big_pdf_pages
    small, big = docs_mix.big_pdf(max(1, pages // 4), args.seed), docs_mix.big_pdf(pages, args.seed)
    print(f"[big-pdf] parse memory at {pages // 4} and {pages} pages ...", flush=True)
    out: dict[str, Any] = {"parse": {f"{p}_pages": parse_peak(d, plat.env)
                                     for p, d in ((max(1, pages // 4), small), (pages, big))}}
    collection = f"bench-bigpdf-{stamp}"
    print(f"[big-pdf] ingesting the {pages}-page PDF ...", flush=True)
    result = ingest_load.ingest(client, [big], collection, batch=1,
                                worker_pid=plat.workers["worker"].pid, timeout_s=args.timeout)
    docs = ingest_load.fill_details(client, result)
    out["ingest"] = result.as_dict()
    if docs:
        doc_id = docs[0]["id"]
        start = time.perf_counter()
        resp = client.delete(f"/api/v1/documents/{doc_id}")
        took = time.perf_counter() - start
        resp.raise_for_status()
        out["delete"] = {"chunks": result.chunks, "delete_s": round(took, 3)}
        print(f"[big-pdf] deleted {result.chunks} chunks in {took:.3f}s", flush=True)
    return out


def print_report(report: dict[str, Any]) -> None:
    m = report["machine"]
    print(f"\n=== bench-ingest {report['args']['label']}  {m['date_utc']}  nproc={m['nproc']}  "
          f"commit {m['git_commit']}  worker {report['worker']}  "
          f"load {m['loadavg_1m_start']}->{m.get('loadavg_1m_end')}")
    print(f"{'part':<10}{'docs':>6}{'chunks':>8}{'tokens':>9}{'to ready s':>11}{'docs/s':>8}"
          f"{'chunks/s':>10}{'tok/s':>8}{'raw ch/s':>10}{'÷ raw':>7}{'RSS MB':>8}  load")
    for p in report["parts"]:
        load = p["loadavg_1m"]
        print(f"{p['part']:<10}{p['docs']:>6}{p['chunks']:>8}{p['tokens']:>9}"
              f"{p['wall_s']:>11.1f}{p['docs_per_s']:>8.2f}{p['chunks_per_s']:>10.1f}"
              f"{p['tokens_per_s']:>8.0f}{p['raw']['bulk_call']['chunks_per_s']:>10.1f}"
              f"{p['platform_over_raw_bulk']:>7.2f}{p['peak_rss_tree_mb'] or 0:>8.0f}"
              f"  {load['start']}/{load['ingested']}/{load['raw_done']}")
    for p in report["parts"]:
        stages = {k: v for k, v in p["stage_ms_total"].items()
                  if k in ("fetch_ms", "parse_ms", "chunk_ms", "embed_ms", "write_ms")}
        total = sum(stages.values()) or 1
        shares = "  ".join(f"{k.removesuffix('_ms')} {v / 1000:.1f}s ({v / total:.0%})"
                           for k, v in stages.items())
        print(f"  {p['part']} stage time (sum over documents): {shares}")
        ways = p["raw"].get("bulk_ways", {})
        if ways:
            print(f"  {p['part']} raw embedder, chunks/s: " + ", ".join(
                f"{way} {r['chunks_per_s']}" for way, r in ways.items())
                + f" (÷ raw uses {p['raw']['bulk_call']['way']})")
    for p in report["parts"]:
        cpu, per_doc = p["cpu"], p["cpu"]["per_doc_ms"]
        print(f"  {p['part']} CPU: worker {cpu['worker_s']}s, postgres {cpu['postgres_s']}s, "
              f"api {cpu['api_s']}s (per document {per_doc['worker']} / {per_doc['postgres']} / "
              f"{per_doc['api']} ms); raw embedder {cpu['raw_model_cpu_s']}s CPU; "
              f"÷ raw {p['platform_over_raw_bulk']:.2f} = cpu_bound {cpu['cpu_bound']} "
              f"x busy {cpu['busy']} ({cpu['cores']} cores)")
    big = report.get("big_pdf")
    if big:
        for name, parse in big["parse"].items():
            print(f"  parse {name}: {parse['file_mb']} MB file, peak RSS "
                  f"{parse['peak_rss_parse_mb']} MB (+{parse['parse_growth_mb']} MB over the "
                  f"imports), {parse['parse_s']}s")
        ing = big["ingest"]
        print(f"  ingest of the big PDF: {ing['chunks']} chunks in {ing['wall_s']:.1f}s, worker "
              f"peak RSS {ing['peak_rss_tree_mb']} MB")
        if "delete" in big:
            print(f"  delete: {big['delete']['chunks']} chunks in {big['delete']['delete_s']}s")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    parts: list[tuple[str, list[corpus.SyntheticDoc]]] = []
    if args.docs:
        parts.append(("scifact", docs_mix.scifact(args.dataset, args.docs)) if args.dataset
                     else ("text", corpus.make_documents(args.docs, seed=args.seed)))
    if args.pdfs or args.docx:
        parts.append(("pdf+docx", docs_mix.mix(args.pdfs, args.docx, args.seed)))
    stamp = datetime.now(UTC).strftime("%H%M%S")
    report: dict[str, Any] = {"machine": machine(), "args": {
        k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()}}
    report["worker"] = f"{args.pool}-c{args.concurrency}"
    started = time.perf_counter()
    with sigterm_as_interrupt(), contextlib.ExitStack() as stack:
        plat = stack.enter_context(Platform(keep=args.keep))
        os.environ.update(plat.env)  # the in-process raw embedder reads the same settings
        client = stack.enter_context(httpx.Client(base_url=plat.api_url, timeout=300,
                                                  headers={"X-API-Key": plat.api_key}))
        plat.start_worker(pool=args.pool, concurrency=args.concurrency,
                          queues=("ingest", "maintenance"))
        warm = corpus.make_documents(max(2, args.concurrency), seed=args.seed + 1)
        for d in warm:
            d.filename = "warmup-" + d.filename
        ingest_load.ingest(client, warm, f"warmup-{stamp}", batch=args.batch, worker_pid=None,
                           timeout_s=300)
        report["parts"] = [ingest_part(client, plat, name, docs, args, stamp)
                           for name, docs in parts]
        if args.big_pdf_pages:
            report["big_pdf"] = big_pdf_part(client, plat, args, stamp)
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
