"""Celery tasks of the labels domain, on the `label` queue. They stay thin: the work is in
labels/pipeline.py and labels/jobs.py."""

from __future__ import annotations

import uuid

from app.labels import jobs, pipeline
from app.workers import celery_app


@celery_app.task(name="labels.label_document")
def label_document(document_id: str) -> dict[str, str]:
    return pipeline.run(uuid.UUID(document_id))


@celery_app.task(name="labels.relabel_collection")
def relabel_collection(job_id: str) -> dict[str, object]:
    return jobs.run_relabel(uuid.UUID(job_id))


@celery_app.task(name="labels.reconcile")
def reconcile() -> dict[str, int]:
    return jobs.reconcile()
