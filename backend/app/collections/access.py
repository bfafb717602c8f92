"""Which collections a principal may read or write. Every query that returns documents,
chunks, downloads or tasks filters on `readable_collection_ids_query`; admins get no
special read access (they manage users, not other people's documents)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from app.auth.principal import Principal
from app.collections.models import Collection, CollectionShare, Permission


def readable_collection_ids_query(principal: Principal) -> Select[uuid.UUID]:
    """SELECT of the ids of the collections the principal owns or that are shared with them:
    use as `Model.collection_id.in_(readable_collection_ids_query(p))`."""
    shared = select(CollectionShare.collection_id).where(
        CollectionShare.user_id == principal.user_id
    )
    return select(Collection.id).where(
        or_(Collection.owner_id == principal.user_id, Collection.id.in_(shared))
    )


def writable_collection_ids_query(principal: Principal) -> Select[uuid.UUID]:
    shared = select(CollectionShare.collection_id).where(
        CollectionShare.user_id == principal.user_id,
        CollectionShare.permission == Permission.write.value,
    )
    return select(Collection.id).where(
        or_(Collection.owner_id == principal.user_id, Collection.id.in_(shared))
    )


def readable_collection_ids(session: Session, principal: Principal) -> list[uuid.UUID]:
    return list(session.scalars(readable_collection_ids_query(principal)))


def readable_filter(column: Any, principal: Principal) -> Any:
    """A WHERE clause keeping rows whose `column` (a collection id) the principal may read."""
    return column.in_(readable_collection_ids_query(principal))


def can_read(session: Session, principal: Principal, collection_id: uuid.UUID) -> bool:
    query = readable_collection_ids_query(principal).where(Collection.id == collection_id)
    return session.scalar(query) is not None


def can_write(session: Session, principal: Principal, collection_id: uuid.UUID) -> bool:
    query = writable_collection_ids_query(principal).where(Collection.id == collection_id)
    return session.scalar(query) is not None


def readable_ids_named(session: Session, principal: Principal, name: str) -> list[uuid.UUID]:
    """The readable collections called `name`: the caller's own first, then shared ones."""
    rows = session.execute(
        select(Collection.id, Collection.owner_id)
        .where(Collection.name == name.strip(), readable_filter(Collection.id, principal))
        .order_by(Collection.created_at)
    ).all()
    own = [cid for cid, owner in rows if owner == principal.user_id]
    return own + [cid for cid, owner in rows if owner != principal.user_id]
