"""Request and response shapes of the documents API."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from app.documents.models import DocumentStatus

# The library's list: content-type groups (GET /api/v1/documents?type=) and sort keys.
DocumentType = Literal["pdf", "word", "text", "html", "image", "other"]
SortKey = Literal["created", "updated", "name", "size", "status"]
SortOrder = Literal["asc", "desc"]


class UploadedDocument(BaseModel):
    id: uuid.UUID
    filename: str
    collection: str
    status: DocumentStatus
    task_id: str | None
    duplicate: bool = Field(description="The same bytes were already in this collection.")
    outcome: Literal["created", "duplicate", "reingested"] = Field(
        description="created: a new document, queued; duplicate: the same bytes were already "
        "in this collection, nothing was done; reingested: they were, and ?reingest=true "
        "queued that document again."
    )


class UploadResponse(BaseModel):
    documents: list[UploadedDocument]


class DocumentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    collection: str
    filename: str
    content_type: str
    size_bytes: int
    sha256: str
    status: DocumentStatus
    stage: str = Field(description="Where the ingest is: queued, waiting_for_queue, retrying, "
                       "fetching, parsing, chunking, embedding, writing, done or failed.")
    error_code: str | None = Field(description="Why it failed, as a stable code.")
    error: str | None = Field(description="Why it failed (or is retrying), in plain words.")
    attempts: int
    task_id: str | None
    chunk_count: int
    page_count: int | None
    embedding_model: str | None
    timings: dict[str, Any]
    metadata: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class DocumentPage(BaseModel):
    items: list[DocumentOut]
    total: int
    limit: int
    offset: int


class ChunkOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    ordinal: int
    text: str
    page: int | None
    char_start: int
    char_end: int
    token_count: int


class ChunkPage(BaseModel):
    items: list[ChunkOut]
    total: int
    limit: int
    offset: int


class TaskOut(BaseModel):
    task_id: str
    state: str = Field(description="Celery state: PENDING, STARTED, RETRY, SUCCESS, FAILURE.")
    document_id: uuid.UUID | None = None
    document_status: DocumentStatus | None = None
    stage: str | None = None
    progress: float | None = Field(default=None, description="0..1 while known")
    error_code: str | None = None
    error: str | None = None
