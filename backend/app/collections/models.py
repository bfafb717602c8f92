"""A collection groups documents; it carries the lexical statistics of its chunks."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, DateTime, Integer, String, func
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base


class Collection(Base):
    __tablename__ = "collections"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(200), unique=True, index=True)
    # Postgres text search configuration used for this collection's lexical index
    # ("english", "german", "simple", ...). Validated against pg_ts_config on create.
    text_search_config: Mapped[str] = mapped_column(String(63), default="english")
    # BM25 statistics, maintained in the same transaction that writes or deletes chunks.
    chunk_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    total_terms: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
