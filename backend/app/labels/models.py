"""Labels as data: what a model or a person says about a document (or one of its chunks).

A row is one claim: `kind` (topic, keyword, language, object, safety, ...) and `value`, with a
confidence, where it came from (`source`: model or human) and which model made it. A person's
label is never overwritten by a model rerun: model reruns replace only `source = 'model'` rows,
and a model label is not written where a person already decided on the same (kind, value)
(accepted: a human row with status `active`; rejected: a human row with status `rejected`).
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base, one_of


class LabelSource(enum.StrEnum):
    model = "model"
    human = "human"


class LabelStatus(enum.StrEnum):
    active = "active"
    # Only a human row may be `rejected`: a person said this (kind, value) is wrong, and a
    # model rerun must not bring it back.
    rejected = "rejected"


class Label(Base):
    __tablename__ = "labels"
    __table_args__ = (
        one_of("source", LabelSource),
        one_of("status", LabelStatus),
        CheckConstraint("status = 'active' OR source = 'human'", name="rejected_is_human"),
        CheckConstraint("confidence >= 0 AND confidence <= 1", name="confidence_range"),
        Index("ix_labels_document", "document_id"),
        Index("ix_labels_collection_kind_value", "collection_id", "kind", "value"),
        # Deleting chunks cascades here once per chunk: without it, a scan of labels each.
        Index("ix_labels_chunk", "chunk_id", postgresql_where=text("chunk_id IS NOT NULL")),
        # (the unique index over document, chunk-or-0, kind, value, source is in migration 0007)
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    document_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"))
    # A chunk-level label; NULL for a label on the whole document.
    chunk_id: Mapped[int | None] = mapped_column(ForeignKey("chunks.id", ondelete="CASCADE"))
    # Denormalised from the document, so access rules and counts need no join.
    collection_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("collections.id", ondelete="CASCADE")
    )
    kind: Mapped[str] = mapped_column(String(32))
    value: Mapped[str] = mapped_column(String(200))
    confidence: Mapped[float] = mapped_column(Float, default=1.0)
    source: Mapped[str] = mapped_column(String(16), default=LabelSource.model.value)
    status: Mapped[str] = mapped_column(
        String(16), default=LabelStatus.active.value, server_default="active"
    )
    model_name: Mapped[str | None] = mapped_column(String(200))
    model_version: Mapped[str | None] = mapped_column(String(64))
    # The collection taxonomy version a topic label was made with (NULL for other kinds).
    taxonomy_version: Mapped[int | None] = mapped_column(Integer)
    created_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )


class RunStatus(enum.StrEnum):
    pending = "pending"
    running = "running"
    done = "done"
    failed = "failed"


class LabelerRun(Base):
    """One labeler's latest run on one document: each labeler (language, keywords, topics)
    records its own status, reason and timing, so a failing one marks only itself."""

    __tablename__ = "labeler_runs"
    __table_args__ = (
        one_of("status", RunStatus),
        UniqueConstraint("document_id", "labeler", name="uq_labeler_runs_document_labeler"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    document_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"))
    labeler: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default=RunStatus.pending.value)
    error: Mapped[str | None] = mapped_column(Text)
    ms: Mapped[float | None] = mapped_column(Float)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )


class Taxonomy(Base):
    """One version of a collection's topic taxonomy: `labels` is [{"value", "description"}].
    Versions are kept (never edited): a PUT writes version + 1."""

    __tablename__ = "taxonomies"
    __table_args__ = (
        UniqueConstraint("collection_id", "version", name="uq_taxonomies_collection_version"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    collection_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("collections.id", ondelete="CASCADE")
    )
    version: Mapped[int] = mapped_column(Integer)
    labels: Mapped[Any] = mapped_column(JSONB)
    created_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class JobStatus(enum.StrEnum):
    queued = "queued"
    running = "running"
    done = "done"
    failed = "failed"


class LabelJob(Base):
    """A relabel of one collection with one taxonomy version, run on the `label` queue."""

    __tablename__ = "label_jobs"
    __table_args__ = (
        one_of("status", JobStatus),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    collection_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("collections.id", ondelete="CASCADE")
    )
    taxonomy_version: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default=JobStatus.queued.value)
    done: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )
