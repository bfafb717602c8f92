"""Chunker: spans index the parsed text exactly, chunks overlap, none exceeds the size, and
nothing of a document stays in memory after it is chunked."""

from __future__ import annotations

import gc
import tracemalloc
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


def _distinct_doc(n: int) -> ParsedDocument:
    """A document no other call chunks (its words carry n), ~1,000 characters."""
    text = " ".join(
        f"Report {n} finding {i}: sample {n * 31 + i} rose by {i * n % 97} units."
        for i in range(16)
    )
    return ParsedDocument([Segment(text)])


def test_chunking_keeps_no_memory_per_document(count_tokens: Any) -> None:
    # semchunk's own memo kept every piece of every document a worker ever chunked
    # (~10 KB per SciFact abstract, for the life of the process)
    for n in range(10):
        chunk_document(_distinct_doc(n), count_tokens, chunk_size=64, overlap=16)
    gc.collect()
    tracemalloc.start()
    try:
        before = _chunking_memory()
        for n in range(10, 160):
            chunk_document(_distinct_doc(n), count_tokens, chunk_size=64, overlap=16)
        gc.collect()
        kept = _chunking_memory() - before
    finally:
        tracemalloc.stop()
    assert kept < 64 * 1024, f"{kept} bytes kept after 150 documents"


def _chunking_memory() -> int:
    """Bytes still held that the chunker or semchunk allocated (other threads' allocations,
    e.g. other tests' servers, are not counted)."""
    snapshot = tracemalloc.take_snapshot().filter_traces([
        tracemalloc.Filter(True, "*/semchunk/*"), tracemalloc.Filter(True, "*/ingest/chunker.py"),
    ])  # fmt: skip
    return sum(stat.size for stat in snapshot.statistics("filename"))


def test_token_counts_are_not_remembered_for_the_next_document() -> None:
    counted: list[str] = []

    def counter(text: str) -> int:
        counted.append(text)
        return len(text.split())

    chunk_document(_distinct_doc(1), counter, chunk_size=32, overlap=8)
    first = len(counted)
    counted.clear()
    chunk_document(_distinct_doc(1), counter, chunk_size=32, overlap=8)
    assert first > 0
    assert len(counted) == first  # counted afresh, not served from an earlier document


def test_a_piece_is_counted_once_within_a_document() -> None:
    counted: list[str] = []

    def counter(text: str) -> int:
        counted.append(text)
        return len(text.split())

    drafts = chunk_document(_distinct_doc(2), counter, chunk_size=32, overlap=8)
    assert len(drafts) > 1
    assert len(counted) == len(set(counted))


def test_a_failing_counter_fails_that_document_only(count_tokens: Any) -> None:
    calls = 0

    def failing(text: str) -> int:
        nonlocal calls
        calls += 1
        if calls == 3:
            raise RuntimeError("tokenizer crashed")
        return int(count_tokens(text))

    with pytest.raises(RuntimeError, match="tokenizer crashed"):
        chunk_document(_distinct_doc(3), failing, chunk_size=32, overlap=8)
    drafts = chunk_document(_distinct_doc(3), count_tokens, chunk_size=32, overlap=8)
    assert drafts and all(d.token_count == count_tokens(d.text) for d in drafts)
