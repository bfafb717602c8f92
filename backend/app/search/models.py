"""The lexical index: postings (chunk, term, tf, the chunk's length) and per-collection
document frequencies.

Both are written in the transaction that writes a document's chunks and removed in the one
that deletes them (see search/lexical_index.py), so BM25 statistics are exact at all times.
"""

from __future__ import annotations

import uuid

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base


class ChunkTerm(Base):
    __tablename__ = "chunk_terms"
    __table_args__ = (
        # covering: BM25 scores a query from this index alone (search/lexical.py)
        Index(
            "ix_chunk_terms_collection_term", "collection_id", "term",
            postgresql_include=["chunk_id", "tf", "lex_length"],
        ),
    )

    chunk_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("chunks.id", ondelete="CASCADE"), primary_key=True
    )
    term: Mapped[str] = mapped_column(String(2048), primary_key=True)
    collection_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    tf: Mapped[int] = mapped_column(Integer)
    # the chunk's BM25 length (chunks.lex_length), kept here so scoring reads no chunk row
    lex_length: Mapped[int] = mapped_column(Integer)


class CollectionTerm(Base):
    __tablename__ = "collection_terms"

    collection_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("collections.id", ondelete="CASCADE"), primary_key=True
    )
    term: Mapped[str] = mapped_column(String(2048), primary_key=True)
    df: Mapped[int] = mapped_column(Integer)
