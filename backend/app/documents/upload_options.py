"""Upload options simple clients expect (issue 12): per-file metadata in one request, and a
synchronous mode that answers when every file is ready or failed.

- `file_metadata` (multipart form field): a JSON object keyed by the file's name as sent,
  each value a JSON object stored with that file, merged over the common `metadata` (its keys
  win). `-F 'file_metadata={"a.pdf": {"author": "Ada"}}'`.
- `?wait=<seconds>` (0 to UPLOAD_MAX_WAIT_S): the request waits for the ingest of its files;
  200 with their final statuses when all are ready or failed in time, else 202 as without it.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from sqlalchemy.orm import Session

from app.core.config import get_settings
from app.core.errors import Unprocessable
from app.documents import repository
from app.documents.models import DocumentStatus
from app.documents.staging import parse_metadata

FINAL = frozenset({DocumentStatus.ready, DocumentStatus.failed})
POLL_S = 0.25


def per_file_metadata(
    common: dict[str, Any], raw: str | None, filenames: list[str]
) -> dict[str, Any] | list[dict[str, Any]]:
    """The metadata of each file, in the order of `filenames` (or the common object when no
    per-file metadata was given). 422 for a name that is not among the files, or a value
    that is not an object."""
    if raw is None or raw.strip() == "":
        return common
    by_name = parse_metadata(raw)  # the same JSON and size rules as `metadata`
    unknown = sorted(set(by_name) - set(filenames))
    if unknown:
        raise Unprocessable("file_metadata names files that are not in the request.",
                            details={"unknown": unknown[:20]})
    for name, value in by_name.items():
        if not isinstance(value, dict):
            raise Unprocessable(f"file_metadata[{name!r}] must be a JSON object.")
    return [{**common, **by_name.get(name, {})} for name in filenames]


def check_wait(wait: float) -> float:
    limit = get_settings().upload_max_wait_s
    if wait < 0 or wait > limit:
        raise Unprocessable(f"wait must be between 0 and {limit} seconds.",
                            details={"max": limit})
    return wait


def wait_until_final(session: Session, document_ids: list[uuid.UUID], seconds: float) -> bool:
    """Poll the documents' statuses until all are ready or failed (True) or `seconds` pass
    (False). Afterwards the session's objects are expired, so they read the latest rows."""
    deadline = time.monotonic() + seconds
    try:
        while True:
            statuses = repository.statuses(session, document_ids)
            if all(statuses.get(i) in FINAL for i in document_ids):
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(min(POLL_S, max(0.0, deadline - time.monotonic())))
    finally:
        session.expire_all()
