"""Chat request and response shapes (POST /api/v1/chat, the conversations routes)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.core.config import get_settings
from app.search.schemas import SearchFilters


class ChatRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    message: str = Field(min_length=1, max_length=4000)
    conversation_id: uuid.UUID | None = None
    collection: str | None = Field(default=None, min_length=1, max_length=200)
    collections: list[str] | None = Field(default=None, min_length=1, max_length=100)
    filters: SearchFilters | None = None
    # Passages to retrieve (CHAT_DEFAULT_K when absent; at most SEARCH_MAX_K).
    k: int | None = Field(default=None, ge=1, le=50)
    stream: bool = False
    # One of LLM_PROVIDER and LLM_ALLOWED_PROVIDERS; LLM_PROVIDER when absent.
    provider: str | None = Field(default=None, max_length=32)

    @model_validator(mode="after")
    def _check(self) -> ChatRequest:
        if self.collection is not None and self.collections is not None:
            raise ValueError("give either 'collection' or 'collections', not both")
        if not self.message.strip():
            raise ValueError("message must contain a non-blank character")
        if self.k is not None and self.k > get_settings().search_max_k:
            raise ValueError(f"k is at most {get_settings().search_max_k} (SEARCH_MAX_K)")
        return self


class Source(BaseModel):
    """A numbered passage given to the model; the answer cites it as [n]."""

    n: int
    document_id: uuid.UUID
    filename: str
    collection: str
    page: int | None
    chunk_id: int
    char_start: int
    char_end: int
    snippet: str
    score: float
    similarity: float


class Citation(BaseModel):
    marker: str  # "[2]"
    n: int
    source: Source


class ChatAnswer(BaseModel):
    conversation_id: uuid.UUID | None
    message_id: int | None
    query: str  # the standalone question retrieval ran with
    answer: str
    provider: str
    not_found: bool
    sources: list[Source]
    citations: list[Citation]
    # Markers the model wrote that refer to no passage it was given: removed from the answer.
    invalid_citations: list[str] = Field(default_factory=list)
    usage: dict[str, int] = Field(default_factory=dict)
    timings: dict[str, float] = Field(default_factory=dict)


class MessageOut(BaseModel):
    id: int
    role: str
    content: str
    query: str | None
    sources: list[dict[str, Any]]
    provider: str | None
    usage: dict[str, Any]
    timings: dict[str, Any]
    created_at: datetime


class ConversationOut(BaseModel):
    id: uuid.UUID
    title: str
    created_at: datetime
    updated_at: datetime


class ConversationDetail(ConversationOut):
    messages: list[MessageOut]


class ConversationPage(BaseModel):
    items: list[ConversationOut]
    total: int
    limit: int
    offset: int
