"""The worker's side of the metrics: task outcomes (Celery's task_postrun signal) and, with
WORKER_METRICS_PORT set, an HTTP server in the worker's main process that Prometheus scrapes
(compose, Kubernetes). A prefork pool's children record into PROMETHEUS_MULTIPROC_DIR, which
that server reads; a solo pool's samples are in the process itself."""

from __future__ import annotations

from typing import Any

from celery.signals import task_postrun, worker_process_shutdown, worker_ready
from prometheus_client import start_http_server

from app.core.config import get_settings
from app.core.logging import get_logger
from app.metrics.registry import CELERY_TASKS, multiprocess_mode, scrape_registry

log = get_logger(__name__)


def outcome_of(state: str | None, retval: Any) -> str:
    if isinstance(retval, dict) and isinstance(retval.get("status"), str):
        return str(retval["status"])
    return (state or "unknown").lower()


@task_postrun.connect
def _count_task(task: Any = None, state: str | None = None, retval: Any = None,
                **_: Any) -> None:
    name = getattr(task, "name", None) or "unknown"
    CELERY_TASKS.labels(task=name, outcome=outcome_of(state, retval)).inc()


def serve_worker_metrics(port: int, addr: str = "0.0.0.0") -> Any:
    """Serve this worker's metrics on `port`; returns (server, thread)."""
    return start_http_server(port, addr=addr, registry=scrape_registry())


@worker_ready.connect
def _start_metrics_server(**_: Any) -> None:
    port = get_settings().worker_metrics_port
    if port:
        serve_worker_metrics(port)
        log.info("worker_metrics_serving", port=port, multiprocess=multiprocess_mode())


@worker_process_shutdown.connect
def _mark_dead(pid: int | None = None, **_: Any) -> None:
    if multiprocess_mode() and pid is not None:
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid)  # type: ignore[no-untyped-call]
