"""Collections: owned by a user, looked up by name among the caller's own, created on first
use, shared by email. `create`, `share` and `unshare` are units of work (they commit);
the other functions are read or compose into a caller's unit of work (the upload's)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.orm import Session

from app.auth import users
from app.auth.principal import Principal
from app.collections import access, repository
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
    return repository.text_search_config_exists(session, name)


def _clean_name(name: str | None) -> str:
    name = (name or DEFAULT_COLLECTION).strip()
    if not name or len(name) > 200:
        raise Unprocessable("A collection name is 1 to 200 characters.")
    return name


def own_named(session: Session, owner_id: uuid.UUID, name: str | None) -> Collection | None:
    """The owner's collection called `name` (the default one without a name), if it exists."""
    return repository.own_named(session, owner_id, _clean_name(name))


def get_or_create(
    session: Session, owner_id: uuid.UUID, name: str | None, text_search_config: str | None = None
) -> Collection:
    """The owner's collection called `name`, created if missing (not committed)."""
    name = _clean_name(name)
    existing = repository.own_named(session, owner_id, name)
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
    repository.insert_if_missing(session, owner_id, name, config)
    created = repository.own_named(session, owner_id, name)
    assert created is not None
    return created


def create(
    session: Session, principal: Principal, name: str, text_search_config: str | None
) -> Collection:
    name = _clean_name(name)
    if repository.own_named(session, principal.user_id, name) is not None:
        raise Conflict(f"You already have a collection named {name!r}.")
    created = get_or_create(session, principal.user_id, name, text_search_config)
    session.commit()
    return created


def writable_for_upload(
    session: Session, principal: Principal, name: str | None, collection_id: uuid.UUID | None
) -> Collection:
    """Where an upload goes: a collection by id (owned, or shared with write permission),
    else the caller's own collection of that name, created on first use (not committed)."""
    if collection_id is None:
        return get_or_create(session, principal.user_id, name)
    found = get_readable(session, principal, collection_id)
    if not access.can_write(session, principal, found.id):
        raise Forbidden("This collection is shared with you read-only.")
    return found


def get_readable(session: Session, principal: Principal, collection_id: uuid.UUID) -> Collection:
    """A collection the principal may read; 404 for any other id (existence does not leak)."""
    found = repository.readable_by_id(session, principal, collection_id)
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
        found = repository.first_named(session, name)
    if found is None:
        raise NotFound(f"No collection named {name!r}.")
    return found


def id_by_name(session: Session, name: str, principal: Principal) -> uuid.UUID:
    """The id of `get_by_name`'s collection without loading its row (a search's scope)."""
    ids = access.readable_ids_named(session, principal, name)
    if not ids:
        raise NotFound(f"No collection named {name!r}.")
    return ids[0]


def list_visible(session: Session, principal: Principal) -> list[Visible]:
    """The caller's collections and those shared with them, by name."""
    return [
        Visible(c, email, "owner" if c.owner_id == principal.user_id else (perm or "read"))
        for c, email, perm in repository.visible_rows(session, principal)
    ]


def _owned(session: Session, principal: Principal, collection_id: uuid.UUID) -> Collection:
    found = get_readable(session, principal, collection_id)
    if found.owner_id != principal.user_id:
        raise Forbidden("Only the owner of a collection manages its shares.")
    return found


def share(
    session: Session, principal: Principal, collection_id: uuid.UUID, email: str, permission: str
) -> CollectionShare:
    """Share with whoever has `email`, whether or not an account has it yet: the answer is
    the same either way (no account enumeration); access follows once the account exists."""
    collection = _owned(session, principal, collection_id)
    if permission not in (Permission.read, Permission.write):
        raise Unprocessable("permission is 'read' or 'write'.")
    address = users.normalize_email(email)
    if address == principal.email.strip().lower():
        raise Unprocessable("You own this collection already.")
    user = users.by_email(session, address)
    row = repository.upsert_share(
        session, collection.id, address, user.id if user is not None else None, str(permission)
    )
    session.commit()
    return row


def list_shares(
    session: Session, principal: Principal, collection_id: uuid.UUID
) -> list[CollectionShare]:
    collection = _owned(session, principal, collection_id)
    return repository.shares_of(session, collection.id)


def unshare(
    session: Session, principal: Principal, collection_id: uuid.UUID, share_id: uuid.UUID
) -> None:
    """The owner removes a share (or a pending invitation) by its id."""
    collection = _owned(session, principal, collection_id)
    row = repository.share_by_id(session, collection.id, share_id)
    if row is None:
        raise NotFound("No such share.")
    session.delete(row)
    session.commit()


def leave(session: Session, principal: Principal, collection_id: uuid.UUID) -> None:
    """A sharee removes their own share of a collection."""
    collection = get_readable(session, principal, collection_id)
    row = repository.share_of_user(session, collection.id, principal.user_id)
    if row is None:
        raise NotFound("This collection is not shared with you.")
    session.delete(row)
    session.commit()
