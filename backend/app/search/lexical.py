"""Lexical retrieval: BM25 over the write-time index (search/lexical_index.py), in one query.

Scoring is Lucene's BM25 (8.0 and later):

    idf(t)      = ln(1 + (N - df(t) + 0.5) / (df(t) + 0.5))
    score(c, q) = sum over t in q of idf(t) * tf / (tf + k1 * (1 - b + b * len(c) / avgdl))

Query lexemes come from `to_tsvector(<collection's config>, query)` for each searched
collection, so the query is stemmed exactly as that collection's chunks were; collections
with different configurations each get their own lexemes. N, avgdl and df are summed over
the searched collections. The scope condition (collections, documents, filters, `ready`)
sits inside the query, so filters never truncate the result. A query whose words are all
stopwords has no lexemes and returns no hits.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from app.core.config import get_settings
from app.search.filters import SearchScope

_BM25 = """
WITH cols AS (
    SELECT id, text_search_config, chunk_count, total_terms FROM collections
    WHERE {collections}
),
stats AS (
    SELECT sum(chunk_count)::float8 AS n,
           GREATEST(sum(total_terms)::float8 / NULLIF(sum(chunk_count), 0), 1.0) AS avgdl
    FROM cols
),
q AS (
    SELECT DISTINCT cols.id AS collection_id, t.lexeme AS term
    FROM cols CROSS JOIN LATERAL unnest(to_tsvector(cols.text_search_config::regconfig,
                                                    CAST(:query AS text))) AS t
),
df AS (
    SELECT ct.term, sum(ct.df)::float8 AS df
    FROM collection_terms ct JOIN cols ON cols.id = ct.collection_id
    WHERE ct.term IN (SELECT term FROM q)
    GROUP BY ct.term
),
w AS (
    SELECT q.collection_id, q.term,
           ln(1.0 + (stats.n - df.df + 0.5) / (df.df + 0.5)) AS idf
    FROM q JOIN df ON df.term = q.term CROSS JOIN stats
)
SELECT c.id,
       sum(w.idf * p.tf / (p.tf + :k1 * (1.0 - :b + :b * c.lex_length / stats.avgdl))) AS score
FROM w
JOIN chunk_terms p ON p.collection_id = w.collection_id AND p.term = w.term
JOIN chunks c ON c.id = p.chunk_id
JOIN documents d ON d.id = c.document_id
CROSS JOIN stats
WHERE {scope}
GROUP BY c.id
ORDER BY score DESC, c.id
LIMIT :limit
"""


def lexical_search(
    session: Session,
    query: str,
    scope: SearchScope,
    limit: int,
    *,
    k1: float | None = None,
    b: float | None = None,
) -> list[tuple[int, float]]:
    """(chunk_id, BM25 score) best first, at most `limit`."""
    settings = get_settings()
    where, params = scope.sql()
    sql = _BM25.format(collections="id = ANY(:scope_collections)", scope=where)
    params = {
        **params,
        "query": query,
        "limit": limit,
        "k1": float(settings.bm25_k1 if k1 is None else k1),
        "b": float(settings.bm25_b if b is None else b),
    }
    rows: list[Any] = list(session.execute(text(sql), params))
    return [(int(r[0]), float(r[1])) for r in rows]
