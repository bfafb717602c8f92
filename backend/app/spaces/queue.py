"""Hand a re-embedding job to the `maintenance` queue. Sending never raises: a broker outage
is reported as False and the space stays `building` (resumable through the API)."""

from __future__ import annotations

from app.core.logging import get_logger

log = get_logger(__name__)


def send_reembed(space_id: int) -> bool:
    from app.workers import QUEUE_MAINTENANCE, celery_app

    try:
        celery_app.send_task(
            "spaces.reembed", args=[space_id], queue=QUEUE_MAINTENANCE, ignore_result=True,
            retry=True, retry_policy={"max_retries": 1, "interval_start": 0, "interval_step": 0.5},
        )
    except Exception as exc:  # kombu/redis raise many types for "broker unreachable"
        log.warning("space_enqueue_failed", space_id=space_id, error=str(exc))
        return False
    return True
