"""`cairn ingest` and `cairn status`: the operator's commands that go through the HTTP API
(so they work against a remote server), with rich progress bars.

  cairn ingest PATH... [--collection C] [--recursive] [--include GLOB] --url URL --api-key K
  cairn status --url URL --api-key K

`ingest` hashes every file locally and asks the server which digests the collection already
holds (POST /api/v1/documents/known): known files and repeats inside the run are skipped
without sending a byte; the rest are uploaded one per request (a refused file fails alone),
then followed until ready or failed. The summary lists ready, failed (with reasons) and
skipped files; exit 0 when nothing failed, 1 otherwise, 2 for a usage or connection error.
"""

from __future__ import annotations

import argparse
import fnmatch
import hashlib
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

FINAL = ("ready", "failed")
KNOWN_BATCH = 1000


class CliError(Exception):
    """A problem worth one line on stderr and exit 2."""


@dataclass
class Summary:
    ready: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)  # path -> why (known / repeated)
    uploaded: int = 0
    uploaded_bytes: int = 0


def find_files(paths: list[str], *, recursive: bool, include: list[str]) -> list[Path]:
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_file():
            found.append(path)
        elif path.is_dir():
            walk = path.rglob("*") if recursive else path.glob("*")
            found += sorted(p for p in walk if p.is_file()
                            and not any(part.startswith(".") for part in p.relative_to(path).parts))
        else:
            raise CliError(f"{raw}: no such file or directory")
    if include:
        found = [p for p in found if any(fnmatch.fnmatch(p.name, g) for g in include)]
    return found


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _client(url: str, api_key: str) -> httpx.Client:
    return httpx.Client(base_url=url.rstrip("/"), timeout=httpx.Timeout(120, connect=10),
                        headers={"Authorization": f"Bearer {api_key}"})


def _check(resp: httpx.Response) -> Any:
    if resp.status_code >= 400:
        try:
            message = resp.json()["error"]["message"]
        except Exception:
            message = resp.text[:200]
        raise CliError(f"{resp.request.method} {resp.request.url.path}: "
                       f"{resp.status_code} {message}")
    return resp.json()


def _known(client: httpx.Client, collection: str | None, digests: list[str]) -> dict[str, Any]:
    known: dict[str, Any] = {}
    for start in range(0, len(digests), KNOWN_BATCH):
        body = _check(client.post("/api/v1/documents/known", json={
            "collection": collection, "sha256": digests[start:start + KNOWN_BATCH]}))
        known.update({k["sha256"]: k for k in body["known"]})
    return known


def ingest(paths: list[str], *, url: str, api_key: str, collection: str | None = None,
           recursive: bool = False, include: list[str] | None = None,
           console: Console | None = None, poll_s: float = 0.5,
           timeout_s: float = 3600) -> Summary:
    console = console or Console(stderr=True)
    files = find_files(paths, recursive=recursive, include=include or [])
    summary = Summary()
    digests = {p: sha256_of(p) for p in files}
    to_send: list[Path] = []
    seen: dict[str, Path] = {}
    with _client(url, api_key) as client:
        try:
            known = _known(client, collection, sorted(set(digests.values())))
        except httpx.HTTPError as exc:
            raise CliError(f"{url}: {exc}") from exc
        for path in files:
            digest = digests[path]
            if digest in known:
                summary.skipped[str(path)] = (f"already in the collection as "
                                              f"{known[digest]['filename']} "
                                              f"({known[digest]['status']})")
            elif digest in seen:
                summary.skipped[str(path)] = f"same bytes as {seen[digest]}"
            else:
                seen[digest] = path
                to_send.append(path)
        pending = _upload(client, to_send, collection, summary, console)
        _follow(client, pending, summary, console, poll_s, timeout_s)
    return summary


def _upload(client: httpx.Client, files: list[Path], collection: str | None,
            summary: Summary, console: Console) -> dict[str, str]:
    """Upload each file; returns document id -> path of those the server queued."""
    pending: dict[str, str] = {}
    form = {"collection": collection} if collection else {}
    with _progress(console) as progress:
        task = progress.add_task("uploading", total=len(files))
        for path in files:
            with path.open("rb") as f:
                resp = client.post("/api/v1/documents", data=form,
                                   files=[("files", (path.name, f))])
            if resp.status_code >= 400:
                try:
                    summary.failed[str(path)] = resp.json()["error"]["message"]
                except Exception:
                    summary.failed[str(path)] = f"HTTP {resp.status_code}"
                if resp.status_code in (401, 403):
                    raise CliError(f"upload refused: {summary.failed[str(path)]}")
            else:
                summary.uploaded += 1
                summary.uploaded_bytes += path.stat().st_size
                doc = resp.json()["documents"][0]
                if doc["outcome"] == "duplicate":
                    summary.skipped[str(path)] = "already in the collection"
                else:
                    pending[doc["id"]] = str(path)
            progress.advance(task)
    return pending


def _follow(client: httpx.Client, pending: dict[str, str], summary: Summary,
            console: Console, poll_s: float, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    with _progress(console) as progress:
        task = progress.add_task("ingesting", total=len(pending))
        while pending:
            for doc_id, path in list(pending.items()):
                doc = _check(client.get(f"/api/v1/documents/{doc_id}"))
                if doc["status"] in FINAL:
                    if doc["status"] == "ready":
                        summary.ready.append(path)
                    else:
                        summary.failed[path] = doc.get("error") or "failed"
                    del pending[doc_id]
                    progress.advance(task)
            if pending:
                if time.monotonic() > deadline:
                    for path in pending.values():
                        summary.failed[path] = "still ingesting when cairn ingest stopped waiting"
                    return
                time.sleep(poll_s)


def _progress(console: Console) -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), console=console, transient=False)


def print_summary(summary: Summary, console: Console) -> None:
    console.print(f"ready: {len(summary.ready)}  failed: {len(summary.failed)}  "
                  f"skipped (duplicates): {len(summary.skipped)}  "
                  f"uploaded: {summary.uploaded} ({summary.uploaded_bytes} bytes)")
    for path, reason in sorted(summary.failed.items()):
        console.print(f"  failed  {path}: {reason}")
    for path, reason in sorted(summary.skipped.items()):
        console.print(f"  skipped {path}: {reason}")


def status(*, url: str, api_key: str) -> dict[str, Any]:
    """Services (GET /api/health/ready) and queue depths and documents by status (GET
    /metrics: an admin's key or the scrape token, unless the API is on loopback)."""
    from prometheus_client.parser import text_string_to_metric_families

    with _client(url, api_key) as client:
        try:
            ready = client.get("/api/health/ready")
            metrics = client.get("/metrics")
        except httpx.HTTPError as exc:
            raise CliError(f"{url}: {exc}") from exc
    out: dict[str, Any] = {"services": ready.json(), "queues": {}, "documents": {}}
    if metrics.status_code != 200:
        raise CliError(f"GET /metrics: {metrics.status_code} (needs an admin's key or "
                       "METRICS_TOKEN)")
    for family in text_string_to_metric_families(metrics.text):
        for s in family.samples:
            if s.name == "cairn_queue_depth":
                out["queues"][s.labels["queue"]] = int(s.value)
            elif s.name == "cairn_documents":
                out["documents"][s.labels["status"]] = int(s.value)
    return out


def _cmd_ingest(args: argparse.Namespace) -> int:
    console = Console(stderr=True)
    try:
        summary = ingest(args.paths, url=args.url, api_key=_key(args),
                         collection=args.collection, recursive=args.recursive,
                         include=args.include, console=console)
    except CliError as exc:
        print(f"cairn ingest: {exc}", file=sys.stderr)
        return 2
    print_summary(summary, Console())
    return 1 if summary.failed else 0


def _cmd_status(args: argparse.Namespace) -> int:
    try:
        found = status(url=args.url, api_key=_key(args))
    except CliError as exc:
        print(f"cairn status: {exc}", file=sys.stderr)
        return 2
    table = Table(title="Cairn")
    table.add_column("what")
    table.add_column("state")
    for name, check in (found["services"].get("checks") or {}).items():
        table.add_row(f"service {name}", "ok" if check.get("ok") else str(check))
    for queue, depth in sorted(found["queues"].items()):
        table.add_row(f"queue {queue}", str(depth))
    for state, n in sorted(found["documents"].items()):
        table.add_row(f"documents {state}", str(n))
    Console().print(table)
    return 0 if found["services"].get("status") in ("ready", "degraded") else 1


def _key(args: argparse.Namespace) -> str:
    if args.api_key_file:
        return str(Path(args.api_key_file).read_text().strip())
    if args.api_key:
        return str(args.api_key)
    raise CliError("give --api-key or --api-key-file")


def _connection(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--url", default="http://127.0.0.1:8000", help="the API's base URL")
    parser.add_argument("--api-key", help="an API key (visible in `ps`: prefer the file)")
    parser.add_argument("--api-key-file", help="read the API key from this file")


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("ingest", help="upload files or folders through the API, with progress")
    p.add_argument("paths", nargs="+", metavar="PATH")
    p.add_argument("--collection", help="your collection's name (default: default)")
    p.add_argument("--recursive", "-r", action="store_true", help="walk folders recursively")
    p.add_argument("--include", action="append", default=[], metavar="GLOB",
                   help="only files whose name matches (repeatable), e.g. '*.pdf'")
    _connection(p)
    p.set_defaults(func=_cmd_ingest)
    s = sub.add_parser("status", help="services, queue depths and documents by status")
    _connection(s)
    s.set_defaults(func=_cmd_status)
