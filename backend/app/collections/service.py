"""Collections: looked up by name, created on first use."""

from __future__ import annotations

import uuid

from sqlalchemy import select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from app.collections.models import Collection
from app.core.config import get_settings
from app.core.errors import NotFound, Unprocessable

DEFAULT_COLLECTION = "default"


def valid_text_search_config(session: Session, name: str) -> bool:
    found = session.execute(
        text("SELECT 1 FROM pg_ts_config WHERE cfgname = :name"), {"name": name}
    ).first()
    return found is not None


def get_or_create(session: Session, name: str | None, text_search_config: str | None = None) -> Collection:
    name = (name or DEFAULT_COLLECTION).strip()
    if not name or len(name) > 200:
        raise Unprocessable("A collection name is 1 to 200 characters.")
    existing = session.scalar(select(Collection).where(Collection.name == name))
    if existing is not None:
        return existing
    config = text_search_config or get_settings().default_text_search_config
    if not valid_text_search_config(session, config):
        raise Unprocessable(
            f"Unknown text search configuration {config!r}.",
            details={"hint": "SELECT cfgname FROM pg_ts_config lists them; 'simple' fits any language"},
        )
    # Concurrent uploads may create the same collection: insert-or-ignore, then read.
    session.execute(
        insert(Collection)
        .values(id=uuid.uuid4(), name=name, text_search_config=config)
        .on_conflict_do_nothing(index_elements=["name"])
    )
    created = session.scalar(select(Collection).where(Collection.name == name))
    assert created is not None
    return created


def get_by_name(session: Session, name: str) -> Collection:
    found = session.scalar(select(Collection).where(Collection.name == name))
    if found is None:
        raise NotFound(f"No collection named {name!r}.")
    return found


def list_all(session: Session) -> list[Collection]:
    return list(session.scalars(select(Collection).order_by(Collection.name)))
