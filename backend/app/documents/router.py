"""HTTP endpoints of the documents domain: parse, call the service, shape the response."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Query, Request, Response, UploadFile, status
from fastapi.responses import StreamingResponse
from sqlalchemy.orm import Session

from app.auth.principal import CurrentPrincipal
from app.auth.ratelimit import limit_upload
from app.core.db import get_db
from app.documents import known, library, service, thumbnails, upload_options
from app.documents.image_out import image_out, thumbnail_headers
from app.documents.models import Document, DocumentStatus
from app.documents.schemas import (
    ChunkOut,
    ChunkPage,
    DocumentOut,
    DocumentPage,
    DocumentType,
    KnownDocument,
    KnownRequest,
    KnownResponse,
    SortKey,
    SortOrder,
    UploadedDocument,
    UploadResponse,
)
from app.documents.staging import IncomingFile, parse_metadata
from app.labels.schemas import parse_label_params
from app.storage import ObjectStore, get_store

router = APIRouter(prefix="/api/v1/documents", tags=["documents"])

DB = Annotated[Session, Depends(get_db)]
Store = Annotated[ObjectStore, Depends(get_store)]


def to_out(doc: Document, collection: str, *, include_gps: bool = False) -> DocumentOut:
    fields = {k: getattr(doc, k) for k in DocumentOut.model_fields if hasattr(doc, k)}
    return DocumentOut.model_validate(
        {**fields, "metadata": doc.metadata_, "collection": collection,
         "image": image_out(doc.image, include_gps=include_gps),
         "has_thumbnail": doc.thumbnail_key is not None}
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
    file_metadata: Annotated[
        str | None,
        Form(description="A JSON object keyed by file name: each value (an object) is stored "
             "with that file, merged over `metadata`."),
    ] = None,
    reingest: Annotated[
        bool, Query(description="Ingest again even if the bytes are known.")
    ] = False,
    wait: Annotated[
        float, Query(description="Wait up to this many seconds (at most UPLOAD_MAX_WAIT_S) "
                     "for every file to be ready or failed: 200 with final statuses, else 202.")
    ] = 0,
    response: Response = None,  # type: ignore[assignment]
) -> UploadResponse:
    wait = upload_options.check_wait(wait)
    names = [f.filename or "" for f in files]
    results = service.upload(
        db,
        store,
        [IncomingFile(f.filename or "", f.file) for f in files],
        principal=principal,
        collection_name=collection,
        collection_id=collection_id,
        metadata=upload_options.per_file_metadata(parse_metadata(metadata), file_metadata,
                                                  names),
        reingest=reingest,
    )
    if wait and upload_options.wait_until_final(db, [r.document.id for r in results], wait):
        response.status_code = status.HTTP_200_OK
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
                error=r.document.error,
            )
            for r in results
        ]
    )


@router.post("/known", response_model=KnownResponse)
def known_documents(db: DB, principal: CurrentPrincipal, body: KnownRequest) -> KnownResponse:
    """Which of these SHA-256 digests your collection already holds (ask before sending)."""
    docs = known.known_documents(db, principal, body.collection, body.sha256)
    return KnownResponse(known=[
        KnownDocument(sha256=d.sha256, document_id=d.id, filename=d.filename, status=d.status,
                      error=d.error)
        for d in docs
    ])


@router.get("", response_model=DocumentPage)
def list_documents(
    db: DB,
    principal: CurrentPrincipal,
    status: DocumentStatus | None = None,
    collection: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
    label: Annotated[
        list[str] | None,
        Query(max_length=50, description="kind:value, repeatable (any value per kind, all kinds)"),
    ] = None,
    type: Annotated[DocumentType | None, Query(
        description="content-type group: pdf, word (DOCX), text (plain, Markdown), html, "
                    "image (any image/*), other")] = None,
    sort: Annotated[SortKey, Query(description="created (upload time), updated, name "
                                               "(case-insensitive), size, status")] = "created",
    order: Annotated[SortOrder, Query()] = "desc",
) -> DocumentPage:
    rows, total = library.list_documents(
        db, principal=principal, status=status, collection=collection, limit=limit,
        offset=offset, kind=type, sort=sort, order=order, labels=parse_label_params(label),
    )  # fmt: skip
    return DocumentPage(
        items=[to_out(d, name) for d, name in rows], total=total, limit=limit, offset=offset
    )


@router.get("/{document_id}", response_model=DocumentOut)
def get_document(
    db: DB,
    principal: CurrentPrincipal,
    document_id: uuid.UUID,
    include_gps: Annotated[
        bool, Query(description="Include an image's GPS position (private by default).")
    ] = False,
) -> DocumentOut:
    doc = service.get(db, document_id, principal)
    return to_out(doc, service.collection_name(db, doc), include_gps=include_gps)


@router.get(
    "/{document_id}/thumbnail",
    response_class=Response,
    responses={200: {"content": {"image/webp": {}}}, 304: {"description": "Not modified"}},
)
def get_thumbnail(
    request: Request, db: DB, store: Store, principal: CurrentPrincipal, document_id: uuid.UUID
) -> Response:
    """A WebP thumbnail of an image or of a PDF's first page; 404 no_thumbnail otherwise."""
    thumb = thumbnails.get(db, store, document_id, principal)
    headers = thumbnail_headers(thumb)
    if thumb.etag in request.headers.get("if-none-match", ""):
        return Response(status_code=status.HTTP_304_NOT_MODIFIED, headers=headers)
    return Response(content=thumb.data, media_type="image/webp", headers=headers)


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
