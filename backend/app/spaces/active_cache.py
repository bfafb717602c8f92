"""Each collection's active embedding space, as every search needs it, cached in-process.

Without the cache every search costs one more round trip (the collections' active spaces).
An entry lives SPACE_CACHE_TTL_S seconds (0: off) in app/core/ttl_cache.py's cache, the
principal cache's mechanism. `spaces.service.activate` clears this process's cache after its
commit, so the process that switched sees the switch at its next query; other API processes
see it within the TTL. Until then they keep searching the previous space, which is complete
(only a `ready` space can become active, and the active one cannot be dropped): a query is
always embedded and compared in one space, the one its entry names, never a mix.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from app.core.config import get_settings
from app.core.ttl_cache import TTLCache
from app.spaces import repository


@dataclass(frozen=True)
class ActiveSpace:
    """A collection's active non-default space: what the search needs of it."""

    space_id: int
    provider: str
    model: str
    dim: int


#: collection id -> (its active space, or None: the default space)
_cache: TTLCache[uuid.UUID, tuple[ActiveSpace | None]] = TTLCache()


def active_spaces(
    session: Session, collection_ids: Sequence[uuid.UUID]
) -> list[tuple[uuid.UUID, ActiveSpace | None]]:
    """Each collection with its active space (None: the default space), in the given order;
    the collections not cached are looked up in one query."""
    found: dict[uuid.UUID, ActiveSpace | None] = {}
    missing: list[uuid.UUID] = []
    for cid in collection_ids:
        hit = _cache.get(cid)
        if hit is None:
            missing.append(cid)
        else:
            found[cid] = hit[0]
    if missing:
        ttl = float(get_settings().space_cache_ttl_s)
        for cid, space in repository.active_spaces(session, missing):
            value = None if space is None else ActiveSpace(
                space.id, space.provider, space.model, space.dim)
            found[cid] = value
            _cache.put(cid, (value,), ttl)
    return [(cid, found[cid]) for cid in collection_ids]


def forget_all() -> None:
    """Drop every cached entry (after a commit that switched a collection's space)."""
    _cache.clear()
