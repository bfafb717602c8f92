"""GET /api/v1/tasks/{id}: a task's state, from the document it works on."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path
from sqlalchemy.orm import Session

from app.auth.principal import CurrentPrincipal
from app.core.db import get_db
from app.documents import service
from app.documents.schemas import TaskOut

router = APIRouter(prefix="/api/v1/tasks", tags=["tasks"])


@router.get("/{task_id}", response_model=TaskOut)
def get_task(
    db: Annotated[Session, Depends(get_db)],
    principal: CurrentPrincipal,
    task_id: Annotated[str, Path(min_length=1, max_length=64)],
) -> TaskOut:
    found = service.task_state(db, task_id, principal)
    doc = found.document
    return TaskOut(
        task_id=task_id,
        state=found.state,
        document_id=doc.id,
        document_status=doc.status,
        stage=doc.stage,
        progress=found.progress,
        error_code=doc.error_code,
        error=doc.error,
    )
