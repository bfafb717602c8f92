"""Run every judged query through POST /api/v1/search and turn hits into BEIR rankings."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

from app.eval.client import ApiError, CairnClient, SearchCapabilities


@dataclass
class ModeRun:
    mode: str
    rankings: dict[str, list[str]] = field(default_factory=dict)  # query id -> BEIR ids
    latencies_ms: list[float] = field(default_factory=list)  # client-measured, per request
    server_ms: list[float] = field(default_factory=list)  # the API's own took_ms
    errors: dict[str, str] = field(default_factory=dict)  # query id -> error (ranking empty)
    hits: list[int] = field(default_factory=list)  # results the API returned, per query
    wall_s: float = 0.0


@dataclass(frozen=True)
class HitMapper:
    """Cairn hit -> BEIR ids. Identical corpus entries share one Cairn document, so one hit
    can stand for several BEIR ids; they are ranked together at that position."""

    beir_ids_of: dict[str, list[str]]  # Cairn document id -> BEIR ids

    def __call__(self, hit: dict[str, Any]) -> list[str]:
        ids = self.beir_ids_of.get(str(hit.get("document_id")))
        if ids:
            return ids
        metadata = hit.get("metadata") or {}
        if isinstance(metadata, dict) and metadata.get("beir_id"):
            return [str(metadata["beir_id"])]
        filename = str(hit.get("filename") or "")
        return [PurePosixPath(filename).stem] if filename else []


def build_body(
    query: str, mode: str, collection: str, k: int, caps: SearchCapabilities
) -> dict[str, Any]:
    body: dict[str, Any] = {"query": query, "k": k, "collection": collection}
    if caps.mode:
        body["mode"] = mode
    elif mode != "vector":
        raise ApiError(f"this API has no search modes; mode {mode!r} cannot be evaluated")
    if caps.group_by:
        body["group_by"] = "document"
    return body


def hits_to_ranking(
    hits: list[dict[str, Any]], mapper: HitMapper, *, exclude: str | None
) -> list[str]:
    """BEIR ids best first, each once (chunk hits are collapsed to their document)."""
    ranking: list[str] = []
    seen: set[str] = set()
    for hit in hits:
        for beir_id in mapper(hit):
            if beir_id in seen or beir_id == exclude:
                continue
            seen.add(beir_id)
            ranking.append(beir_id)
    return ranking


def run_mode(
    client: CairnClient,
    queries: dict[str, str],
    *,
    mode: str,
    collection: str,
    k: int,
    caps: SearchCapabilities,
    mapper: HitMapper,
    ignore_identical_ids: bool,
    concurrency: int,
    progress: Callable[..., Any],
) -> ModeRun:
    result = ModeRun(mode)
    lock = threading.Lock()

    def one(qid: str, text: str) -> None:
        body = build_body(text, mode, collection, k, caps)
        for attempt in range(2):
            try:
                response, latency = client.search(body)
                break
            except ApiError as exc:
                if attempt == 1 or (exc.status is not None and exc.status < 500):
                    with lock:
                        result.errors[qid] = str(exc)
                        result.rankings[qid] = []
                    return
        ranking = hits_to_ranking(
            response.get("results", []), mapper, exclude=qid if ignore_identical_ids else None
        )
        with lock:
            result.rankings[qid] = ranking
            result.hits.append(len(response.get("results", [])))
            result.latencies_ms.append(latency)
            if isinstance(response.get("took_ms"), int | float):
                result.server_ms.append(float(response["took_ms"]))

    start = time.perf_counter()
    bar = progress(total=len(queries), desc=f"search {mode}", unit="q")
    try:
        with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
            futures = [pool.submit(one, q, t) for q, t in queries.items()]
            for future in as_completed(futures):
                future.result()
                bar.update(1)
    finally:
        bar.close()
    result.wall_s = time.perf_counter() - start
    return result
