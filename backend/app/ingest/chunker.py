"""Token-aware chunking with overlap (semchunk), keeping character spans and pages."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import cast

from semchunk.semchunk import chunkerify

from app.ingest.parsers import ParsedDocument


@dataclass
class ChunkDraft:
    ordinal: int
    text: str
    char_start: int
    char_end: int
    page: int | None
    token_count: int


def chunk_document(
    parsed: ParsedDocument,
    count_tokens: Callable[[str], int],
    *,
    chunk_size: int,
    overlap: int,
) -> list[ChunkDraft]:
    """Split on the largest semantic boundary that fits (paragraphs, sentences, words)."""
    chunker = chunkerify(count_tokens, chunk_size)
    # one text in, offsets=True: semchunk returns (texts, spans)
    texts, spans = cast(
        "tuple[list[str], list[tuple[int, int]]]",
        chunker(parsed.text, offsets=True, overlap=overlap or None),
    )
    drafts: list[ChunkDraft] = []
    for text, (start, end) in zip(texts, spans, strict=True):
        if not text.strip():
            continue
        drafts.append(
            ChunkDraft(
                ordinal=len(drafts),
                text=text,
                char_start=start,
                char_end=end,
                page=parsed.page_at(start),
                token_count=count_tokens(text),
            )
        )
    return drafts
