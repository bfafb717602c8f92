"""Queries of the labels domain. Nothing here commits: the caller owns the transaction."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, delete, exists, func, select
from sqlalchemy.orm import Session

from app.auth.principal import Principal
from app.collections import access
from app.collections.models import Collection
from app.documents.models import Document
from app.labels.models import Label, LabelSource, LabelStatus


@dataclass(frozen=True)
class ModelLabel:
    """One label a model proposes (what a labeler returns)."""

    kind: str
    value: str
    confidence: float
    chunk_id: int | None = None


def replace_model_labels(
    session: Session,
    *,
    document_id: uuid.UUID,
    collection_id: uuid.UUID,
    kinds: Sequence[str],
    labels: Sequence[ModelLabel],
    model_name: str,
    model_version: str,
    taxonomy_version: int | None = None,
) -> int:
    """Replace this document's model labels of `kinds` with `labels`, in the caller's
    transaction (so a reader sees the old set or the new one, never a mix). Human labels are
    untouched, and a model label is skipped where a person already decided on the same
    (kind, value, chunk). Returns how many rows were written."""
    session.execute(
        delete(Label).where(
            Label.document_id == document_id,
            Label.source == LabelSource.model.value,
            Label.kind.in_(list(kinds)),
        )
    )
    decided = {
        (row.kind, row.value, row.chunk_id)
        for row in session.execute(
            select(Label.kind, Label.value, Label.chunk_id).where(
                and_(
                    Label.document_id == document_id,
                    Label.source == LabelSource.human.value,
                    Label.kind.in_(list(kinds)),
                )
            )
        )
    }
    seen: set[tuple[str, str, int | None]] = set()
    written = 0
    for item in labels:
        key = (item.kind, item.value, item.chunk_id)
        if item.kind not in kinds or key in decided or key in seen:
            continue
        seen.add(key)
        session.add(
            Label(
                document_id=document_id,
                chunk_id=item.chunk_id,
                collection_id=collection_id,
                kind=item.kind,
                value=item.value[:200],
                confidence=min(1.0, max(0.0, float(item.confidence))),
                source=LabelSource.model.value,
                model_name=model_name,
                model_version=model_version,
                taxonomy_version=taxonomy_version,
            )
        )
        written += 1
    session.flush()
    return written


def for_document(session: Session, document_id: uuid.UUID) -> list[Label]:
    """Every label of one document (the caller checks the reader may see the document)."""
    return list(
        session.scalars(
            select(Label)
            .where(Label.document_id == document_id)
            .order_by(Label.kind, Label.confidence.desc(), Label.id)
        )
    )


def readable_label(session: Session, label_id: int, principal: Principal) -> Label | None:
    """A label on a document the principal may read (None for any other id)."""
    return session.scalar(
        select(Label).where(Label.id == label_id,
                            access.readable_filter(Label.collection_id, principal))
    )


def claim(
    session: Session, document_id: uuid.UUID, chunk_id: int | None, kind: str, value: str,
    source: LabelSource,
) -> Label | None:
    """The one row of this claim from `source` (the unique index allows one)."""
    chunk = Label.chunk_id.is_(None) if chunk_id is None else Label.chunk_id == chunk_id
    return session.scalar(
        select(Label).where(Label.document_id == document_id, chunk, Label.kind == kind,
                            Label.value == value, Label.source == source.value)
    )


def counts(
    session: Session, principal: Principal, collection_ids: list[uuid.UUID] | None,
    kind: str | None,
) -> list[tuple[str, str, int]]:
    """(kind, value, documents) of the active labels the principal may read."""
    query = (
        select(Label.kind, Label.value, func.count(func.distinct(Label.document_id)))
        .where(Label.status == LabelStatus.active.value,
               access.readable_filter(Label.collection_id, principal))
        .group_by(Label.kind, Label.value)
        .order_by(func.count(func.distinct(Label.document_id)).desc(), Label.kind, Label.value)
        .limit(1000)
    )
    if collection_ids is not None:
        query = query.where(Label.collection_id.in_(collection_ids))
    if kind is not None:
        query = query.where(Label.kind == kind)
    return [(k, v, int(n)) for k, v, n in session.execute(query).all()]


def review_page(
    session: Session, principal: Principal, collection_ids: list[uuid.UUID] | None, *,
    low: float, high: float, limit: int, offset: int,
) -> tuple[list[tuple[Label, str, str]], int]:
    """Model labels inside the uncertain band, on documents the principal may read, with the
    document's filename and collection name; the least certain first."""
    query = (
        select(Label, Document.filename, Collection.name)
        .join(Document, Document.id == Label.document_id)
        .join(Collection, Collection.id == Label.collection_id)
        .where(Label.source == LabelSource.model.value,
               Label.status == LabelStatus.active.value,
               Label.confidence >= low, Label.confidence <= high,
               access.readable_filter(Label.collection_id, principal))
    )
    if collection_ids is not None:
        query = query.where(Label.collection_id.in_(collection_ids))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.execute(
        query.order_by(func.abs(Label.confidence - (low + high) / 2), Label.id)
        .limit(limit).offset(offset)
    ).all()
    return [(label, filename, name) for label, filename, name in rows], total


def documents_labelled(
    document_id: Any, labels: dict[str, list[str]], min_confidence: float = 0.0
) -> list[Any]:
    """WHERE clauses keeping documents (by their id column) that carry, for every kind, an
    active label with one of its values (at least `min_confidence`)."""
    return [
        exists().where(Label.document_id == document_id,
                       Label.status == LabelStatus.active.value, Label.kind == kind,
                       Label.value.in_(values), Label.confidence >= min_confidence)
        for kind, values in labels.items()
    ]


def documents_labelled_sql(
    labels: dict[str, list[str]], min_confidence: float
) -> list[tuple[str, dict[str, Any]]]:
    """The same condition as SQL text over `documents d` (for search.filters.SearchScope)."""
    out = []
    for i, (kind, values) in enumerate(sorted(labels.items())):
        out.append((
            "EXISTS (SELECT 1 FROM labels l WHERE l.document_id = d.id AND l.status = 'active'"
            f" AND l.kind = :label_kind_{i} AND l.value = ANY(:label_values_{i})"
            " AND l.confidence >= :label_min_confidence)",
            {f"label_kind_{i}": kind, f"label_values_{i}": list(values),
             "label_min_confidence": min_confidence},
        ))
    return out
