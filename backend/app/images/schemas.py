"""Request and response shapes of the images domain. A similar-image hit is the search
domain's SearchHit (one shape for every hit list)."""

from __future__ import annotations

import uuid

from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.core.config import get_settings
from app.search.schemas import SearchHit


class _KAndCollection(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # SEARCH_DEFAULT_K and SEARCH_MAX_K, like /search.
    k: int = Field(default_factory=lambda: get_settings().search_default_k, ge=1)
    collection: str | None = Field(default=None, min_length=1, max_length=200)

    @model_validator(mode="after")
    def _k_at_most_max(self) -> _KAndCollection:
        if self.k > get_settings().search_max_k:
            raise ValueError(f"k is at most {get_settings().search_max_k} (SEARCH_MAX_K)")
        return self


class ImageSearchRequest(_KAndCollection):
    """Images similar to one of yours (`document_id`), or, with a CLIP-style image embedder
    configured, images matching a text (`query`). Give exactly one."""

    document_id: uuid.UUID | None = None
    query: str | None = Field(default=None, min_length=1, max_length=1000)

    @model_validator(mode="after")
    def _one_of(self) -> ImageSearchRequest:
        if (self.document_id is None) == (self.query is None):
            raise ValueError("give either 'document_id' or 'query'")
        if self.query is not None and not self.query.strip():
            raise ValueError("query must contain a non-blank character")
        return self


class ImageUploadForm(_KAndCollection):
    """The form fields next to an uploaded query image (multipart `file`)."""


class ImageSearchResponse(BaseModel):
    results: list[SearchHit]
    took_ms: float
    # Images in scope (of the configured embedder's model) that were ranked.
    total_candidates: int
    model: str


class ObjectLabel(BaseModel):
    value: str
    confidence: float


class ImageAnalysisOut(BaseModel):
    objects: list[ObjectLabel]
    nsfw: float | None = Field(description="NSFW probability; null when IMAGE_SAFETY=none.")
    phash: str = Field(description="64-bit perceptual hash, 16 hex digits.")
    model: str
    description: str


class NearDuplicateOut(BaseModel):
    document_id: uuid.UUID
    filename: str
    collection: str
    distance: int = Field(description="Hamming distance between the perceptual hashes (bits).")


class NearDuplicatesOut(BaseModel):
    near_duplicates: list[NearDuplicateOut]
