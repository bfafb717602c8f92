"""Which files a collection already holds, by SHA-256: a client (`cairn ingest`) asks before
sending bytes, so re-running on the same folder uploads nothing it has sent before. Only the
caller's own collection of that name (where an upload of the same name goes) is consulted."""

from __future__ import annotations

from sqlalchemy.orm import Session

from app.auth.principal import Principal
from app.collections import service as collections
from app.documents import repository
from app.documents.models import Document


def known_documents(
    session: Session, principal: Principal, collection: str | None, sha256s: list[str]
) -> list[Document]:
    found = collections.own_named(session, principal.user_id, collection)
    if found is None or not sha256s:
        return []
    return repository.by_sha(session, found.id, {s.lower() for s in sha256s})
