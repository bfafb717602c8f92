"""Queries of the label worker's bookkeeping: labeler runs, taxonomy versions, relabel jobs.
Nothing here commits: the caller owns the transaction."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from app.documents.models import Chunk, Document, DocumentStatus
from app.labels.models import JobStatus, LabelerRun, LabelJob, RunStatus, Taxonomy


def set_runs(
    session: Session, document_id: uuid.UUID, names: Sequence[str], status: RunStatus, *,
    fresh: bool = False,
) -> None:
    """Put these labelers' runs of the document in `status` (created if missing); `running`
    counts an attempt and stamps the start, `pending` clears the last outcome, and `fresh`
    (newly ready content) starts the attempt count again."""
    if not names:
        return
    values: dict[str, Any] = {"status": status.value, "updated_at": func.now()}
    if status in (RunStatus.pending, RunStatus.running):
        values |= {"error": None, "ms": None, "finished_at": None}
    if status is RunStatus.running:
        values |= {"started_at": func.now(), "attempts": LabelerRun.attempts + 1}
    if fresh:
        values["attempts"] = 0
    stmt = insert(LabelerRun).values([  # one statement for every labeler
        {"document_id": document_id, "labeler": name, "status": status.value,
         "attempts": 1 if status is RunStatus.running else 0,
         "started_at": func.now() if status is RunStatus.running else None}
        for name in names
    ])
    session.execute(stmt.on_conflict_do_update(
        constraint="uq_labeler_runs_document_labeler", set_=values))


def finish_run(
    session: Session, document_id: uuid.UUID, name: str, status: RunStatus, *,
    error: str | None, ms: float,
) -> None:
    session.execute(
        update(LabelerRun)
        .where(LabelerRun.document_id == document_id, LabelerRun.labeler == name)
        .values(status=status.value, error=error, ms=ms, finished_at=func.now())
    )


def runs_for_document(session: Session, document_id: uuid.UUID) -> list[LabelerRun]:
    return list(session.scalars(
        select(LabelerRun).where(LabelerRun.document_id == document_id).order_by(LabelerRun.id)
    ))


def stalled_documents(
    session: Session, *, pending_before: datetime, running_before: datetime, limit: int
) -> list[tuple[uuid.UUID, int]]:
    """(ready document, most attempts of its runs) whose labeling is pending past
    `pending_before` (the queue never got it) or running past `running_before` (the worker
    was lost)."""
    rows = session.execute(
        select(LabelerRun.document_id, func.max(LabelerRun.attempts))
        .join(Document, Document.id == LabelerRun.document_id)
        .where(Document.status == DocumentStatus.ready,
               or_(
                   (LabelerRun.status == RunStatus.pending.value)
                   & (LabelerRun.updated_at < pending_before),
                   (LabelerRun.status == RunStatus.running.value)
                   & (LabelerRun.updated_at < running_before),
               ))
        .group_by(LabelerRun.document_id)
        .limit(limit)
    ).all()
    return [(doc_id, int(attempts)) for doc_id, attempts in rows]


def ready_without_runs(
    session: Session, *, names: Sequence[str], ready_before: datetime, limit: int
) -> list[uuid.UUID]:
    """Ready documents never handed to the label queue (e.g. ready before labels existed):
    none of the `names` labelers has a run (the ingest's own `vision` run does not count)."""
    has_runs = select(LabelerRun.id).where(
        LabelerRun.document_id == Document.id, LabelerRun.labeler.in_(list(names))
    ).exists()
    return list(session.scalars(
        select(Document.id)
        .where(Document.status == DocumentStatus.ready, Document.updated_at < ready_before,
               ~has_runs)
        .limit(limit)
    ))


def ready_document(session: Session, document_id: uuid.UUID, *, lock: bool) -> Document | None:
    query = select(Document).where(Document.id == document_id,
                                   Document.status == DocumentStatus.ready)
    return session.scalar(query.with_for_update() if lock else query)


def chunk_rows(session: Session, document_id: uuid.UUID) -> list[tuple[int, str, Any, str]]:
    """(id, text, vector, source) of the document's chunks in order."""
    rows = session.execute(
        select(Chunk.id, Chunk.text, Chunk.embedding, Chunk.source)
        .where(Chunk.document_id == document_id, Chunk.granularity == "chunk")
        .order_by(Chunk.ordinal)
    ).all()
    return [(cid, text, vec, source) for cid, text, vec, source in rows]


def taxonomy(session: Session, collection_id: uuid.UUID, version: int | None = None
             ) -> Taxonomy | None:
    """One version of the collection's taxonomy (the latest when `version` is None)."""
    query = select(Taxonomy).where(Taxonomy.collection_id == collection_id)
    if version is not None:
        query = query.where(Taxonomy.version == version)
    return session.scalar(query.order_by(Taxonomy.version.desc()).limit(1))


def ready_document_ids(session: Session, collection_id: uuid.UUID) -> list[uuid.UUID]:
    return list(session.scalars(
        select(Document.id)
        .where(Document.collection_id == collection_id, Document.status == DocumentStatus.ready)
        .order_by(Document.created_at, Document.id)
    ))


def job(session: Session, job_id: uuid.UUID, *, lock: bool = False) -> LabelJob | None:
    query = select(LabelJob).where(LabelJob.id == job_id)
    return session.scalar(query.with_for_update() if lock else query)


def stalled_jobs(session: Session, *, queued_before: datetime, running_before: datetime
                 ) -> list[LabelJob]:
    return list(session.scalars(
        select(LabelJob).where(or_(
            (LabelJob.status == JobStatus.queued.value) & (LabelJob.updated_at < queued_before),
            (LabelJob.status == JobStatus.running.value) & (LabelJob.updated_at < running_before),
        )).limit(100)
    ))
