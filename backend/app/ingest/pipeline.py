"""The ingest pipeline, top to bottom: fetch -> parse -> chunk -> embed -> write.

`run(document_id, task_id)` is called by the Celery task (documents/tasks.py) and is safe to
run again for the same document: chunks are replaced inside one transaction, so a redelivered
task never duplicates them. Permanent problems raise IngestFailure (the document ends
`failed` with the reason); anything else is transient and the task retries with backoff.
"""

from __future__ import annotations

import hashlib
import io
import time
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func
from sqlalchemy.orm import lazyload

from app.core.config import get_settings
from app.core.db import session_scope
from app.core.logging import get_logger
from app.documents import repository, stages
from app.documents.failures import FailureCode, IngestFailure
from app.documents.models import Document, DocumentStatus
from app.documents.stages import IngestStage
from app.images import repository as images_repository
from app.images.analysis import ImageAnalysis
from app.ingest import embed_batcher
from app.ingest.chunker import ChunkDraft, chunk_document, shown_chunks
from app.ingest.embedding_text import embedding_text, lexical_text
from app.ingest.parsers import ParseError, parse
from app.labels import work_repository
from app.labels.labelers import NAMES as LABELERS
from app.labels.models import RunStatus
from app.metrics import registry as ingest_metrics
from app.providers.embeddings import EmbeddingError, get_embedder
from app.search import bulk_index
from app.spaces import vectors as spaces
from app.storage import ObjectNotFound, content_key, get_store

log = get_logger(__name__)
# Chunks embedded between two checks that the document still exists (and still progresses:
# each check touches updated_at, which the reconciler reads to tell stalled from slow).
EMBED_SLICE = 128
# Stages a small document passes through in milliseconds are not written (each write is a
# session, an UPDATE and a commit: the four of a SciFact abstract took ~8 % of the worker's
# CPU): a text file of at most QUICK_TEXT_BYTES is not shown `parsing`, and a document of at
# most QUICK_TEXT_CHARS characters of text goes to `done` from the last stage written, in
# the write's transaction (the state machine allows forward moves past stages).
QUICK_TEXT_BYTES = 256 * 1024
QUICK_TEXT_CHARS = 20_000


__all__ = ["DocumentGone", "FailureCode", "IngestFailure", "Outcome", "mark_failed",
           "record_retry", "run"]


class DocumentGone(Exception):
    """The document was deleted while it was being ingested."""


@dataclass
class Outcome:
    status: str
    chunks: int = 0
    # This run wrote the chunks (and, in the same transaction, set the document's label runs
    # pending): the task only has to send it to the label queue.
    written: bool = False


# The run's first read takes the document row alone: Document.image is loaded eagerly
# (selectin) everywhere else, which cost a second query.
_ROW_ONLY = (lazyload(Document.image),)


def _set_stage(document_id: uuid.UUID, stage: IngestStage, **fields: object) -> None:
    """One UPDATE and its commit, through the state machine (`stages.move`); the document
    is read whole only at the run's start and in the write."""
    with session_scope() as session:
        now = repository.advance_stage(session, document_id, stage, **fields)
    if now is None:
        raise DocumentGone(str(document_id))
    if now != stage.value:
        raise stages.InvalidTransition(f"document {document_id}: {now} -> {stage} is not allowed")


def _touch(document_id: uuid.UUID) -> None:
    """Record progress (updated_at) or raise DocumentGone if the document was deleted."""
    with session_scope() as session:
        found = repository.touch(session, document_id)
    if not found:
        raise DocumentGone(str(document_id))


def run(document_id: uuid.UUID, task_id: str | None = None) -> Outcome:
    settings = get_settings()
    with session_scope() as session:
        doc = session.get(Document, document_id, options=_ROW_ONLY)
        if doc is None:
            return Outcome("deleted")
        if task_id is not None and doc.task_id not in (None, task_id):
            return Outcome("superseded")  # a re-ingest replaced this task
        if doc.status == DocumentStatus.ready and doc.task_id == task_id:
            return Outcome("ready", doc.chunk_count)  # redelivered after it finished
        if doc.status == DocumentStatus.failed and task_id is not None and doc.task_id == task_id:
            return Outcome("failed")  # redelivered after it was failed for good
        if doc.stage in (IngestStage.done, IngestStage.failed):
            stages.advance(doc, IngestStage.queued)  # an explicit re-run of a finished document
        if doc.attempts >= settings.task_max_retries + 1:
            # A file that kills its worker (or never finishes) comes back on every redelivery;
            # past the attempt budget it is dead-lettered instead of poisoning the queue.
            raise IngestFailure(
                FailureCode.dead_lettered,
                f"The ingest did not finish in {doc.attempts} attempts "
                "(the worker was lost or timed out each time).",
            )
        stages.advance(doc, IngestStage.fetching)
        doc.attempts += 1
        doc.error = None
        doc.error_code = None
        doc.started_at = func.now()
        storage_key, content_type, filename = doc.storage_key, doc.content_type, doc.filename
        other_spaces = spaces.targets(session, doc.collection_id)

    timings: dict[str, float] = {}
    clock = time.perf_counter()
    try:
        data = get_store().get_bytes(storage_key)
    except ObjectNotFound as exc:
        raise IngestFailure(
            FailureCode.original_missing, "The original is missing from object storage."
        ) from exc
    timings["fetch_ms"] = _lap(clock)

    if not (content_type.startswith("text/") and len(data) <= QUICK_TEXT_BYTES):
        _set_stage(document_id, IngestStage.parsing)
    clock = time.perf_counter()
    try:
        parsed = parse(data, content_type, filename)
    except ParseError as exc:
        # The library's own message stays in the log; the document gets the plain reason.
        log.warning("parse_failed", document_id=str(document_id), reason=str(exc),
                    cause=repr(exc.__cause__) if exc.__cause__ else None)
        raise IngestFailure(FailureCode(exc.code), str(exc)) from exc
    except RecursionError as exc:
        raise IngestFailure(
            FailureCode.parse_failed, "The file is nested too deeply to parse."
        ) from exc
    timings["parse_ms"] = _lap(clock)
    timings.update(parsed.timings)  # the parse's breakdown (OCR, page rendering)
    thumbnail_key = _store_thumbnail(parsed.thumbnail, timings)

    quick = len(parsed.text) <= QUICK_TEXT_CHARS
    if not quick:
        _set_stage(document_id, IngestStage.chunking, page_count=parsed.page_count)
    clock = time.perf_counter()
    embedder = get_embedder()
    drafts = chunk_document(
        parsed,
        embedder.count_tokens,
        chunk_size=settings.chunk_size_tokens,
        overlap=settings.chunk_overlap_tokens,
        granularity=settings.index_granularity,
        window_tokens=embedder.window_tokens or settings.embedding_max_tokens,
        token_words=embedder.token_words,
    )
    timings["chunk_ms"] = _lap(clock)

    if not quick:
        _set_stage(document_id, IngestStage.embedding)
    clock = time.perf_counter()
    texts = [embedding_text(d.text, d.ordinal, parsed.title, d.granularity) for d in drafts]
    vectors: list[list[float]] = []
    try:
        for start in range(0, len(texts), EMBED_SLICE):
            if start:  # a long document deleted meanwhile stops here, not after all of it
                _touch(document_id)
            vectors += embed_batcher.embed(embedder, texts[start : start + EMBED_SLICE])
    except EmbeddingError as exc:
        if exc.transient:
            raise
        log.warning("embedding_refused", document_id=str(document_id), error=str(exc))
        raise IngestFailure(
            FailureCode.embedding_failed, "The embedding model refused the document's text."
        ) from exc
    # The collection's other spaces too, here and not in the write's transaction (which
    # holds the document's row lock and the collection's shared rows until it commits).
    prepared = spaces.embed_for_ingest(other_spaces, texts) if other_spaces else None
    timings["embed_ms"] = _lap(clock)
    if not quick:
        _set_stage(document_id, IngestStage.writing)

    clock = time.perf_counter()
    extras = Extras(thumbnail_key, parsed.pages, parsed.image, parsed.vision, parsed.vision_error,
                    parsed.title, page_count=parsed.page_count)
    extras.spaces = prepared
    _write(document_id, drafts, vectors, embedder.model_name, timings, clock, extras)
    shown = shown_chunks(drafts)
    ingest_metrics.record_ingest(timings, chunks=shown)
    log.info("document_ready", document_id=str(document_id), chunks=shown, **timings)
    return Outcome("ready", shown, written=True)


@dataclass
class Extras:
    """What the write records besides chunks: thumbnail, per-page paths, image facts."""

    thumbnail_key: str | None
    pages: list[dict[str, Any]] | None
    image: dict[str, Any] | None
    vision: ImageAnalysis | None = None
    vision_error: str | None = None
    title: str | None = None
    spaces: spaces.Prepared | None = None  # the other spaces' vectors, from the embed stage
    page_count: int | None = None


def _store_thumbnail(data: bytes | None, timings: dict[str, float]) -> str | None:
    """Put the thumbnail next to the originals (content-addressed); a storage error is
    transient and retries the task. Stored again even if present, which refreshes its age
    so the orphan sweep's grace period covers the time until the write commits."""
    if data is None:
        return None
    clock = time.perf_counter()
    key = content_key(hashlib.sha256(data).hexdigest())
    get_store().put(key, io.BytesIO(data), size=len(data), content_type="image/webp")
    timings["thumbnail_ms"] = _lap(clock)
    return key


def _write(
    document_id: uuid.UUID,
    drafts: list[ChunkDraft],
    vectors: list[list[float]],
    model: str,
    timings: dict[str, float],
    clock: float,
    extras: Extras,
) -> None:
    """Replace the document's chunks and lexical postings in one transaction (the postings
    from each chunk's `lexical_text`)."""
    with session_scope() as session:
        doc = repository.lock(session, document_id, row_only=True)
        if doc is None:
            raise DocumentGone(str(document_id))
        # Every write sets embedding_model, so a document without one was never written: it
        # has no chunks, image facts or image labels to replace (three queries fewer).
        written = doc.embedding_model is not None
        if written and (doc.chunk_count or repository.has_chunks(session, document_id)):
            repository.drop_chunks(session, document_id)
        lexical = [lexical_text(d.text, d.ordinal, extras.title, d.granularity) for d in drafts]
        rows = [
            bulk_index.ChunkRow(
                ordinal=d.ordinal, text=d.text, page=d.page, char_start=d.char_start,
                char_end=d.char_end, token_count=d.token_count, embedding=v, source=d.source,
                boxes=d.boxes,
                granularity=d.granularity,
                lexical_text=None if t == d.text else t,
            )
            for d, v, t in zip(drafts, vectors, lexical, strict=True)
        ]
        bulk_index.write_chunks(session, document_id, doc.collection_id, rows, model)
        spaces.write_vectors(session, doc, extras.title, extras.spaces)  # the other models
        # The document's fields all before the next statement, which flushes them: one
        # UPDATE (a second would also make the session read the row back).
        stages.advance(doc, IngestStage.done)
        doc.chunk_count = shown_chunks(drafts)
        doc.page_count = extras.page_count  # (a quick document's `chunking` was not written)
        doc.embedding_model = model
        doc.finished_at = func.now()
        doc.thumbnail_key = extras.thumbnail_key
        doc.pages = extras.pages
        doc.title = extras.title  # a re-embedding puts it in front of later chunks
        timings["write_ms"] = _lap(clock)
        doc.timings = timings
        # Labels follow the ready document: its runs are pending from the same commit, so a
        # lost hand-off to the label queue is found by the labels reconciler.
        work_repository.set_runs(session, document_id, LABELERS, RunStatus.pending, fresh=True)
        if written or extras.image is not None:
            repository.replace_image(session, doc, extras.image)
        if extras.image is not None:
            images_repository.record_ingest(
                session, document_id=document_id, collection_id=doc.collection_id,
                analysis=extras.vision, error=extras.vision_error,
            )
        elif written:
            images_repository.forget(session, document_id)


def mark_failed(
    document_id: uuid.UUID,
    code: FailureCode,
    reason: str,
    *,
    only_if: tuple[DocumentStatus, ...] | None = None,
) -> bool:
    """Fail the document and drop any chunks of an earlier ingest: a failed document is
    never searchable (a re-ingest that fails must not leave stale chunks behind).

    Runs under the document's row lock; with `only_if`, a document that has meanwhile moved
    to another status (e.g. a worker finished it) is left alone. True if it was failed."""
    with session_scope() as session:
        doc = repository.lock(session, document_id)
        if doc is None or (only_if is not None and doc.status not in only_if):
            return False
        if doc.chunk_count or repository.has_chunks(session, document_id):
            repository.drop_chunks(session, document_id)
        doc.chunk_count = 0
        # Nor does it keep what an earlier ingest read (the sweep takes the old thumbnail).
        doc.thumbnail_key = None
        doc.pages = None
        repository.replace_image(session, doc, None)
        images_repository.forget(session, document_id)
        stages.advance(doc, IngestStage.failed)
        doc.error_code = code.value
        doc.error = reason[:2000]
        doc.finished_at = func.now()
    return True


def record_retry(document_id: uuid.UUID, attempt: int) -> None:
    """A transient error: the document waits for its next attempt (stage `retrying`)."""
    try:
        with session_scope() as session:
            doc = repository.lock(session, document_id)
            if doc is not None and stages.can_move(IngestStage(doc.stage), IngestStage.retrying):
                stages.advance(doc, IngestStage.retrying)
                doc.error = f"Retrying after a temporary problem (attempt {attempt})."
    except Exception:  # the database may be the thing that is down
        log.warning("retry_not_recorded", document_id=str(document_id))


def _lap(start: float) -> float:
    return round((time.perf_counter() - start) * 1000, 1)
