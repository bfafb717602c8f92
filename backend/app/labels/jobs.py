"""The label worker's bookkeeping outside a request (each step its own `session_scope()`):

- `queue_document`: a document just became ready → its labelers' runs are `pending` and the
  label task is sent (after the ingest's write committed: the document is searchable first,
  labels arrive after);
- `reconcile`: labeling the queue lost (Redis was down: runs still `pending`; or the worker
  died: runs `running` for too long), ready documents never labelled, and relabel jobs that
  never started, are sent again; runs past their attempts are failed;
- `run_relabel`: a collection's relabel job, document by document, with progress.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from app.core.config import get_settings
from app.core.db import session_scope
from app.core.logging import get_logger
from app.labels import pipeline, queue, work_repository
from app.labels.labelers import NAMES
from app.labels.models import JobStatus, RunStatus

log = get_logger(__name__)

# A pending run older than this was never picked up: its message is lost (or never sent).
PENDING_GRACE_S = 120
RECONCILE_BATCH = 200


def queue_document(document_id: uuid.UUID, *, fresh: bool = True) -> bool:
    """Mark the document's labeling pending and send it to the `label` queue. `fresh`: the
    document was just (re-)ingested, so its runs' attempts count from zero again; the
    reconciler re-sends with fresh=False, so a document that keeps killing its worker is
    failed once it runs out of attempts."""
    with session_scope() as session:
        work_repository.set_runs(session, document_id, NAMES, RunStatus.pending, fresh=fresh)
    return queue.send_label_document(document_id)


def reconcile(now: datetime | None = None) -> dict[str, int]:
    settings = get_settings()
    now = now or datetime.now(UTC)
    pending_before = now - timedelta(seconds=PENDING_GRACE_S)
    running_before = now - timedelta(seconds=settings.task_visibility_timeout_s + 60)
    counts = {"documents": 0, "failed": 0, "jobs": 0}
    with session_scope() as session:
        stalled = work_repository.stalled_documents(
            session, pending_before=pending_before, running_before=running_before,
            limit=RECONCILE_BATCH)
        never = work_repository.ready_without_runs(
            session, names=NAMES, ready_before=pending_before, limit=RECONCILE_BATCH)
        jobs = [j.id for j in work_repository.stalled_jobs(
            session, queued_before=pending_before, running_before=running_before)]
        dead = [doc_id for doc_id, attempts in stalled
                if attempts >= settings.task_max_retries + 1]
        for doc_id in dead:
            for run in work_repository.runs_for_document(session, doc_id):
                if run.status in (RunStatus.pending.value, RunStatus.running.value):
                    work_repository.finish_run(
                        session, doc_id, run.labeler, RunStatus.failed, ms=0.0,
                        error=f"No result after {run.attempts} attempts: the worker was lost.")
    counts["failed"] = len(dead)
    for doc_id in [d for d, _ in stalled if d not in dead]:
        counts["documents"] += int(queue_document(doc_id, fresh=False))
    for doc_id in never:
        counts["documents"] += int(queue_document(doc_id))
    for job_id in jobs:
        counts["jobs"] += int(queue.send_relabel(job_id))
    if any(counts.values()):
        log.info("labels_reconciled", **counts)
    return counts


def run_relabel(job_id: uuid.UUID) -> dict[str, object]:
    """Re-run the topic labeler on every ready document of the job's collection with the
    job's taxonomy version. Each document's topic labels are replaced in one transaction
    (human labels stay); `done` counts documents as they finish."""
    with session_scope() as session:
        job = work_repository.job(session, job_id, lock=True)
        if job is None or job.status in (JobStatus.done.value, JobStatus.failed.value):
            return {"status": "skipped"}
        job.status = JobStatus.running.value
        ids = work_repository.ready_document_ids(session, job.collection_id)
        job.total, job.done, job.error = len(ids), 0, None
        version = job.taxonomy_version
    failures: list[str] = []
    for doc_id in ids:
        outcome = pipeline.run(doc_id, only=["topics"], taxonomy_version=version)
        if outcome.get("topics") == "failed":
            failures.append(str(doc_id))
        with session_scope() as session:
            job = work_repository.job(session, job_id, lock=True)
            if job is None:
                return {"status": "deleted"}
            job.done += 1
    with session_scope() as session:
        job = work_repository.job(session, job_id, lock=True)
        if job is None:
            return {"status": "deleted"}
        if failures:
            job.status = JobStatus.failed.value
            job.error = (f"The topic labeler failed on {len(failures)} of {len(ids)} documents "
                         "(see each document's labelers).")
        else:
            job.status = JobStatus.done.value
        return {"status": job.status, "done": job.done, "total": job.total}
