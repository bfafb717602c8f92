"""Hand work to the `label` queue. Sending never raises: a broker outage is reported as
False and the work waits (runs `pending`, jobs `queued`) for the labels reconciler."""

from __future__ import annotations

import uuid

from app.core.logging import get_logger

log = get_logger(__name__)


def _send(task: str, args: list[str]) -> bool:
    from app.workers import QUEUE_LABEL, celery_app

    try:
        celery_app.send_task(
            task, args=args, queue=QUEUE_LABEL, ignore_result=True, retry=True,
            retry_policy={"max_retries": 1, "interval_start": 0, "interval_step": 0.5},
        )
    except Exception as exc:  # kombu/redis raise many types for "broker unreachable"
        log.warning("label_enqueue_failed", task=task, args=args, error=str(exc))
        return False
    return True


def send_label_document(document_id: uuid.UUID) -> bool:
    return _send("labels.label_document", [str(document_id)])


def send_relabel(job_id: uuid.UUID) -> bool:
    return _send("labels.relabel_collection", [str(job_id)])
