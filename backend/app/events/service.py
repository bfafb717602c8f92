"""The events stream: tail documents.updated_at for the caller and yield what changed, and
the deletions of documents the caller could read (app/events/deletions.py).

One read-only query a second per open stream (no per-row polling by clients). The database
stamps updated_at with the start of the writing transaction, so each poll looks back
OVERLAP before the previous poll and drops states it has already sent.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

from app.auth.principal import Principal
from app.core.db import session_scope
from app.documents.models import Document
from app.events import deletions, repository

POLL_SECONDS = 1.0
OVERLAP = timedelta(seconds=30)

# Open streams, for tests and diagnostics: a stream leaves this set when its client goes.
ACTIVE: set[int] = set()
_ids = itertools.count()


def document_event(doc: Document) -> dict[str, Any]:
    return {
        "id": str(doc.id),
        "collection_id": str(doc.collection_id),
        "filename": doc.filename,
        "status": str(doc.status),
        "stage": doc.stage,
        "error_code": doc.error_code,
        "error": doc.error,
        "chunk_count": doc.chunk_count,
        "timings": doc.timings or {},
        "updated_at": doc.updated_at.isoformat(),
    }


def _start() -> datetime:
    with session_scope() as session:
        return repository.database_now(session)


def _poll(principal: Principal, since: datetime) -> tuple[datetime, list[dict[str, Any]]]:
    with session_scope() as session:
        now = repository.database_now(session)
        rows = repository.changed_since(session, principal, since - OVERLAP)
        return now, [document_event(doc) for doc in rows]


def _deleted(principal: Principal, since: float) -> list[dict[str, Any]]:
    """Deletions since `since` (wall clock, with the overlap) in collections the principal may
    read, each marked {"deleted": true}."""
    gone = deletions.since(since - OVERLAP.total_seconds())
    if not gone:
        return []
    with session_scope() as session:
        readable = repository.readable_collections(
            session, principal, {g["collection_id"] for g in gone})
    return [g | {"deleted": True} for g in gone if g["collection_id"] in readable]


async def stream(principal: Principal, poll_seconds: float = POLL_SECONDS,
                 ) -> AsyncIterator[dict[str, str]]:
    """SSE messages: `ready` once, then `document` per change and `deleted` ({"id",
    "collection_id", "deleted": true}) per deletion; ends when cancelled."""
    key = next(_ids)  # not id(task): a finished stream's id can be reused by a new one
    ACTIVE.add(key)
    sent: dict[str, str] = {}  # document id -> the last state sent
    try:
        since, wall = await asyncio.to_thread(_start), time.time()
        yield {"event": "ready", "data": json.dumps({"since": since.isoformat()})}
        while True:
            await asyncio.sleep(poll_seconds)
            polled = time.time()
            now, events = await asyncio.to_thread(_poll, principal, since)
            events += await asyncio.to_thread(_deleted, principal, wall)
            for event in events:
                state = json.dumps(event, sort_keys=True)
                if sent.get(event["id"]) == state:
                    continue
                sent[event["id"]] = state
                name = "deleted" if event.get("deleted") else "document"
                yield {"event": name, "id": event["id"], "data": state}
            since, wall = now, polled
            if len(sent) > 5000:  # keep memory bounded on a very busy library
                sent.clear()
    finally:
        ACTIVE.discard(key)
