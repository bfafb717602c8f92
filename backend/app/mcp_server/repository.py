"""Lookups of the MCP tools. Nothing here commits."""

from __future__ import annotations

from sqlalchemy.orm import Session

from app.documents.models import Chunk


def chunk(session: Session, chunk_id: int) -> Chunk | None:
    return session.get(Chunk, chunk_id)
