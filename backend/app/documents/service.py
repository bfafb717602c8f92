"""Upload, list, read and delete documents. No HTTP here: routers call these functions."""

from __future__ import annotations

import hashlib
import json
import tempfile
import uuid
from dataclasses import dataclass
from typing import Any, BinaryIO

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.auth.principal import Principal
from app.collections import access
from app.collections import service as collections
from app.collections.models import Collection
from app.core.config import get_settings
from app.core.errors import (
    Forbidden,
    NotFound,
    PayloadTooLarge,
    ServiceUnavailable,
    Unprocessable,
)
from app.core.logging import get_logger
from app.documents import queue
from app.documents.models import Chunk, Document, DocumentStatus
from app.documents.sniff import sniff_content_type
from app.search import lexical_index
from app.storage import ObjectStore, StorageError, content_key

log = get_logger(__name__)
SNIFF_BYTES = 8192


@dataclass
class IncomingFile:
    filename: str
    stream: BinaryIO


@dataclass
class StagedFile:
    filename: str
    spool: BinaryIO
    size: int
    sha256: str
    content_type: str


@dataclass
class UploadResult:
    document: Document
    collection: Collection
    duplicate: bool


def clean_filename(raw: str | None) -> str:
    """A display name with no path, control characters or excess length."""
    name = (raw or "").replace("\\", "/").split("/")[-1]
    name = "".join(ch for ch in name if ch.isprintable()).strip().lstrip(".")
    return (name or "unnamed")[:255]


def parse_metadata(raw: str | None) -> dict[str, Any]:
    if raw is None or raw.strip() == "":
        return {}
    if len(raw) > 65_536:
        raise Unprocessable("metadata is larger than 16 KB.")
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise Unprocessable(f"metadata is not valid JSON: {exc.msg}") from exc
    except RecursionError as exc:
        raise Unprocessable("metadata is nested too deeply.") from exc
    if not isinstance(value, dict):
        raise Unprocessable("metadata must be a JSON object.")
    try:
        encoded = json.dumps(value, allow_nan=False)
    except ValueError as exc:  # NaN / Infinity: not JSON, and JSONB refuses them
        raise Unprocessable("metadata may not contain NaN or Infinity.") from exc
    if len(encoded) > 16_384:
        raise Unprocessable("metadata is larger than 16 KB.")
    if "\\u0000" in encoded:
        raise Unprocessable("metadata may not contain NUL characters.")
    return value


def stage_file(incoming: IncomingFile, max_bytes: int) -> StagedFile:
    """Copy the upload to a spool file, hashing as it goes; refuse it past the limit."""
    digest = hashlib.sha256()
    spool = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115
    size = 0
    head = b""
    while chunk := incoming.stream.read(1024 * 1024):
        size += len(chunk)
        if size > max_bytes:
            spool.close()
            raise PayloadTooLarge(
                f"{incoming.filename} is larger than the {max_bytes} byte limit.",
                details={"filename": incoming.filename, "limit_bytes": max_bytes},
            )
        if len(head) < SNIFF_BYTES:
            head += chunk[: SNIFF_BYTES - len(head)]
        digest.update(chunk)
        spool.write(chunk)
    if size == 0:
        spool.close()
        raise Unprocessable(
            f"{incoming.filename} is empty.",
            code="empty_file",
            details={"filename": incoming.filename},
        )
    spool.seek(0)
    whole = spool.read() if head.startswith(b"PK") else None
    try:
        content_type = sniff_content_type(head, incoming.filename, whole)
    except Exception:
        spool.close()
        raise
    spool.seek(0)
    return StagedFile(incoming.filename, spool, size, digest.hexdigest(), content_type)  # type: ignore[arg-type]


def upload(
    session: Session,
    store: ObjectStore,
    files: list[IncomingFile],
    *,
    principal: Principal,
    collection_name: str | None,
    collection_id: uuid.UUID | None = None,
    metadata: dict[str, Any],
    reingest: bool,
) -> list[UploadResult]:
    """Validate every file first (all-or-nothing), then store, record and enqueue each."""
    settings = get_settings()
    if not files:
        raise Unprocessable("No files in the request (multipart field 'files').")
    if len(files) > settings.max_files_per_upload:
        raise Unprocessable(
            f"At most {settings.max_files_per_upload} files per request.",
            details={"received": len(files)},
        )
    staged: list[StagedFile] = []
    try:
        for f in files:
            incoming = IncomingFile(clean_filename(f.filename), f.stream)
            staged.append(stage_file(incoming, settings.max_upload_bytes))
        collection = collections.writable_for_upload(
            session, principal, collection_name, collection_id
        )
        session.commit()
        results = [_store_one(session, store, s, collection, metadata, reingest) for s in staged]
    finally:
        for s in staged:
            s.spool.close()
    for r in results:
        if not r.duplicate or reingest:
            queue.enqueue_ingest(session, r.document)
    return results


def _store_one(
    session: Session,
    store: ObjectStore,
    staged: StagedFile,
    collection: Collection,
    metadata: dict[str, Any],
    reingest: bool,
) -> UploadResult:
    existing = session.scalar(
        select(Document).where(
            Document.collection_id == collection.id, Document.sha256 == staged.sha256
        )
    )
    if existing is not None:
        if reingest:
            existing.status = DocumentStatus.queued
            existing.stage = "queued"
            existing.error = None
            existing.attempts = 0
            existing.task_id = str(uuid.uuid4())
            session.commit()
        return UploadResult(existing, collection, duplicate=True)

    key = content_key(staged.sha256)
    try:
        if not store.exists(key):
            store.put(key, staged.spool, size=staged.size, content_type=staged.content_type)
    except StorageError as exc:
        log.warning("storage_unavailable", error=str(exc))
        raise ServiceUnavailable(
            "Object storage is unavailable; nothing was stored. Try again later.",
            code="storage_unavailable",
        ) from exc
    doc = Document(
        id=uuid.uuid4(),
        collection_id=collection.id,
        filename=staged.filename,
        content_type=staged.content_type,
        size_bytes=staged.size,
        sha256=staged.sha256,
        storage_key=key,
        metadata_=metadata,
        status=DocumentStatus.queued,
        stage="queued",
        task_id=str(uuid.uuid4()),
        timings={},
    )
    session.add(doc)
    try:
        session.commit()
    except Exception:
        session.rollback()
        _delete_object_if_unreferenced(session, store, key)
        raise
    return UploadResult(doc, collection, duplicate=False)


def _delete_object_if_unreferenced(session: Session, store: ObjectStore, key: str) -> None:
    still_used = session.scalar(select(func.count()).where(Document.storage_key == key))
    if not still_used:
        try:
            store.delete(key)
        except StorageError as exc:  # the reconciler's orphan sweep will retry
            log.warning("orphan_object_left", key=key, error=str(exc))


def get(session: Session, document_id: uuid.UUID, principal: Principal) -> Document:
    """A document in a collection the principal may read; 404 for every other id."""
    doc = session.scalar(
        select(Document).where(
            Document.id == document_id, access.readable_filter(Document.collection_id, principal)
        )
    )
    if doc is None:
        raise NotFound(f"No document {document_id}.")
    return doc


def list_documents(
    session: Session,
    *,
    principal: Principal,
    status: DocumentStatus | None,
    collection: str | None,
    limit: int,
    offset: int,
) -> tuple[list[tuple[Document, str]], int]:
    query = (
        select(Document, Collection.name)
        .join(Collection, Collection.id == Document.collection_id)
        .where(access.readable_filter(Document.collection_id, principal))
    )
    if status is not None:
        query = query.where(Document.status == status)
    if collection is not None:
        query = query.where(Collection.name == collection)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.execute(
        query.order_by(Document.created_at.desc(), Document.id).limit(limit).offset(offset)
    ).all()
    return [(d, name) for d, name in rows], total


def list_chunks(
    session: Session, document_id: uuid.UUID, principal: Principal, *, limit: int, offset: int
) -> tuple[list[Chunk], int]:
    get(session, document_id, principal)
    total = session.scalar(select(func.count()).where(Chunk.document_id == document_id)) or 0
    chunks = session.scalars(
        select(Chunk)
        .where(Chunk.document_id == document_id)
        .order_by(Chunk.ordinal)
        .limit(limit)
        .offset(offset)
    ).all()
    return list(chunks), total


def delete(
    session: Session, store: ObjectStore, document_id: uuid.UUID, principal: Principal
) -> None:
    """Remove the rows (chunks, lexical postings) in one transaction, then the object.
    Needs write access to the collection: 404 if unreadable, 403 if read-only."""
    doc = session.scalar(
        select(Document)
        .where(Document.id == document_id)
        .where(access.readable_filter(Document.collection_id, principal))
        .with_for_update(of=Document)
    )
    if doc is None:
        raise NotFound(f"No document {document_id}.")
    if not access.can_write(session, principal, doc.collection_id):
        raise Forbidden("This collection is shared with you read-only.")
    key = doc.storage_key
    lexical_index.unindex_document(session, doc.id)
    session.delete(doc)
    session.commit()
    _delete_object_if_unreferenced(session, store, key)


def collection_name(session: Session, document: Document) -> str:
    name = session.scalar(select(Collection.name).where(Collection.id == document.collection_id))
    return name or ""


def open_original(store: ObjectStore, document: Document) -> BinaryIO:
    try:
        return store.open(document.storage_key)
    except StorageError as exc:
        raise ServiceUnavailable(
            "Object storage is unavailable.", code="storage_unavailable"
        ) from exc
