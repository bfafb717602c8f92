"""Chunker: spans index the parsed text exactly, chunks overlap, none exceeds the size."""

from __future__ import annotations

from itertools import pairwise
from typing import Any

import pytest

from app.ingest.chunker import chunk_document
from app.ingest.parsers import ParsedDocument, Segment
from app.providers.embeddings import get_embedder

SENTENCES = [
    f"Sentence number {i} talks about topic {i % 7} with a few extra words of filler."
    for i in range(120)
]


@pytest.fixture(scope="module")
def count_tokens() -> Any:
    return get_embedder().count_tokens


def _doc() -> ParsedDocument:
    pages = [" ".join(SENTENCES[i : i + 40]) for i in range(0, 120, 40)]
    return ParsedDocument([Segment(text, page=n + 1) for n, text in enumerate(pages)])


def test_spans_index_the_parsed_text(count_tokens: Any) -> None:
    parsed = _doc()
    drafts = chunk_document(parsed, count_tokens, chunk_size=64, overlap=16)
    assert len(drafts) > 5
    for d in drafts:
        assert parsed.text[d.char_start : d.char_end] == d.text
        assert d.page == parsed.page_at(d.char_start)
    assert [d.ordinal for d in drafts] == list(range(len(drafts)))


def test_chunks_cover_the_whole_text_in_order(count_tokens: Any) -> None:
    parsed = _doc()
    drafts = chunk_document(parsed, count_tokens, chunk_size=64, overlap=16)
    assert drafts[0].char_start == 0
    assert drafts[-1].char_end == len(parsed.text)
    for prev, nxt in pairwise(drafts):
        assert nxt.char_start > prev.char_start
        assert nxt.char_start <= prev.char_end + 1  # no text skipped between chunks


def test_consecutive_chunks_overlap(count_tokens: Any) -> None:
    drafts = chunk_document(_doc(), count_tokens, chunk_size=64, overlap=16)
    overlapping = sum(1 for a, b in pairwise(drafts) if b.char_start < a.char_end)
    assert overlapping >= len(drafts) // 2


def test_no_overlap_when_overlap_is_zero(count_tokens: Any) -> None:
    drafts = chunk_document(_doc(), count_tokens, chunk_size=64, overlap=0)
    for a, b in pairwise(drafts):
        assert b.char_start >= a.char_end


@pytest.mark.parametrize("size", [32, 64, 200])
def test_token_counts_never_exceed_the_chunk_size(count_tokens: Any, size: int) -> None:
    drafts = chunk_document(_doc(), count_tokens, chunk_size=size, overlap=size // 4)
    assert drafts
    for d in drafts:
        assert 0 < d.token_count <= size
        assert d.token_count == count_tokens(d.text)


def test_pages_follow_the_segments(count_tokens: Any) -> None:
    drafts = chunk_document(_doc(), count_tokens, chunk_size=64, overlap=16)
    pages = [d.page for d in drafts]
    assert pages == sorted(pages)
    assert set(pages) == {1, 2, 3}


def test_short_text_is_one_chunk(count_tokens: Any) -> None:
    parsed = ParsedDocument([Segment("A single short sentence.")])
    drafts = chunk_document(parsed, count_tokens, chunk_size=200, overlap=32)
    assert len(drafts) == 1
    assert drafts[0].text == "A single short sentence."
    assert (drafts[0].char_start, drafts[0].char_end, drafts[0].page) == (0, 24, None)
