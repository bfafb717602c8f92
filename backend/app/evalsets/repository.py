"""Queries of the eval-set domain. Nothing here commits."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from app.evalsets.models import EvalSet


def named(session: Session, collection_id: uuid.UUID, name: str) -> EvalSet | None:
    return session.scalar(
        select(EvalSet).where(EvalSet.collection_id == collection_id, EvalSet.name == name)
    )


def by_id(session: Session, collection_id: uuid.UUID, set_id: uuid.UUID) -> EvalSet | None:
    return session.scalar(
        select(EvalSet).where(EvalSet.collection_id == collection_id, EvalSet.id == set_id)
    )


def of_collection(session: Session, collection_id: uuid.UUID) -> list[EvalSet]:
    return list(
        session.scalars(
            select(EvalSet).where(EvalSet.collection_id == collection_id).order_by(EvalSet.name)
        )
    )


def document_refs(
    session: Session, collection_id: uuid.UUID, metadata_key: str | None
) -> list[tuple[uuid.UUID, str | None, str]]:
    """(document id, the metadata key's value as text or None, filename) of every document
    in the collection."""
    rows: list[Any] = list(
        session.execute(
            text(
                "SELECT id, CASE WHEN CAST(:key AS text) IS NULL THEN NULL "
                "ELSE metadata ->> CAST(:key AS text) END, filename "
                "FROM documents WHERE collection_id = :col"
            ),
            {"col": collection_id, "key": metadata_key},
        )
    )
    return [(r[0], r[1], str(r[2])) for r in rows]
