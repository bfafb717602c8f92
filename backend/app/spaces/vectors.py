"""Vectors of the extra embedding spaces: what the ingest embeds before its write
(`embed_for_ingest`, in the embed stage, outside any transaction) and only inserts in it
(`write_vectors`), and the embedding of a batch, shared with the job."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from app.core.logging import get_logger
from app.documents.models import Document
from app.ingest import embed_batcher
from app.ingest.embedding_text import embedding_text
from app.providers.embeddings import EmbedderSpec, EmbeddingError, get_embedder_for
from app.spaces import repository
from app.spaces.models import EmbeddingSpace, SpaceStatus
from app.spaces.repository import ChunkText

log = get_logger(__name__)


def spec_of(space: EmbeddingSpace) -> EmbedderSpec:
    return EmbedderSpec(space.provider, space.model, space.dim)


def embed_chunks(space: EmbeddingSpace, chunks: list[ChunkText]) -> list[tuple[int, list[float]]]:
    """(chunk id, vector) in the space's model, from the text the ingest embeds."""
    texts = [embedding_text(c.text, c.ordinal, c.title, c.granularity) for c in chunks]
    vectors = get_embedder_for(spec_of(space)).embed_bulk(texts)  # a worker's job
    return [(c.id, v) for c, v in zip(chunks, vectors, strict=True)]


@dataclass(frozen=True)
class Target:
    """A space the ingest embeds into, read before the embed stage."""

    space_id: int
    spec: EmbedderSpec
    active: bool


@dataclass
class Prepared:
    """Each space's vectors of the document's embedding texts (keyed by the text itself, so
    the write matches them to its chunk rows whatever their order), or why it failed."""

    vectors: dict[int, dict[str, list[float]]] = field(default_factory=dict)
    errors: dict[int, str] = field(default_factory=dict)


def targets(session: Session, collection_id: uuid.UUID) -> list[Target]:
    """The collection's spaces that the ingest keeps up to date (all but the failed ones)."""
    return [Target(s.id, spec_of(s), s.active)
            for s in repository.spaces_of(session, collection_id)
            if s.status != SpaceStatus.failed.value]  # fmt: skip


def embed_for_ingest(found: Sequence[Target], texts: Sequence[str]) -> Prepared:
    """The embed stage's second half: `texts` in every other space's model, through the
    process's batcher (so the documents ingested at once share each model's calls). An error
    for the active space is raised (the task retries); another space's is kept for the
    write, which marks that space failed."""
    prepared = Prepared()
    unique = list(dict.fromkeys(texts))
    for target in found:
        try:
            vectors = embed_batcher.embed(get_embedder_for(target.spec), unique)
        except EmbeddingError as exc:
            if target.active:
                raise
            prepared.errors[target.space_id] = str(exc)
            continue
        prepared.vectors[target.space_id] = dict(zip(unique, vectors, strict=True))
    return prepared


def write_vectors(
    session: Session, doc: Document, title: str | None, prepared: Prepared | None = None
) -> None:
    """Called by the ingest after it inserted the document's chunks, in the same transaction
    (which also records the title: a re-embedding puts it in front of later chunks, as the
    ingest does): inserts the chunks' vectors into each of the collection's other spaces,
    made by the embed stage (`prepared`). A space the embed stage did not see (added
    meanwhile) is embedded here. The active space must get them (an embedding error fails
    this write, and the task retries); a building or ready one that cannot is marked failed
    with the reason (its resumed job catches up); a failed one is left to its job."""
    spaces = [s for s in repository.spaces_of(session, doc.collection_id)
              if s.status != SpaceStatus.failed.value]
    if not spaces:
        return
    prepared = prepared or Prepared()
    active = repository.active_space_id(session, doc.collection_id)
    chunks = [ChunkText(c.id, c.text, c.ordinal, title, c.granularity)
              for c in repository.chunks_of_document(session, doc.id)]
    keys = [embedding_text(c.text, c.ordinal, title, c.granularity) for c in chunks]
    for space in spaces:
        try:
            error = prepared.errors.get(space.id)
            if error is not None:
                raise EmbeddingError(error)
            made = prepared.vectors.get(space.id, {})
            if all(key in made for key in keys):
                rows = [(c.id, made[key]) for c, key in zip(chunks, keys, strict=True)]
            else:
                rows = embed_chunks(space, chunks)
            repository.insert_vectors(session, space.id, rows)
        except EmbeddingError as exc:
            if active == space.id:
                raise
            log.warning("space_ingest_embedding_failed", space_id=space.id, error=str(exc))
            space.status = SpaceStatus.failed.value
            space.error = f"The ingest of a document could not embed it: {exc}"[:2000]
