"""HTTP endpoints of the images domain: parse, call the service, shape the response.

`POST /api/v1/search/images` takes either a JSON body or a multipart upload (`file`, with
optional form fields k and collection); both are declared in the OpenAPI schema.
"""

from __future__ import annotations

import json
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile

from app.auth.principal import CurrentPrincipal
from app.auth.ratelimit import limit_search
from app.core.config import get_settings
from app.core.db import get_db
from app.core.errors import PayloadTooLarge, UnsupportedMediaType
from app.images import service
from app.images.schemas import (
    ImageAnalysisOut,
    ImageSearchRequest,
    ImageSearchResponse,
    ImageUploadForm,
    NearDuplicatesOut,
)

search_router = APIRouter(prefix="/api/v1/search", tags=["search"])
documents_router = APIRouter(prefix="/api/v1/documents", tags=["images"])

DB = Annotated[Session, Depends(get_db)]

_UPLOAD_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["file"],
    "properties": {
        "file": {"type": "string", "format": "binary", "description": "The query image."},
        "k": {"type": "integer", "minimum": 1},
        "collection": {"type": "string", "minLength": 1, "maxLength": 200},
    },
}
_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": ImageSearchRequest.model_json_schema(
                    ref_template="#/components/schemas/{model}"
                )
            },
            "multipart/form-data": {"schema": _UPLOAD_SCHEMA},
        },
    }
}


def _validate(model: type[ImageSearchRequest] | type[ImageUploadForm], data: Any) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise RequestValidationError(exc.errors(include_url=False)) from exc


async def _read_upload(request: Request) -> tuple[bytes, ImageUploadForm]:
    form = await request.form(max_files=1, max_fields=10)
    upload = form.get("file")
    fields = {k: v for k, v in form.items() if k != "file"}
    if not isinstance(upload, UploadFile):
        raise RequestValidationError(
            [{"loc": ("body", "file"), "msg": "an image file is required", "type": "missing"}]
        )
    if any(not isinstance(v, str) for v in fields.values()):
        raise RequestValidationError(
            [{"loc": ("body",), "msg": "only 'file' may be a file", "type": "value_error"}]
        )
    parsed = _validate(ImageUploadForm, fields)
    limit = get_settings().image_query_max_bytes
    data = await upload.read(limit + 1)
    if len(data) > limit:
        raise PayloadTooLarge(f"The query image is larger than {limit} bytes.")
    return data, parsed


@search_router.post(
    "/images",
    response_model=ImageSearchResponse,
    dependencies=[Depends(limit_search)],
    openapi_extra=_BODY,
    responses={
        404: {"description": "The document or collection does not exist (or is not yours), "
                             "or the document is not an analysed image."},
        413: {"description": "The query image is too large."},
        415: {"description": "The upload is not an image, or the body is neither JSON nor "
                             "multipart."},
    },
)
async def search_images(
    request: Request, db: DB, principal: CurrentPrincipal
) -> ImageSearchResponse:
    """The images most similar to one of yours (JSON `{document_id, k, collection?}`) or to
    an uploaded picture (multipart `file`, optional `k`, `collection`), among the images you
    may read, in the hit shape of /api/v1/search."""
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype == "multipart/form-data":
        data, form = await _read_upload(request)
        return await run_in_threadpool(service.search_by_upload, db, principal, data, form)
    if ctype != "application/json":
        raise UnsupportedMediaType("Send JSON or a multipart image upload.")
    try:
        body = json.loads(await request.body())
    except ValueError as exc:
        raise RequestValidationError(
            [{"loc": ("body",), "msg": "the body is not valid JSON", "type": "json_invalid"}]
        ) from exc
    parsed: ImageSearchRequest = _validate(ImageSearchRequest, body)
    return await run_in_threadpool(service.search, db, principal, parsed)


@documents_router.get("/{document_id}/image-analysis", response_model=ImageAnalysisOut)
def image_analysis(
    document_id: uuid.UUID, db: DB, principal: CurrentPrincipal
) -> ImageAnalysisOut:
    """What the image shows (object labels), its NSFW score, perceptual hash and description;
    404 `not_an_image` for a document that is not an analysed image."""
    return service.image_analysis(db, principal, document_id)


@documents_router.get("/{document_id}/near-duplicates", response_model=NearDuplicatesOut)
def near_duplicates(
    document_id: uuid.UUID, db: DB, principal: CurrentPrincipal
) -> NearDuplicatesOut:
    """Images you may read whose perceptual hash is within IMAGE_NEAR_DUP_DISTANCE bits."""
    return service.near_duplicates(db, principal, document_id)
