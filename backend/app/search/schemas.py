"""Search request and response shapes."""

from __future__ import annotations

import uuid

from pydantic import BaseModel, ConfigDict, Field


class SearchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    query: str = Field(min_length=1, max_length=4000)
    k: int = Field(default=10, ge=1, le=100)
    collection: str | None = Field(default=None, max_length=200)
    document_ids: list[uuid.UUID] | None = Field(default=None, max_length=1000)


class SearchHit(BaseModel):
    chunk_id: int
    document_id: uuid.UUID
    filename: str
    collection: str
    page: int | None
    ordinal: int
    char_start: int
    char_end: int
    text: str
    score: float


class SearchResponse(BaseModel):
    query: str
    results: list[SearchHit]
    took_ms: float
