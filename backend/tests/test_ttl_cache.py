"""app/core/ttl_cache.py, the cache under the principal cache and the active-space cache: what
it does for both (expiry, clearing, a zero TTL, its bound) is tested here once; their own
tests cover what each adds (test_auth_principal_cache.py, test_space_cache.py)."""

from __future__ import annotations

import time

from app.core.ttl_cache import TTLCache


def test_an_entry_expires_is_cleared_and_a_zero_ttl_keeps_nothing() -> None:
    cache: TTLCache[str, int] = TTLCache(max_entries=2)
    cache.put("a", 1, 0.2)
    assert cache.get("a") == 1
    time.sleep(0.3)
    assert cache.get("a") is None  # expired
    cache.put("b", 2, 60)
    cache.clear()
    assert cache.get("b") is None  # cleared
    cache.put("c", 3, 0)
    assert cache.get("c") is None  # never kept
    for key in ("x", "y", "z"):  # bounded: a third key starts again
        cache.put(key, 0, 60)
    assert cache.get("x") is None and cache.get("z") == 0
