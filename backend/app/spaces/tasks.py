"""Celery task of the embedding spaces, on the `maintenance` queue; the work is in jobs.py."""

from __future__ import annotations

from typing import Any

from app.spaces import jobs
from app.workers import celery_app


@celery_app.task(name="spaces.reembed")
def reembed(space_id: int) -> dict[str, Any]:
    return jobs.run(int(space_id))
