"""A collection groups documents; it belongs to one user and may be shared with others.
It carries the lexical statistics of its chunks."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    DateTime,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base, one_of


class Permission(enum.StrEnum):
    read = "read"
    write = "write"


class Collection(Base):
    __tablename__ = "collections"
    # Names are unique per owner: two users may each have a "default" collection.
    __table_args__ = (UniqueConstraint("owner_id", "name", name="uq_collections_owner_name"),)

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    owner_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    # Postgres text search configuration used for this collection's lexical index
    # ("english", "german", "simple", ...). Validated against pg_ts_config on create.
    text_search_config: Mapped[str] = mapped_column(String(63), default="english")
    # BM25 statistics, maintained in the same transaction that writes or deletes chunks.
    chunk_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    total_terms: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    # Raised by every write that changes the collection's postings (search/lexical_index.py),
    # with the document it changed in lexical_changes: how a search engine beside Postgres
    # (search/tantivy_index.py) knows its copy is current.
    lexical_version: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )


class CollectionShare(Base):
    """A collection made readable (or writable) by the person with an email address. The
    share is stored by email (an invitation) whether or not an account has that address yet:
    `user_id` is filled when the account exists or is created, and the access rule grants
    only through `user_id` (see app.collections.access)."""

    __tablename__ = "collection_shares"
    __table_args__ = (
        one_of("permission", Permission),
        UniqueConstraint("collection_id", "email", name="uq_collection_shares_collection_email"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    collection_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("collections.id", ondelete="CASCADE")
    )
    # Lower-cased, as users.email is stored.
    email: Mapped[str] = mapped_column(String(320))
    user_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    permission: Mapped[str] = mapped_column(String(8), default=Permission.read.value)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
