"""Token-aware chunking with overlap (semchunk), keeping character spans and pages."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, cast

from semchunk.semchunk import chunkerify

from app.ingest.parsers import ParsedDocument
from app.ingest.token_count import PieceCounter
from app.providers.embeddings.base import TokenWords

GRANULARITY_OPTIONS = ("chunk", "document")


@dataclass
class ChunkDraft:
    ordinal: int
    text: str
    char_start: int
    char_end: int
    page: int | None
    token_count: int
    source: str = "text"
    boxes: list[dict[str, Any]] | None = None
    # "chunk", or an extra representation searched alongside ("document": the whole text)
    granularity: str = "chunk"


def chunk_document(
    parsed: ParsedDocument,
    count_tokens: Callable[[str], int],
    *,
    chunk_size: int,
    overlap: int,
    granularity: str = "chunk",
    window_tokens: int | None = None,
    token_words: Callable[[str], TokenWords | None] | None = None,
) -> list[ChunkDraft]:
    """Split on the largest semantic boundary that fits (paragraphs, sentences, words),
    then add the extra representations `granularity` asks for (`extra_drafts`).
    `token_words` (the embedder's) lets the pieces semchunk counts be looked up in one
    tokenisation of each text (ingest/token_count.py) instead of tokenised one by one."""
    # semchunk counts many pieces of the text, some more than once; its own memo would be one
    # unbounded cache per counter for the life of the process (every piece of every document
    # a worker ever chunked: ~10 MB per 1,000 SciFact abstracts), so the memo is this
    # document's and goes with it.
    count_tokens = lru_cache(maxsize=None)(count_tokens)
    drafts: list[ChunkDraft] = []
    # Text read by OCR and the file's own text are chunked apart (a chunk has one source).
    for low, high in _source_runs(parsed):
        section = parsed.text[low:high]
        if not section.strip():
            continue  # an image with no text: no chunks
        counter = PieceCounter(section, count_tokens,
                               token_words(section) if token_words else None)
        chunker = chunkerify(counter, chunk_size, memoize=False)
        # one text in, offsets=True: semchunk returns (texts, spans)
        texts, spans = cast(
            "tuple[list[str], list[tuple[int, int]]]",
            chunker(section, offsets=True, overlap=overlap or None),
        )
        for text, (rel_start, rel_end) in zip(texts, spans, strict=True):
            if not text.strip():
                continue
            start, end = low + rel_start, low + rel_end
            drafts.append(
                ChunkDraft(
                    ordinal=len(drafts),
                    text=text,
                    char_start=start,
                    char_end=end,
                    page=parsed.page_at(start),
                    token_count=counter(text),
                    **_provenance(parsed, start, end),
                )
            )
    return drafts + extra_drafts(
        parsed, drafts, count_tokens, granularity=granularity, window_tokens=window_tokens
    )


def _source_runs(parsed: ParsedDocument) -> list[tuple[int, int]]:
    """Character ranges of `parsed.text` over consecutive segments of the same source."""
    runs: list[tuple[int, int]] = []
    current: str | None = None
    for offset, seg in parsed.placed:
        if seg.source != current:
            if runs:
                runs[-1] = (runs[-1][0], offset)
            runs.append((offset, len(parsed.text)))
            current = seg.source
    return runs or [(0, len(parsed.text))]


def _provenance(parsed: ParsedDocument, start: int, end: int) -> dict[str, Any]:
    """Where a chunk's text came from (the segment it starts in) and, for OCR'd text, the
    boxes of the lines it overlaps."""
    source = "text"
    boxes: list[dict[str, Any]] = []
    for offset, seg in parsed.placed:
        if offset > end:
            break
        if offset <= start:
            source = seg.source
        for line_start, line_end, line in seg.lines:
            if offset + line_start < end and offset + line_end > start:
                boxes.append({"text": line.text, "box": line.box, "score": line.score})
    return {"source": source, "boxes": boxes or None}


def shown_chunks(drafts: list[ChunkDraft]) -> int:
    """How many of the drafts are chunks users see (a document's chunk_count)."""
    return sum(d.granularity == "chunk" for d in drafts)


def extra_drafts(
    parsed: ParsedDocument,
    drafts: list[ChunkDraft],
    count_tokens: Callable[[str], int],
    *,
    granularity: str,
    window_tokens: int | None,
) -> list[ChunkDraft]:
    """The extra representations of a document, after its chunks (ordinals follow theirs).

    "chunk": none. "document": the whole text as one more row, when the document has more
    than one chunk (one chunk already is the whole) and the text fits the embedder's window
    (a longer one would be cut by the model, so it gets no document row). The search maps a
    hit on it back to the document's chunk nearest the query (search/granularity.py).
    """
    if granularity not in GRANULARITY_OPTIONS:
        raise ValueError(f"unknown granularity {granularity!r}")
    if granularity == "chunk" or len(drafts) < 2 or window_tokens is None:
        return []
    text = parsed.text
    tokens = count_tokens(text)
    if tokens > window_tokens:
        return []
    return [
        ChunkDraft(
            ordinal=len(drafts),
            text=text,
            char_start=0,
            char_end=len(text),
            page=parsed.page_at(0),
            token_count=tokens,
            source=drafts[0].source,
            granularity="document",
        )
    ]
