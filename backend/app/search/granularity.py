"""Several granularities: map hits on extra representations back to chunks.

Besides its chunks, a document may be indexed whole (a `chunks` row with granularity
'document', see ingest/chunker.py `extra_drafts`) with its own vector. Such rows have no
lexical postings (search/lexical_index.py indexes chunks only), so only dense retrieval
finds them. Before fusion the dense list is rewritten so that a non-chunk row becomes the
document's chunk nearest the query vector, carrying the better of the two scores. A
document's dense score is therefore the best evidence over its granularities, and every hit
still points to a chunk with its page and character range. Users never see non-chunk rows:
chunk lists, counts and labels skip them.
"""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from app.search import repository
from app.search.filters import SearchScope
from app.search.space_routing import SpaceQuery


def restrict_to_chunks(scope: SearchScope) -> None:
    """INDEX_GRANULARITY=chunk: the retrievers see chunk rows only, even where rows of
    another granularity were indexed before the setting changed. The scope still counts as
    unfiltered (`SearchScope.chunks_only`): a filter there made every search count its
    candidates first and read BM25 deeper."""
    scope.chunks_only = True


def to_chunks(
    session: Session,
    lists: dict[str, list[tuple[int, float]]],
    queries: list[SpaceQuery],
) -> dict[str, list[tuple[int, float]]]:
    """Each list with its non-chunk rows replaced by their document's best chunk (the best
    score kept when that chunk is already listed), best first. The nearest chunk is found
    in the space of the document's collection, with that space's query vector."""
    ids = list({cid for items in lists.values() for cid, _ in items})
    rows = repository.non_chunk_rows(session, ids)
    if not rows:
        return lists
    extra: dict[int, uuid.UUID] = {cid: doc for cid, (doc, _) in rows.items()}
    best: dict[uuid.UUID, int] = {}
    for q in queries:
        mine = set(q.collection_ids)
        docs = list({doc for doc, col in rows.values() if len(queries) == 1 or col in mine})
        if docs:
            best.update(repository.nearest_chunks(session, docs, q.vector.result(), q.source))
    out: dict[str, list[tuple[int, float]]] = {}
    for name, items in lists.items():
        merged: dict[int, float] = {}
        for cid, score in items:
            if cid in extra:
                target = best.get(extra[cid])
                if target is None:
                    continue  # the document lost its chunks meanwhile
                cid = target
            if cid not in merged or score > merged[cid]:
                merged[cid] = score
        out[name] = sorted(merged.items(), key=lambda kv: (-kv[1], kv[0]))
    return out
