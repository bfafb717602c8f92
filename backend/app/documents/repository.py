"""Queries of the documents domain. Nothing here commits: the caller (a service function or
the ingest pipeline) owns the transaction."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, delete, false, func, or_, select, update
from sqlalchemy.orm import Session, lazyload

from app.auth.principal import Principal
from app.collections import access
from app.collections.models import Collection
from app.documents import stages
from app.documents.models import Chunk, Document, DocumentImage, DocumentStatus
from app.documents.schemas import DocumentType, SortKey, SortOrder
from app.documents.stages import IN_PROGRESS, WAITING, IngestStage
from app.labels.repository import documents_labelled
from app.search import lexical_index


def readable(session: Session, document_id: uuid.UUID, principal: Principal) -> Document | None:
    return session.scalar(
        select(Document).where(
            Document.id == document_id, access.readable_filter(Document.collection_id, principal)
        )
    )


def readable_for_update(
    session: Session, document_id: uuid.UUID, principal: Principal
) -> Document | None:
    return session.scalar(
        select(Document)
        .where(Document.id == document_id)
        .where(access.readable_filter(Document.collection_id, principal))
        .with_for_update(of=Document)
    )


def by_task_id(session: Session, task_id: str, principal: Principal) -> Document | None:
    return session.scalar(
        select(Document).where(
            Document.task_id == task_id, access.readable_filter(Document.collection_id, principal)
        )
    )


def lock(session: Session, document_id: uuid.UUID, *, row_only: bool = False
         ) -> Document | None:
    """The document under a row lock (the ingest write and the failure path take it).
    `row_only` leaves its image facts unread until first used (one query fewer)."""
    stmt = select(Document).where(Document.id == document_id).with_for_update()
    if row_only:
        stmt = stmt.options(lazyload(Document.image))
    return session.scalar(stmt)


def by_sha(session: Session, collection_id: uuid.UUID, sha256s: Iterable[str]) -> list[Document]:
    return list(
        session.scalars(
            select(Document).where(
                Document.collection_id == collection_id, Document.sha256.in_(list(sha256s))
            )
        )
    )


# Content types of each group of ?type= ("image" is any image/*; "other" is none of these).
TYPE_GROUPS: dict[str, tuple[str, ...]] = {
    "pdf": ("application/pdf",),
    "word": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document",
             "application/msword"),
    "text": ("text/plain", "text/markdown"),
    "html": ("text/html",),
}


def _type_filter(kind: DocumentType) -> ColumnElement[bool]:
    is_image = Document.content_type.startswith("image/")
    if kind == "image":
        return is_image
    if kind == "other":
        known = [t for group in TYPE_GROUPS.values() for t in group]
        return ~or_(is_image, Document.content_type.in_(known))
    return Document.content_type.in_(TYPE_GROUPS.get(kind, ())) if kind in TYPE_GROUPS else false()


SORT_COLUMNS = {
    "created": Document.created_at, "updated": Document.updated_at,
    "name": func.lower(Document.filename), "size": Document.size_bytes, "status": Document.status,
}  # fmt: skip


def listing(
    principal: Principal, status: DocumentStatus | None, collection: str | None,
    kind: DocumentType | None = None, sort: SortKey = "created", order: SortOrder = "desc",
    labels: dict[str, list[str]] | None = None,
) -> Select[Document, str]:  # fmt: skip
    """The library's query: readable documents, filtered, sorted."""
    column = SORT_COLUMNS[sort]
    query = (
        select(Document, Collection.name)
        .join(Collection, Collection.id == Document.collection_id)
        .where(access.readable_filter(Document.collection_id, principal))
    )
    if status is not None:
        query = query.where(Document.status == status)
    if collection is not None:
        query = query.where(Collection.name == collection)
    if labels:
        query = query.where(*documents_labelled(Document.id, labels))
    if kind is not None:
        query = query.where(_type_filter(kind))
    if order == "desc":  # ties by id in the same direction: asc is exactly desc reversed
        return query.order_by(column.desc(), Document.id.desc())
    return query.order_by(column.asc(), Document.id.asc())


def page(
    session: Session, query: Select[Document, str], limit: int, offset: int
) -> tuple[list[tuple[Document, str]], int]:
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.execute(query.limit(limit).offset(offset)).all()  # ordered by listing()
    return [(d, name) for d, name in rows], total


def chunks_page(
    session: Session, document_id: uuid.UUID, limit: int, offset: int
) -> tuple[list[Chunk], int]:
    shown = (Chunk.document_id == document_id) & (Chunk.granularity == "chunk")
    total = session.scalar(select(func.count()).where(shown)) or 0
    chunks = session.scalars(
        select(Chunk)
        .where(shown)
        .order_by(Chunk.ordinal)
        .limit(limit)
        .offset(offset)
    ).all()
    return list(chunks), total


def collection_name(session: Session, collection_id: uuid.UUID) -> str:
    return session.scalar(select(Collection.name).where(Collection.id == collection_id)) or ""


def drop_chunks(session: Session, document_id: uuid.UUID) -> None:
    """Remove a document's chunks and their lexical postings and statistics: the one way
    chunks leave the index (delete, re-ingest, failure)."""
    lexical_index.unindex_document(session, document_id)
    session.execute(delete(Chunk).where(Chunk.document_id == document_id))


def has_chunks(session: Session, document_id: uuid.UUID) -> bool:
    found = session.scalar(select(Chunk.id).where(Chunk.document_id == document_id).limit(1))
    return found is not None


def key_referenced(session: Session, key: str) -> bool:
    return bool(referenced_keys(session, [key]))


def referenced_keys(session: Session, keys: list[str]) -> set[str]:
    """The keys some document uses, as its original or as its thumbnail."""
    if not keys:
        return set()
    originals = select(Document.storage_key).where(Document.storage_key.in_(keys))
    thumbnails = select(Document.thumbnail_key).where(Document.thumbnail_key.in_(keys))
    return {k for k in session.scalars(originals.union(thumbnails)) if k is not None}


def replace_image(session: Session, doc: Document, facts: dict[str, Any] | None) -> None:
    """Set (or clear) the document's image facts, its document_images row (an existing row
    is replaced in place by the unit of work)."""
    doc.image = None if facts is None else DocumentImage(document_id=doc.id, **facts)
    session.flush()


def advance_stage(
    session: Session, document_id: uuid.UUID, target: IngestStage, **fields: object
) -> str | None:
    """Move the document to `target` (and set `fields`) in one UPDATE, without loading it,
    if its stage may move there (the state machine's `stages.move`). The stage it was left
    in when it may not, `target` when it moved, None when the document no longer exists."""
    allowed, values = stages.move(target)
    moved = session.execute(
        update(Document)
        .where(Document.id == document_id, Document.stage.in_(allowed))
        .values(**values, **fields)
        .returning(Document.id)
    ).first()
    if moved is not None:
        return target.value
    return session.scalar(select(Document.stage).where(Document.id == document_id))


def touch(session: Session, document_id: uuid.UUID) -> bool:
    """Record progress (updated_at); False if the document no longer exists."""
    found = session.execute(
        update(Document)
        .where(Document.id == document_id)
        .values(updated_at=func.now())
        .returning(Document.id)
    ).first()
    return found is not None


def waiting_for_queue(session: Session) -> list[Document]:
    return list(
        session.scalars(
            select(Document).where(Document.stage == IngestStage.waiting_for_queue.value)
        )
    )


def stalled(session: Session, before: datetime) -> list[Document]:
    """Queued or in-progress documents with no progress since `before` (their worker died
    and the message is gone)."""
    stages = [s.value for s in (*WAITING, *IN_PROGRESS) if s != IngestStage.waiting_for_queue]
    return list(
        session.scalars(
            select(Document).where(Document.stage.in_(stages), Document.updated_at < before)
        )
    )


def count_by_status(session: Session) -> dict[str, int]:
    """How many documents are in each status, across the installation (for metrics)."""
    rows = session.execute(select(Document.status, func.count()).group_by(Document.status))
    return {str(getattr(status, "value", status)): int(n) for status, n in rows}


def statuses(session: Session, document_ids: list[uuid.UUID]) -> dict[uuid.UUID, DocumentStatus]:
    rows = session.execute(
        select(Document.id, Document.status).where(Document.id.in_(document_ids))
    )
    return {doc_id: DocumentStatus(status) for doc_id, status in rows}
