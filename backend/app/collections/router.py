"""Collections: yours and those shared with you; create; share by email. Each route calls one
app.collections.service function; routers never commit."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Response, status
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from app.auth.principal import CurrentPrincipal
from app.collections import service
from app.collections.models import CollectionShare
from app.core.db import get_db

router = APIRouter(prefix="/api/v1/collections", tags=["collections"])
DB = Annotated[Session, Depends(get_db)]


class CollectionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    text_search_config: str | None = Field(default=None, max_length=63)


class CollectionOut(BaseModel):
    id: uuid.UUID
    name: str
    text_search_config: str
    chunk_count: int
    created_at: datetime
    owner_email: str
    permission: Literal["owner", "write", "read"]


class ShareIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: str = Field(min_length=3, max_length=320)
    permission: Literal["read", "write"] = "read"


class ShareOut(BaseModel):
    """A share by email. Whether an account has that email yet is not said (it would let
    anyone who owns a collection probe which addresses have accounts)."""

    id: uuid.UUID
    collection_id: uuid.UUID
    email: str
    permission: Literal["read", "write"]
    created_at: datetime


def _share_out(s: CollectionShare) -> ShareOut:
    return ShareOut(id=s.id, collection_id=s.collection_id, email=s.email,
                    permission=s.permission, created_at=s.created_at)


def _out(v: service.Visible) -> CollectionOut:
    c = v.collection
    return CollectionOut(
        id=c.id, name=c.name, text_search_config=c.text_search_config, chunk_count=c.chunk_count,
        created_at=c.created_at, owner_email=v.owner_email,
        permission=v.permission,
    )


@router.get("", response_model=list[CollectionOut])
def list_collections(db: DB, principal: CurrentPrincipal) -> list[CollectionOut]:
    return [_out(v) for v in service.list_visible(db, principal)]


@router.post("", response_model=CollectionOut, status_code=status.HTTP_201_CREATED)
def create_collection(db: DB, principal: CurrentPrincipal, body: CollectionIn) -> CollectionOut:
    created = service.create(db, principal, body.name, body.text_search_config)
    return _out(service.Visible(created, principal.email, "owner"))


@router.get("/{collection_id}/shares", response_model=list[ShareOut])
def list_shares(db: DB, principal: CurrentPrincipal, collection_id: uuid.UUID) -> list[ShareOut]:
    return [_share_out(s) for s in service.list_shares(db, principal, collection_id)]


@router.post(
    "/{collection_id}/shares", response_model=ShareOut, status_code=status.HTTP_201_CREATED
)
def share_collection(
    db: DB, principal: CurrentPrincipal, collection_id: uuid.UUID, body: ShareIn
) -> ShareOut:
    """Share with the person who has this email. The answer is the same whether or not an
    account has the address yet; the share grants access once that account exists."""
    return _share_out(service.share(db, principal, collection_id, body.email, body.permission))


@router.delete("/{collection_id}/shares/me", status_code=status.HTTP_204_NO_CONTENT)
def leave_collection(db: DB, principal: CurrentPrincipal, collection_id: uuid.UUID) -> Response:
    """A sharee gives up their own share of a collection."""
    service.leave(db, principal, collection_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.delete("/{collection_id}/shares/{share_id}", status_code=status.HTTP_204_NO_CONTENT)
def unshare_collection(
    db: DB, principal: CurrentPrincipal, collection_id: uuid.UUID, share_id: uuid.UUID
) -> Response:
    """The owner removes a share (or a pending one) by its id, from the share listing."""
    service.unshare(db, principal, collection_id, share_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
