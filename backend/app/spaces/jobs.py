"""The re-embedding job of one embedding space (Celery `spaces.reembed`, `maintenance` queue).

It embeds, in batches of SPACE_REEMBED_BATCH, the chunks of the collection that have no vector
in the space yet, each batch committed with the space's progress, so a job stopped anywhere
(killed worker, error, `stop_after_batches`) resumes where it was without duplicates (the
vectors' primary key is (space, chunk) and inserts skip what exists). Chunks written behind
its cursor meanwhile (new documents, re-ingests) are caught by a last pass from the start;
the ingest also writes them itself. When a pass finds nothing left, the space's HNSW index
is built and the space becomes `ready` (activatable). Any error marks it `failed` with the
reason; search meanwhile keeps answering from the active space, untouched.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func

from app.core.config import get_settings
from app.core.db import session_scope
from app.core.logging import get_logger
from app.spaces import repository
from app.spaces.models import SpaceStatus
from app.spaces.vectors import embed_chunks

log = get_logger(__name__)


def run(space_id: int, *, stop_after_batches: int | None = None) -> dict[str, Any]:
    try:
        return _run(space_id, stop_after_batches)
    except Exception as exc:  # the reason is kept on the space; the job is resumable
        log.warning("space_reembed_failed", space_id=space_id, error_type=type(exc).__name__,
                    error=str(exc)[:500])
        with session_scope() as session:
            space = repository.get(session, space_id, lock=True)
            if space is not None and space.status != SpaceStatus.ready.value:
                space.status = SpaceStatus.failed.value
                space.error = f"{type(exc).__name__}: {exc}"[:2000]
        return {"space_id": space_id, "status": "failed"}


def _run(space_id: int, stop_after_batches: int | None) -> dict[str, Any]:
    batch = get_settings().space_reembed_batch
    with session_scope() as session:
        space = repository.get(session, space_id, lock=True)
        if space is None:
            return {"space_id": space_id, "status": "gone"}
        if space.status == SpaceStatus.ready.value:
            return {"space_id": space_id, "status": "ready"}
        space.status = SpaceStatus.building.value
        space.error = None
        space.total = repository.chunk_count(session, space.collection_id)
        session.flush()
        session.expunge(space)  # read after the commit: id, collection and model only
    after, batches, restarted = 0, 0, False
    while True:
        with session_scope() as session:
            chunks = repository.missing_chunks(session, space, after, batch)
        if not chunks:
            if (after == 0 or restarted) and _finish(space_id):
                return {"space_id": space_id, "status": "ready", "batches": batches}
            after, restarted = 0, True  # a last pass from the start
            continue
        restarted = False
        vectors = embed_chunks(space, chunks)
        with session_scope() as session:
            current = repository.get(session, space_id, lock=True)
            if current is None:
                return {"space_id": space_id, "status": "gone"}  # dropped meanwhile
            repository.insert_vectors(session, space_id, vectors)
            session.flush()
            current.embedded = repository.vector_count(session, space_id)
            current.total = repository.chunk_count(session, space.collection_id)
            current.updated_at = func.now()
        after = chunks[-1].id
        batches += 1
        if stop_after_batches is not None and batches >= stop_after_batches:
            return {"space_id": space_id, "status": "stopped", "batches": batches}


def _finish(space_id: int) -> bool:
    """Build the index and mark the space ready, unless chunks arrived meanwhile."""
    with session_scope() as session:
        space = repository.get(session, space_id, lock=True)
        if space is None:
            return True
        if repository.missing_count(session, space) > 0:
            return False
        repository.create_index(session, space)
        space.status = SpaceStatus.ready.value
        space.embedded = repository.vector_count(session, space_id)
        space.total = repository.chunk_count(session, space.collection_id)
        space.finished_at = func.now()
    log.info("space_ready", space_id=space_id)
    return True
