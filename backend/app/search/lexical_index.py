"""Maintain the BM25 statistics: postings per chunk and document frequency per collection.
Chunks and their postings are added in bulk by `bulk_index.write_chunks`; this module takes
a document's out again (`unindex_document`, called by `documents.repository.drop_chunks`).

Lexemes come from Postgres itself (`to_tsvector` with the collection's text search
configuration), so indexing and querying tokenise and stem identically. All functions run
inside the caller's transaction: the statistics change atomically with the chunks.
Document-frequency rows are upserted in term order, so concurrent writers cannot deadlock.
Every change raises the collection's `lexical_version` and records the document in
`lexical_changes`; the read side of that (what a replica beside Postgres replays,
search/lexical_sync.py) is at the end of this module.
Only 'chunk' rows are indexed: a whole-document row (search/granularity.py) is found by its
vector alone, so BM25 statistics and collection chunk counts are the chunks' own.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence

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

# Change records kept per collection: a copy further behind than this rebuilds.
KEEP_CHANGES = 10_000

# After `WITH v AS (UPDATE collections ... RETURNING id, lexical_version)`: record the
# document as that version's change and forget the records KEEP_CHANGES versions older, so the
# log stays bounded whether or not anything replays it.
RECORD_CHANGE = f"""
    , forgotten AS (
      DELETE FROM lexical_changes l USING v
      WHERE l.collection_id = v.id AND l.version <= v.lexical_version - {KEEP_CHANGES}
    )
    INSERT INTO lexical_changes (collection_id, version, document_id)
    SELECT id, lexical_version, :doc FROM v
"""

_COLLECTION_STATS = text(
    """
    WITH v AS (
      UPDATE collections SET
        chunk_count = chunk_count - (SELECT count(*) FROM chunks WHERE document_id = :doc
                                     AND granularity = 'chunk'),
        total_terms = total_terms - (SELECT COALESCE(sum(lex_length), 0) FROM chunks
                                     WHERE document_id = :doc),
        lexical_version = lexical_version + 1
      WHERE id = (SELECT collection_id FROM documents WHERE id = :doc)
      RETURNING id, lexical_version
    )
    """ + RECORD_CHANGE
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
    session.execute(_COLLECTION_STATS, params)
    emptied = [row.term for row in session.execute(_DF_SUB, params) if row.df <= 0]
    session.execute(_DELETE_POSTINGS, params)
    if emptied:
        session.execute(_DF_PRUNE, {"col": collection_id, "terms": emptied})


# --- the change log, read by a lexical replica (search/lexical_sync.py) -------------------

_VERSIONS = text("SELECT id, lexical_version, chunk_count FROM collections")
_VERSION = text("SELECT lexical_version FROM collections WHERE id = :col")

_CHANGES = text(
    "SELECT version, document_id FROM lexical_changes "
    "WHERE collection_id = :col AND version > :after AND version <= :upto"
)

# A chunk's postings as (lexemes, tfs): what a replica indexes for it. From the chunks (by
# collection, or by document), each chunk's postings by the primary key: streams without
# aggregating a whole collection's postings at once.
_CHUNK_POSTINGS = """
SELECT c.id, c.document_id, p.terms, p.tfs
FROM chunks c
CROSS JOIN LATERAL (SELECT array_agg(term) AS terms, array_agg(tf) AS tfs
                    FROM chunk_terms WHERE chunk_id = c.id) p
WHERE {rows} AND c.granularity = 'chunk' AND p.terms IS NOT NULL
"""
_POSTINGS_ALL = text(_CHUNK_POSTINGS.format(rows="c.collection_id = :col"))
_POSTINGS_OF = text(_CHUNK_POSTINGS.format(
    rows="c.document_id = ANY(CAST(:docs AS uuid[])) AND c.collection_id = :col"
))  # fmt: skip


def lexical_versions(session: Session) -> dict[uuid.UUID, tuple[int, int]]:
    """Every collection's (lexical version, chunk count)."""
    return {row[0]: (int(row[1]), int(row[2])) for row in session.execute(_VERSIONS)}


def lexical_version(session: Session, collection_id: uuid.UUID) -> int | None:
    """The collection's lexical version (None: no such collection)."""
    found = session.execute(_VERSION, {"col": collection_id}).scalar()
    return None if found is None else int(found)


def changed_documents(
    session: Session, collection_id: uuid.UUID, after: int, upto: int
) -> set[uuid.UUID] | None:
    """The documents whose postings changed in versions (after, upto]; None when a version
    in that range has no record (pruned, or written by a bulk load): replay is impossible."""
    rows = list(session.execute(_CHANGES, {"col": collection_id, "after": after, "upto": upto}))
    if len({int(r[0]) for r in rows}) != upto - after:
        return None
    return {r[1] for r in rows}


def chunk_postings(
    session: Session, collection_id: uuid.UUID, document_ids: Sequence[uuid.UUID] | None
) -> Iterator[tuple[int, uuid.UUID, list[str], list[int]]]:
    """(chunk id, document id, lexemes, tfs) of the collection's chunks (of `document_ids`
    only, when given), streamed."""
    query = _POSTINGS_ALL if document_ids is None else _POSTINGS_OF
    params = {"col": collection_id, "docs": None if document_ids is None else list(document_ids)}
    streamed = query.execution_options(stream_results=True, yield_per=2_000)
    for row in session.execute(streamed, params):
        yield int(row[0]), row[1], list(row[2]), [int(tf) for tf in row[3]]
