"""The head fused when grouping by document (search/service.document_head): the first
HYBRID_CANDIDATES chunks of each list, or deeper while they hold fewer documents than a
first page, and never a function of the page asked for."""

from __future__ import annotations

import uuid

import pytest

from app.search.service import HEAD_DOCUMENTS, MAX_GROUP_DEPTH, document_head

Lists = dict[str, list[tuple[int, float]]]


@pytest.fixture(autouse=True)
def eight_candidates(monkeypatch: pytest.MonkeyPatch) -> None:
    from app.core.config import get_settings

    monkeypatch.setattr(get_settings(), "hybrid_candidates", 8)


def _lists(vector: list[int], lexical: list[int]) -> tuple[Lists, dict[int, uuid.UUID]]:
    """Chunk ids are positions (lexical's offset by 10,000); the values name documents."""
    doc_of: dict[int, uuid.UUID] = {}
    lists: Lists = {"vector": [], "lexical": []}
    for name, docs, offset in (("vector", vector, 0), ("lexical", lexical, 10_000)):
        for n, doc in enumerate(docs):
            lists[name].append((n + offset, 1.0 - n / 10_000))
            doc_of[n + offset] = uuid.UUID(int=doc)
    return lists, doc_of


def test_a_head_that_holds_a_page_of_documents_is_the_configured_candidates() -> None:
    lists, doc_of = _lists(list(range(100)), list(range(500, 600)))
    assert HEAD_DOCUMENTS <= 2 * 8  # eight chunks of each list, all different documents
    assert document_head(lists, doc_of, depth=100) == 8


def test_a_few_long_documents_make_the_head_deeper_not_the_page() -> None:
    # one long document fills the first 32 chunks of both lists, then a document per chunk
    long_first = [0] * 32 + list(range(1, 300))
    lists, doc_of = _lists(long_first, long_first)
    assert document_head(lists, doc_of, depth=32) is None  # 32 chunks cannot tell yet
    assert document_head(lists, doc_of, depth=128) == 128
    assert document_head(lists, doc_of, depth=512) == 128  # the same for any deeper page


def test_lists_that_end_early_end_the_head() -> None:
    lists, doc_of = _lists([0] * 6, [0] * 3)  # one document, nothing else matched
    assert document_head(lists, doc_of, depth=8) == 8
    lists, doc_of = _lists([0] * 5000, [0] * 5000)  # one enormous document
    assert document_head(lists, doc_of, depth=MAX_GROUP_DEPTH) == MAX_GROUP_DEPTH
