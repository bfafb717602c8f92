"""Collections: owned by a user, looked up by name among the caller's own, created on first
use, shared with named users."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from app.auth import users
from app.auth.models import User
from app.auth.principal import Principal
from app.collections import access
from app.collections.models import Collection, CollectionShare, Permission
from app.core.config import get_settings
from app.core.errors import Conflict, Forbidden, NotFound, Unprocessable

DEFAULT_COLLECTION = "default"


@dataclass
class Visible:
    collection: Collection
    owner_email: str
    permission: str  # "owner", "write" or "read"


def valid_text_search_config(session: Session, name: str) -> bool:
    found = session.execute(
        text("SELECT 1 FROM pg_ts_config WHERE cfgname = :name"), {"name": name}
    ).first()
    return found is not None


def _clean_name(name: str | None) -> str:
    name = (name or DEFAULT_COLLECTION).strip()
    if not name or len(name) > 200:
        raise Unprocessable("A collection name is 1 to 200 characters.")
    return name


def _own(session: Session, owner_id: uuid.UUID, name: str) -> Collection | None:
    return session.scalar(
        select(Collection).where(Collection.owner_id == owner_id, Collection.name == name)
    )


def get_or_create(
    session: Session, owner_id: uuid.UUID, name: str | None, text_search_config: str | None = None
) -> Collection:
    """The owner's collection called `name`, created if missing (not committed)."""
    name = _clean_name(name)
    existing = _own(session, owner_id, name)
    if existing is not None:
        return existing
    config = text_search_config or get_settings().default_text_search_config
    if not valid_text_search_config(session, config):
        raise Unprocessable(
            f"Unknown text search configuration {config!r}.",
            details={
                "hint": "SELECT cfgname FROM pg_ts_config lists them; 'simple' fits any language"
            },
        )
    # Concurrent uploads may create the same collection: insert-or-ignore, then read.
    session.execute(
        insert(Collection)
        .values(id=uuid.uuid4(), owner_id=owner_id, name=name, text_search_config=config)
        .on_conflict_do_nothing(constraint="uq_collections_owner_name")
    )
    created = _own(session, owner_id, name)
    assert created is not None
    return created


def create(
    session: Session, principal: Principal, name: str, text_search_config: str | None
) -> Collection:
    name = _clean_name(name)
    if _own(session, principal.user_id, name) is not None:
        raise Conflict(f"You already have a collection named {name!r}.")
    created = get_or_create(session, principal.user_id, name, text_search_config)
    session.commit()
    return created


def writable_for_upload(
    session: Session, principal: Principal, name: str | None, collection_id: uuid.UUID | None
) -> Collection:
    """Where an upload goes: a collection by id (owned, or shared with write permission),
    else the caller's own collection of that name, created on first use."""
    if collection_id is None:
        return get_or_create(session, principal.user_id, name)
    found = get_readable(session, principal, collection_id)
    if not access.can_write(session, principal, found.id):
        raise Forbidden("This collection is shared with you read-only.")
    return found


def get_readable(session: Session, principal: Principal, collection_id: uuid.UUID) -> Collection:
    """A collection the principal may read; 404 for any other id (existence does not leak)."""
    found = session.scalar(
        select(Collection).where(
            Collection.id == collection_id, access.readable_filter(Collection.id, principal)
        )
    )
    if found is None:
        raise NotFound(f"No collection {collection_id}.")
    return found


def get_by_name(session: Session, name: str, principal: Principal | None = None) -> Collection:
    """The readable collection called `name` (the caller's own before shared ones).
    Without a principal (internal callers only) any owner's collection of that name."""
    if principal is not None:
        ids = access.readable_ids_named(session, principal, name)
        found = session.get(Collection, ids[0]) if ids else None
    else:
        found = session.scalar(
            select(Collection).where(Collection.name == name).order_by(Collection.created_at)
        )
    if found is None:
        raise NotFound(f"No collection named {name!r}.")
    return found


def list_visible(session: Session, principal: Principal) -> list[Visible]:
    """The caller's collections and those shared with them, by name."""
    rows = session.execute(
        select(Collection, User.email, CollectionShare.permission)
        .join(User, User.id == Collection.owner_id)
        .outerjoin(
            CollectionShare,
            (CollectionShare.collection_id == Collection.id)
            & (CollectionShare.user_id == principal.user_id),
        )
        .where(access.readable_filter(Collection.id, principal))
        .order_by(Collection.name, Collection.created_at)
    ).all()
    return [
        Visible(c, email, "owner" if c.owner_id == principal.user_id else (perm or "read"))
        for c, email, perm in rows
    ]


def _owned(session: Session, principal: Principal, collection_id: uuid.UUID) -> Collection:
    found = get_readable(session, principal, collection_id)
    if found.owner_id != principal.user_id:
        raise Forbidden("Only the owner of a collection manages its shares.")
    return found


def share(
    session: Session, principal: Principal, collection_id: uuid.UUID, email: str, permission: str
) -> tuple[CollectionShare, User]:
    collection = _owned(session, principal, collection_id)
    if permission not in (Permission.read, Permission.write):
        raise Unprocessable("permission is 'read' or 'write'.")
    user = users.by_email(session, email)
    if user is None or not user.is_active:
        raise NotFound("No active user with that email.")
    if user.id == principal.user_id:
        raise Unprocessable("You own this collection already.")
    session.execute(
        insert(CollectionShare)
        .values(collection_id=collection.id, user_id=user.id, permission=str(permission))
        .on_conflict_do_update(
            index_elements=["collection_id", "user_id"], set_={"permission": str(permission)}
        )
    )
    session.commit()
    row = session.get(CollectionShare, (collection.id, user.id), populate_existing=True)
    assert row is not None
    return row, user


def list_shares(
    session: Session, principal: Principal, collection_id: uuid.UUID
) -> list[tuple[CollectionShare, str]]:
    collection = _owned(session, principal, collection_id)
    rows = session.execute(
        select(CollectionShare, User.email)
        .join(User, User.id == CollectionShare.user_id)
        .where(CollectionShare.collection_id == collection.id)
        .order_by(User.email)
    ).all()
    return [(s, e) for s, e in rows]


def unshare(
    session: Session, principal: Principal, collection_id: uuid.UUID, user_id: uuid.UUID
) -> None:
    """The owner removes a share; a sharee may also remove their own (leave)."""
    collection = get_readable(session, principal, collection_id)
    if collection.owner_id != principal.user_id and user_id != principal.user_id:
        raise Forbidden("Only the owner of a collection manages its shares.")
    row = session.get(CollectionShare, (collection.id, user_id))
    if row is None:
        raise NotFound("No such share.")
    session.delete(row)
    session.commit()
