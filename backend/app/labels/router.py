"""Labels: a document's labels and labelers, human labels, counts, the review queue, the
collection taxonomy and relabel jobs. Each route calls one app.labels.service function."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response, status
from sqlalchemy.orm import Session

from app.auth.principal import CurrentPrincipal
from app.core.db import get_db
from app.labels import service
from app.labels.models import Label, LabelJob
from app.labels.schemas import (
    KIND_PATTERN,
    DocumentLabels,
    JobOut,
    LabelCount,
    LabelCounts,
    LabelerOut,
    LabelIn,
    LabelOut,
    RelabelOut,
    ReviewItem,
    ReviewPage,
    TaxonomyIn,
    TaxonomyLabel,
    TaxonomyOut,
)

router = APIRouter(prefix="/api/v1", tags=["labels"])
DB = Annotated[Session, Depends(get_db)]
CollectionName = Annotated[str | None, Query(min_length=1, max_length=200)]


def label_out(label: Label) -> LabelOut:
    return LabelOut.model_validate(label, from_attributes=True)


def job_out(job: LabelJob) -> JobOut:
    return JobOut(job_id=str(job.id), status=job.status,
                  done=job.done, total=job.total, error=job.error)


@router.get("/documents/{document_id}/labels", response_model=DocumentLabels)
def document_labels(db: DB, principal: CurrentPrincipal, document_id: uuid.UUID
                    ) -> DocumentLabels:
    labels, runs = service.document_labels(db, principal, document_id)
    return DocumentLabels(
        labels=[label_out(label) for label in labels],
        labelers=[LabelerOut.model_validate(r, from_attributes=True) for r in runs],
    )


@router.post("/documents/{document_id}/labels", response_model=LabelOut,
             status_code=status.HTTP_201_CREATED)
def add_label(db: DB, principal: CurrentPrincipal, document_id: uuid.UUID, body: LabelIn
              ) -> LabelOut:
    return label_out(service.add_label(db, principal, document_id, body.kind, body.value))


@router.delete("/documents/{document_id}/labels/{label_id}",
               status_code=status.HTTP_204_NO_CONTENT, response_class=Response)
def remove_label(db: DB, principal: CurrentPrincipal, document_id: uuid.UUID, label_id: int
                 ) -> Response:
    service.remove_label(db, principal, document_id, label_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/labels", response_model=LabelCounts)
def label_counts(
    db: DB, principal: CurrentPrincipal, collection: CollectionName = None,
    kind: Annotated[str | None, Query(pattern=KIND_PATTERN)] = None,
) -> LabelCounts:
    rows = service.counts(db, principal, collection, kind)
    return LabelCounts(labels=[LabelCount(kind=k, value=v, count=n) for k, v, n in rows])


@router.get("/labels/review", response_model=ReviewPage)
def review_queue(
    db: DB, principal: CurrentPrincipal, collection: CollectionName = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> ReviewPage:
    rows, total = service.review(db, principal, collection, limit, offset)
    items = [
        ReviewItem(**label_out(label).model_dump(), document_id=label.document_id,
                   filename=filename, collection=name)
        for label, filename, name in rows
    ]
    return ReviewPage(items=items, total=total)


@router.post("/labels/{label_id}/accept", response_model=LabelOut)
def accept_label(db: DB, principal: CurrentPrincipal, label_id: int) -> LabelOut:
    return label_out(service.decide(db, principal, label_id, accept=True))


@router.post("/labels/{label_id}/reject", response_model=LabelOut)
def reject_label(db: DB, principal: CurrentPrincipal, label_id: int) -> LabelOut:
    return label_out(service.decide(db, principal, label_id, accept=False))


@router.get("/labels/jobs/{job_id}", response_model=JobOut)
def labeling_job(db: DB, principal: CurrentPrincipal, job_id: uuid.UUID) -> JobOut:
    return job_out(service.get_job(db, principal, job_id))


@router.get("/collections/{collection_id}/taxonomy", response_model=TaxonomyOut)
def get_taxonomy(db: DB, principal: CurrentPrincipal, collection_id: uuid.UUID) -> TaxonomyOut:
    version, labels = service.get_taxonomy(db, principal, collection_id)
    return TaxonomyOut(version=version, labels=[TaxonomyLabel(**x) for x in labels])


@router.put("/collections/{collection_id}/taxonomy", response_model=TaxonomyOut)
def put_taxonomy(db: DB, principal: CurrentPrincipal, collection_id: uuid.UUID,
                 body: TaxonomyIn) -> TaxonomyOut:
    labels = [x.model_dump() for x in body.labels]
    version, stored = service.put_taxonomy(db, principal, collection_id, labels)
    return TaxonomyOut(version=version, labels=[TaxonomyLabel(**x) for x in stored])


@router.post("/collections/{collection_id}/relabel", response_model=RelabelOut,
             status_code=status.HTTP_202_ACCEPTED)
def relabel(db: DB, principal: CurrentPrincipal, collection_id: uuid.UUID) -> RelabelOut:
    job = service.start_relabel(db, principal, collection_id)
    return RelabelOut(job_id=str(job.id), status="queued")
