"""The Celery application: `celery -A app.workers worker -Q ingest,label,maintenance`.

Queues are named by kind of work so that embedding (`ingest`) and labeling (`label`) workers
can scale apart (docker-compose runs one worker service per queue; ./start.sh one worker on
all of them, which takes ingest work first). Reliability settings: acks_late +
reject_on_worker_lost so a killed worker's task is redelivered; prefetch 1 so one slow
document does not hold others hostage; a visibility timeout longer than the longest ingest.
"""

from __future__ import annotations

import os
import signal
import sys

from celery import Celery
from celery.signals import (
    beat_embedded_init,
    setup_logging,
    task_postrun,
    task_prerun,
    worker_init,
    worker_process_init,
    worker_ready,
)

import app.models
from app.core.config import get_settings
from app.core.logging import configure_logging
from app.workers import watchdog
from app.workers.broker import transport_for

QUEUE_INGEST = "ingest"
QUEUE_LABEL = "label"
QUEUE_MAINTENANCE = "maintenance"


def create_celery() -> Celery:
    settings = get_settings()
    app = Celery("cairn", broker=settings.redis_url, backend=settings.redis_url)
    app.conf.update(
        # kombu's Redis transport with the fix that keeps a worker alive when the broker
        # restarts while a task runs (app/workers/broker.py).
        broker_transport=transport_for(settings.redis_url),
        # A task running when the broker connection drops finishes (its document is written);
        # its acknowledgement fails and Redis hands it out again after the visibility timeout,
        # when the ingest of a ready document returns at once. (True would kill prefork
        # children mid-document; the threads pool cannot cancel a running task at all.)
        worker_cancel_long_running_tasks_on_connection_loss=False,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        task_track_started=True,
        worker_prefetch_multiplier=1,
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        result_expires=7 * 24 * 3600,
        broker_connection_retry_on_startup=True,
        broker_transport_options={
            "visibility_timeout": settings.task_visibility_timeout_s,
            # Sweep for messages of dead workers (unacked past the visibility timeout) every
            # few seconds, not kombu's default of every ~100 s.
            "unacked_restore_interval": max(1, min(10, settings.task_visibility_timeout_s // 3)),
            "unacked_restore_throttle": 1,
            "socket_connect_timeout": 3,
            # A worker serving several queues (./start.sh runs one on all three) always takes
            # from the first non-empty one in name order: ingest, then label, then
            # maintenance. Uploads become searchable before earlier documents are labelled
            # (kombu's default round robin alternated them); labels wait only while ingest
            # has work.
            "queue_order_strategy": "sorted",
        },
        result_backend_transport_options={"socket_connect_timeout": 3},
        redis_socket_connect_timeout=3,
        task_default_queue=QUEUE_INGEST,
        task_routes={
            "documents.ingest": {"queue": QUEUE_INGEST},
            "documents.reconcile": {"queue": QUEUE_MAINTENANCE},
            "documents.sweep_orphans": {"queue": QUEUE_MAINTENANCE},
            "labels.label_document": {"queue": QUEUE_LABEL},
            "labels.relabel_collection": {"queue": QUEUE_LABEL},
            "labels.reconcile": {"queue": QUEUE_MAINTENANCE},
            "spaces.reembed": {"queue": QUEUE_MAINTENANCE},
        },
        beat_schedule={
            "reconcile-documents": {"task": "documents.reconcile", "schedule": 60.0},
            "reconcile-labels": {"task": "labels.reconcile", "schedule": 60.0},
            "sweep-orphan-objects": {
                "task": "documents.sweep_orphans",
                "schedule": float(settings.orphan_sweep_interval_s),
            },
        },
        imports=("app.documents.tasks", "app.labels.tasks", "app.spaces.tasks"),
    )
    return app


celery_app = create_celery()
app = celery_app


PR_SET_PDEATHSIG = 1  # linux/prctl.h


def die_with_parent() -> bool:
    """Ask Linux to SIGKILL this process when its parent dies (a no-op elsewhere). A prefork
    pool child or an embedded beat whose worker was SIGKILLed (an out-of-memory kill) would
    otherwise live on as an orphan, holding memory and maybe a task. True if it was set."""
    if not sys.platform.startswith("linux"):
        return False
    import ctypes

    parent = os.getppid()
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
        return False
    if os.getppid() != parent:  # the parent died before the request took effect
        os.kill(os.getpid(), signal.SIGKILL)
    return True


@worker_process_init.connect
def _init_worker_process(**_: object) -> None:
    from billiard.process import current_process

    # prefork: a pool child. (The solo pool sends this signal in the worker process itself,
    # which may be a test run or `cairn eval`: that one is left alone.)
    if current_process().name != "MainProcess":
        die_with_parent()
    configure_logging()


@worker_init.connect
def _watch_time_limits(sender: object = None, **_: object) -> None:
    """Only the prefork pool enforces a task's time limits; under the threads and solo
    pools the watchdog does (app/workers/watchdog.py)."""
    from celery.concurrency import get_implementation
    from celery.concurrency.prefork import TaskPool as PreforkPool

    if get_implementation(getattr(sender, "pool_cls", "prefork")) is not PreforkPool:
        watchdog.enable()


@task_prerun.connect
def _task_started(**_: object) -> None:
    if (dog := watchdog.enabled()) is not None:
        dog.task_started()


@task_postrun.connect
def _task_finished(**_: object) -> None:
    if (dog := watchdog.enabled()) is not None:
        dog.task_finished()


@beat_embedded_init.connect
def _init_embedded_beat(**_: object) -> None:
    die_with_parent()


@worker_ready.connect
def _announce_ready(**_: object) -> None:
    """One plain line for whoever started this worker (app.launcher waits for it): unlike
    Celery's INFO "ready." line it does not depend on LOG_LEVEL."""
    sys.stderr.write("cairn-worker-ready\n")
    sys.stderr.flush()


@setup_logging.connect
def _setup_logging(**_: object) -> None:
    """Celery leaves the root logger alone: every line goes through configure_logging (JSON,
    with the task's request id)."""
    configure_logging()


# The request id into and out of each task; task outcomes and the worker's metrics port.
from app.metrics import worker as _metrics_worker  # noqa: E402,F401
from app.workers import context as _context  # noqa: E402,F401
