"""Small lookups of the search domain. The retrievers' own SQL lives beside them
(dense.py, lexical.py), hit hydration in hydrate.py and the BM25 statistics in
lexical_index.py: together these are search's data-access modules. Nothing here commits."""

from __future__ import annotations

import uuid

from sqlalchemy import text
from sqlalchemy.orm import Session

from app.search.dense import VectorSource


def documents_of(session: Session, chunk_ids: list[int]) -> dict[int, uuid.UUID]:
    """chunk id -> its document id."""
    if not chunk_ids:
        return {}
    rows = session.execute(
        text("SELECT id, document_id FROM chunks WHERE id = ANY(:ids)"), {"ids": chunk_ids}
    )
    return {int(r[0]): r[1] for r in rows}


def chunk_texts(session: Session, chunk_ids: list[int]) -> dict[int, str]:
    if not chunk_ids:
        return {}
    rows = session.execute(
        text("SELECT id, text FROM chunks WHERE id = ANY(:ids)"), {"ids": chunk_ids}
    )
    return {int(r[0]): str(r[1]) for r in rows}


def non_chunk_rows(session: Session, row_ids: list[int]) -> dict[int, tuple[uuid.UUID, uuid.UUID]]:
    """Row id -> (document id, collection id), for the rows that are not chunks
    (granularity 'document')."""
    if not row_ids:
        return {}
    rows = session.execute(
        text("SELECT id, document_id, collection_id FROM chunks "
             "WHERE id = ANY(:ids) AND granularity <> 'chunk'"),
        {"ids": row_ids},
    )
    return {int(r[0]): (r[1], r[2]) for r in rows}


def nearest_chunks(
    session: Session, document_ids: list[uuid.UUID], vector: list[float], source: VectorSource
) -> dict[uuid.UUID, int]:
    """Document id -> its chunk nearest the vector (cosine) in the vector's space, ties by
    ordinal."""
    rows = session.execute(
        text(
            f"SELECT DISTINCT ON (c.document_id) c.document_id, c.id FROM {source.tables} "
            "WHERE c.document_id = ANY(:docs) AND c.granularity = 'chunk' "
            f"ORDER BY c.document_id, {source.column} <=> {source.query}, c.ordinal"
        ),
        {"docs": document_ids, "qv": "[" + ",".join(f"{x:.7g}" for x in vector) + "]"},
    )
    return {r[0]: int(r[1]) for r in rows}

