"""Vectors of the extra embedding spaces: what the ingest writes (`write_vectors`, one call in
the pipeline's write transaction) and the embedding of a batch, shared with the job."""

from __future__ import annotations

from sqlalchemy.orm import Session

from app.core.logging import get_logger
from app.documents.models import Document
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
    vectors = get_embedder_for(spec_of(space)).embed_documents(texts)
    return [(c.id, v) for c, v in zip(chunks, vectors, strict=True)]


def write_vectors(session: Session, doc: Document, title: str | None) -> None:
    """Called by the ingest after it inserted the document's chunks, in the same transaction:
    records the title (a re-embedding puts it in front of later chunks, as the ingest does)
    and embeds the chunks into each of the collection's other spaces. The active space must
    get them (an embedding error fails this write, and the task retries); a building or ready
    one that cannot is marked failed with the reason (its resumed job catches up); a failed
    one is left to its job."""
    doc.title = title
    spaces = [s for s in repository.spaces_of(session, doc.collection_id)
              if s.status != SpaceStatus.failed.value]
    if not spaces:
        return
    active = repository.active_space_id(session, doc.collection_id)
    chunks = [ChunkText(c.id, c.text, c.ordinal, title, c.granularity)
              for c in repository.chunks_of_document(session, doc.id)]
    for space in spaces:
        try:
            repository.insert_vectors(session, space.id, embed_chunks(space, chunks))
        except EmbeddingError as exc:
            if active == space.id:
                raise
            log.warning("space_ingest_embedding_failed", space_id=space.id, error=str(exc))
            space.status = SpaceStatus.failed.value
            space.error = f"The ingest of a document could not embed it: {exc}"[:2000]
