"""Lookups of the MCP tools. Nothing here commits."""

from __future__ import annotations

from sqlalchemy.orm import Session

from app.documents.models import Chunk


def chunk(session: Session, chunk_id: int) -> Chunk | None:
    """A chunk users may see (a document-granularity row is not a passage of its own)."""
    found = session.get(Chunk, chunk_id)
    return found if found is not None and found.granularity == "chunk" else None
