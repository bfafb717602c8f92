"""Values read when Prometheus scrapes, not kept in the process: documents by status (one
GROUP BY through the documents repository) and the depth of each Celery queue (Redis LLEN).
A dependency that does not answer leaves its metric out of that scrape (and logs why)."""

from __future__ import annotations

from collections.abc import Iterator

import redis
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from app.core.config import get_settings
from app.core.db import session_scope
from app.core.logging import get_logger
from app.documents import repository
from app.documents.models import DocumentStatus

log = get_logger(__name__)


def queue_names() -> list[str]:
    """Every queue the Celery app routes a task to, plus its default queue."""
    from app.workers import celery_app

    routes = celery_app.conf.task_routes or {}
    names = {str(r["queue"]) for r in routes.values() if isinstance(r, dict) and "queue" in r}
    names.add(str(celery_app.conf.task_default_queue))
    return sorted(names)


def queue_depths() -> dict[str, int]:
    """Messages waiting in each queue (Redis LLEN); raises if Redis does not answer."""
    client = redis.Redis.from_url(get_settings().redis_url, socket_connect_timeout=1,
                                  socket_timeout=1)
    try:
        pipe = client.pipeline()
        names = queue_names()
        for name in names:
            pipe.llen(name)
        return {name: int(n) for name, n in zip(names, pipe.execute(), strict=True)}
    finally:
        client.close()


def documents_by_status() -> dict[str, int]:
    with session_scope() as session:
        found = repository.count_by_status(session)
    return {s.value: found.get(s.value, 0) for s in DocumentStatus}


class ScrapeTimeCollector(Collector):
    def collect(self) -> Iterator[GaugeMetricFamily]:
        try:
            docs = documents_by_status()
        except Exception as exc:  # the database is down: this scrape has no document counts
            log.warning("metrics_documents_unavailable", error_type=type(exc).__name__)
        else:
            family = GaugeMetricFamily("cairn_documents", "Documents by status.",
                                       labels=["status"])
            for status, n in docs.items():
                family.add_metric([status], n)
            yield family
        try:
            depths = queue_depths()
        except Exception as exc:
            log.warning("metrics_queues_unavailable", error_type=type(exc).__name__)
        else:
            family = GaugeMetricFamily("cairn_queue_depth", "Messages waiting in a Celery "
                                       "queue (Redis LLEN).", labels=["queue"])
            for name, n in depths.items():
                family.add_metric([name], n)
            yield family
        yield from space_families()


def space_families() -> Iterator[GaugeMetricFamily]:
    """Each extra embedding space's re-embedding progress (app/spaces), read at scrape time."""
    from app.spaces.repository import all_spaces

    labels = ["collection", "space", "model", "status", "active"]
    try:
        with session_scope() as session:
            rows = [(str(s.collection_id), str(s.id), f"{s.provider}:{s.model}", s.status,
                     str(s.active).lower(), s.embedded, s.total)
                    for s in all_spaces(session)]
    except Exception as exc:
        log.warning("metrics_spaces_unavailable", error_type=type(exc).__name__)
        return
    progress = GaugeMetricFamily("cairn_embedding_space_progress", "Share of a collection's "
                                 "chunks embedded into an embedding space (1 = complete).",
                                 labels=labels)
    embedded = GaugeMetricFamily("cairn_embedding_space_chunks", "Chunks embedded into an "
                                 "embedding space, and the collection's total.",
                                 labels=[*labels, "kind"])
    for *names, done, total in rows:
        progress.add_metric(names, done / total if total else 1.0)
        embedded.add_metric([*names, "embedded"], done)
        embedded.add_metric([*names, "total"], total)
    yield progress
    yield embedded
