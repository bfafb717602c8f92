"""The events stream: tail documents.updated_at for the caller and yield what changed.

One read-only query a second per open stream (no per-row polling by clients). The database
stamps updated_at with the start of the writing transaction, so each poll looks back
OVERLAP before the previous poll and drops states it has already sent.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

from app.auth.principal import Principal
from app.core.db import session_scope
from app.documents.models import Document
from app.events import repository

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


async def stream(principal: Principal, poll_seconds: float = POLL_SECONDS,
                 ) -> AsyncIterator[dict[str, str]]:
    """SSE messages: `ready` once, then `document` per change; ends when cancelled."""
    key = next(_ids)  # not id(task): a finished stream's id can be reused by a new one
    ACTIVE.add(key)
    sent: dict[str, str] = {}  # document id -> the last state sent
    try:
        since = await asyncio.to_thread(_start)
        yield {"event": "ready", "data": json.dumps({"since": since.isoformat()})}
        while True:
            await asyncio.sleep(poll_seconds)
            now, events = await asyncio.to_thread(_poll, principal, since)
            for event in events:
                state = json.dumps(event, sort_keys=True)
                if sent.get(event["id"]) == state:
                    continue
                sent[event["id"]] = state
                yield {"event": "document", "id": event["id"], "data": state}
            since = now
            if len(sent) > 5000:  # keep memory bounded on a very busy library
                sent.clear()
    finally:
        ACTIVE.discard(key)
