"""Extra granularities at chunking time (ingest/chunker.py extra_drafts) and the setting."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from pydantic import ValidationError

from app.core.config import Settings
from app.ingest.chunker import chunk_document, shown_chunks
from app.ingest.parsers import ParsedDocument, Segment
from app.providers.embeddings import get_embedder
from app.search.filters import SearchScope
from app.search.granularity import restrict_to_chunks

SENTENCE = "The glacier retreated up the valley and left a field of scattered boulders behind."


@pytest.fixture(scope="module")
def count_tokens() -> Any:
    return get_embedder().count_tokens


def _parsed(sentences: int) -> ParsedDocument:
    return ParsedDocument([Segment(" ".join([SENTENCE] * sentences), page=3)])


def test_document_that_fits_the_window_gets_one_document_row_after_its_chunks(
    count_tokens: Any,
) -> None:
    parsed = _parsed(12)  # ~200 tokens: several 64-token chunks, within a 256-token window
    drafts = chunk_document(parsed, count_tokens, chunk_size=64, overlap=8,
                            granularity="document", window_tokens=254)
    chunks = [d for d in drafts if d.granularity == "chunk"]
    extra = [d for d in drafts if d.granularity != "chunk"]
    assert len(chunks) > 1 and shown_chunks(drafts) == len(chunks)
    assert len(extra) == 1
    whole = extra[0]
    assert whole.granularity == "document"
    assert (whole.char_start, whole.char_end, whole.text) == (0, len(parsed.text), parsed.text)
    assert whole.ordinal == len(chunks)  # after the chunks: ordinals 0..n-1 stay the chunks'
    assert whole.page == 3 and whole.token_count == count_tokens(parsed.text)


def test_document_longer_than_the_window_gets_no_document_row(count_tokens: Any) -> None:
    parsed = _parsed(40)  # far over 254 tokens
    drafts = chunk_document(parsed, count_tokens, chunk_size=64, overlap=8,
                            granularity="document", window_tokens=254)
    assert len(drafts) > 1
    assert all(d.granularity == "chunk" for d in drafts)


def test_single_chunk_document_gets_no_document_row(count_tokens: Any) -> None:
    drafts = chunk_document(_parsed(2), count_tokens, chunk_size=200, overlap=16,
                            granularity="document", window_tokens=254)
    assert [d.granularity for d in drafts] == ["chunk"]


def test_granularity_chunk_gives_chunks_only(count_tokens: Any) -> None:
    parsed = _parsed(12)
    before = chunk_document(parsed, count_tokens, chunk_size=64, overlap=8)
    off = chunk_document(parsed, count_tokens, chunk_size=64, overlap=8,
                         granularity="chunk", window_tokens=254)
    assert [(d.text, d.char_start) for d in off] == [(d.text, d.char_start) for d in before]
    assert all(d.granularity == "chunk" for d in off)


def test_unknown_granularity_is_refused(count_tokens: Any) -> None:
    with pytest.raises(ValueError, match="granularity"):
        chunk_document(_parsed(12), count_tokens, chunk_size=64, overlap=8,
                       granularity="paragraph", window_tokens=254)


def test_bad_index_granularity_setting_is_refused() -> None:
    with pytest.raises(ValidationError, match="index_granularity"):
        Settings(index_granularity="sentences")
    assert Settings(index_granularity="chunk").index_granularity == "chunk"


def test_chunk_only_scope_still_counts_as_unfiltered_and_restricts_the_rows() -> None:
    scope = SearchScope([uuid.uuid4()])
    restrict_to_chunks(scope)
    # the retrievers' shortcuts for whole collections (no count query, BM25's shallow
    # depths) hold: chunk counts and postings are of chunk rows only
    assert scope.collections_only()
    where, _ = scope.sql()
    assert "c.granularity = 'chunk'" in where


def test_a_real_filter_beside_chunk_only_still_counts_as_filtered() -> None:
    scope = SearchScope([uuid.uuid4()], content_types=["text/plain"])
    restrict_to_chunks(scope)
    assert not scope.collections_only()
    where, params = scope.sql()
    assert "c.granularity = 'chunk'" in where and "d.content_type" in where
    assert params["scope_content_types"] == ["text/plain"]


def test_a_label_filter_still_counts_as_filtered() -> None:
    scope = SearchScope([uuid.uuid4()], labels={"topic": ["ice"]})
    assert not scope.collections_only()
    where, params = scope.sql()
    assert "c.granularity" not in where and "labels" in where and params
