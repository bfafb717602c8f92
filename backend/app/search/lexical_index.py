"""Maintain the BM25 statistics: postings per chunk and document frequency per collection.

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

_POSTINGS = text(
    """
    INSERT INTO chunk_terms (chunk_id, term, collection_id, tf)
    SELECT c.id, t.lexeme, c.collection_id, COALESCE(array_length(t.positions, 1), 1)
    FROM chunks c
    JOIN collections col ON col.id = c.collection_id
    CROSS JOIN LATERAL unnest(to_tsvector(col.text_search_config::regconfig, c.text)) AS t
    WHERE c.document_id = :doc AND c.granularity = 'chunk'
    """
)

_LENGTHS = text(
    """
    UPDATE chunks c SET lex_length = COALESCE(s.len, 0)
    FROM (SELECT ct.chunk_id, sum(ct.tf) AS len FROM chunk_terms ct
          JOIN chunks c2 ON c2.id = ct.chunk_id WHERE c2.document_id = :doc
          GROUP BY ct.chunk_id) s
    WHERE c.id = s.chunk_id
    """
)

_DF_ADD = text(
    """
    INSERT INTO collection_terms (collection_id, term, df)
    SELECT ct.collection_id, ct.term, count(*)
    FROM chunk_terms ct JOIN chunks c ON c.id = ct.chunk_id
    WHERE c.document_id = :doc
    GROUP BY ct.collection_id, ct.term
    ORDER BY ct.term
    ON CONFLICT (collection_id, term) DO UPDATE SET df = collection_terms.df + EXCLUDED.df
    """
)

_DF_SUB = text(
    """
    UPDATE collection_terms t SET df = t.df - s.n
    FROM (SELECT ct.collection_id, ct.term, count(*) AS n
          FROM chunk_terms ct JOIN chunks c ON c.id = ct.chunk_id
          WHERE c.document_id = :doc
          GROUP BY ct.collection_id, ct.term ORDER BY ct.term) s
    WHERE t.collection_id = s.collection_id AND t.term = s.term
    """
)

_DF_PRUNE = text(
    "DELETE FROM collection_terms WHERE collection_id = :col AND df <= 0"
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


def index_document(session: Session, document_id: uuid.UUID) -> None:
    """Add the postings and statistics of a document's (freshly written) chunks."""
    params = {"doc": document_id}
    session.execute(_POSTINGS, params)
    session.execute(_LENGTHS, params)
    session.execute(_DF_ADD, params)
    session.execute(_COLLECTION_STATS, {"doc": document_id, "sign": 1})


def unindex_document(session: Session, document_id: uuid.UUID) -> None:
    """Remove a document's postings and subtract it from the statistics (before its chunks go)."""
    params = {"doc": document_id}
    collection_id = session.execute(
        text("SELECT collection_id FROM documents WHERE id = :doc"), params
    ).scalar()
    if collection_id is None:
        return
    session.execute(_COLLECTION_STATS, {"doc": document_id, "sign": -1})
    session.execute(_DF_SUB, params)
    session.execute(_DELETE_POSTINGS, params)
    session.execute(_DF_PRUNE, {"col": collection_id})
