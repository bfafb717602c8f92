"""Embedding spaces (migration 0013): a collection's vectors from one more model.

The default space of every collection is implicit: the configured model's vectors in
`chunks.embedding`. An extra space is an `embedding_spaces` row plus its vectors in
`space_vectors` (one row per chunk, `embedding` untyped; the space's partial expression HNSW
index casts it to the space's dimension)."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from pgvector.sqlalchemy import Vector
from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base


class SpaceStatus(enum.StrEnum):
    building = "building"  # the re-embedding job has chunks left to embed (or is queued)
    ready = "ready"  # every chunk has a vector in the space; it may be activated
    failed = "failed"  # the job stopped on an error (kept in `error`); resumable


class EmbeddingSpace(Base):
    __tablename__ = "embedding_spaces"
    __table_args__ = (Index("uq_embedding_spaces_active", "collection_id", unique=True,
                            postgresql_where=text("active")),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    collection_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("collections.id", ondelete="CASCADE")
    )
    provider: Mapped[str] = mapped_column(String(32))
    model: Mapped[str] = mapped_column(String(200))
    dim: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default=SpaceStatus.building.value)
    # The space the collection's queries use (at most one per collection; none: the default).
    active: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    embedded: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class SpaceVector(Base):
    __tablename__ = "space_vectors"
    __table_args__ = (Index("ix_space_vectors_chunk", "chunk_id"),)

    space_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("embedding_spaces.id", ondelete="CASCADE"), primary_key=True
    )
    chunk_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("chunks.id", ondelete="CASCADE"), primary_key=True
    )
    embedding: Mapped[list[float]] = mapped_column(Vector())
