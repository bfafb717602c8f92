"""Search latency (sequential, one client) and throughput (N client threads) per mode."""

from __future__ import annotations

import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

CANDIDATE_MODES = ["vector", "lexical", "hybrid"]
NO_MODE = "default"  # the API has no `mode` field: one run without it


def latency_summary(values_s: list[float]) -> dict[str, float]:
    ms = sorted(v * 1000 for v in values_s)
    if not ms:
        return {}
    q = statistics.quantiles(ms, n=100, method="inclusive") if len(ms) > 1 else ms * 99
    return {
        "n": len(ms), "p50_ms": round(q[49], 2), "p95_ms": round(q[94], 2),
        "p99_ms": round(q[98], 2), "mean_ms": round(statistics.fmean(ms), 2),
        "max_ms": round(ms[-1], 2),
    }


def _body(
    query: str, mode: str, collection: str, k: int, extra: dict[str, Any] | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {"query": query, "k": k, "collection": collection, **(extra or {})}
    if mode != NO_MODE:
        body["mode"] = mode
    return body


def supported_modes(client: httpx.Client, collection: str, probe: str) -> dict[str, str]:
    """Mode -> "ok" or the reason it was skipped. Falls back to no mode if none is accepted."""
    status: dict[str, str] = {}
    for mode in CANDIDATE_MODES:
        resp = client.post("/api/v1/search", json=_body(probe, mode, collection, 10))
        status[mode] = "ok" if resp.status_code == 200 else f"HTTP {resp.status_code}"
    if not any(v == "ok" for v in status.values()):
        resp = client.post("/api/v1/search", json=_body(probe, NO_MODE, collection, 10))
        resp.raise_for_status()
        status[NO_MODE] = "ok"
    return status


def sequential(
    client: httpx.Client, queries: list[str], mode: str, collection: str, k: int,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:  # fmt: skip
    """One query at a time; client-side latency, plus the server's own `took_ms`."""
    for query in queries[:5]:  # warm-up: model session, plans, connection pool
        resp = client.post("/api/v1/search", json=_body(query, mode, collection, k, extra))
        resp.raise_for_status()
    latencies: list[float] = []
    server_ms: list[float] = []
    empty = 0
    for query in queries:
        start = time.perf_counter()
        resp = client.post("/api/v1/search", json=_body(query, mode, collection, k, extra))
        latencies.append(time.perf_counter() - start)
        resp.raise_for_status()
        payload = resp.json()
        server_ms.append(float(payload.get("took_ms", 0.0)))
        empty += not payload.get("results")
    summary: dict[str, Any] = latency_summary(latencies)
    summary["server_took_p50_ms"] = round(statistics.median(server_ms), 2)
    summary["empty_results"] = empty
    return summary


def interleaved(
    clients: dict[str, tuple[httpx.Client, dict[str, Any]]], queries: list[str], mode: str,
    collection: str, k: int, total: int,
) -> dict[str, dict[str, Any]]:  # fmt: skip
    """Single client, each query sent to every API in turn (the order alternating), so two
    APIs on one machine meet the same minute-to-minute drift: a row per API (`clients`: name
    -> (client, extra body fields))."""
    names = list(clients)
    for query in queries[:5]:  # warm-up
        for client, extra in clients.values():
            client.post("/api/v1/search", json=_body(query, mode, collection, k, extra))
    latencies: dict[str, list[float]] = {name: [] for name in names}
    for i in range(total):
        query = queries[i % len(queries)]
        for name in names if i % 2 == 0 else names[::-1]:
            client, extra = clients[name]
            start = time.perf_counter()
            resp = client.post("/api/v1/search", json=_body(query, mode, collection, k, extra))
            latencies[name].append(time.perf_counter() - start)
            resp.raise_for_status()
    rows: dict[str, dict[str, Any]] = {}
    for name, values in latencies.items():
        rows[name] = latency_summary(values)
        rows[name].update(threads=1, qps=round(len(values) / sum(values), 1))
    return rows


def concurrent(
    base_url: str, queries: list[str], mode: str, collection: str, k: int,
    *, threads: int, total: int, headers: dict[str, str], extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """`total` requests over `threads` client threads (each with its own connection)."""
    local = threading.local()
    clients: list[httpx.Client] = []
    lock = threading.Lock()

    def one(i: int) -> float:
        client = getattr(local, "client", None)
        if client is None:
            client = httpx.Client(base_url=base_url, timeout=60, headers=headers)
            local.client = client
            with lock:
                clients.append(client)
        start = time.perf_counter()
        resp = client.post(
            "/api/v1/search", json=_body(queries[i % len(queries)], mode, collection, k, extra)
        )
        resp.raise_for_status()
        return time.perf_counter() - start

    try:
        with ThreadPoolExecutor(max_workers=threads) as pool:
            list(pool.map(one, range(threads)))  # open the connections first
            start = time.perf_counter()
            latencies = list(pool.map(one, range(total)))
            wall = time.perf_counter() - start
    finally:
        for client in clients:
            client.close()
    summary: dict[str, Any] = latency_summary(latencies)
    summary.update(threads=threads, wall_s=round(wall, 3), qps=round(total / wall, 1))
    return summary
