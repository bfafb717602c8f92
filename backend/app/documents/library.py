"""The library's list (GET /api/v1/documents): readable documents filtered by status,
collection and content-type group, sorted, one page at a time. Read-only (no transaction to
end): documents/service.py is the unit of work for everything that writes."""

from __future__ import annotations

from sqlalchemy.orm import Session

from app.auth.principal import Principal
from app.documents import repository
from app.documents.models import Document, DocumentStatus
from app.documents.schemas import DocumentType, SortKey, SortOrder


def list_documents(
    session: Session,
    *,
    principal: Principal,
    status: DocumentStatus | None,
    collection: str | None,
    limit: int,
    offset: int,
    kind: DocumentType | None = None,
    sort: SortKey = "created",
    order: SortOrder = "desc",
    labels: dict[str, list[str]] | None = None,
) -> tuple[list[tuple[Document, str]], int]:
    query = repository.listing(principal, status, collection, kind, sort, order, labels)
    return repository.page(session, query, limit, offset)
