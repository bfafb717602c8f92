"""Every ORM model, imported once so Alembic and the mappers see the whole schema."""

from app.collections.models import Collection
from app.documents.models import Chunk, Document, DocumentStatus
from app.search.models import ChunkTerm, CollectionTerm

__all__ = ["Chunk", "ChunkTerm", "Collection", "CollectionTerm", "Document", "DocumentStatus"]
