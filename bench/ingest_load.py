"""Ingest through the HTTP API: upload in batches, wait for `ready`, sample worker memory."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
import psutil
from corpus import SyntheticDoc


class IngestError(RuntimeError):
    pass


class RssSampler:
    """Peak resident memory of a process and all its descendants, sampled every 100 ms."""

    def __init__(self, pid: int | None, interval_s: float = 0.1) -> None:
        self.pid = pid
        self.interval_s = interval_s
        self.peak_tree_bytes = 0
        self.peak_single_bytes = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> RssSampler:
        if self.pid is not None:
            self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=2)

    def sample(self) -> None:
        if self.pid is None:
            return
        try:
            root = psutil.Process(self.pid)
            procs = [root, *root.children(recursive=True)]
        except psutil.Error:
            return
        sizes = []
        for proc in procs:
            try:
                sizes.append(proc.memory_info().rss)
            except psutil.Error:
                continue
        if sizes:
            self.peak_tree_bytes = max(self.peak_tree_bytes, sum(sizes))
            self.peak_single_bytes = max(self.peak_single_bytes, max(sizes))

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.interval_s)


@dataclass
class IngestResult:
    collection: str
    docs: int
    upload_s: float
    wall_s: float
    failed: int
    peak_rss_tree_mb: float | None
    peak_rss_single_mb: float | None
    stage_ms_total: dict[str, float] = field(default_factory=dict)
    chunks: int = 0

    @property
    def docs_per_s(self) -> float:
        return self.docs / self.wall_s if self.wall_s else 0.0

    @property
    def chunks_per_s(self) -> float:
        return self.chunks / self.wall_s if self.wall_s else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "collection": self.collection, "docs": self.docs, "chunks": self.chunks,
            "upload_s": round(self.upload_s, 3), "wall_s": round(self.wall_s, 3),
            "docs_per_s": round(self.docs_per_s, 2), "chunks_per_s": round(self.chunks_per_s, 2),
            "failed": self.failed, "peak_rss_tree_mb": self.peak_rss_tree_mb,
            "peak_rss_single_mb": self.peak_rss_single_mb,
            "stage_ms_total": {k: round(v, 1) for k, v in self.stage_ms_total.items()},
        }


def count(client: httpx.Client, collection: str, status: str) -> int:
    resp = client.get(
        "/api/v1/documents", params={"collection": collection, "status": status, "limit": 1}
    )
    resp.raise_for_status()
    return int(resp.json()["total"])


def upload(client: httpx.Client, docs: list[SyntheticDoc], collection: str, batch: int) -> None:
    for start in range(0, len(docs), batch):
        part = docs[start : start + batch]
        files = [("files", (d.filename, d.data, d.content_type)) for d in part]
        resp = client.post("/api/v1/documents", files=files, data={"collection": collection})
        if resp.status_code != 202:
            raise IngestError(f"upload answered {resp.status_code}: {resp.text[:500]}")
        dupes = sum(1 for d in resp.json()["documents"] if d["duplicate"])
        if dupes:
            raise IngestError(
                f"{dupes} uploads were duplicates: use a fresh collection (or a fresh platform)"
            )


def ingest(
    client: httpx.Client,
    docs: list[SyntheticDoc],
    collection: str,
    *,
    batch: int,
    worker_pid: int | None,
    timeout_s: float,
    poll_s: float = 0.2,
) -> IngestResult:
    """Wall time from the first upload request to every document `ready` (or failed)."""
    with RssSampler(worker_pid) as rss:
        start = time.perf_counter()
        upload(client, docs, collection, batch)
        uploaded = time.perf_counter()
        deadline = start + timeout_s
        failed, last_ready = 0, -1
        while True:
            # One request a poll while documents keep becoming ready; the failed count
            # only when none did since the last poll (each request costs the API ~3 ms
            # of CPU and Postgres ~1 ms, on the cores the ingest runs on).
            ready = count(client, collection, "ready")
            if ready >= len(docs):
                break
            if ready == last_ready:
                failed = count(client, collection, "failed")
                if ready + failed >= len(docs):
                    break
            last_ready = ready
            if time.perf_counter() > deadline:
                raise IngestError(
                    f"timed out after {timeout_s:.0f}s: {ready} ready, {failed} failed "
                    f"of {len(docs)}"
                )
            time.sleep(poll_s)
        done = time.perf_counter()
        rss.sample()
    mb = 1024 * 1024
    return IngestResult(
        collection=collection, docs=len(docs), upload_s=uploaded - start, wall_s=done - start,
        failed=failed,
        peak_rss_tree_mb=round(rss.peak_tree_bytes / mb, 1) if worker_pid else None,
        peak_rss_single_mb=round(rss.peak_single_bytes / mb, 1) if worker_pid else None,
    )


def list_documents(client: httpx.Client, collection: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    while True:
        resp = client.get(
            "/api/v1/documents",
            params={"collection": collection, "limit": 500, "offset": len(items)},
        )
        resp.raise_for_status()
        page = resp.json()
        items.extend(page["items"])
        if not page["items"] or len(items) >= page["total"]:
            return items


def document_chunks(client: httpx.Client, document_id: str) -> list[dict[str, Any]]:
    chunks: list[dict[str, Any]] = []
    while True:
        resp = client.get(
            f"/api/v1/documents/{document_id}/chunks",
            params={"limit": 1000, "offset": len(chunks)},
        )
        resp.raise_for_status()
        page = resp.json()
        chunks.extend(page["items"])
        if not page["items"] or len(chunks) >= page["total"]:
            return sorted(chunks, key=lambda c: c["ordinal"])


def fill_details(client: httpx.Client, result: IngestResult) -> list[dict[str, Any]]:
    """Add chunk count and per-stage time sums to `result`; return the ready documents."""
    docs = [d for d in list_documents(client, result.collection) if d["status"] == "ready"]
    result.chunks = sum(int(d["chunk_count"]) for d in docs)
    totals: dict[str, float] = {}
    for doc in docs:
        for key, value in (doc.get("timings") or {}).items():
            if isinstance(value, int | float):
                totals[key] = totals.get(key, 0.0) + float(value)
    result.stage_ms_total = totals
    return docs

