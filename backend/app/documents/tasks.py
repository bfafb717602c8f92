"""Celery tasks of the documents domain. They stay thin: the work is in ingest/pipeline.py."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from celery import Task
from celery.exceptions import SoftTimeLimitExceeded
from sqlalchemy import select

from app.core.config import get_settings
from app.core.db import session_scope
from app.core.logging import get_logger
from app.documents import queue
from app.documents.models import Document, DocumentStatus
from app.ingest import pipeline
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
    except pipeline.PermanentError as exc:
        pipeline.mark_failed(doc_id, str(exc))
        log.warning("document_failed", document_id=document_id, reason=str(exc))
        return {"status": "failed", "error": str(exc)}
    except SoftTimeLimitExceeded:
        reason = f"The ingest took longer than {INGEST_SOFT_TIME_LIMIT_S} s and was stopped."
        pipeline.mark_failed(doc_id, reason)
        log.error("document_timed_out", document_id=document_id)
        return {"status": "failed", "error": reason}
    except Exception as exc:
        retries = self.request.retries
        if retries >= settings.task_max_retries:
            reason = f"Gave up after {retries + 1} attempts: {type(exc).__name__}: {exc}"
            pipeline.mark_failed(doc_id, reason)
            log.error("document_dead_lettered", document_id=document_id, reason=reason)
            return {"status": "failed", "error": reason}
        countdown = min(2 ** retries, 60)
        log.warning("ingest_retry", document_id=document_id, error=str(exc), countdown=countdown)
        _record_retry(doc_id, f"{type(exc).__name__}: {exc}")
        raise self.retry(exc=exc, countdown=countdown) from exc
    return {"status": outcome.status, "chunks": outcome.chunks}


def _record_retry(document_id: uuid.UUID, reason: str) -> None:
    try:
        with session_scope() as session:
            doc = session.get(Document, document_id)
            if doc is not None:
                doc.status = DocumentStatus.queued
                doc.stage = "retrying"
                doc.error = f"retrying after: {reason}"[:2000]
    except Exception:  # the database may be the thing that is down
        log.warning("retry_not_recorded", document_id=str(document_id))


@celery_app.task(name="documents.reconcile")
def reconcile() -> dict[str, int]:
    return reconcile_documents()


def reconcile_documents(now: datetime | None = None) -> dict[str, int]:
    """Re-enqueue documents the queue never got or that stalled; fail those past their tries.

    - queued and waiting_for_queue (the broker was down at upload): enqueue now;
    - queued or processing with no progress for longer than the visibility timeout (the
      worker died and the message is gone): enqueue again, or fail once attempts run out.
    """
    settings = get_settings()
    now = now or datetime.now(UTC)
    stalled_before = now - timedelta(seconds=settings.task_visibility_timeout_s + 60)
    counts = {"enqueued": 0, "failed": 0}
    with session_scope() as session:
        waiting = session.scalars(
            select(Document).where(
                Document.status == DocumentStatus.queued,
                Document.stage == queue.WAITING_FOR_QUEUE,
            )
        ).all()
        stalled = session.scalars(
            select(Document).where(
                Document.status.in_([DocumentStatus.queued, DocumentStatus.processing]),
                Document.stage != queue.WAITING_FOR_QUEUE,
                Document.updated_at < stalled_before,
            )
        ).all()
        dead: list[tuple[uuid.UUID, int]] = []
        for doc in [*waiting, *stalled]:
            if doc.attempts >= settings.task_max_retries + 1:
                dead.append((doc.id, doc.attempts))
                continue
            doc.stage = "queued"
            session.commit()
            if queue.enqueue_ingest(session, doc):
                counts["enqueued"] += 1
    # Dead-letter through the pipeline's one way of failing a document: under its row lock,
    # dropping chunks of an earlier ingest, and not if a worker finished it meanwhile.
    for doc_id, attempts in dead:
        reason = f"Dead-lettered: no progress after {attempts} attempts."
        unfinished = (DocumentStatus.queued, DocumentStatus.processing)
        if pipeline.mark_failed(doc_id, reason, only_if=unfinished):
            counts["failed"] += 1
    if any(counts.values()):
        log.info("reconciled", **counts)
    return counts
