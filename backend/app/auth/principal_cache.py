"""A short-lived, in-process cache of authenticated principals, keyed by the credential's
SHA-256 (the credential itself is never kept).

The request guard authenticates every protected request; without this each one costs a
database session and one or two lookups (the API key and its user, or the token's user).
An entry lives at most AUTH_CACHE_TTL_S seconds (0 turns the cache off) and never past an
access token's own expiry. Anything that can take access away clears the whole cache of the
process that did it at once, after its commit: revoking an API key, (de)activating or
re-roling a user, locking the local user (app.auth.service calls `forget_all`). Other API
processes see the change within AUTH_CACHE_TTL_S. While an entry is cached the key's
last_used_at is not touched (it is again on the next lookup).
"""

from __future__ import annotations

import hashlib
import threading
import time

from app.auth.principal import Principal
from app.core.config import get_settings

_MAX_ENTRIES = 10_000
_lock = threading.Lock()
_entries: dict[str, tuple[Principal, float]] = {}  # digest -> (principal, monotonic expiry)


def _digest(credential: str) -> str:
    return hashlib.sha256(credential.encode()).hexdigest()


def get(credential: str) -> Principal | None:
    """The cached principal of this credential, or None (never cached, or expired)."""
    key = _digest(credential)
    with _lock:
        found = _entries.get(key)
        if found is None:
            return None
        if found[1] <= time.monotonic():
            del _entries[key]
            return None
        return found[0]


def put(credential: str, principal: Principal, expires_at: float | None = None) -> None:
    """Remember a principal for AUTH_CACHE_TTL_S, or until `expires_at` (a Unix time, e.g. an
    access token's exp) if that is sooner."""
    ttl = float(get_settings().auth_cache_ttl_s)
    if expires_at is not None:
        ttl = min(ttl, expires_at - time.time())
    if ttl <= 0:
        return
    with _lock:
        if len(_entries) >= _MAX_ENTRIES:
            _entries.clear()  # a flood of distinct credentials: start again
        _entries[_digest(credential)] = (principal, time.monotonic() + ttl)


def forget_all() -> None:
    """Drop every cached principal (call after a commit that may take access away)."""
    with _lock:
        _entries.clear()
