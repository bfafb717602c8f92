"""Deleted documents for the events stream. The events stream tails documents.updated_at, but a
deleted row is gone: the delete records (document id, collection id) with the time in a Redis
sorted set that each open stream reads on its poll, for the readers of that collection.

Best effort: when Redis does not answer the delete still succeeds (it is logged), and the
client sees the document gone at its next list refresh (every stream (re)start refreshes).
Entries older than KEEP_SECONDS are trimmed on each write.
"""

from __future__ import annotations

import json
import time
import uuid
from functools import lru_cache
from typing import Any

import redis

from app.core.config import get_settings
from app.core.logging import get_logger

KEY = "cairn:events:deleted"
KEEP_SECONDS = 3600
log = get_logger(__name__)


@lru_cache(maxsize=4)
def _client(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)


def record(document_id: uuid.UUID, collection_id: uuid.UUID) -> None:
    """Note that `document_id` (of `collection_id`) was deleted, now."""
    now = time.time()
    entry = json.dumps({"id": str(document_id), "collection_id": str(collection_id)})
    try:
        client = _client(get_settings().redis_url)
        client.zadd(KEY, {entry: now})
        client.zremrangebyscore(KEY, "-inf", now - KEEP_SECONDS)
    except redis.RedisError as exc:
        log.warning("events.deleted_not_recorded", document_id=str(document_id), error=str(exc))


def since(moment: float) -> list[dict[str, Any]]:
    """Deletions recorded at or after `moment` (time.time()), oldest first; [] when Redis does
    not answer (the stream goes on)."""
    try:
        raw = _client(get_settings().redis_url).zrangebyscore(KEY, moment, "+inf")
    except redis.RedisError:
        return []
    return [json.loads(item) for item in raw if isinstance(item, (bytes, str))]
