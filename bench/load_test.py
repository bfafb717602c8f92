"""Bounded loopback load test: N concurrent searchers and M uploaders for a fixed time.

    python bench/load_test.py                                  # starts its own platform
    python bench/load_test.py --searchers 20 --uploaders 5 --duration 60
    python bench/load_test.py --api-url http://127.0.0.1:8000 --api-key ck_...

Zero errors are expected (any status >= 400 or transport error counts). Prints p50/p95 per
kind of request and writes a JSON report (default bench/results/load.json). Every request
goes to 127.0.0.1 only; the run stops by itself after --duration seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import statistics
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

QUERIES = [
    "how do glaciers carve valleys",
    "volcanic island formation",
    "tidal pools and their life",
    "migrating cranes over wetlands",
    "basalt columns cooling",
    "river delta sediment",
    "pollination in orchards",
    "lighthouse keepers history",
    "permafrost thaw effects",
    "coral reef bleaching causes",
]
WORDS = [
    "glacier",
    "fjord",
    "basalt",
    "delta",
    "estuary",
    "moraine",
    "tundra",
    "orchard",
    "pollen",
    "heron",
    "marsh",
    "dune",
    "kelp",
    "coral",
    "reef",
    "lichen",
    "granite",
    "quartz",
    "monsoon",
    "aquifer",
    "meander",
    "levee",
    "oxbow",
    "cirque",
]


def summary(values_s: list[float]) -> dict[str, float]:
    ms = sorted(v * 1000 for v in values_s)
    if not ms:
        return {"n": 0}
    q = statistics.quantiles(ms, n=100, method="inclusive") if len(ms) > 1 else ms * 99
    return {
        "n": len(ms),
        "p50_ms": round(q[49], 1),
        "p95_ms": round(q[94], 1),
        "p99_ms": round(q[98], 1),
        "max_ms": round(ms[-1], 1),
    }


def document(rng: random.Random, tag: str) -> bytes:
    sentences = [
        " ".join(rng.choice(WORDS) for _ in range(14)).capitalize() + "."
        for _ in range(rng.randint(5, 40))
    ]
    return (f"Load test document {tag} {uuid.uuid4().hex}.\n" + " ".join(sentences)).encode()


class Load:
    def __init__(self, client: httpx.AsyncClient, collection: str, deadline: float) -> None:
        self.client = client
        self.collection = collection
        self.deadline = deadline
        self.latency: dict[str, list[float]] = {"search": [], "upload": []}
        self.errors: dict[str, int] = {}
        self.samples: list[str] = []
        self.uploaded: list[str] = []

    def _error(self, kind: str, detail: str) -> None:
        self.errors[kind] = self.errors.get(kind, 0) + 1
        if len(self.samples) < 10:
            self.samples.append(f"{kind}: {detail[:300]}")

    async def _timed(
        self, kind: str, method: str, url: str, **kwargs: Any
    ) -> httpx.Response | None:
        start = time.perf_counter()
        try:
            resp = await self.client.request(method, url, **kwargs)
        except httpx.HTTPError as exc:
            self._error(kind, repr(exc))
            return None
        self.latency[kind].append(time.perf_counter() - start)
        if resp.status_code >= 400:
            self._error(kind, f"{resp.status_code} {resp.text}")
            return None
        return resp

    async def searcher(self, seed: int) -> None:
        rng = random.Random(seed)
        while time.monotonic() < self.deadline:
            body = {"query": rng.choice(QUERIES), "k": 10, "collection": self.collection}
            await self._timed("search", "POST", "/api/v1/search", json=body)

    async def uploader(self, seed: int) -> None:
        rng = random.Random(seed)
        while time.monotonic() < self.deadline:
            resp = await self._timed(
                "upload",
                "POST",
                "/api/v1/documents",
                files=[("files", (f"load-{seed}.txt", document(rng, str(seed))))],
                data={"collection": self.collection},
            )
            if resp is not None:
                self.uploaded.append(resp.json()["documents"][0]["id"])
            await asyncio.sleep(rng.uniform(0.05, 0.3))


async def seed_collection(client: httpx.AsyncClient, collection: str, docs: int) -> None:
    rng = random.Random(1)
    ids: list[str] = []
    for i in range(docs):
        resp = await client.post(
            "/api/v1/documents",
            files=[("files", (f"seed-{i}.txt", document(rng, "seed")))],
            data={"collection": collection},
        )
        resp.raise_for_status()
        ids.append(resp.json()["documents"][0]["id"])
    deadline = time.monotonic() + 300
    while ids and time.monotonic() < deadline:
        ids = [
            i
            for i in ids
            if (await client.get(f"/api/v1/documents/{i}")).json()["status"]
            not in ("ready", "failed")
        ]
        await asyncio.sleep(0.5)
    if ids:
        raise RuntimeError(f"{len(ids)} seed documents not ingested in 300 s")


async def run(base_url: str, headers: dict[str, str], args: argparse.Namespace) -> dict[str, Any]:
    limits = httpx.Limits(max_connections=args.searchers + args.uploaders + 5)
    async with httpx.AsyncClient(
        base_url=base_url, headers=headers, timeout=60, limits=limits
    ) as client:
        collection = f"load-{uuid.uuid4().hex[:8]}"
        await seed_collection(client, collection, args.seed_docs)
        started = time.monotonic()
        load = Load(client, collection, started + args.duration)
        await asyncio.gather(
            *(load.searcher(i) for i in range(args.searchers)),
            *(load.uploader(1000 + i) for i in range(args.uploaders)),
        )
        elapsed = time.monotonic() - started
    return {
        "searchers": args.searchers,
        "uploaders": args.uploaders,
        "duration_s": round(elapsed, 1),
        "search": summary(load.latency["search"]),
        "upload": summary(load.latency["upload"]),
        "search_rps": round(len(load.latency["search"]) / elapsed, 1),
        "uploads_accepted": len(load.uploaded),
        "errors": load.errors,
        "error_samples": load.samples,
        "load_avg": os.getloadavg(),
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--searchers", type=int, default=20)
    parser.add_argument("--uploaders", type=int, default=5)
    parser.add_argument("--duration", type=float, default=60, help="seconds (at most 600)")
    parser.add_argument("--seed-docs", type=int, default=30)
    parser.add_argument("--api-url", help="a running API on this machine (else one is started)")
    parser.add_argument("--api-key", default="")
    parser.add_argument("--pool", default="prefork:2", help="worker pool:concurrency when started")
    parser.add_argument("--output", default=str(Path(__file__).parent / "results" / "load.json"))
    args = parser.parse_args()
    args.duration = min(max(args.duration, 1), 600)
    with contextlib.ExitStack() as stack:
        if args.api_url:
            base_url, key = args.api_url.rstrip("/"), args.api_key
        else:
            from platform_runner import Platform

            plat = stack.enter_context(Platform())
            pool, _, conc = args.pool.partition(":")
            plat.start_worker(pool=pool, concurrency=int(conc or 1))
            base_url, key = plat.api_url, plat.api_key
        report = asyncio.run(run(base_url, {"X-API-Key": key} if key else {}, args))
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(json.dumps(report, indent=2))
    s, u = report["search"], report["upload"]
    print(
        f"search: n={s.get('n')} p50={s.get('p50_ms')} ms p95={s.get('p95_ms')} ms "
        f"({report['search_rps']} req/s)"
    )
    print(f"upload: n={u.get('n')} p50={u.get('p50_ms')} ms p95={u.get('p95_ms')} ms")
    total_errors = sum(report["errors"].values())
    print(f"errors: {total_errors} {report['errors']}  -> {args.output}")
    for sample in report["error_samples"]:
        print("  ", sample)
    return 1 if total_errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
