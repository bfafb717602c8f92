"""Upload, list, read and delete documents; report a task; reconcile stuck work; sweep
orphaned objects. No HTTP here: routers call these functions.

Transaction rule (ARCHITECTURE.md): each public function here is one unit of work and
commits it; the repository and the helpers never commit.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, BinaryIO, Literal

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.auth.principal import Principal
from app.collections import access
from app.collections import service as collections
from app.collections.models import Collection
from app.core.config import get_settings
from app.core.errors import Conflict, Forbidden, NotFound, ServiceUnavailable, Unprocessable
from app.core.logging import get_logger
from app.documents import queue, repository, stages
from app.documents.failures import FailureCode
from app.documents.models import Chunk, Document, DocumentStatus
from app.documents.stages import IngestStage
from app.documents.staging import IncomingFile, StagedFile, clean_filename, stage_file
from app.events import deletions
from app.ingest import pipeline
from app.storage import ObjectStore, StorageError, content_key

log = get_logger(__name__)

Outcome = Literal["created", "duplicate", "reingested"]


@dataclass
class UploadResult:
    document: Document
    collection: Collection
    outcome: Outcome

    @property
    def duplicate(self) -> bool:
        """The same bytes were already in this collection (also true when re-ingested)."""
        return self.outcome != "created"


@dataclass
class TaskState:
    document: Document
    state: str
    progress: float


def upload(
    session: Session,
    store: ObjectStore,
    files: list[IncomingFile],
    *,
    principal: Principal,
    collection_name: str | None,
    collection_id: uuid.UUID | None = None,
    metadata: dict[str, Any] | list[dict[str, Any]],
    reingest: bool,
) -> list[UploadResult]:
    """All or nothing: every file is validated, the new originals put in the object store,
    every row written in one transaction (`metadata`: one object, or one per file), and only
    after the commit are the ingest tasks sent. If any step fails, the objects this request
    stored are removed and no row remains."""
    settings = get_settings()
    if not files:
        raise Unprocessable("No files in the request (multipart field 'files').")
    if len(files) > settings.max_files_per_upload:
        raise Unprocessable(
            f"At most {settings.max_files_per_upload} files per request.",
            details={"received": len(files)},
        )
    staged: list[StagedFile] = []
    stored: list[str] = []
    try:
        for f in files:
            incoming = IncomingFile(clean_filename(f.filename), f.stream)
            staged.append(stage_file(incoming, settings.max_upload_bytes))
        collection = collections.writable_for_upload(
            session, principal, collection_name, collection_id
        )
        stored = _put_objects(store, staged)
        results = _record_all(session, principal, staged, collection, metadata, reingest,
                              collection_name, collection_id)
    except BaseException as exc:
        session.rollback()
        created = exc.created if isinstance(exc, _StorageDown) else stored
        _remove_unreferenced(session, store, created)
        raise
    finally:
        for s in staged:
            s.spool.close()
    _enqueue(session, [r.document for r in results if r.outcome != "duplicate"])
    return results


def _put_objects(store: ObjectStore, staged: list[StagedFile]) -> list[str]:
    """Put each new original (content-addressed, so a known one is not sent again).
    Returns the keys this request created."""
    created: list[str] = []
    try:
        for s in {s.sha256: s for s in staged}.values():
            key = content_key(s.sha256)
            if not store.exists(key):
                store.put(key, s.spool, size=s.size, content_type=s.content_type)
                created.append(key)
    except StorageError as exc:
        log.warning("storage_unavailable", error=str(exc), stored_before_failure=len(created))
        raise _StorageDown(created) from exc
    return created


class _StorageDown(ServiceUnavailable):
    def __init__(self, created: list[str]) -> None:
        super().__init__(
            "Object storage is unavailable; nothing was stored. Try again later.",
            code="storage_unavailable",
            headers={"Retry-After": "5"},
        )
        self.created = created


def _record_all(
    session: Session,
    principal: Principal,
    staged: list[StagedFile],
    collection: Collection,
    metadata: dict[str, Any] | list[dict[str, Any]],
    reingest: bool,
    collection_name: str | None,
    collection_id: uuid.UUID | None,
) -> list[UploadResult]:
    """Write every row in one transaction. A concurrent upload of the same bytes into the
    same collection wins the unique constraint: then the rows are read again once."""
    for attempt in (1, 2):
        try:
            results = _record(session, staged, collection, metadata, reingest)
            session.commit()
            return results
        except IntegrityError:
            session.rollback()
            if attempt == 2:
                raise Conflict("The same files are being uploaded concurrently; retry.") from None
            collection = collections.writable_for_upload(
                session, principal, collection_name, collection_id
            )
    raise AssertionError("unreachable")


def _record(
    session: Session,
    staged: list[StagedFile],
    collection: Collection,
    metadata: dict[str, Any] | list[dict[str, Any]],
    reingest: bool,
) -> list[UploadResult]:
    shas = {s.sha256 for s in staged}
    known = {d.sha256: d for d in repository.by_sha(session, collection.id, shas)}
    seen: set[str] = set()
    results: list[UploadResult] = []
    for i, s in enumerate(staged):
        doc = known.get(s.sha256)
        if s.sha256 in seen and doc is not None:
            results.append(UploadResult(doc, collection, "duplicate"))  # twice in one request
            continue
        seen.add(s.sha256)
        if doc is not None:
            if reingest:
                _requeue(doc)
            results.append(UploadResult(doc, collection, "reingested" if reingest else "duplicate"))
            continue
        doc = Document(
            id=uuid.uuid4(),
            collection_id=collection.id,
            filename=s.filename,
            content_type=s.content_type,
            size_bytes=s.size,
            sha256=s.sha256,
            storage_key=content_key(s.sha256),
            metadata_=metadata[i] if isinstance(metadata, list) else metadata,
            status=DocumentStatus.queued,
            stage=IngestStage.queued.value,
            task_id=str(uuid.uuid4()),
            timings={},
        )
        session.add(doc)
        known[s.sha256] = doc
        results.append(UploadResult(doc, collection, "created"))
    session.flush()
    return results


def _requeue(doc: Document) -> None:
    stages.advance(doc, IngestStage.queued)
    doc.error = None
    doc.error_code = None
    doc.attempts = 0
    doc.task_id = str(uuid.uuid4())


def _enqueue(session: Session, documents: list[Document]) -> int:
    """Send the ingest tasks (after the rows are committed). Documents the broker did not
    take wait for the reconciler (stage waiting_for_queue): an accepted upload is never lost."""
    unsent = [d.id for d in documents if not queue.send_ingest(d)]
    for doc_id in unsent:
        doc = repository.lock(session, doc_id)
        if doc is not None and doc.stage == IngestStage.queued:
            stages.advance(doc, IngestStage.waiting_for_queue)
    if unsent:
        session.commit()
    return len(documents) - len(unsent)


def _remove_unreferenced(session: Session, store: ObjectStore, keys: list[str]) -> None:
    """Delete objects no document references (the orphan sweep retries what fails here)."""
    if not keys:
        return
    referenced = repository.referenced_keys(session, keys)
    session.rollback()  # end the read; nothing was written
    for key in keys:
        if key in referenced:
            continue
        try:
            store.delete(key)
        except StorageError as exc:
            log.warning("orphan_object_left", key=key, error=str(exc))


def get(session: Session, document_id: uuid.UUID, principal: Principal) -> Document:
    """A document in a collection the principal may read; 404 for every other id."""
    doc = repository.readable(session, document_id, principal)
    if doc is None:
        raise NotFound(f"No document {document_id}.")
    return doc


def list_chunks(
    session: Session, document_id: uuid.UUID, principal: Principal, *, limit: int, offset: int
) -> tuple[list[Chunk], int]:
    get(session, document_id, principal)
    return repository.chunks_page(session, document_id, limit, offset)


def delete(
    session: Session, store: ObjectStore, document_id: uuid.UUID, principal: Principal
) -> None:
    """Remove the rows (chunks, lexical postings) in one transaction, then the object.
    Needs write access to the collection: 404 if unreadable, 403 if read-only."""
    doc = repository.readable_for_update(session, document_id, principal)
    if doc is None:
        raise NotFound(f"No document {document_id}.")
    if not access.can_write(session, principal, doc.collection_id):
        raise Forbidden("This collection is shared with you read-only.")
    keys = [k for k in (doc.storage_key, doc.thumbnail_key) if k]  # original, thumbnail
    gone = (doc.id, doc.collection_id)
    repository.drop_chunks(session, doc.id)
    session.delete(doc)
    session.commit()
    deletions.record(*gone)  # the events stream tells the readers (the row is gone)
    _remove_unreferenced(session, store, keys)


def reingest(session: Session, document_id: uuid.UUID, principal: Principal) -> Document:
    """Queue a document again from its stored original (e.g. to retry a failed one).
    Needs write access: 404 if unreadable, 403 if read-only."""
    doc = repository.readable_for_update(session, document_id, principal)
    if doc is None:
        raise NotFound(f"No document {document_id}.")
    if not access.can_write(session, principal, doc.collection_id):
        raise Forbidden("This collection is shared with you read-only.")
    _requeue(doc)
    session.commit()
    _enqueue(session, [doc])
    return doc


def collection_name(session: Session, document: Document) -> str:
    return repository.collection_name(session, document.collection_id)


def open_original(store: ObjectStore, document: Document) -> BinaryIO:
    try:
        return store.open(document.storage_key)
    except StorageError as exc:
        raise ServiceUnavailable(
            "Object storage is unavailable.", code="storage_unavailable"
        ) from exc


_STATE_BY_STATUS = {
    DocumentStatus.queued: "PENDING",
    DocumentStatus.processing: "STARTED",
    DocumentStatus.ready: "SUCCESS",
    DocumentStatus.failed: "FAILURE",
}


def task_state(session: Session, task_id: str, principal: Principal) -> TaskState:
    """A task's state from its document row (which survives a Redis restart); only tasks on
    documents the principal may read, any other id is 'not found'."""
    doc = repository.by_task_id(session, task_id, principal)
    if doc is None:
        raise NotFound(f"No task {task_id}.")
    state = "RETRY" if doc.stage == IngestStage.retrying else _STATE_BY_STATUS[doc.status]
    return TaskState(doc, state, stages.progress_of(doc.stage))


def reconcile(session: Session, now: datetime | None = None) -> dict[str, int]:
    """Re-enqueue documents the queue never got or that stalled; fail those past their tries.

    - waiting_for_queue (the broker was down at upload): enqueue now;
    - queued or in progress with no progress for longer than the visibility timeout (the
      worker died and the message is gone): enqueue again, or fail once attempts run out.
    """
    settings = get_settings()
    now = now or datetime.now(UTC)
    before = now - timedelta(seconds=settings.task_visibility_timeout_s + 60)
    counts = {"enqueued": 0, "failed": 0}
    dead: list[tuple[uuid.UUID, int]] = []
    again: list[Document] = []
    for doc in [*repository.waiting_for_queue(session), *repository.stalled(session, before)]:
        if doc.attempts >= settings.task_max_retries + 1:
            dead.append((doc.id, doc.attempts))
            continue
        stages.advance(doc, IngestStage.queued)
        again.append(doc)
    session.commit()
    counts["enqueued"] = _enqueue(session, again)
    # Dead-letter through the pipeline's one way of failing a document: under its row lock,
    # dropping chunks of an earlier ingest, and not if a worker finished it meanwhile.
    for doc_id, attempts in dead:
        reason = f"No progress after {attempts} attempts: the worker was lost each time."
        if pipeline.mark_failed(doc_id, FailureCode.dead_lettered, reason,
                                only_if=(DocumentStatus.queued, DocumentStatus.processing)):
            counts["failed"] += 1
    if any(counts.values()):
        log.info("reconciled", **counts)
    return counts


def sweep_orphans(
    session: Session, store: ObjectStore, *, grace_s: int, now: datetime | None = None
) -> int:
    """Delete originals no document references that are older than `grace_s` (an upload in
    flight has stored its object but not yet committed its row). Returns how many went."""
    cutoff = (now or datetime.now(UTC)) - timedelta(seconds=grace_s)
    removed = 0
    batch: list[str] = []

    def flush() -> int:
        referenced = repository.referenced_keys(session, batch)
        gone = 0
        for key in batch:
            if key not in referenced:
                store.delete(key)
                gone += 1
        batch.clear()
        return gone

    for key, modified in store.iter_objects("objects/"):
        if modified < cutoff:
            batch.append(key)
        if len(batch) >= 500:
            removed += flush()
    if batch:
        removed += flush()
    session.commit()  # ends the read-only transaction
    if removed:
        log.info("orphans_swept", removed=removed)
    return removed
