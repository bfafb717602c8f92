"""The lexical index: postings (chunk, term, tf, the chunk's length) and per-collection
document frequencies.

Both are written in the transaction that writes a document's chunks and removed in the one
that deletes them (see search/lexical_index.py), so BM25 statistics are exact at all times.
"""

from __future__ import annotations

import uuid

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, text
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base

# A posting's impact: BM25's per-posting factor tf / (tf + k1 (1 - b + b len / avgdl)) at
# k1 = 0.9, b = 0.4 and a nominal avgdl of 64 (0.54 = k1 (1 - b), 0.005625 = k1 b / 64). It is
# only the order the postings index keeps each term's postings in, so that BM25 can read a
# common term's best postings first (search/lexical.py); scores still use the collection's
# own k1, b and avgdl, whose factor orders a term's postings nearly the same way. The query's
# ORDER BY must repeat this expression exactly (migration 0018 freezes a copy of it).
POSTING_IMPACT = (
    "(tf::float8 / (tf::float8 + 0.54::float8 + 0.005625::float8 * lex_length::float8))"
)


class ChunkTerm(Base):
    __tablename__ = "chunk_terms"
    __table_args__ = (
        # covering, each term's postings best impact first: BM25 scores a query from this
        # index alone and can stop reading a term early (search/lexical.py)
        Index(
            "ix_chunk_terms_collection_term", "collection_id", "term",
            text(f"{POSTING_IMPACT} DESC"),
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


class LexicalChange(Base):
    """A document whose postings changed at a collection's lexical version (raised in the
    same transaction, collection row locked: a collection's versions commit in order, no
    gaps). A search engine beside Postgres replays them (search/tantivy_index.py); a replica
    that finds a version missing (pruned, or a bulk load that wrote none) rebuilds."""

    __tablename__ = "lexical_changes"

    collection_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("collections.id", ondelete="CASCADE"), primary_key=True
    )
    version: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    document_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
