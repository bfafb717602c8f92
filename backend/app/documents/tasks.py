"""Celery tasks of the documents domain. They stay thin: the work is in ingest/pipeline.py
and documents/service.py."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from celery import Task
from celery.exceptions import SoftTimeLimitExceeded, TimeLimitExceeded

from app.core.config import get_settings
from app.core.db import session_scope
from app.core.logging import get_logger
from app.documents import service
from app.documents.failures import FailureCode
from app.ingest import pipeline
from app.storage import get_store
from app.workers import celery_app, watchdog

log = get_logger(__name__)


# A parser that never returns must not hold a worker forever: past the soft limit the
# document fails `timed_out`; past the hard limit the task is abandoned and the document
# fails `timed_out` too: prefork kills the pool process (IngestTask.on_failure, run by the
# worker's parent), the threads and solo pools' watchdog restarts the whole worker
# (app/workers/watchdog.py).
_LIMITS = get_settings()


class IngestTask(Task):  # type: ignore[misc]  # celery ships no types
    def on_failure(self, exc: Exception, task_id: str, args: Any, kwargs: Any,
                   einfo: Any) -> None:
        if isinstance(exc, TimeLimitExceeded) and args:  # prefork's hard limit
            _fail_stuck(uuid.UUID(str(args[0])), self.time_limit, "its worker process was killed")


@celery_app.task(
    name="documents.ingest",
    base=IngestTask,
    bind=True,
    max_retries=None,
    soft_time_limit=_LIMITS.ingest_soft_time_limit_s,
    time_limit=_LIMITS.ingest_time_limit_s,
)
def ingest(self: Task, document_id: str) -> dict[str, Any]:
    doc_id = uuid.UUID(document_id)
    settings = get_settings()
    soft_s, hard_s = self.soft_time_limit, self.time_limit  # the decorator's, from settings
    try:
        with watchdog.limited(f"documents.ingest:{document_id}", soft_s=soft_s, hard_s=hard_s,
                              on_stuck=lambda: _fail_stuck(doc_id, hard_s,
                                                           "the worker restarted")):
            outcome = pipeline.run(doc_id, self.request.id)
    except pipeline.DocumentGone:
        log.info("document_deleted_during_ingest", document_id=document_id)
        return {"status": "deleted"}
    except pipeline.IngestFailure as exc:
        pipeline.mark_failed(doc_id, exc.code, exc.reason)
        log.warning("document_failed", document_id=document_id, code=exc.code,
                    reason=exc.reason, cause=repr(exc.__cause__))
        return {"status": "failed", "error": exc.reason}
    except SoftTimeLimitExceeded:
        reason = f"The ingest took longer than {soft_s} s and was stopped."
        pipeline.mark_failed(doc_id, FailureCode.timed_out, reason)
        log.error("document_timed_out", document_id=document_id)
        return {"status": "failed", "error": reason}
    except Exception as exc:
        retries = self.request.retries
        # The raw error stays in the log; the document carries a plain reason.
        error = f"{type(exc).__name__}: {exc}"
        if retries >= settings.task_max_retries:
            reason = (f"Gave up after {retries + 1} attempts: a temporary problem "
                      "(storage, database or embedder unavailable) did not clear.")
            pipeline.mark_failed(doc_id, FailureCode.gave_up, reason)
            log.error("document_gave_up", document_id=document_id, error=error)
            return {"status": "failed", "error": reason}
        countdown = min(2 ** retries, 60)
        log.warning("ingest_retry", document_id=document_id, attempt=retries + 1, error=error,
                    countdown=countdown)
        pipeline.record_retry(doc_id, retries + 1)
        raise self.retry(exc=exc, countdown=countdown) from exc
    if outcome.status == "ready":
        _queue_labels(doc_id, written=outcome.written)
    return {"status": outcome.status, "chunks": outcome.chunks}


def _fail_stuck(document_id: uuid.UUID, hard_s: float, then: str) -> None:
    """The last word on an ingest that ignored its soft limit (stuck in native code): the
    document fails now, not after the message comes back and the attempts run out."""
    reason = (f"The ingest did not stop within {hard_s:g} s (stuck in native code): it was "
              f"abandoned and {then}.")
    pipeline.mark_failed(document_id, FailureCode.timed_out, reason)


def _queue_labels(document_id: uuid.UUID, *, written: bool) -> None:
    """Labels arrive after the document is searchable: hand it to the `label` queue once the
    ingest's write has committed. The write set its label runs pending (`written`); a task
    redelivered after the document was ready sets them again. If the hand-off fails
    (database or Redis down), the labels reconciler finds the runs pending and sends it later."""
    from app.labels import jobs, queue

    try:
        if written:
            queue.send_label_document(document_id)
        else:
            jobs.queue_document(document_id)
    except Exception as exc:
        log.warning("label_queue_failed", document_id=str(document_id), error=repr(exc))


@celery_app.task(name="documents.reconcile")
def reconcile() -> dict[str, int]:
    return reconcile_documents()


def reconcile_documents(now: datetime | None = None) -> dict[str, int]:
    """Re-enqueue stuck documents and dead-letter those past their attempts (see
    documents.service.reconcile)."""
    with session_scope() as session:
        return service.reconcile(session, now)


@celery_app.task(name="documents.sweep_orphans")
def sweep_orphans() -> int:
    return sweep_orphan_objects()


def sweep_orphan_objects(now: datetime | None = None) -> int:
    """Delete stored originals no document references, past ORPHAN_GRACE_S."""
    with session_scope() as session:
        return service.sweep_orphans(
            session, get_store(), grace_s=get_settings().orphan_grace_s, now=now
        )
