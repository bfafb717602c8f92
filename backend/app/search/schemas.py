"""Search request and response shapes (the contract `cairn eval` and the UI rely on)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StringConstraints,
    model_serializer,
    model_validator,
)

from app.core.config import get_settings
from app.labels.schemas import KIND_PATTERN

Mode = Literal["hybrid", "vector", "lexical"]
GroupBy = Literal["chunk", "document"]


class SearchFilters(BaseModel):
    model_config = ConfigDict(extra="forbid")

    content_types: list[str] | None = Field(default=None, min_length=1, max_length=50)
    created_after: datetime | None = None
    created_before: datetime | None = None
    # JSONB containment: a document matches when its metadata contains every key/value.
    metadata: dict[str, Any] | None = None
    # Document labels: {"topic": ["finance", "law"]} keeps documents with an active label of
    # any of the values, for every kind given; label_min_confidence applies to those labels.
    labels: dict[Annotated[str, StringConstraints(pattern=KIND_PATTERN)],
                 Annotated[list[Annotated[str, StringConstraints(min_length=1, max_length=200)]],
                           Field(min_length=1, max_length=100)]] | None = Field(
        default=None, max_length=20
    )
    label_min_confidence: float = Field(default=0.0, ge=0, le=1)


class SearchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # At most SEARCH_MAX_QUERY_CHARS characters (checked below; the JSON body cap,
    # MAX_JSON_BODY_BYTES, answers 413 to anything absurdly larger before it is parsed).
    query: str = Field(min_length=1)
    # SEARCH_DEFAULT_K and SEARCH_MAX_K, read when the API starts.
    k: int = Field(default_factory=lambda: get_settings().search_default_k, ge=1)
    offset: int = Field(default=0, ge=0, le=1000)
    mode: Mode = "hybrid"
    collection: str | None = Field(default=None, min_length=1, max_length=200)
    collections: list[str] | None = Field(default=None, min_length=1, max_length=100)
    document_ids: list[uuid.UUID] | None = Field(default=None, max_length=1000)
    filters: SearchFilters | None = None
    group_by: GroupBy = "chunk"
    # None: rerank when a reranker is configured (settings.reranker != "none").
    rerank: bool | None = None
    # Marked snippets (SearchHit.highlights) only when asked: they cost a ts_headline over
    # every hit's text. A JSON boolean; anything else is a 422.
    highlights: StrictBool = False

    @model_validator(mode="after")
    def _one_collection_field(self) -> SearchRequest:
        if self.collection is not None and self.collections is not None:
            raise ValueError("give either 'collection' or 'collections', not both")
        if not self.query.strip():
            raise ValueError("query must contain a non-blank character")
        limit = get_settings().search_max_query_chars
        if len(self.query) > limit:
            raise ValueError(
                f"query is {len(self.query)} characters; at most {limit} are accepted "
                "(SEARCH_MAX_QUERY_CHARS)"
            )
        if self.k > get_settings().search_max_k:
            raise ValueError(f"k is at most {get_settings().search_max_k} (SEARCH_MAX_K)")
        return self

    def collection_names(self) -> list[str] | None:
        if self.collection is not None:
            return [self.collection]
        return self.collections


class RetrieverScore(BaseModel):
    rank: int  # 1-based rank in that retriever's candidate list
    score: float  # that retriever's raw score (cosine similarity or BM25)


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
    retrievers: dict[str, RetrieverScore] = Field(default_factory=dict)
    # HTML-escaped snippets of the chunk with matched query terms wrapped in <mark>…</mark>;
    # empty unless the request asked for highlights.
    highlights: list[str] = Field(default_factory=list)
    metadata: dict[str, Any] = Field(default_factory=dict)
    # Candidate chunks of this document that matched; only present with group_by=document.
    matched_chunks: int | None = None

    @model_serializer(mode="wrap")
    def _drop_unset_group_count(self, handler: Any) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        if data.get("matched_chunks") is None:
            data.pop("matched_chunks", None)
        return data


class SearchResponse(BaseModel):
    query: str
    mode: Mode
    results: list[SearchHit]
    took_ms: float
    # Distinct candidates (chunks, or documents with group_by=document) before offset/k.
    total_candidates: int
