"""Queries of the embedding spaces: rows, the chunks a space still lacks, its vectors and its
partial HNSW index. Never commits."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from app.collections.models import Collection
from app.documents.models import Chunk, Document
from app.spaces.models import EmbeddingSpace, SpaceVector


@dataclass(frozen=True)
class ChunkText:
    id: int
    text: str
    ordinal: int
    title: str | None
    granularity: str = "chunk"


def spaces_of(session: Session, collection_id: uuid.UUID) -> list[EmbeddingSpace]:
    return list(session.scalars(
        select(EmbeddingSpace).where(EmbeddingSpace.collection_id == collection_id)
        .order_by(EmbeddingSpace.id)))


def get(session: Session, space_id: int, *, lock: bool = False) -> EmbeddingSpace | None:
    query = select(EmbeddingSpace).where(EmbeddingSpace.id == space_id)
    return session.scalar(query.with_for_update() if lock else query)


def find(session: Session, collection_id: uuid.UUID, provider: str,
         model: str) -> EmbeddingSpace | None:
    return session.scalar(select(EmbeddingSpace).where(
        EmbeddingSpace.collection_id == collection_id, EmbeddingSpace.provider == provider,
        EmbeddingSpace.model == model))


def active_space_id(session: Session, collection_id: uuid.UUID) -> int | None:
    return session.scalar(select(EmbeddingSpace.id).where(
        EmbeddingSpace.collection_id == collection_id, EmbeddingSpace.active))


def active_spaces(
    session: Session, collection_ids: Sequence[uuid.UUID]
) -> list[tuple[uuid.UUID, EmbeddingSpace | None]]:
    """Each collection with its active space (None: the default space)."""
    found = {s.collection_id: s for s in session.scalars(select(EmbeddingSpace).where(
        EmbeddingSpace.collection_id.in_(list(collection_ids)), EmbeddingSpace.active))}
    return [(cid, found.get(cid)) for cid in collection_ids]


def lock_collection(session: Session, collection_id: uuid.UUID) -> None:
    """Serialises the switches of one collection's active space."""
    session.execute(select(Collection.id).where(Collection.id == collection_id).with_for_update())


def set_active(session: Session, collection_id: uuid.UUID, space_id: int | None) -> None:
    """Make `space_id` the collection's active space (None: the default), in the caller's
    transaction: the switch is seen by queries at its commit, all at once."""
    session.execute(update(EmbeddingSpace).where(
        EmbeddingSpace.collection_id == collection_id, EmbeddingSpace.active)
        .values(active=False))
    if space_id is not None:
        session.execute(update(EmbeddingSpace).where(EmbeddingSpace.id == space_id)
                        .values(active=True))


def chunk_count(session: Session, collection_id: uuid.UUID) -> int:
    """Every row of `chunks` in the collection, whatever its kind: each needs a vector."""
    return int(session.scalar(
        select(func.count()).select_from(Chunk).where(Chunk.collection_id == collection_id)) or 0)


def vector_count(session: Session, space_id: int) -> int:
    return int(session.scalar(
        select(func.count()).select_from(SpaceVector).where(SpaceVector.space_id == space_id))
        or 0)


def missing_chunks(session: Session, space: EmbeddingSpace, after: int,
                   limit: int) -> list[ChunkText]:
    """Chunks of the space's collection with no vector in it yet, by id after `after`."""
    has_vector = select(SpaceVector.chunk_id).where(
        SpaceVector.space_id == space.id, SpaceVector.chunk_id == Chunk.id).exists()
    rows = session.execute(
        select(Chunk.id, Chunk.text, Chunk.ordinal, Document.title, Chunk.granularity)
        .join(Document, Document.id == Chunk.document_id)
        .where(Chunk.collection_id == space.collection_id, Chunk.id > after, ~has_vector)
        .order_by(Chunk.id).limit(limit))
    return [ChunkText(int(r[0]), r[1], int(r[2]), r[3], r[4]) for r in rows]


def missing_count(session: Session, space: EmbeddingSpace) -> int:
    has_vector = select(SpaceVector.chunk_id).where(
        SpaceVector.space_id == space.id, SpaceVector.chunk_id == Chunk.id).exists()
    return int(session.scalar(select(func.count()).select_from(Chunk).where(
        Chunk.collection_id == space.collection_id, ~has_vector)) or 0)


def chunks_of_document(session: Session, document_id: uuid.UUID) -> list[ChunkText]:
    rows = session.execute(
        select(Chunk.id, Chunk.text, Chunk.ordinal, Chunk.granularity)
        .where(Chunk.document_id == document_id).order_by(Chunk.id))
    return [ChunkText(int(r[0]), r[1], int(r[2]), None, r[3]) for r in rows]


def insert_vectors(session: Session, space_id: int,
                   rows: Iterable[tuple[int, list[float]]]) -> None:
    """Add vectors; a chunk that already has one in the space keeps it (a resumed or
    concurrent job never duplicates)."""
    values: list[dict[str, Any]] = [
        {"space_id": space_id, "chunk_id": cid, "embedding": vec} for cid, vec in rows]
    if values:
        session.execute(insert(SpaceVector).values(values).on_conflict_do_nothing())


def index_name(space_id: int) -> str:
    return f"ix_space_vectors_{int(space_id)}"


def create_index(session: Session, space: EmbeddingSpace) -> None:
    """The space's own HNSW index: the untyped column cast to its dimension, only its rows."""
    session.execute(text(
        f"CREATE INDEX IF NOT EXISTS {index_name(space.id)} ON space_vectors "
        f"USING hnsw ((embedding::vector({int(space.dim)})) vector_cosine_ops) "
        f"WITH (m = 16, ef_construction = 128) WHERE space_id = {int(space.id)}"))


def drop(session: Session, space: EmbeddingSpace) -> None:
    session.execute(text(f"DROP INDEX IF EXISTS {index_name(space.id)}"))
    session.execute(delete(SpaceVector).where(SpaceVector.space_id == space.id))
    session.delete(space)


def all_spaces(session: Session) -> list[EmbeddingSpace]:
    """Every extra space (for metrics)."""
    return list(session.scalars(select(EmbeddingSpace).order_by(EmbeddingSpace.id)))
