"""`cairn eval --sweep`: client-side fusion of the two retrievers' lists (pure)."""

from __future__ import annotations

import pytest

from app.eval.sweep import GRID, fuse, render_sweep, run_sweep

LISTS = {
    # chunk id, the retriever's score, the BEIR ids of its document
    "vector": [(1, 0.9, ["A"]), (2, 0.8, ["B"]), (3, 0.1, ["C"])],
    "lexical": [(3, 20.0, ["C"]), (4, 19.0, ["A"]), (2, 1.0, ["B"])],
}


def test_weighted_fusion_collapses_chunks_to_documents_in_fused_order() -> None:
    # min-max: vector A 1, B .875, C 0; lexical C 1, A(4) .947, B 0
    assert fuse(LISTS, "weighted", 1.0) == ["A", "B", "C"]  # vector only
    assert fuse(LISTS, "weighted", 0.0) == ["C", "A", "B"]  # lexical only
    # w=.5: A .5 (chunk 1; chunk 4 .474), C .5, B .4375: A and C tie, B last
    ranking = fuse(LISTS, "weighted", 0.5)
    assert set(ranking[:2]) == {"A", "C"} and ranking[2] == "B"


def test_rrf_uses_ranks_only_and_fuses_documents_not_chunks() -> None:
    # documents: vector A 1, B 2, C 3; lexical C 1, A 2 (its chunk 4), B 3. rrf k=60:
    # A 1/61+1/62, C 1/63+1/61, B 1/62+1/63. Fusing chunks would have put C first: chunk 1
    # (A) has only its vector rank, chunk 3 (C) both.
    assert fuse(LISTS, "rrf", 60) == ["A", "C", "B"]


def test_a_document_gets_each_retrievers_evidence_from_different_chunks() -> None:
    lists = {"vector": [(3, 0.9, ["C"]), (1, 0.8, ["A"]), (2, 0.1, ["B"])],
             "lexical": [(2, 20.0, ["B"]), (4, 19.0, ["A"]), (3, 0.0, ["C"])]}  # fmt: skip
    # min-max, w=.5: A .4375 (vector, chunk 1) + .475 (lexical, chunk 4) = .9125 beats C and
    # B (.5 each, one retriever). Fused as chunks, A's best chunk (.475) would come last.
    assert fuse(lists, "weighted", 0.5)[0] == "A"
    # a chunk without a document (no BEIR id) is no candidate
    assert fuse({"vector": [(9, 1.0, [])], "lexical": []}, "weighted", 0.5) == []


def test_run_sweep_scores_every_grid_setting() -> None:
    rows = run_sweep({"q": {"A": 1}}, {"q": LISTS})
    assert [r["setting"] for r in rows] == [g[0] for g in GRID]
    rrf = next(r for r in rows if r["method"] == "rrf")
    assert rrf["mrr@10"] == pytest.approx(1.0)
    assert "<- best" in render_sweep(rows, None)
    assert run_sweep({"q": {"C": 1}}, {"q": {"vector": [], "lexical": []}})[0]["ndcg@10"] == 0


def test_adaptive_rows_fade_lexical_on_a_long_query_text() -> None:
    long_query = " ".join(["word"] * 40)  # past FUSION_LONG_QUERY_WORDS=32: dense alone
    assert fuse(LISTS, "adaptive", 0.5, long_query) == ["A", "B", "C"]
    # short: peaks .5625 (vector) and .526 (lexical) -> A .517, C .483, B .452
    assert fuse(LISTS, "adaptive", 0.5, "short claim") == ["A", "C", "B"]
    rows = run_sweep({"q": {"A": 1}}, {"q": LISTS}, queries={"q": long_query})
    assert all(r["mrr@10"] == pytest.approx(1.0) for r in rows if r["method"] == "adaptive")
