"""Dense retrieval on pgvector (cosine).

When few chunks match the filters the scan is exact (perfect recall, and no HNSW
post-filtering that could return fewer than k rows); otherwise the HNSW index runs with a
high ef_search. HNSW applies the filter after its graph walk, so a selective filter can
leave it short; whenever it returns fewer rows than min(limit, matching chunks), the search
runs again exactly. Filters therefore never truncate the result below what exists.

ef_search grows with the searched chunks (`ef_search_for`): HNSW_EF_SEARCH up to
EF_SEARCH_REFERENCE_CHUNKS (100k), in proportion beyond, up to pgvector's 1,000. A fixed
value loses recall as the graph grows: on bench-hnsw's 1M clustered chunks, recall@10 was
0.72 at 200 and 0.90 at 1,000 for +7 ms (README, Performance → Queries), while 200 already
gives 0.996 at 100k.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from app.core.config import get_settings
from app.search.filters import SearchScope

_BOUND = "SELECT COALESCE(sum(chunk_count), 0) FROM collections WHERE id = ANY(:ids)"
# HNSW_EF_SEARCH holds up to this many searched chunks; beyond, ef_search grows in proportion.
EF_SEARCH_REFERENCE_CHUNKS = 100_000
EF_SEARCH_MAX = 1000  # pgvector's upper limit for hnsw.ef_search


def ef_search_for(chunks: int, configured: int, limit: int) -> int:
    """hnsw.ef_search for a search over `chunks` chunks returning `limit`: the configured
    value (at least `limit`, which HNSW needs to return that many), scaled up past
    EF_SEARCH_REFERENCE_CHUNKS, never above EF_SEARCH_MAX."""
    scaled = configured * chunks // EF_SEARCH_REFERENCE_CHUNKS
    return min(max(int(configured), int(limit), scaled), EF_SEARCH_MAX)


@dataclass(frozen=True)
class VectorSource:
    """Which vectors a dense search compares (app/spaces): the default space, chunks.embedding
    with its HNSW index (space_id None), or an extra space's rows of space_vectors cast to its
    dimension, which its partial HNSW index matches. The query vector must be the space's."""

    space_id: int | None = None
    dim: int = 0

    @property
    def tables(self) -> str:
        if self.space_id is None:
            return "chunks c JOIN documents d ON d.id = c.document_id"
        return ("space_vectors v JOIN chunks c ON c.id = v.chunk_id "
                f"JOIN documents d ON d.id = c.document_id AND v.space_id = {int(self.space_id)}")

    @property
    def column(self) -> str:
        return "c.embedding" if self.space_id is None else f"(v.embedding::vector({self.dim}))"

    @property
    def query(self) -> str:
        if self.space_id is None:
            return "CAST(:qv AS vector)"
        return f"CAST(:qv AS vector({self.dim}))"


DEFAULT_SOURCE = VectorSource()


def dense_search(
    session: Session, query_vector: list[float], scope: SearchScope, limit: int,
    source: VectorSource = DEFAULT_SOURCE,
) -> list[tuple[int, float]]:
    """(chunk_id, cosine similarity) best first."""
    if source.space_id is not None and len(query_vector) != source.dim:
        raise ValueError("the query vector is not of the searched space's model")
    settings = get_settings()
    where, params = scope.sql()
    params = {**params, "qv": _vec(query_vector), "limit": limit}
    # The searched collections' chunk counts (kept by the lexical index) bound the candidates
    # from above: when even that bound is small, scan exactly without counting first; with
    # no filter it is the count (a chunk of a document not ready is the rare exception, and
    # a short HNSW answer still falls back to the exact scan below).
    bound: int = session.execute(text(_BOUND), {"ids": list(scope.collection_ids)}).scalar_one()
    if bound <= settings.exact_search_max_chunks:
        return _exact(session, where, params, source)
    if scope.collections_only():
        candidates = bound  # whole collections: the bound is the count, no count query
    else:
        count = f"SELECT count(*) FROM {source.tables} WHERE {where}"
        candidates = session.execute(text(count), params).scalar_one()
    if candidates == 0:
        return []
    if candidates > settings.exact_search_max_chunks:
        ef_search = ef_search_for(bound, settings.hnsw_ef_search, limit)
        rows = _hnsw(session, where, params, limit, ef_search, source)
        if len(rows) >= min(limit, candidates):
            return rows
    return _exact(session, where, params, source)


def _exact(
    session: Session, where: str, params: dict[str, Any],
    source: VectorSource = DEFAULT_SOURCE,
) -> list[tuple[int, float]]:
    # Ordering by the similarity (not by the distance operator) keeps the planner from using
    # the HNSW index: an exact scan, each vector read and compared once (a MATERIALIZED CTE
    # copied every vector first and computed each distance twice: 1.7x slower at 10k chunks).
    sql = f"""
        SELECT c.id, 1 - ({source.column} <=> {source.query}) AS score
        FROM {source.tables}
        WHERE {where}
        ORDER BY score DESC, c.id LIMIT :limit"""
    return _rows(session, sql, params)


def _hnsw(
    session: Session, where: str, params: dict[str, Any], limit: int, ef_search: int,
    source: VectorSource = DEFAULT_SOURCE,
) -> list[tuple[int, float]]:
    # ef_search_for has kept it within [limit, EF_SEARCH_MAX]: one rule, applied once
    session.execute(text(f"SET LOCAL hnsw.ef_search = {int(ef_search)}"))
    sql = f"""
        SELECT c.id, 1 - ({source.column} <=> {source.query}) AS score
        FROM {source.tables}
        WHERE {where}
        ORDER BY {source.column} <=> {source.query} LIMIT :limit"""
    return _rows(session, sql, params)


def _rows(session: Session, sql: str, params: dict[str, Any]) -> list[tuple[int, float]]:
    rows: list[Any] = list(session.execute(text(sql), params))
    return [(int(r[0]), float(r[1])) for r in rows]


def _vec(v: list[float]) -> str:
    return "[" + ",".join(f"{x:.7g}" for x in v) + "]"
