"""The labels API's rules; each public function is one unit of work and commits.

Reads are scoped to what the caller may read (another user's document, label, collection or
job is a 404, like a missing one); writes need write permission on the collection (403).
A person's decision is a `human` row: adding, accepting and rejecting write one, and a
model rerun (repository.replace_model_labels) never overwrites or revives it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.auth.principal import Principal
from app.collections import access
from app.collections import service as collections
from app.core.config import get_settings
from app.core.errors import Conflict, Forbidden, NotFound
from app.documents import service as documents
from app.documents.models import DocumentStatus
from app.labels import queue, repository, work_repository
from app.labels.labelers import NAMES
from app.labels.models import (
    JobStatus,
    Label,
    LabelJob,
    LabelSource,
    LabelStatus,
    RunStatus,
    Taxonomy,
)


@dataclass(frozen=True)
class RunView:
    name: str
    status: str
    error: str | None
    ms: float | None
    finished_at: datetime | None


def _writable(session: Session, principal: Principal, collection_id: uuid.UUID) -> None:
    if not access.can_write(session, principal, collection_id):
        raise Forbidden("This collection is shared with you read-only.")


def _collection_ids(session: Session, principal: Principal, name: str | None
                    ) -> list[uuid.UUID] | None:
    if name is None:
        return None
    ids = access.readable_ids_named(session, principal, name)
    if not ids:
        raise NotFound(f"No collection named {name!r}.")
    return ids


def document_labels(
    session: Session, principal: Principal, document_id: uuid.UUID
) -> tuple[list[Label], list[RunView]]:
    """The document's labels and its labelers' runs; a labeler that has not run yet shows as
    `pending` (labels arrive after the document is ready), except on a failed document,
    which is never labelled."""
    doc = documents.get(session, document_id, principal)
    labels = repository.for_document(session, document_id)
    runs = {r.labeler: r for r in work_repository.runs_for_document(session, document_id)}
    views = [RunView(r.labeler, r.status, r.error, r.ms, r.finished_at) for r in runs.values()]
    if doc.status != DocumentStatus.failed:
        views += [RunView(name, RunStatus.pending.value, None, None, None)
                  for name in NAMES if name not in runs]
    return labels, views


def add_label(
    session: Session, principal: Principal, document_id: uuid.UUID, kind: str, value: str
) -> Label:
    """A person's label on the whole document (a model's same claim gives way to it)."""
    doc = documents.get(session, document_id, principal)
    _writable(session, principal, doc.collection_id)
    human = repository.claim(session, doc.id, None, kind, value, LabelSource.human)
    if human is None:
        human = Label(document_id=doc.id, collection_id=doc.collection_id, kind=kind,
                      value=value, confidence=1.0, source=LabelSource.human.value,
                      created_by=principal.user_id)
        session.add(human)
    human.status = LabelStatus.active.value
    model = repository.claim(session, doc.id, None, kind, value, LabelSource.model)
    if model is not None:
        session.delete(model)
    session.commit()
    return human


def remove_label(
    session: Session, principal: Principal, document_id: uuid.UUID, label_id: int
) -> None:
    """A person's label is deleted; a model's becomes a human `rejected` row, so a rerun
    does not bring it back."""
    label = repository.readable_label(session, label_id, principal)
    if label is None or label.document_id != document_id:
        raise NotFound(f"No label {label_id} on document {document_id}.")
    _writable(session, principal, label.collection_id)
    if label.source == LabelSource.human.value:
        session.delete(label)
    else:
        _decide(session, principal, label, LabelStatus.rejected)
    session.commit()


def decide(session: Session, principal: Principal, label_id: int, accept: bool) -> Label:
    """Review: accept (the label becomes a human, active one) or reject (human, rejected)."""
    label = repository.readable_label(session, label_id, principal)
    if label is None:
        raise NotFound(f"No label {label_id}.")
    _writable(session, principal, label.collection_id)
    decided = _decide(session, principal, label,
                      LabelStatus.active if accept else LabelStatus.rejected)
    session.commit()
    return decided


def _decide(session: Session, principal: Principal, label: Label, status: LabelStatus) -> Label:
    if label.source == LabelSource.model.value:
        human = repository.claim(session, label.document_id, label.chunk_id, label.kind,
                                 label.value, LabelSource.human)
        if human is not None:
            session.delete(label)
            label = human
        else:
            label.source = LabelSource.human.value
            label.created_by = principal.user_id
        session.flush()
    label.status = status.value
    if status is LabelStatus.active:
        label.confidence = 1.0
    return label


def counts(
    session: Session, principal: Principal, collection: str | None, kind: str | None
) -> list[tuple[str, str, int]]:
    ids = _collection_ids(session, principal, collection)
    return repository.counts(session, principal, ids, kind)


def review(
    session: Session, principal: Principal, collection: str | None, limit: int, offset: int
) -> tuple[list[tuple[Label, str, str]], int]:
    settings = get_settings()
    ids = _collection_ids(session, principal, collection)
    return repository.review_page(session, principal, ids, low=settings.label_review_min,
                                  high=settings.label_review_max, limit=limit, offset=offset)


def get_taxonomy(session: Session, principal: Principal, collection_id: uuid.UUID
                 ) -> tuple[int, list[dict[str, str]]]:
    collections.get_readable(session, principal, collection_id)
    found = work_repository.taxonomy(session, collection_id)
    return (found.version, list(found.labels)) if found is not None else (0, [])


def put_taxonomy(session: Session, principal: Principal, collection_id: uuid.UUID,
                 labels: list[dict[str, str]]) -> tuple[int, list[dict[str, str]]]:
    """A new version (the previous ones stay; labels made with them keep their version)."""
    collections.get_readable(session, principal, collection_id)
    _writable(session, principal, collection_id)
    latest = work_repository.taxonomy(session, collection_id)
    version = (latest.version if latest is not None else 0) + 1
    session.add(Taxonomy(collection_id=collection_id, version=version, labels=labels,
                         created_by=principal.user_id))
    try:
        session.commit()
    except IntegrityError as exc:
        session.rollback()
        raise Conflict("The taxonomy changed meanwhile; read it and try again.") from exc
    return version, labels


def start_relabel(session: Session, principal: Principal, collection_id: uuid.UUID
                  ) -> LabelJob:
    """A background job (queue `label`) re-running the topic labeler on the collection with
    its current taxonomy version. If Redis is down the job waits `queued` for the labels
    reconciler."""
    collections.get_readable(session, principal, collection_id)
    _writable(session, principal, collection_id)
    latest = work_repository.taxonomy(session, collection_id)
    if latest is None:
        raise Conflict("This collection has no taxonomy yet: PUT one first.",
                       code="no_taxonomy")
    job = LabelJob(id=uuid.uuid4(), collection_id=collection_id,
                   taxonomy_version=latest.version, status=JobStatus.queued.value,
                   created_by=principal.user_id)
    session.add(job)
    session.commit()
    queue.send_relabel(job.id)
    return job


def get_job(session: Session, principal: Principal, job_id: uuid.UUID) -> LabelJob:
    job = work_repository.job(session, job_id)
    if job is None or not access.can_read(session, principal, job.collection_id):
        raise NotFound(f"No labeling job {job_id}.")
    return job
