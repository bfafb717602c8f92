"""HTTP endpoints of the documents domain: parse, call the service, shape the response."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Query, Response, UploadFile, status
from fastapi.responses import StreamingResponse
from sqlalchemy.orm import Session

from app.auth.principal import CurrentPrincipal
from app.auth.ratelimit import limit_upload
from app.core.db import get_db
from app.documents import library, service
from app.documents.models import Document, DocumentStatus
from app.documents.schemas import (
    ChunkOut,
    ChunkPage,
    DocumentOut,
    DocumentPage,
    DocumentType,
    SortKey,
    SortOrder,
    UploadedDocument,
    UploadResponse,
)
from app.documents.staging import IncomingFile, parse_metadata
from app.storage import ObjectStore, get_store

router = APIRouter(prefix="/api/v1/documents", tags=["documents"])

DB = Annotated[Session, Depends(get_db)]
Store = Annotated[ObjectStore, Depends(get_store)]


def to_out(doc: Document, collection: str) -> DocumentOut:
    return DocumentOut.model_validate(
        {**{k: getattr(doc, k) for k in DocumentOut.model_fields if hasattr(doc, k)},
         "metadata": doc.metadata_, "collection": collection}
    )


@router.post(
    "",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=UploadResponse,
    dependencies=[Depends(limit_upload)],
)
def upload_documents(
    db: DB,
    store: Store,
    principal: CurrentPrincipal,
    files: Annotated[list[UploadFile], File(description="One or more files.")],
    collection: Annotated[str | None, Form(max_length=200)] = None,
    collection_id: Annotated[
        uuid.UUID | None,
        Form(description="A collection shared with you for writing (instead of a name)."),
    ] = None,
    metadata: Annotated[
        str | None, Form(description="A JSON object stored with each file.")
    ] = None,
    reingest: Annotated[
        bool, Query(description="Ingest again even if the bytes are known.")
    ] = False,
) -> UploadResponse:
    results = service.upload(
        db,
        store,
        [IncomingFile(f.filename or "", f.file) for f in files],
        principal=principal,
        collection_name=collection,
        collection_id=collection_id,
        metadata=parse_metadata(metadata),
        reingest=reingest,
    )
    return UploadResponse(
        documents=[
            UploadedDocument(
                id=r.document.id,
                filename=r.document.filename,
                collection=r.collection.name,
                status=r.document.status,
                task_id=r.document.task_id,
                duplicate=r.duplicate,
                outcome=r.outcome,
            )
            for r in results
        ]
    )


@router.get("", response_model=DocumentPage)
def list_documents(
    db: DB,
    principal: CurrentPrincipal,
    status: DocumentStatus | None = None,
    collection: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
    type: Annotated[DocumentType | None, Query(
        description="content-type group: pdf, word (DOCX), text (plain, Markdown), html, "
                    "image (any image/*), other")] = None,
    sort: Annotated[SortKey, Query(description="created (upload time), updated, name "
                                               "(case-insensitive), size, status")] = "created",
    order: Annotated[SortOrder, Query()] = "desc",
) -> DocumentPage:
    rows, total = library.list_documents(
        db, principal=principal, status=status, collection=collection, limit=limit,
        offset=offset, kind=type, sort=sort, order=order,
    )  # fmt: skip
    return DocumentPage(
        items=[to_out(d, name) for d, name in rows], total=total, limit=limit, offset=offset
    )


@router.get("/{document_id}", response_model=DocumentOut)
def get_document(db: DB, principal: CurrentPrincipal, document_id: uuid.UUID) -> DocumentOut:
    doc = service.get(db, document_id, principal)
    return to_out(doc, service.collection_name(db, doc))


@router.get(
    "/{document_id}/download",
    response_class=StreamingResponse,
    responses={200: {"content": {"application/octet-stream": {}}}},
)
def download_document(
    db: DB, store: Store, principal: CurrentPrincipal, document_id: uuid.UUID
) -> StreamingResponse:
    doc = service.get(db, document_id, principal)
    stream = service.open_original(store, doc)
    from app.documents.download_headers import download_headers  # issue 7 item 7

    return StreamingResponse(
        iter(lambda: stream.read(1024 * 256), b""),
        media_type=doc.content_type,
        headers=download_headers(doc.filename, doc.content_type, doc.size_bytes),
    )


@router.get("/{document_id}/chunks", response_model=ChunkPage)
def list_chunks(
    db: DB,
    principal: CurrentPrincipal,
    document_id: uuid.UUID,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> ChunkPage:
    chunks, total = service.list_chunks(db, document_id, principal, limit=limit, offset=offset)
    return ChunkPage(
        items=[ChunkOut.model_validate(c) for c in chunks], total=total, limit=limit, offset=offset
    )


@router.post(
    "/{document_id}/reingest",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=DocumentOut,
    dependencies=[Depends(limit_upload)],
)
def reingest_document(db: DB, principal: CurrentPrincipal, document_id: uuid.UUID) -> DocumentOut:
    """Ingest the stored original again (retry a failed document, or re-index one)."""
    doc = service.reingest(db, document_id, principal)
    return to_out(doc, service.collection_name(db, doc))


@router.delete("/{document_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_document(
    db: DB, store: Store, principal: CurrentPrincipal, document_id: uuid.UUID
) -> Response:
    service.delete(db, store, document_id, principal)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
