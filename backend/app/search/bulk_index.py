"""Write a document's chunks, postings and BM25 statistics in bulk, in the caller's transaction.

The same rows `lexical_index.index_document` produces after per-row chunk inserts, in a
fixed number of round trips whatever the document's size:

1. one query asks Postgres for every chunk's lexemes (`to_tsvector` with the collection's
   text search configuration: indexing and querying stem identically), from the text the
   chunk is embedded from (a later chunk with its document's title in front, as
   `ChunkRow.lexical_text`), so both retrievers see the same words;
2. chunk ids come from the table's sequence, so chunks and postings go in by `COPY` (chunks
   arrive with their `lex_length`: no second write of each row, whose new version would be
   inserted into the HNSW index again; each posting carries the same length, so BM25 scores
   from the postings' index alone, search/lexical.py). Chunks are copied in the binary
   format, their vectors as pgvector's binary value: 384 floats as text cost the worker
   ~0.18 ms and Postgres ~0.07 ms a row to print and read back, the binary value ~0.02 ms
   each, and Postgres stores the same float32s either way;
3. last, the collection's totals (and its lexical version, with this document recorded as
   the change: search/tantivy_index.py), then the document frequencies (one upsert in term
   order), are added. Every writer takes the collection row before its terms (as `unindex_document`
   does), so concurrent writers queue instead of deadlocking, and only for these two
   statements and the commit (the new chunk rows lock nothing another writer needs).
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pgvector import Vector
from psycopg.types.json import Jsonb
from sqlalchemy import text
from sqlalchemy.orm import Session

from app.search.lexical_index import RECORD_CHANGE

_LEXEMES = text(
    """
    SELECT x.ord::int - 1 AS i, t.lexeme, COALESCE(array_length(t.positions, 1), 1) AS tf
    FROM unnest(CAST(:texts AS text[])) WITH ORDINALITY AS x(body, ord)
    CROSS JOIN LATERAL unnest(to_tsvector(CAST(:config AS regconfig), x.body)) AS t
    """
)

_IDS = text("SELECT nextval(pg_get_serial_sequence('chunks', 'id')) FROM generate_series(1, :n)")

_CONFIG = text("SELECT text_search_config FROM collections WHERE id = :col")

# The totals, and the next lexical version with the document it changed (one round trip;
# lexical_index.RECORD_CHANGE keeps the last KEEP_CHANGES records).
_TOTALS = text(
    """
    WITH v AS (UPDATE collections SET chunk_count = chunk_count + :chunks,
                      total_terms = total_terms + :terms, lexical_version = lexical_version + 1
               WHERE id = :col RETURNING id, lexical_version)
    """ + RECORD_CHANGE
)

_DF_ADD = text(
    """
    INSERT INTO collection_terms (collection_id, term, df)
    SELECT :col, u.term, u.n
    FROM unnest(CAST(:terms AS text[]), CAST(:counts AS int[])) AS u(term, n)
    ORDER BY u.term
    ON CONFLICT (collection_id, term) DO UPDATE SET df = collection_terms.df + EXCLUDED.df
    """
)

CHUNK_COLUMNS = (
    "id", "document_id", "collection_id", "ordinal", "text", "page", "char_start", "char_end",
    "token_count", "embedding", "embedding_model", "source", "boxes", "lex_length", "granularity",
)  # fmt: skip
# The types the binary COPY sends CHUNK_COLUMNS as. The vector goes as `bytea`, i.e. its bytes
# as they are: Postgres reads every field of a binary COPY with its column type's own receive
# function, so pgvector's (which checks the dimension and that each value is finite, as its
# text input does) reads `Vector.to_binary()`.
CHUNK_TYPES = (
    "int8", "uuid", "uuid", "int4", "text", "int4", "int4", "int4",
    "int4", "bytea", "text", "text", "jsonb", "int4", "text",
)  # fmt: skip


@dataclass
class ChunkRow:
    """One chunk as the write receives it (the pipeline's draft plus its vector)."""

    ordinal: int
    text: str
    page: int | None
    char_start: int
    char_end: int
    token_count: int
    embedding: Sequence[float]
    source: str = "text"
    boxes: list[dict[str, Any]] | None = None
    # 'chunk', or a whole-document row (search/granularity.py): found by its vector alone,
    # so it gets no postings and does not count in the collection's BM25 statistics.
    granularity: str = "chunk"
    # The text its postings come from when it is not `text` (ingest/embedding_text.py
    # `lexical_text`: a later chunk with the document's title in front).
    lexical_text: str | None = None


def _vector_bytes(values: Sequence[float]) -> bytes:
    return Vector(list(values)).to_binary()


def write_chunks(
    session: Session,
    document_id: uuid.UUID,
    collection_id: uuid.UUID,
    rows: Sequence[ChunkRow],
    model: str,
) -> None:
    """Insert `rows` as the document's chunks with their postings, and add them to the
    collection's statistics. The document must have no chunks (drop them first)."""
    if not rows:
        return
    postings: list[tuple[int, str, int]] = []
    lengths = [0] * len(rows)
    config: str = session.execute(_CONFIG, {"col": collection_id}).scalar_one()
    indexed = [(r.lexical_text or r.text) if r.granularity == "chunk" else "" for r in rows]
    for found in session.execute(_LEXEMES, {"texts": indexed, "config": config}):
        i, tf = int(found.i), int(found.tf)
        postings.append((i, str(found.lexeme), tf))
        lengths[i] += tf
    ids: list[int] = list(session.execute(_IDS, {"n": len(rows)}).scalars())
    driver: Any = session.connection().connection.driver_connection  # psycopg.Connection
    columns = ", ".join(CHUNK_COLUMNS)
    with driver.cursor() as cursor, cursor.copy(
        f"COPY chunks ({columns}) FROM STDIN (FORMAT BINARY)"
    ) as copy:
        copy.set_types(CHUNK_TYPES)
        for chunk_id, row, length in zip(ids, rows, lengths, strict=True):
            copy.write_row((
                chunk_id, document_id, collection_id, row.ordinal, row.text, row.page,
                row.char_start, row.char_end, row.token_count, _vector_bytes(row.embedding),
                model, row.source, None if row.boxes is None else Jsonb(row.boxes), length,
                row.granularity,
            ))  # fmt: skip
    with driver.cursor() as cursor, cursor.copy(
        "COPY chunk_terms (chunk_id, term, collection_id, tf, lex_length) FROM STDIN"
    ) as copy:  # each posting carries its chunk's length: BM25 reads the postings alone
        for i, lexeme, tf in postings:
            copy.write_row((ids[i], lexeme, collection_id, tf, lengths[i]))
    # Only now the shared rows, collection first (the lock order of every writer), held
    # until the commit: concurrent writers of a collection queue here, and only here.
    session.execute(
        _TOTALS, {"col": collection_id, "terms": sum(lengths), "doc": document_id,
                  "chunks": sum(r.granularity == "chunk" for r in rows)}
    )
    df = Counter(lexeme for _, lexeme, _ in postings)  # a lexeme appears once per chunk
    terms = sorted(df)
    session.execute(
        _DF_ADD, {"col": collection_id, "terms": terms, "counts": [df[t] for t in terms]}
    )
