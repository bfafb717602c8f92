"""One row per analysed image document: its vector (similar images), perceptual hash
(near-duplicates), NSFW score, object labels as shown and the description text.

The vector column's dimension is fixed by migration 0009 from IMAGE_EMBEDDER (1280 for the
bundled EfficientNet-Lite0); `model` is stored so only vectors of one model are compared.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pgvector.sqlalchemy import Vector
from sqlalchemy import BigInteger, DateTime, Float, ForeignKey, Index, String, Text, func
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base


class ImageVector(Base):
    __tablename__ = "image_vectors"
    __table_args__ = (Index("ix_image_vectors_collection", "collection_id"),)

    document_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("documents.id", ondelete="CASCADE"), primary_key=True
    )
    # Denormalised from the document, so access rules need no join.
    collection_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("collections.id", ondelete="CASCADE")
    )
    model: Mapped[str] = mapped_column(String(200))
    vector: Mapped[list[float]] = mapped_column(Vector())
    # The 64-bit perceptual hash, stored as a signed bigint (two's complement of the hash).
    phash: Mapped[int] = mapped_column(BigInteger)
    nsfw: Mapped[float | None] = mapped_column(Float)
    # [{"value": "tabby cat", "confidence": 0.38}, ...], most likely first
    objects: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    labeler: Mapped[str | None] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )


def to_signed(phash: int) -> int:
    return phash - (1 << 64) if phash >= 1 << 63 else phash


def to_unsigned(stored: int) -> int:
    return stored + (1 << 64) if stored < 0 else stored
