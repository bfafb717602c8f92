"""A short-lived, in-process cache of authenticated principals, keyed by the credential's
SHA-256 (the credential itself is never kept).

The request guard authenticates every protected request; without this each one costs a
database session and one or two lookups (the API key and its user, or the token's user).
An entry lives at most AUTH_CACHE_TTL_S seconds (0 turns the cache off) and never past an
access token's own expiry. Anything that can take access away clears the whole cache of the
process that did it at once, after its commit: revoking an API key, (de)activating or
re-roling a user, locking the local user (app.auth.service calls `forget_all`). Other API
processes see the change within AUTH_CACHE_TTL_S. While an entry is cached the key's
last_used_at is not touched (it is again on the next lookup). The expiry and clearing are
app/core/ttl_cache.py's, shared with the active-space cache.
"""

from __future__ import annotations

import hashlib
import time

from app.auth.principal import Principal
from app.core.config import get_settings
from app.core.ttl_cache import TTLCache

_cache: TTLCache[str, Principal] = TTLCache()  # credential digest -> principal


def _digest(credential: str) -> str:
    return hashlib.sha256(credential.encode()).hexdigest()


def get(credential: str) -> Principal | None:
    """The cached principal of this credential, or None (never cached, or expired)."""
    return _cache.get(_digest(credential))


def put(credential: str, principal: Principal, expires_at: float | None = None) -> None:
    """Remember a principal for AUTH_CACHE_TTL_S, or until `expires_at` (a Unix time, e.g. an
    access token's exp) if that is sooner."""
    ttl = float(get_settings().auth_cache_ttl_s)
    if expires_at is not None:
        ttl = min(ttl, expires_at - time.time())
    _cache.put(_digest(credential), principal, ttl)


def forget_all() -> None:
    """Drop every cached principal (call after a commit that may take access away)."""
    _cache.clear()
