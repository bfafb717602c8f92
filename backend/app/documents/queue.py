"""Hand documents to the ingest queue. A queue outage never loses an accepted upload:
the document stays `queued` (stage `waiting_for_queue`) and the reconciler enqueues it
again once Redis is back."""

from __future__ import annotations

from sqlalchemy.orm import Session

from app.core.logging import get_logger
from app.documents.models import Document

log = get_logger(__name__)
WAITING_FOR_QUEUE = "waiting_for_queue"


def send_ingest(document_id: str, task_id: str) -> None:
    from app.workers import QUEUE_INGEST, celery_app

    celery_app.send_task(
        "documents.ingest",
        args=[document_id],
        task_id=task_id,
        queue=QUEUE_INGEST,
        # Nobody reads Celery results (the document row is the state). Without this the
        # sender subscribes to a result channel per task: a leak, and a broker outage then
        # blocks the upload ~20 s and leaves the result consumer dead.
        ignore_result=True,
        retry=True,
        retry_policy={"max_retries": 1, "interval_start": 0, "interval_step": 0.5},
    )


def enqueue_ingest(session: Session, document: Document) -> bool:
    """Enqueue; on a broker outage mark the document for the reconciler. True if sent."""
    assert document.task_id is not None
    try:
        send_ingest(str(document.id), document.task_id)
    except Exception as exc:  # kombu/redis raise many types for "broker unreachable"
        log.warning("enqueue_failed", document_id=str(document.id), error=str(exc))
        document.stage = WAITING_FOR_QUEUE
        session.commit()
        return False
    return True
