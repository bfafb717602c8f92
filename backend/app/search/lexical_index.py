"""Maintain the BM25 statistics: postings per chunk and document frequency per collection.
Chunks and their postings are added in bulk by `bulk_index.write_chunks`; this module takes
a document's out again (`unindex_document`, called by `documents.repository.drop_chunks`).

Lexemes come from Postgres itself (`to_tsvector` with the collection's text search
configuration), so indexing and querying tokenise and stem identically. All functions run
inside the caller's transaction: the statistics change atomically with the chunks.
Document-frequency rows are upserted in term order, so concurrent writers cannot deadlock.
Only 'chunk' rows are indexed: a whole-document row (search/granularity.py) is found by its
vector alone, so BM25 statistics and collection chunk counts are the chunks' own.
"""

from __future__ import annotations

import uuid

from sqlalchemy import text
from sqlalchemy.orm import Session

_DF_SUB = text(
    """
    UPDATE collection_terms t SET df = t.df - s.n
    FROM (SELECT ct.collection_id, ct.term, count(*) AS n
          FROM chunk_terms ct JOIN chunks c ON c.id = ct.chunk_id
          WHERE c.document_id = :doc
          GROUP BY ct.collection_id, ct.term ORDER BY ct.term) s
    WHERE t.collection_id = s.collection_id AND t.term = s.term
    RETURNING t.term, t.df
    """
)

# Only the terms this document's removal brought to zero (not a scan of the collection's).
_DF_PRUNE = text(
    "DELETE FROM collection_terms WHERE collection_id = :col AND term = ANY(:terms) AND df <= 0"
)

_COLLECTION_STATS = text(
    """
    UPDATE collections SET
      chunk_count = chunk_count + :sign * (SELECT count(*) FROM chunks WHERE document_id = :doc
                                           AND granularity = 'chunk'),
      total_terms = total_terms + :sign * (SELECT COALESCE(sum(lex_length), 0) FROM chunks
                                           WHERE document_id = :doc)
    WHERE id = (SELECT collection_id FROM documents WHERE id = :doc)
    """
)

_DELETE_POSTINGS = text(
    "DELETE FROM chunk_terms WHERE chunk_id IN (SELECT id FROM chunks WHERE document_id = :doc)"
)


def unindex_document(session: Session, document_id: uuid.UUID) -> None:
    """Remove a document's postings and subtract it from the statistics (before its chunks go)."""
    params = {"doc": document_id}
    collection_id = session.execute(
        text("SELECT collection_id FROM documents WHERE id = :doc"), params
    ).scalar()
    if collection_id is None:
        return
    session.execute(_COLLECTION_STATS, {"doc": document_id, "sign": -1})
    emptied = [row.term for row in session.execute(_DF_SUB, params) if row.df <= 0]
    session.execute(_DELETE_POSTINGS, params)
    if emptied:
        session.execute(_DF_PRUNE, {"col": collection_id, "terms": emptied})
