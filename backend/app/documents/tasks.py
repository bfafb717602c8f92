"""Celery tasks of the documents domain. They stay thin: the work is in ingest/pipeline.py
and documents/service.py."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from celery import Task
from celery.exceptions import SoftTimeLimitExceeded

from app.core.config import get_settings
from app.core.db import session_scope
from app.core.logging import get_logger
from app.documents import service
from app.documents.failures import FailureCode
from app.ingest import pipeline
from app.storage import get_store
from app.workers import celery_app

log = get_logger(__name__)


# A parser that never returns must not hold a worker forever (prefork pool only: the soft
# limit fails the document; the hard limit kills the child, and the attempt budget applies).
INGEST_SOFT_TIME_LIMIT_S = 1800
INGEST_TIME_LIMIT_S = 1860


@celery_app.task(
    name="documents.ingest",
    bind=True,
    max_retries=None,
    soft_time_limit=INGEST_SOFT_TIME_LIMIT_S,
    time_limit=INGEST_TIME_LIMIT_S,
)
def ingest(self: Task, document_id: str) -> dict[str, Any]:
    doc_id = uuid.UUID(document_id)
    settings = get_settings()
    try:
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
        reason = f"The ingest took longer than {INGEST_SOFT_TIME_LIMIT_S} s and was stopped."
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
