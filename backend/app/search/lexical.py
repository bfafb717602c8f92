"""Lexical retrieval: BM25 over the write-time index (search/lexical_index.py).

Scoring is Lucene's BM25 (8.0 and later):

    idf(t)      = ln(1 + (N - df(t) + 0.5) / (df(t) + 0.5))
    score(c, q) = sum over t in q of idf(t) * tf / (tf + k1 * (1 - b + b * len(c) / avgdl))

Query lexemes come from `to_tsvector(<collection's config>, query)` for each searched
collection, so the query is stemmed exactly as that collection's chunks were; collections
with different configurations each get their own lexemes. N, avgdl and df are summed over
the searched collections. A query whose words are all stopwords has no lexemes and returns
no hits.

Index-only scoring: each posting carries its chunk's length (migration 0017), so the scores
come from the postings' covering index alone (no chunk or document row read per posting).
The best `depth` chunks of the searched collections are scored, then the scope condition
(documents, filters, `ready`) is checked on those candidates only. The visible candidates are
the head of the scope's ranking, so the answer is taken when at least `limit` are visible or
every matching chunk was a candidate; otherwise the depth grows (2x, 16x, 128x the limit
unfiltered; 8x, 128x filtered) and then the exact one-query BM25 runs (`_BM25_EXACT`, the
scope inside the query). Filters never truncate the result. A document-id scope runs the
exact query at once (it is narrow).

Per-term cut (BM25_TERM_POSTINGS, off by default): the postings index keeps each term's
postings best impact first (models.POSTING_IMPACT, migration 0018); with a cut N > 0 the
candidates read at most max(N, depth) postings of each term, so a term in most of a large
collection's chunks costs what a rare one does. A term with no more postings than that is
read whole; a chunk whose posting of a commoner term was cut loses that term's part of its
score, so the ranking is BM25's up to those lost contributions. Measured at 100k synthetic
chunks (`make bench-bm25-cut`): N = 4,000 keeps 0.81 of exact BM25's top 10 at 0.59 of its
mean time, N = 2,000 0.67 at 0.42, so the default (0) reads every posting: exact BM25.
The cut is at least the depth, so a cut term alone fills the depth and "fewer candidates than
the depth" still means every matching chunk was scored.

Top chunks from tantivy (LEXICAL_ENGINE=tantivy, the default): each attempt's best `depth`
chunks come from the searched collections' tantivy copies (search/tantivy_index.py: the same
lexemes, Postgres' idf over the searched collections, tantivy's BM25 with block-max WAND,
which skips postings that cannot reach the top; several collections' lists merged) when
every copy holds its collection's current lexical version; the scope is then checked on
those chunks (`_VISIBLE`) exactly as on SQL's candidates. A copy that is behind, a
document-id scope and the exact fallback use the SQL below.

Long queries (the cost of BM25 grows with the postings of every query term) are bounded by
`select_terms`, in this order:
1. terms no searched chunk contains are dropped (they cannot score);
2. terms with idf below QUERY_MIN_IDF (in nearly every chunk) are dropped, unless that
   would drop every term, in which case the single highest-idf term stays;
3. at most QUERY_MAX_TERMS distinct terms are kept, highest idf first (ties by term);
4. a postings budget: the BUDGET_FREE_TERMS (8) rarest kept terms always stay; each further
   term (highest idf first) stays only while the kept terms' postings (their document
   frequencies summed over the searched collections) stay within QUERY_MAX_POSTINGS; the
   first term past the budget and every term after it are dropped. A term's postings are
   what BM25 reads for it, so this bounds a long query's cost whatever the collection's
   size, and the terms it drops are the commonest ones, whose idf adds least to any score.
BM25 is then computed over the kept terms (with the per-term cut above). A query with few
distinct terms (any ordinary query) loses only step 2's near-universal terms, which add
almost nothing to any score; one of at most 8 distinct terms is never cut by step 4.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from app.core.config import get_settings
from app.search import lexical_sync
from app.search.filters import SearchScope
from app.search.models import POSTING_IMPACT

_TERMS = """
WITH cols AS (
    SELECT id, text_search_config, chunk_count, total_terms, lexical_version FROM collections
    WHERE id = ANY(:scope_collections)
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
)
SELECT q.collection_id, q.term, ln(1.0 + (stats.n - df.df + 0.5) / (df.df + 0.5)) AS idf,
       stats.avgdl, df.df, cols.lexical_version
FROM q JOIN df ON df.term = q.term CROSS JOIN stats JOIN cols ON cols.id = q.collection_id
"""

# Today's one-query BM25 with the scope inside it: every posting joins its chunk and document.
# Exact for any scope; used for document-id scopes and when the candidates below run out.
_BM25_EXACT = """
WITH w AS (
    SELECT * FROM unnest(CAST(:w_collections AS uuid[]), CAST(:w_terms AS text[]),
                         CAST(:w_idfs AS float8[])) AS w(collection_id, term, idf)
)
SELECT c.id,
       sum(w.idf * p.tf / (p.tf + :norm_base + :norm_per_term * c.lex_length)) AS score
FROM w
JOIN chunk_terms p ON p.collection_id = w.collection_id AND p.term = w.term
JOIN chunks c ON c.id = p.chunk_id
JOIN documents d ON d.id = c.document_id
WHERE {scope}
GROUP BY c.id
ORDER BY score DESC, c.id
LIMIT :limit
"""

# Index-only: the same sum from the postings' covering index (0017), each term's postings
# best impact first and at most :term_postings of them (NULL: all; 0018), the best :depth
# chunks of the searched collections, then the scope checked on those candidates alone.
# Every candidate comes back with whether the scope admits it.
_BM25_CANDIDATES = """
WITH w AS (
    SELECT * FROM unnest(CAST(:w_collections AS uuid[]), CAST(:w_terms AS text[]),
                         CAST(:w_idfs AS float8[])) AS w(collection_id, term, idf)
),
s AS (
    SELECT p.chunk_id,
           sum(w.idf * p.tf / (p.tf + :norm_base + :norm_per_term * p.lex_length)) AS score
    FROM w
    CROSS JOIN LATERAL (
        SELECT chunk_id, tf, lex_length FROM chunk_terms
        WHERE collection_id = w.collection_id AND term = w.term
        ORDER BY {impact} DESC
        LIMIT :term_postings
    ) p
    GROUP BY p.chunk_id
    ORDER BY score DESC, p.chunk_id
    LIMIT :depth
)
SELECT s.chunk_id, s.score, COALESCE(({scope}), false) AS visible
FROM s
LEFT JOIN chunks c ON c.id = s.chunk_id
LEFT JOIN documents d ON d.id = c.document_id
ORDER BY s.score DESC, s.chunk_id
"""

# Which of a tantivy copy's candidates the scope admits (search/tantivy_index.py).
_VISIBLE = """
SELECT c.id, COALESCE(({scope}), false) AS visible
FROM chunks c JOIN documents d ON d.id = c.document_id
WHERE c.id = ANY(CAST(:ids AS bigint[]))
"""

# Candidate depth per attempt, as multiples of the limit: an unfiltered scope hides only
# chunks of documents that are not ready (a reingest in progress), a filtered one may hide
# most; past the last attempt the exact query runs.
_DEPTHS_UNFILTERED = (2, 16, 128)
_DEPTHS_FILTERED = (8, 128)


# Step 4 of the rule: the rarest terms a query keeps whatever their postings cost.
BUDGET_FREE_TERMS = 8


@dataclass(frozen=True)
class QueryTerm:
    collection_id: uuid.UUID
    term: str  # a lexeme of that collection's text search configuration
    idf: float
    df: float = 0.0  # chunks containing the lexeme over the searched collections: its postings


@dataclass
class QueryTerms:
    terms: list[QueryTerm]  # the kept terms (every searched collection's lexemes)
    avgdl: float
    dropped: int = 0  # distinct lexemes left out by select_terms
    # each searched collection's lexical version, when the query matched any of its terms
    versions: dict[uuid.UUID, int] = field(default_factory=dict)

    def lexemes(self) -> list[str]:
        return list(dict.fromkeys(t.term for t in self.terms))


def select_terms(
    terms: list[QueryTerm], max_terms: int, min_idf: float, max_postings: int | None = None
) -> list[QueryTerm]:
    """The rule in the module docstring (steps 2 to 4); pure, so it is unit-tested."""
    idf: dict[str, float] = {}
    df: dict[str, float] = {}
    for t in terms:
        idf[t.term] = max(idf.get(t.term, t.idf), t.idf)
        df[t.term] = max(df.get(t.term, t.df), t.df)
    ranked = sorted(idf, key=lambda term: (-idf[term], term))
    kept = ([term for term in ranked if idf[term] >= min_idf] or ranked[:1])[: max(1, max_terms)]
    if max_postings is not None and len(kept) > BUDGET_FREE_TERMS:
        postings = sum(df[term] for term in kept[:BUDGET_FREE_TERMS])
        budgeted = kept[:BUDGET_FREE_TERMS]
        for term in kept[BUDGET_FREE_TERMS:]:
            postings += df[term]
            if postings > max_postings:
                break
            budgeted.append(term)
        kept = budgeted
    keep = set(kept)
    return [t for t in terms if t.term in keep]


def query_terms(session: Session, query: str, scope: SearchScope) -> QueryTerms:
    """The query's lexemes with their idf over the searched collections, capped."""
    settings = get_settings()
    rows: list[Any] = list(
        session.execute(
            text(_TERMS), {"scope_collections": list(scope.collection_ids), "query": query}
        )
    )
    found = [QueryTerm(r[0], str(r[1]), float(r[2]), float(r[4])) for r in rows]
    kept = select_terms(found, settings.query_max_terms, settings.query_min_idf,
                        settings.query_max_postings)  # fmt: skip
    avgdl = float(rows[0][3]) if rows else 1.0
    dropped = len({t.term for t in found}) - len({t.term for t in kept})
    return QueryTerms(kept, avgdl, dropped, {r[0]: int(r[5]) for r in rows})


def lexical_search(
    session: Session,
    query: str,
    scope: SearchScope,
    limit: int,
    *,
    k1: float | None = None,
    b: float | None = None,
    terms: QueryTerms | None = None,
    term_postings: int | None = None,
) -> list[tuple[int, float]]:
    """(chunk_id, BM25 score) best first, at most `limit`. `term_postings`: the per-term cut
    (None: BM25_TERM_POSTINGS; 0: none, exact BM25)."""
    if terms is None:
        terms = query_terms(session, query, scope)
    if not terms.terms:
        return []
    where, params = bm25_params(terms, scope, limit, k1, b)
    if scope.document_ids is None:  # a document-id scope is narrow: the exact query is cheap
        depths = _DEPTHS_UNFILTERED if scope.collections_only() else _DEPTHS_FILTERED
        if term_postings is None:
            term_postings = get_settings().bm25_term_postings
        for factor in depths:
            depth = max(limit, 1) * factor
            hits = _copy_hits(terms, scope, depth)
            if hits is not None:  # the collection's tantivy copy, current: its top `depth`
                found = _visible(session, where, params, hits, depth)
            else:
                # at least `depth`: a term that was cut then alone gives `depth` candidates,
                # so "fewer candidates than the depth" still means every matching chunk was
                # scored
                cap = max(term_postings, depth) if term_postings > 0 else None
                found = _candidates(session, where, {**params, "term_postings": cap}, depth)
            if found is not None:
                return found[:limit]
    rows: list[Any] = list(session.execute(text(_BM25_EXACT.format(scope=where)), params))
    return [(int(r[0]), float(r[1])) for r in rows]


def bm25_params(
    terms: QueryTerms, scope: SearchScope, limit: int, k1: float | None, b: float | None
) -> tuple[str, dict[str, Any]]:
    """The scope's condition and every parameter of both BM25 queries."""
    settings = get_settings()
    where, params = scope.sql()
    k1 = float(settings.bm25_k1 if k1 is None else k1)
    b = float(settings.bm25_b if b is None else b)
    # k1 * (1 - b + b * len / avgdl) as norm_base + norm_per_term * len: the constants are
    # folded here, once, not per posting (7 % of the SQL's time on 100k chunks' postings)
    return where, {
        **params,
        "w_collections": [t.collection_id for t in terms.terms],
        "w_terms": [t.term for t in terms.terms],
        "w_idfs": [t.idf for t in terms.terms],
        "limit": limit,
        "norm_base": k1 * (1.0 - b),
        "norm_per_term": k1 * b / terms.avgdl,
    }


def _copy_hits(terms: QueryTerms, scope: SearchScope, depth: int) -> list[tuple[int, float]] | None:
    """The best `depth` chunks from the searched collections' tantivy copies
    (LEXICAL_ENGINE=tantivy): each copy's best `depth` with the idf Postgres computed over all
    of them, merged. None: another engine, or a copy not at its collection's version."""
    if get_settings().lexical_engine != "tantivy":
        return None
    hits: list[tuple[int, float]] = []
    for collection_id, version in terms.versions.items():
        idfs = {t.term: t.idf for t in terms.terms if t.collection_id == collection_id}
        if not idfs:
            continue  # its matching terms were all dropped (select_terms): nothing to score
        found = lexical_sync.search(collection_id, version, idfs, depth)
        if found is None:
            return None
        hits.extend(found)
    hits.sort(key=lambda hit: (-hit[1], hit[0]))
    return hits[:depth]


def _visible(
    session: Session, where: str, params: dict[str, Any], hits: list[tuple[int, float]], depth: int
) -> list[tuple[int, float]] | None:
    """The scope's chunks among `hits` (a copy's best `depth`, best first), or None when
    they may not be its best `limit`, as `_candidates` decides."""
    query = text(_VISIBLE.format(scope=where))
    found = {
        int(r[0]) for r in session.execute(query, {**params, "ids": [c for c, _ in hits]}) if r[1]
    }
    visible = [(chunk_id, score) for chunk_id, score in hits if chunk_id in found]
    if len(visible) >= params["limit"] or len(hits) < depth:
        return visible
    return None


def _candidates(
    session: Session, where: str, params: dict[str, Any], depth: int
) -> list[tuple[int, float]] | None:
    """The visible chunks among the best `depth` by BM25, best first; None when they may not
    be the scope's best `limit` (fewer than `limit` visible while more chunks scored)."""
    query = text(_BM25_CANDIDATES.format(scope=where, impact=POSTING_IMPACT))
    rows: list[Any] = list(session.execute(query, {**params, "depth": depth}))
    visible = [(int(r[0]), float(r[1])) for r in rows if r[2]]
    if len(visible) >= params["limit"] or len(rows) < depth:
        return visible
    return None
