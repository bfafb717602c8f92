"""Embedding spaces of a collection, managed by its owner only: list, add (starts the
re-embedding job), activate (one atomic switch, only when complete), resume, drop. Each
public function that changes something is one unit of work (commits).

The default space (`"default"`) is the configured model's vectors in `chunks.embedding`,
kept by every ingest; it is always complete, may be re-activated, and cannot be dropped.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from app.auth.principal import Principal
from app.collections import service as collections
from app.collections.models import Collection
from app.core.errors import Conflict, Forbidden, NotFound, Unprocessable
from app.providers.embeddings import default_spec, resolve_spec
from app.spaces import active_cache, queue, repository
from app.spaces.models import EmbeddingSpace, SpaceStatus

DEFAULT = "default"


@dataclass
class SpaceView:
    id: str
    provider: str
    model: str
    dim: int
    status: str
    active: bool
    embedded: int
    total: int
    error: str | None
    created_at: datetime | None
    finished_at: datetime | None


def _owned(session: Session, principal: Principal, collection_id: uuid.UUID) -> Collection:
    found = collections.get_readable(session, principal, collection_id)  # 404 if not readable
    if found.owner_id != principal.user_id:
        raise Forbidden("Only the owner of a collection manages its embedding spaces.")
    return found


def _view(space: EmbeddingSpace) -> SpaceView:
    return SpaceView(str(space.id), space.provider, space.model, space.dim, space.status,
                     space.active, space.embedded, space.total, space.error, space.created_at,
                     space.finished_at)


def _default_view(session: Session, collection: Collection) -> SpaceView:
    spec = default_spec()
    chunks = repository.chunk_count(session, collection.id)
    active = repository.active_space_id(session, collection.id) is None
    return SpaceView(DEFAULT, spec.provider, spec.model, spec.dim, SpaceStatus.ready.value,
                     active, chunks, chunks, None, None, None)


def _space(session: Session, collection: Collection, ref: str,
           *, lock: bool = False) -> EmbeddingSpace:
    try:
        space_id = int(ref)
    except ValueError:
        space_id = -1
    space = repository.get(session, space_id, lock=lock) if space_id > 0 else None
    if space is None or space.collection_id != collection.id:
        raise NotFound(f"No embedding space {ref!r} in this collection.")
    return space


def list_spaces(session: Session, principal: Principal,
                collection_id: uuid.UUID) -> list[SpaceView]:
    collection = _owned(session, principal, collection_id)
    return [_default_view(session, collection)] + [
        _view(s) for s in repository.spaces_of(session, collection.id)]


def get_space(session: Session, principal: Principal, collection_id: uuid.UUID,
              ref: str) -> SpaceView:
    collection = _owned(session, principal, collection_id)
    if ref == DEFAULT:
        return _default_view(session, collection)
    return _view(_space(session, collection, ref))


def add(session: Session, principal: Principal, collection_id: uuid.UUID, provider: str,
        model: str) -> SpaceView:
    """A new space for the model; its re-embedding job is queued at once."""
    collection = _owned(session, principal, collection_id)
    if (provider, model) == (default_spec().provider, default_spec().model):
        raise Conflict("This model is the default space of every collection.",
                       code="space_exists")
    if repository.find(session, collection.id, provider, model) is not None:
        raise Conflict(f"The collection already has a space for {provider}:{model}.",
                       code="space_exists")
    try:
        spec = resolve_spec(provider, model)
    except ValueError as exc:
        raise Unprocessable(str(exc), code="unknown_embedding_model") from exc
    space = EmbeddingSpace(collection_id=collection.id, provider=spec.provider, model=spec.model,
                           dim=spec.dim, status=SpaceStatus.building.value, embedded=0,
                           total=repository.chunk_count(session, collection.id))
    session.add(space)
    session.commit()
    queue.send_reembed(space.id)
    return _view(space)


def activate(session: Session, principal: Principal, collection_id: uuid.UUID,
             ref: str) -> SpaceView:
    """Queries of the collection use this space from the commit on (one transaction flips
    the active flag). Refused (409) until every chunk has a vector in it."""
    collection = _owned(session, principal, collection_id)
    repository.lock_collection(session, collection.id)
    if ref == DEFAULT:
        repository.set_active(session, collection.id, None)
        session.commit()
        active_cache.forget_all()  # this process searches the new space at once
        return _default_view(session, collection)
    space = _space(session, collection, ref, lock=True)
    if space.status != SpaceStatus.ready.value:
        raise Conflict(
            f"The space is {space.status} ({space.embedded} of {space.total} chunks embedded);"
            " it can be activated once it is ready.", code="space_not_ready")
    missing = repository.missing_count(session, space)
    if missing:  # chunks arrived after it was built: build on, refuse for now
        space.status = SpaceStatus.building.value
        session.commit()
        queue.send_reembed(space.id)
        raise Conflict(f"{missing} new chunks have no vector in the space yet; its job "
                       "is embedding them.", code="space_not_ready")
    repository.create_index(session, space)  # present already unless restored from a backup
    repository.set_active(session, collection.id, space.id)
    session.commit()
    active_cache.forget_all()  # this process searches the new space at once (others: TTL)
    return _view(space)


def resume(session: Session, principal: Principal, collection_id: uuid.UUID,
           ref: str) -> SpaceView:
    """Queue the job again (after a failure or a lost worker); it goes on where it was."""
    collection = _owned(session, principal, collection_id)
    if ref == DEFAULT:
        raise Conflict("The default space is kept by the ingest; it has no job.",
                       code="space_ready")
    space = _space(session, collection, ref, lock=True)
    if space.status == SpaceStatus.ready.value:
        raise Conflict("The space is complete.", code="space_ready")
    space.status = SpaceStatus.building.value
    space.error = None
    session.commit()
    queue.send_reembed(space.id)
    return _view(space)


def drop(session: Session, principal: Principal, collection_id: uuid.UUID, ref: str) -> None:
    """Delete a space that is not active: its vectors and its index (a running job stops at
    its next batch)."""
    collection = _owned(session, principal, collection_id)
    if ref == DEFAULT:
        raise Conflict("The default space lives in the chunks table and cannot be dropped.",
                       code="space_default")
    space = _space(session, collection, ref, lock=True)
    if space.active:
        raise Conflict("The active space cannot be dropped; activate another one first.",
                       code="space_active")
    repository.drop(session, space)
    session.commit()
