"""Documents (one uploaded original each) and their chunks."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from pgvector.sqlalchemy import Vector
from sqlalchemy import (
    BigInteger,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.db import Base


class DocumentStatus(enum.StrEnum):
    queued = "queued"
    processing = "processing"
    ready = "ready"
    failed = "failed"


class Document(Base):
    __tablename__ = "documents"
    __table_args__ = (
        UniqueConstraint("collection_id", "sha256", name="uq_documents_collection_sha256"),
        Index("ix_documents_collection_created", "collection_id", "created_at"),
        Index("ix_documents_status_updated", "status", "updated_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    collection_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("collections.id", ondelete="CASCADE")
    )
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(127))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(512))
    metadata_: Mapped[dict[str, Any]] = mapped_column(
        "metadata", JSONB, default=dict, server_default="{}"
    )
    status: Mapped[DocumentStatus] = mapped_column(
        Enum(DocumentStatus, name="document_status"), default=DocumentStatus.queued
    )
    # One of app.documents.stages.IngestStage, written only through stages.advance(); the
    # database enforces the stages and their agreement with `status` (migration 0003).
    stage: Mapped[str] = mapped_column(String(32), default="queued")
    # A failed document: a stable code (app.documents.failures.FailureCode) and a plain reason.
    error_code: Mapped[str | None] = mapped_column(String(64))
    error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    task_id: Mapped[str | None] = mapped_column(String(64))
    chunk_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    page_count: Mapped[int | None] = mapped_column(Integer)
    embedding_model: Mapped[str | None] = mapped_column(String(200))
    # The parsed title, put in front of later chunks for the embedder and their BM25
    # postings (a re-embedding into another space must embed the same text:
    # app/ingest/embedding_text.py).
    title: Mapped[str | None] = mapped_column(Text)
    timings: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, server_default="{}")
    # System facts, kept apart from the uploader's `metadata`: the thumbnail (a content-
    # addressed object, like the original) and, for PDFs, which path read each page.
    thumbnail_key: Mapped[str | None] = mapped_column(String(512))
    pages: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONB)
    image: Mapped[DocumentImage | None] = relationship(
        lazy="selectin", cascade="all, delete-orphan", passive_deletes=True
    )
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Chunk(Base):
    __tablename__ = "chunks"
    __table_args__ = (
        UniqueConstraint("document_id", "ordinal", name="uq_chunks_document_ordinal"),
        Index("ix_chunks_collection", "collection_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    document_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("documents.id", ondelete="CASCADE")
    )
    collection_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("collections.id", ondelete="CASCADE")
    )
    ordinal: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    page: Mapped[int | None] = mapped_column(Integer)
    char_start: Mapped[int] = mapped_column(Integer)
    char_end: Mapped[int] = mapped_column(Integer)
    token_count: Mapped[int] = mapped_column(Integer)
    # Dimension is fixed by the migration from the configured model (see alembic 0001).
    embedding: Mapped[list[float]] = mapped_column(Vector())
    embedding_model: Mapped[str] = mapped_column(String(200))
    # Where the text came from: "text" (the file's own text), "ocr" (read off pixels), or
    # "image_description"; OCR chunks keep their lines' boxes (pixels of the upright image).
    source: Mapped[str] = mapped_column(String(32), default="text", server_default="text")
    boxes: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONB)
    # Number of lexemes (with repeats) in the chunk: the BM25 document length.
    lex_length: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # "chunk" (what users see) or an extra representation searched alongside the chunks
    # ("document": the whole text where it fits the embedder's window; "section"), always
    # mapped back to one of the document's chunks in a hit (search/granularity.py).
    granularity: Mapped[str] = mapped_column(
        String(16), default="chunk", server_default="chunk"
    )
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )


class DocumentImage(Base):
    """What the worker read off an image document: size, format, EXIF, GPS (served only
    when asked for), and the OCR run. One row per image document, none for other types."""

    __tablename__ = "document_images"

    document_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("documents.id", ondelete="CASCADE"), primary_key=True
    )
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    format: Mapped[str] = mapped_column(String(16))
    frames: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    exif: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, server_default="{}")
    gps: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    ocr: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
