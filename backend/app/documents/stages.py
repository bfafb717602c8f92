"""A document's ingest stage as a typed state machine: the stages, the moves allowed between
them, the status each stage implies and the progress a client may show.

Every write of `Document.stage` goes through `advance()`; the database holds the same rules
as CHECK constraints (migration 0003), so a stage outside this table cannot be stored.

    queued ──► fetching ─► parsing ─► chunking ─► embedding ─► writing ─► done
      │  ▲        │ forward, also past stages: a small document's run writes only the stages
      │  │        │ it spends noticeable time in (ingest/pipeline.py); any in-progress stage
      │  │        │ may go to `retrying` (a transient error), or back to `fetching` (a
      ▼  │        │ redelivered task starts over)
    waiting_for_queue (the broker was down; the reconciler enqueues it later)
    any stage ──► failed (a permanent error; `error_code` and `error` say why)
    any stage ──► queued (a re-ingest, or the reconciler re-enqueues stalled work)
"""

from __future__ import annotations

import enum

from app.documents.models import Document, DocumentStatus


class IngestStage(enum.StrEnum):
    queued = "queued"
    waiting_for_queue = "waiting_for_queue"
    retrying = "retrying"
    fetching = "fetching"
    parsing = "parsing"
    chunking = "chunking"
    embedding = "embedding"
    writing = "writing"
    done = "done"
    failed = "failed"


WAITING = (IngestStage.queued, IngestStage.waiting_for_queue, IngestStage.retrying)
IN_PROGRESS = (
    IngestStage.fetching,
    IngestStage.parsing,
    IngestStage.chunking,
    IngestStage.embedding,
    IngestStage.writing,
)

STATUS_OF: dict[IngestStage, DocumentStatus] = {
    **{s: DocumentStatus.queued for s in WAITING},
    **{s: DocumentStatus.processing for s in IN_PROGRESS},
    IngestStage.done: DocumentStatus.ready,
    IngestStage.failed: DocumentStatus.failed,
}

# Progress through the pipeline (0..1), for a progress bar.
PROGRESS: dict[IngestStage, float] = {
    IngestStage.queued: 0.0,
    IngestStage.waiting_for_queue: 0.0,
    IngestStage.retrying: 0.0,
    IngestStage.fetching: 0.1,
    IngestStage.parsing: 0.2,
    IngestStage.chunking: 0.35,
    IngestStage.embedding: 0.5,
    IngestStage.writing: 0.9,
    IngestStage.done: 1.0,
    IngestStage.failed: 1.0,
}

_NEXT_IN_PIPELINE = {
    IngestStage.fetching: IngestStage.parsing,
    IngestStage.parsing: IngestStage.chunking,
    IngestStage.chunking: IngestStage.embedding,
    IngestStage.embedding: IngestStage.writing,
    IngestStage.writing: IngestStage.done,
}


def _allowed() -> dict[IngestStage, frozenset[IngestStage]]:
    table: dict[IngestStage, set[IngestStage]] = {s: set() for s in IngestStage}
    for stage in IngestStage:
        # A re-ingest or the reconciler may queue any document again; anything may fail.
        table[stage] |= {IngestStage.queued, IngestStage.failed}
    table[IngestStage.queued] |= {IngestStage.waiting_for_queue, IngestStage.fetching}
    table[IngestStage.waiting_for_queue] |= {IngestStage.fetching}
    table[IngestStage.retrying] |= {IngestStage.fetching, IngestStage.waiting_for_queue}
    for stage in IN_PROGRESS:
        # Forward (to any later stage); a transient error; a redelivered task starting over.
        later, nxt = set(), _NEXT_IN_PIPELINE.get(stage)
        while nxt is not None:
            later.add(nxt)
            nxt = _NEXT_IN_PIPELINE.get(nxt)
        table[stage] |= later | {IngestStage.retrying, IngestStage.fetching}
    return {stage: frozenset(targets) for stage, targets in table.items()}


ALLOWED: dict[IngestStage, frozenset[IngestStage]] = _allowed()


class InvalidTransition(RuntimeError):
    """A move the state machine does not allow: a bug, never a user's error."""


def can_move(current: IngestStage, target: IngestStage) -> bool:
    return target in ALLOWED[current]


def sources(target: IngestStage) -> frozenset[IngestStage]:
    """The stages a document may be in to move to `target` (itself included, as `advance`
    allows staying put)."""
    return frozenset({s for s, targets in ALLOWED.items() if target in targets} | {target})


def move(target: IngestStage) -> tuple[list[str], dict[str, object]]:
    """The same move as `advance`, for one UPDATE that does not load the document
    (documents.repository.advance_stage): the stages it may be in, and the values to set."""
    allowed = sorted(s.value for s in sources(target))
    return allowed, {"stage": target.value, "status": STATUS_OF[target]}


def advance(document: Document, target: IngestStage) -> None:
    """Move the document to `target` and set the status that stage implies."""
    current = IngestStage(document.stage) if document.stage else IngestStage.queued
    if current != target and not can_move(current, target):
        raise InvalidTransition(f"document {document.id}: {current} -> {target} is not allowed")
    document.stage = target.value
    document.status = STATUS_OF[target]


def progress_of(stage: str) -> float:
    return PROGRESS[IngestStage(stage)]

