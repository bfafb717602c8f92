"""A small in-process cache whose entries expire after a time to live, cleared at once by the
process that changes what it caches (other processes see the change within the TTL).

Used for the authenticated principals (app/auth/principal_cache.py) and the collections'
active embedding spaces (app/spaces/active_cache.py). Thread-safe; bounded (a flood of
distinct keys clears it rather than growing it).
"""

from __future__ import annotations

import threading
import time
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class TTLCache(Generic[K, V]):
    def __init__(self, max_entries: int = 10_000) -> None:
        self._max_entries = max_entries
        self._lock = threading.Lock()
        self._entries: dict[K, tuple[V, float]] = {}  # key -> (value, monotonic expiry)

    def get(self, key: K) -> V | None:
        """The value of a live entry, or None (never put, expired, or cleared)."""
        with self._lock:
            found = self._entries.get(key)
            if found is None:
                return None
            if found[1] <= time.monotonic():
                del self._entries[key]
                return None
            return found[0]

    def put(self, key: K, value: V, ttl_s: float) -> None:
        """Keep the value for ttl_s seconds (nothing is kept when ttl_s <= 0)."""
        if ttl_s <= 0:
            return
        with self._lock:
            if len(self._entries) >= self._max_entries:
                self._entries.clear()
            self._entries[key] = (value, time.monotonic() + ttl_s)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
