"""Thumbnails of documents (images and PDFs' first pages), made by the worker and stored
content-addressed next to the originals (documents.thumbnail_key). Reads only: nothing here
writes, so nothing commits."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.orm import Session

from app.auth.principal import Principal
from app.core.errors import NotFound, ServiceUnavailable
from app.documents import service
from app.storage import ObjectNotFound, ObjectStore, StorageError


@dataclass
class Thumbnail:
    data: bytes
    etag: str  # the content hash in the key, quoted (a strong validator)
    filename: str


def get(
    session: Session, store: ObjectStore, document_id: uuid.UUID, principal: Principal
) -> Thumbnail:
    """The document's thumbnail, if the principal may read the document (404 otherwise,
    the same as for an unknown id) and it has one (404 no_thumbnail)."""
    doc = service.get(session, document_id, principal)
    key = doc.thumbnail_key
    filename = doc.filename
    if key is None:
        raise NotFound("This document has no thumbnail.", code="no_thumbnail")
    try:
        data = store.get_bytes(key)
    except ObjectNotFound as exc:
        raise NotFound("This document has no thumbnail.", code="no_thumbnail") from exc
    except StorageError as exc:
        raise ServiceUnavailable(
            "Object storage is unavailable.", code="storage_unavailable"
        ) from exc
    stem = filename.rsplit(".", 1)[0] or "thumbnail"
    return Thumbnail(data, f'"{key.rsplit("/", 1)[-1]}"', f"{stem}.thumbnail.webp")
