"""Image search, near-duplicates and an image's analysis, strictly within what the caller
may read (collections/access.py). A document the caller cannot read answers 404 exactly like
a missing one."""

from __future__ import annotations

import io
import time
import uuid
import warnings
from collections.abc import Callable

from PIL import Image, UnidentifiedImageError
from sqlalchemy.orm import Session

from app.auth.principal import Principal
from app.collections import service as collections
from app.collections.access import readable_collection_ids
from app.core.config import get_settings
from app.core.errors import (
    NotFound,
    PayloadTooLarge,
    ServiceUnavailable,
    Unprocessable,
    UnsupportedMediaType,
)
from app.documents import repository as documents
from app.images import repository
from app.images.analysis import ImageAnalysis
from app.images.models import ImageVector, to_unsigned
from app.images.schemas import (
    ImageAnalysisOut,
    ImageSearchRequest,
    ImageSearchResponse,
    ImageUploadForm,
    NearDuplicateOut,
    NearDuplicatesOut,
    ObjectLabel,
)
from app.providers.vision import (
    ImageEmbedder,
    VisionConfigError,
    VisionError,
    get_image_embedder,
)
from app.search.schemas import RetrieverScore, SearchHit


def attach_analysis(session: Session, *, document_id: uuid.UUID, analysis: ImageAnalysis) -> None:
    """Store an image's analysis on its document (one unit of work: a backfill, the tests;
    the ingest pipeline calls repository.save inside its own write transaction)."""
    document = documents.lock(session, document_id)
    if document is None:
        raise NotFound("No such document.")
    repository.save(
        session, document_id=document.id, collection_id=document.collection_id, analysis=analysis
    )
    session.commit()


def _image_row(session: Session, principal: Principal, document_id: uuid.UUID) -> ImageVector:
    if documents.readable(session, document_id, principal) is None:
        raise NotFound("No such document.")
    row = repository.readable(session, document_id, readable_collection_ids(session, principal))
    if row is None:
        raise NotFound("This document is not an analysed image.", code="not_an_image")
    return row


def image_analysis(
    session: Session, principal: Principal, document_id: uuid.UUID
) -> ImageAnalysisOut:
    row = _image_row(session, principal, document_id)
    return ImageAnalysisOut(
        objects=[ObjectLabel(**o) for o in row.objects],
        nsfw=row.nsfw,
        phash=f"{to_unsigned(row.phash):016x}",
        model=row.model,
        description=row.description,
    )


def near_duplicates(
    session: Session, principal: Principal, document_id: uuid.UUID
) -> NearDuplicatesOut:
    row = _image_row(session, principal, document_id)
    found = repository.near_duplicates(
        session,
        row.phash,
        collection_ids=readable_collection_ids(session, principal),
        max_distance=get_settings().image_near_dup_distance,
        exclude=document_id,
    )
    return NearDuplicatesOut(
        near_duplicates=[
            NearDuplicateOut(
                document_id=d.document_id, filename=d.filename, collection=d.collection,
                distance=d.distance,
            )
            for d in found
        ]
    )


def _scope(session: Session, principal: Principal, collection: str | None) -> list[uuid.UUID]:
    if collection is not None:
        return [collections.get_by_name(session, collection, principal).id]
    return readable_collection_ids(session, principal)


def _search(
    session: Session,
    principal: Principal,
    vector: list[float],
    *,
    model: str,
    k: int,
    collection: str | None,
    exclude: uuid.UUID | None,
    start: float,
) -> ImageSearchResponse:
    hits, total = repository.similar(
        session, vector, model=model, collection_ids=_scope(session, principal, collection),
        k=k, exclude=exclude,
    )
    return ImageSearchResponse(
        results=[
            SearchHit(
                chunk_id=h.chunk_id, document_id=h.document_id, filename=h.filename,
                collection=h.collection, page=h.page, ordinal=h.ordinal,
                char_start=h.char_start, char_end=h.char_end, text=h.text, score=h.score,
                retrievers={"image": RetrieverScore(rank=rank, score=h.score)},
                metadata=h.metadata,
            )
            for rank, h in enumerate(hits, start=1)
        ],
        took_ms=round((time.perf_counter() - start) * 1000, 2),
        total_candidates=total,
        model=model,
    )


def search(
    session: Session, principal: Principal, request: ImageSearchRequest
) -> ImageSearchResponse:
    """Images similar to a readable image document, or matching a text (CLIP-style embedder)."""
    start = time.perf_counter()
    if request.document_id is not None:
        row = _image_row(session, principal, request.document_id)
        vector, model = list(row.vector), row.model
    else:
        embedder = _embedder()
        if not embedder.supports_text:
            raise Unprocessable(
                "Text-to-image search needs a CLIP-style image embedder (IMAGE_EMBEDDER="
                "onnx-clip); search the images' descriptions with /api/v1/search instead.",
                code="text_search_unavailable",
            )
        vector = _vision(lambda: embedder.embed_text(request.query or ""))
        model = embedder.model_name
    return _search(session, principal, vector, model=model, k=request.k,
                   collection=request.collection, exclude=request.document_id, start=start)


def search_by_upload(
    session: Session, principal: Principal, data: bytes, form: ImageUploadForm
) -> ImageSearchResponse:
    """Images similar to an uploaded picture (not stored)."""
    start = time.perf_counter()
    image = decode_query_image(data)
    embedder = _embedder()
    vector = _vision(lambda: embedder.embed(image))
    return _search(session, principal, vector, model=embedder.model_name, k=form.k,
                   collection=form.collection, exclude=None, start=start)


def decode_query_image(data: bytes) -> Image.Image:
    """Decode an uploaded query image within IMAGE_QUERY_MAX_BYTES / IMAGE_QUERY_MAX_PIXELS;
    JSON errors for anything else (not an image 415, too large 413, corrupt 422)."""
    settings = get_settings()
    if len(data) > settings.image_query_max_bytes:
        raise PayloadTooLarge(
            f"The query image is larger than {settings.image_query_max_bytes} bytes."
        )
    if not data:
        raise Unprocessable("The query image is empty.", code="empty_file")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            if image.width * image.height > settings.image_query_max_pixels:
                raise PayloadTooLarge(
                    f"The query image has more than {settings.image_query_max_pixels} pixels.",
                    code="image_too_large",
                )
            image.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise PayloadTooLarge("The query image is too large to decode.",
                              code="image_too_large") from exc
    except UnidentifiedImageError as exc:
        raise UnsupportedMediaType("The upload is not an image Cairn can read.",
                                   code="not_an_image") from exc
    except (OSError, SyntaxError, ValueError) as exc:
        raise Unprocessable("The image is corrupt or truncated.", code="corrupt_image") from exc
    return image


def _embedder() -> ImageEmbedder:
    try:
        return get_image_embedder()
    except VisionConfigError as exc:
        raise ServiceUnavailable(f"Image search is not available: {exc}") from exc


def _vision(call: Callable[[], list[float]]) -> list[float]:
    try:
        return call()
    except VisionConfigError as exc:
        raise ServiceUnavailable(f"Image search is not available: {exc}") from exc
    except VisionError as exc:
        raise Unprocessable("The image could not be analysed.",
                            code="image_analysis_failed") from exc
