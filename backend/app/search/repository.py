"""Small lookups of the search domain. The retrievers' own SQL lives beside them
(dense.py, lexical.py), hit hydration in hydrate.py and the BM25 statistics in
lexical_index.py: together these are search's data-access modules. Nothing here commits."""

from __future__ import annotations

import uuid

from sqlalchemy import text
from sqlalchemy.orm import Session


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
