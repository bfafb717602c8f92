"""Queries of the labels domain. Nothing here commits: the caller owns the transaction."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import and_, delete, select
from sqlalchemy.orm import Session

from app.labels.models import Label, LabelSource


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
