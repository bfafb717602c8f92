"""Collections: list and create (with a text search configuration for non-English text)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, status
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from app.collections import service
from app.core.db import get_db
from app.core.errors import Conflict

router = APIRouter(prefix="/api/v1/collections", tags=["collections"])


class CollectionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    text_search_config: str | None = Field(default=None, max_length=63)


class CollectionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    name: str
    text_search_config: str
    chunk_count: int
    created_at: datetime


@router.get("", response_model=list[CollectionOut])
def list_collections(db: Annotated[Session, Depends(get_db)]) -> list[CollectionOut]:
    return [CollectionOut.model_validate(c) for c in service.list_all(db)]


@router.post("", response_model=CollectionOut, status_code=status.HTTP_201_CREATED)
def create_collection(db: Annotated[Session, Depends(get_db)], body: CollectionIn) -> CollectionOut:
    from sqlalchemy import select

    from app.collections.models import Collection

    if db.scalar(select(Collection).where(Collection.name == body.name.strip())) is not None:
        raise Conflict(f"A collection named {body.name!r} exists.")
    created = service.get_or_create(db, body.name, body.text_search_config)
    db.commit()
    return CollectionOut.model_validate(created)
