"""Collections: yours and those shared with you; create; share with named users."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Response, status
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from app.auth.principal import CurrentPrincipal
from app.collections import service
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
    collection_id: uuid.UUID
    user_id: uuid.UUID
    email: str
    permission: Literal["read", "write"]
    created_at: datetime


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
    return [
        ShareOut(collection_id=s.collection_id, user_id=s.user_id, email=email,
                 permission=s.permission, created_at=s.created_at)
        for s, email in service.list_shares(db, principal, collection_id)
    ]


@router.post(
    "/{collection_id}/shares", response_model=ShareOut, status_code=status.HTTP_201_CREATED
)
def share_collection(
    db: DB, principal: CurrentPrincipal, collection_id: uuid.UUID, body: ShareIn
) -> ShareOut:
    row, user = service.share(db, principal, collection_id, body.email, body.permission)
    return ShareOut(collection_id=row.collection_id, user_id=user.id, email=user.email,
                    permission=row.permission, created_at=row.created_at)


@router.delete("/{collection_id}/shares/{user_id}", status_code=status.HTTP_204_NO_CONTENT)
def unshare_collection(
    db: DB, principal: CurrentPrincipal, collection_id: uuid.UUID, user_id: uuid.UUID
) -> Response:
    service.unshare(db, principal, collection_id, user_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
