"""Queries of the collections domain: collections, their shares and invitations. Nothing
here commits (app.collections.service owns the transaction). The access rule itself (which
collections a principal may read or write) is in app.collections.access, the query builders
every other domain filters with."""

from __future__ import annotations

import uuid

from sqlalchemy import select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from app.auth.models import User
from app.auth.principal import Principal
from app.collections import access
from app.collections.models import Collection, CollectionShare


def text_search_config_exists(session: Session, name: str) -> bool:
    found = session.execute(
        text("SELECT 1 FROM pg_ts_config WHERE cfgname = :name"), {"name": name}
    ).first()
    return found is not None


def own_named(session: Session, owner_id: uuid.UUID, name: str) -> Collection | None:
    return session.scalar(
        select(Collection).where(Collection.owner_id == owner_id, Collection.name == name)
    )


def insert_if_missing(session: Session, owner_id: uuid.UUID, name: str, config: str) -> None:
    """Insert-or-ignore (concurrent uploads may create the same collection)."""
    session.execute(
        insert(Collection)
        .values(id=uuid.uuid4(), owner_id=owner_id, name=name, text_search_config=config)
        .on_conflict_do_nothing(constraint="uq_collections_owner_name")
    )


def readable_by_id(
    session: Session, principal: Principal, collection_id: uuid.UUID
) -> Collection | None:
    return session.scalar(
        select(Collection).where(
            Collection.id == collection_id, access.readable_filter(Collection.id, principal)
        )
    )


def first_named(session: Session, name: str) -> Collection | None:
    """Any owner's collection of that name, oldest first (internal callers only)."""
    return session.scalar(
        select(Collection).where(Collection.name == name).order_by(Collection.created_at)
    )


def visible_rows(
    session: Session, principal: Principal
) -> list[tuple[Collection, str, str | None]]:
    """(collection, owner email, the caller's share permission or None), by name."""
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
    return [(c, email, perm) for c, email, perm in rows]


def reassign_owner(session: Session, from_user: uuid.UUID, to_user: uuid.UUID) -> None:
    session.execute(
        update(Collection).where(Collection.owner_id == from_user).values(owner_id=to_user)
    )


# --- shares and invitations ----------------------------------------------------------------


def upsert_share(
    session: Session, collection_id: uuid.UUID, email: str, user_id: uuid.UUID | None,
    permission: str,
) -> CollectionShare:
    """The share of `collection_id` with `email` (created, or its permission updated)."""
    session.execute(
        insert(CollectionShare)
        .values(id=uuid.uuid4(), collection_id=collection_id, email=email, user_id=user_id,
                permission=permission)
        .on_conflict_do_update(
            constraint="uq_collection_shares_collection_email",
            set_={"permission": permission},
        )
    )
    row = session.scalar(
        select(CollectionShare)
        .where(CollectionShare.collection_id == collection_id, CollectionShare.email == email)
        .execution_options(populate_existing=True)
    )
    assert row is not None
    return row


def shares_of(session: Session, collection_id: uuid.UUID) -> list[CollectionShare]:
    return list(
        session.scalars(
            select(CollectionShare)
            .where(CollectionShare.collection_id == collection_id)
            .order_by(CollectionShare.email)
        )
    )


def share_by_id(
    session: Session, collection_id: uuid.UUID, share_id: uuid.UUID
) -> CollectionShare | None:
    return session.scalar(
        select(CollectionShare).where(
            CollectionShare.id == share_id, CollectionShare.collection_id == collection_id
        )
    )


def share_of_user(
    session: Session, collection_id: uuid.UUID, user_id: uuid.UUID
) -> CollectionShare | None:
    return session.scalar(
        select(CollectionShare).where(
            CollectionShare.collection_id == collection_id, CollectionShare.user_id == user_id
        )
    )


def bind_invitations(session: Session, user_id: uuid.UUID, email: str) -> None:
    """Shares addressed to `email` before its account existed now name the new user (the
    access rule only ever grants through a user id)."""
    session.execute(
        update(CollectionShare)
        .where(CollectionShare.email == email.strip().lower(), CollectionShare.user_id.is_(None))
        .values(user_id=user_id)
    )
