"""Search: resolve the scope, run the retriever, hydrate hits with their sources."""

from __future__ import annotations

import time
import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.collections import service as collections
from app.collections.models import Collection
from app.documents.models import Chunk, Document
from app.providers.embeddings import get_embedder
from app.search.dense import dense_search
from app.search.filters import SearchScope
from app.search.schemas import SearchHit, SearchRequest, SearchResponse


def build_scope(session: Session, request: SearchRequest) -> SearchScope:
    scope = SearchScope()
    if request.collection is not None:
        scope.collection_ids = [collections.get_by_name(session, request.collection).id]
    if request.document_ids is not None:
        scope.document_ids = list(request.document_ids)
    return scope


def search(session: Session, request: SearchRequest) -> SearchResponse:
    start = time.perf_counter()
    scope = build_scope(session, request)
    vector = get_embedder().embed_query(request.query)
    ranked = dense_search(session, vector, scope, request.k)
    hits = hydrate(session, ranked)
    return SearchResponse(
        query=request.query, results=hits, took_ms=round((time.perf_counter() - start) * 1000, 1)
    )


def hydrate(session: Session, ranked: list[tuple[int, float]]) -> list[SearchHit]:
    if not ranked:
        return []
    ids = [cid for cid, _ in ranked]
    rows = session.execute(
        select(Chunk, Document.filename, Collection.name)
        .join(Document, Document.id == Chunk.document_id)
        .join(Collection, Collection.id == Chunk.collection_id)
        .where(Chunk.id.in_(ids))
    ).all()
    by_id: dict[int, tuple[Chunk, str, str]] = {c.id: (c, fn, col) for c, fn, col in rows}
    hits = []
    for cid, score in ranked:
        if cid not in by_id:
            continue  # deleted between ranking and hydration
        chunk, filename, collection = by_id[cid]
        hits.append(
            SearchHit(
                chunk_id=cid,
                document_id=chunk.document_id,
                filename=filename,
                collection=collection,
                page=chunk.page,
                ordinal=chunk.ordinal,
                char_start=chunk.char_start,
                char_end=chunk.char_end,
                text=chunk.text,
                score=score,
            )
        )
    return hits


def document_ids_of(hits: list[SearchHit]) -> list[uuid.UUID]:
    return [h.document_id for h in hits]
