"""Document-level fusion for group_by=document (search/service.fuse_documents): each
retriever's chunk list becomes a document list at its best chunk's score, and the documents,
not their chunks, are fused (pure given the lists; the configured fusion method)."""

from __future__ import annotations

import uuid

import pytest

from app.search import fusion
from app.search.service import Candidate, fuse_documents, group_by_document

A, B, C = (uuid.UUID(int=i) for i in (1, 2, 3))
DOC_OF = {1: A, 4: A, 2: B, 3: C}
LISTS = {  # chunk 1 of A matches the meaning, chunk 4 of A the words
    "vector": [(3, 0.9), (1, 0.8), (2, 0.1)],
    "lexical": [(2, 20.0), (4, 19.0), (3, 0.0)],
}


@pytest.fixture(autouse=True)
def weighted_fusion(monkeypatch: pytest.MonkeyPatch) -> None:
    from app.core.config import get_settings

    monkeypatch.setattr(get_settings(), "fusion_method", "weighted")
    monkeypatch.setattr(get_settings(), "hybrid_vector_weight", 0.5)
    monkeypatch.setattr(get_settings(), "fusion_long_query_words", 32)


def grouped_by_chunks() -> list[Candidate]:
    chunk_level = fusion.ranked(fusion.weighted(LISTS, fusion.hybrid_weights(0.5)))
    return group_by_document([Candidate(cid, s) for cid, s in chunk_level], DOC_OF)


def test_a_document_matched_by_meaning_in_one_chunk_and_words_in_another_ranks_first() -> None:
    before = grouped_by_chunks()
    assert [DOC_OF[c.chunk_id] for c in before][-1] == A  # fused as chunks: A last
    after = fuse_documents(before, LISTS, DOC_OF, "a short claim")
    rest = [DOC_OF[c.chunk_id] for c in before if DOC_OF[c.chunk_id] != A]
    assert [DOC_OF[c.chunk_id] for c in after] == [A, *rest]  # B, C tie: chunk-level order
    assert after[0].score == pytest.approx(0.5 * 0.875 + 0.5 * 0.95)
    assert after[0].chunk_id == 4  # still A's best chunk of the chunk-level fusion
    assert after[0].matched_chunks == 2


def test_a_long_query_fuses_documents_on_the_dense_list_alone() -> None:
    after = fuse_documents(grouped_by_chunks(), LISTS, DOC_OF, " ".join(["word"] * 40))
    assert [DOC_OF[c.chunk_id] for c in after] == [C, A, B]  # the vector order


def test_a_candidate_without_a_document_in_the_lists_keeps_its_score() -> None:
    stray = Candidate(99, 0.123)
    after = fuse_documents([stray], {"vector": [], "lexical": []}, {99: uuid.uuid4()}, "q")
    assert after == [stray] and stray.score == 0.123
    assert fuse_documents([], LISTS, DOC_OF, "q") == []
