"""Queries of the events domain: documents changed since a moment, in readable collections."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.auth.principal import Principal
from app.collections.access import readable_filter
from app.collections.models import Collection
from app.documents.models import Document

MAX_ROWS = 500


def database_now(session: Session) -> datetime:
    """The database clock (the one that writes documents.updated_at)."""
    value = session.scalar(select(func.now()))
    assert value is not None
    return value


def changed_since(session: Session, principal: Principal, since: datetime) -> list[Document]:
    """Documents the principal may read whose row changed at or after `since`, oldest first."""
    return list(
        session.scalars(
            select(Document)
            .where(Document.updated_at >= since,
                   readable_filter(Document.collection_id, principal))
            .order_by(Document.updated_at)
            .limit(MAX_ROWS)
        )
    )


def readable_collections(session: Session, principal: Principal, ids: set[str]) -> set[str]:
    """Which of the collection `ids` the principal may read."""
    if not ids:
        return set()
    found = session.scalars(
        select(Collection.id).where(Collection.id.in_([uuid.UUID(i) for i in ids]),
                                    readable_filter(Collection.id, principal))
    )  # fmt: skip
    return {str(i) for i in found}
