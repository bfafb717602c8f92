"""Why a document failed: a stable code a client can branch on, and a plain reason a person can
read. Raw exception text (library messages, provider response bodies, SQL) never reaches the
document row or the API; it goes to the worker's log with the document id."""

from __future__ import annotations

import enum


class FailureCode(enum.StrEnum):
    parse_failed = "parse_failed"  # corrupt, encrypted, too many pages, a bomb, no text
    image_too_large = "image_too_large"  # more pixels than IMAGE_MAX_PIXELS (a bomb)
    original_missing = "original_missing"  # the object vanished from storage
    embedding_failed = "embedding_failed"  # the embedder refused the text for good
    timed_out = "timed_out"  # the ingest passed its time limit
    gave_up = "gave_up"  # transient errors past the retry budget
    dead_lettered = "dead_lettered"  # the worker was lost on every attempt


class IngestFailure(Exception):
    """A permanent failure of one document: retrying cannot help."""

    def __init__(self, code: FailureCode, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason
