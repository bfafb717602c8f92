"""The text a chunk row is embedded from: the ingest and every re-embedding into another
embedding space call this one function, so all spaces embed the same text."""

from __future__ import annotations

from app.core.config import get_settings


def embedding_text(text: str, ordinal: int, title: str | None, granularity: str = "chunk") -> str:
    """Later chunks lose the document's title; put it back in front for the embedder (a
    whole-document row starts with it already)."""
    if title and ordinal > 0 and granularity == "chunk" and get_settings().chunk_title_prefix:
        return f"{title}\n{text}"
    return text
