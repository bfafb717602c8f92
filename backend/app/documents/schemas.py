"""Request and response shapes of the documents API."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

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
    error: str | None = Field(
        default=None, description="Why the file failed (with ?wait=, once it is final)."
    )


class UploadResponse(BaseModel):
    documents: list[UploadedDocument]


class ImageOcrOut(BaseModel):
    engine: str
    lines: int
    ms: float


class ImageOut(BaseModel):
    width: int = Field(description="Pixels, upright (EXIF orientation applied).")
    height: int
    format: str = Field(description="PNG, JPEG, WEBP, GIF, TIFF or BMP.")
    frames: int = Field(description="Frames in the file; only the first is read.")
    exif: dict[str, Any] = Field(description="camera, make, model, taken_at, orientation, ...")
    gps: dict[str, float] | None = Field(
        default=None, description="{lat, lon}: only with ?include_gps=true."
    )
    ocr: ImageOcrOut | None = None


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
    metadata: dict[str, Any] = Field(description="The uploader's metadata, as given.")
    image: ImageOut | None = Field(default=None, description="Image documents only.")
    pages: list[dict[str, Any]] | None = Field(
        default=None,
        description="PDFs: how each page was read, [{page, source: text_layer|ocr|none}].",
    )
    has_thumbnail: bool = Field(
        default=False, description="GET .../thumbnail serves one (images and PDFs)."
    )
    created_at: datetime
    updated_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class DocumentPage(BaseModel):
    items: list[DocumentOut]
    total: int
    limit: int
    offset: int


class OcrBox(BaseModel):
    text: str
    box: list[list[float]] = Field(description="Four corners [[x, y], ...] from top-left.")
    score: float


class ChunkOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    ordinal: int
    text: str
    page: int | None
    char_start: int
    char_end: int
    token_count: int
    source: Literal["text", "ocr", "image_description"] = "text"
    boxes: list[OcrBox] | None = Field(
        default=None, description="OCR chunks: each line's text, box (pixels) and score."
    )


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


class KnownRequest(BaseModel):
    collection: str | None = Field(default=None, max_length=200,
                                   description="Your collection's name (default: default).")
    sha256: list[Annotated[str, StringConstraints(pattern=r"^[0-9a-fA-F]{64}$")]] = Field(
        max_length=1000, description="SHA-256 hex digests of the files' bytes.")


class KnownDocument(BaseModel):
    sha256: str
    document_id: uuid.UUID
    filename: str
    status: DocumentStatus
    error: str | None


class KnownResponse(BaseModel):
    known: list[KnownDocument]
