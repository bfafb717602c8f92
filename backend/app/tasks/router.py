"""GET /api/v1/tasks/{id}: a task's state, joined with the document it works on."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.principal import CurrentPrincipal
from app.collections.access import readable_filter
from app.core.db import get_db
from app.core.errors import NotFound
from app.core.logging import get_logger
from app.documents.models import Document, DocumentStatus
from app.documents.schemas import TaskOut

router = APIRouter(prefix="/api/v1/tasks", tags=["tasks"])
log = get_logger(__name__)

# Stage -> progress through the pipeline, for a progress bar.
PROGRESS = {
    "queued": 0.0,
    "waiting_for_queue": 0.0,
    "retrying": 0.0,
    "fetching": 0.1,
    "parsing": 0.2,
    "chunking": 0.35,
    "embedding": 0.5,
    "done": 1.0,
}
_STATE_BY_STATUS = {
    DocumentStatus.queued: "PENDING",
    DocumentStatus.processing: "STARTED",
    DocumentStatus.ready: "SUCCESS",
    DocumentStatus.failed: "FAILURE",
}


@router.get("/{task_id}", response_model=TaskOut)
def get_task(
    db: Annotated[Session, Depends(get_db)],
    principal: CurrentPrincipal,
    task_id: Annotated[str, Path(min_length=1, max_length=64)],
) -> TaskOut:
    # Only tasks on documents of readable collections; any other id is "not found".
    doc = db.scalar(
        select(Document).where(
            Document.task_id == task_id, readable_filter(Document.collection_id, principal)
        )
    )
    if doc is None:
        raise NotFound(f"No task {task_id}.")
    # The document row is the source of truth (it survives a Redis restart); Celery's
    # state adds RETRY, which the row shows as stage "retrying".
    state = _STATE_BY_STATUS[doc.status]
    if doc.stage == "retrying":
        state = "RETRY"
    return TaskOut(
        task_id=task_id,
        state=state,
        document_id=doc.id,
        document_status=doc.status,
        stage=doc.stage,
        progress=PROGRESS.get(doc.stage, 0.5),
        error=doc.error,
    )
