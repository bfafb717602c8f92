"""Every Cairn metric, defined once per process.

Worker-side metrics reach a scrape in one of two ways (README, "Metrics"):
- one host (./start.sh): PROMETHEUS_MULTIPROC_DIR names a directory the API and the worker
  processes share; every process writes its samples there and the API's /metrics reads them
  all (prometheus_client's multiprocess mode);
- several hosts (compose, Kubernetes): each worker serves its own samples on
  WORKER_METRICS_PORT and Prometheus scrapes it (with PROMETHEUS_MULTIPROC_DIR set inside the
  worker's container when its pool has several processes).

prometheus_client reads PROMETHEUS_MULTIPROC_DIR from the process environment when it is
first imported, so the package's __init__ copies the setting there before any import of it.
"""

from __future__ import annotations

import os

from prometheus_client import (  # app/metrics/__init__.py has set the environment
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    multiprocess,
)

INGEST_STAGES = ("fetch", "parse", "chunk", "embed", "write", "label")
_STAGE_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300,
                  600)

INGEST_STAGE_SECONDS = Histogram(
    "cairn_ingest_stage_seconds", "Time a document spent in one ingest stage.",
    ["stage"], buckets=_STAGE_BUCKETS,
)
EMBEDDER_TEXTS = Counter(
    "cairn_embedder_texts", "Texts (chunks) the embedder turned into vectors at ingest."
)
EMBEDDER_SECONDS = Counter(
    "cairn_embedder_seconds", "Time the embedder spent on those texts "
    "(throughput = rate(cairn_embedder_texts_total) / rate(cairn_embedder_seconds_total)).",
)
CELERY_TASKS = Counter(
    "cairn_celery_tasks", "Celery tasks finished by the workers, by task name and outcome "
    "(the task's own status when it returns one: ready, failed, deleted...; else the Celery "
    "state: success, failure, retry).", ["task", "outcome"],
)


def multiprocess_mode() -> bool:
    return bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))


def scrape_registry() -> CollectorRegistry:
    """What a scrape reads: every process's samples in multiprocess mode, else this one's."""
    if not multiprocess_mode():
        return REGISTRY
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    return registry


def record_ingest(timings: dict[str, float], *, chunks: int) -> None:
    """A document finished its ingest: its stage times (`<stage>_ms`, the pipeline's
    `timings`) go to the stage histograms and its chunks to the embedder's throughput."""
    for stage in INGEST_STAGES:
        ms = timings.get(f"{stage}_ms")
        if ms is not None:
            INGEST_STAGE_SECONDS.labels(stage=stage).observe(ms / 1000)
    embed_ms = timings.get("embed_ms")
    if embed_ms is not None and chunks:
        EMBEDDER_TEXTS.inc(chunks)
        EMBEDDER_SECONDS.inc(embed_ms / 1000)


def record_stage(stage: str, seconds: float) -> None:
    """One stage's time, for stages that run outside the pipeline's run (e.g. label)."""
    INGEST_STAGE_SECONDS.labels(stage=stage).observe(seconds)
