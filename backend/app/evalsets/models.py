"""An eval set: judged queries for one collection (its golden set).

`queries` maps query id -> text; `qrels` maps query id -> {document id: grade}: the
judgements' document references (a filename or a metadata value, `match_by`) are resolved
to Cairn document ids when the set is uploaded, so a run ranks documents directly.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, ForeignKey, Integer, String, UniqueConstraint, func
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base


class EvalSet(Base):
    __tablename__ = "eval_sets"
    __table_args__ = (UniqueConstraint("collection_id", "name", name="uq_eval_sets_name"),)

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    collection_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("collections.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    match_by: Mapped[str] = mapped_column(String(120))  # "filename" or "metadata:<key>"
    queries: Mapped[dict[str, Any]] = mapped_column(JSONB)
    qrels: Mapped[dict[str, Any]] = mapped_column(JSONB)
    judgements: Mapped[int] = mapped_column(Integer)
    created_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
