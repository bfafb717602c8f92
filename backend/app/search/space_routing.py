"""Dense retrieval per embedding space (app/spaces).

Each searched collection answers from its active space. The query is embedded once per space
by that space's own embedder (providers factory, one per spec) and compared only with that
space's vectors: a `SpaceQuery` carries the vector together with the `VectorSource` it was
made for and the collections on that space, and dense.py refuses a vector of another
dimension. When the collections are on different spaces, dense runs once per space and the
lists are merged by score. Collections that never switched stay on the default source, so
their query is today's (chunks.embedding, its HNSW index, no extra join).

Hybrid search starts its dense side ahead (`DenseAhead`): a thread waits for the query's
embedding and runs the dense SQL on a connection of its own while the request's thread runs
BM25, so the two retrievers' SQL overlap instead of running one after the other.
"""

from __future__ import annotations

import os
import threading
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from contextvars import copy_context
from dataclasses import dataclass, replace

from sqlalchemy.orm import Session

from app.core.db import get_sessionmaker
from app.core.timing import stage
from app.providers.embeddings import EmbedderSpec, default_spec, get_embedder_for
from app.search.dense import DEFAULT_SOURCE, VectorSource, dense_search
from app.search.filters import SearchScope
from app.search.schemas import SearchRequest
from app.spaces import active_cache

_EMBED_POOL = ThreadPoolExecutor(max_workers=4, thread_name_prefix="query-embed")
# Its own pool: a dense task waits for an embedding task, so they must not share workers.
_DENSE_POOL = ThreadPoolExecutor(max_workers=8, thread_name_prefix="query-dense")
# Dense SQL ahead of BM25 pays only while cores are idle: at most one search per two cores
# runs it in a thread; the others run it inline (4 clients on 2 cores: 10 % fewer queries/s
# with a thread for every search).
_SLOTS = threading.BoundedSemaphore(max(1, (os.cpu_count() or 2) // 2))


@dataclass(frozen=True)
class SpaceQuery:
    source: VectorSource
    collection_ids: list[uuid.UUID]
    vector: Future[list[float]]


def embed_async(
    session: Session, request: SearchRequest, scope: SearchScope
) -> list[SpaceQuery] | None:
    """The query embedded for each active space of the scope's collections, in worker threads
    (ONNX runs without the GIL) so the lexical SQL runs meanwhile; None when the mode needs
    no vector. The active spaces come from the in-process cache (spaces/active_cache.py)."""
    if request.mode not in ("hybrid", "vector"):
        return None
    groups: dict[tuple[EmbedderSpec, VectorSource], list[uuid.UUID]] = {}
    for collection_id, space in active_cache.active_spaces(session, scope.collection_ids):
        if space is None:
            key = (default_spec(), DEFAULT_SOURCE)
        else:
            key = (EmbedderSpec(space.provider, space.model, space.dim),
                   VectorSource(space.space_id, space.dim))
        groups.setdefault(key, []).append(collection_id)
    if not groups:
        groups[(default_spec(), DEFAULT_SOURCE)] = []
    return [
        SpaceQuery(source, ids, _EMBED_POOL.submit(copy_context().run, _embed, spec,
                                                   request.query))
        for (spec, source), ids in groups.items()
    ]


def _embed(spec: EmbedderSpec, query: str) -> list[float]:
    with stage("search_embed"):
        return get_embedder_for(spec).embed_query(query)


def dense(
    session: Session, queries: list[SpaceQuery], scope: SearchScope, limit: int
) -> list[tuple[int, float]]:
    """(chunk_id, cosine similarity) best first, each collection searched in its own space."""
    if len(queries) == 1:
        q = queries[0]
        return dense_search(session, q.vector.result(), scope, limit, q.source)
    merged: list[tuple[int, float]] = []
    for q in queries:
        part = replace(scope, collection_ids=q.collection_ids)
        merged += dense_search(session, q.vector.result(), part, limit, q.source)
    merged.sort(key=lambda item: (-item[1], item[0]))
    return merged[:limit]


class DenseAhead:
    """`dense(...)` started in a thread of its own, beside the caller's lexical SQL.

    The thread waits for the embedding, takes a connection of its own from the pool and only
    then claims the work. `result` takes the thread's list when it has claimed it, and
    otherwise claims the work back and runs it on the caller's session, at once: the caller
    never waits for a pool connection (two requests' threads holding one connection each and
    waiting for a second could otherwise stall each other), and a short lexical step loses
    nothing (the dense SQL runs after it, as it would without the thread). Its transaction
    is its own and read-only; a document deleted between the two snapshots is dropped at
    hydration as it is today. With every slot taken (`_SLOTS`: the cores are busy with other
    searches) no thread starts and `result` runs dense inline.
    """

    def __init__(
        self, queries: list[SpaceQuery], scope: SearchScope, limit: int
    ) -> None:  # fmt: skip
        self.queries, self.scope, self.limit = queries, scope, limit
        self._lock = threading.Lock()
        self._owner = ""  # "", then "thread" or "caller": whoever claims the work first
        self._future: Future[list[tuple[int, float]] | None] | None = None
        if _SLOTS.acquire(blocking=False):
            self._future = _DENSE_POOL.submit(copy_context().run, self._run)
        else:
            self._owner = "caller"

    def _claim(self, who: str) -> bool:
        with self._lock:
            if not self._owner:
                self._owner = who
            return self._owner == who

    def _run(self) -> list[tuple[int, float]] | None:
        try:
            for q in self.queries:
                q.vector.result()
            if self._owner:  # the caller took it back already: take no connection
                return None
            with get_sessionmaker()() as session:  # read-only: closing it ends the transaction
                session.connection()  # the pool's connection, before claiming the work
                if not self._claim("thread"):
                    return None
                with stage("search_dense_ahead"):
                    return dense(session, self.queries, self.scope, self.limit)
        finally:
            _SLOTS.release()

    @property
    def ran_ahead(self) -> bool:
        return self._owner == "thread"

    def result(self, session: Session) -> list[tuple[int, float]]:
        if self._claim("caller") or self._future is None:
            return dense(session, self.queries, self.scope, self.limit)
        found = self._future.result()
        assert found is not None  # the thread claimed the work, so it returns its list
        return found
