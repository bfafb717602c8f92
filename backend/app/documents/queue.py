"""Hand documents to the ingest queue. Sending never raises: a broker outage is reported as
False, and the caller (documents.service) parks the document for the reconciler."""

from __future__ import annotations

from app.core.logging import get_logger
from app.documents.models import Document

log = get_logger(__name__)


def send_ingest(document: Document) -> bool:
    """Send the document's ingest task; True if the broker took it."""
    from app.workers import QUEUE_INGEST, celery_app

    assert document.task_id is not None
    try:
        celery_app.send_task(
            "documents.ingest",
            args=[str(document.id)],
            task_id=document.task_id,
            queue=QUEUE_INGEST,
            # Nobody reads Celery results (the document row is the state). Without this the
            # sender subscribes to a result channel per task: a leak, and a broker outage then
            # blocks the upload ~20 s and leaves the result consumer dead.
            ignore_result=True,
            retry=True,
            retry_policy={"max_retries": 1, "interval_start": 0, "interval_step": 0.5},
        )
    except Exception as exc:  # kombu/redis raise many types for "broker unreachable"
        log.warning("enqueue_failed", document_id=str(document.id), error=str(exc))
        return False
    return True
