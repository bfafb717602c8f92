"""Scoring in `cairn eval`: ranx on graded qrels, empty rankings as zeros, and the mapping
of API hits to BEIR ids."""

from __future__ import annotations

import math

import pytest

from app.eval.client import SearchCapabilities
from app.eval.metrics import evaluate_run, latency_summary, percentile, ranking_to_scores
from app.eval.queries import HitMapper, build_body, hits_to_ranking

QRELS = {"q1": {"a": 2, "b": 1, "z": 0}, "q2": {"c": 1}}


def test_graded_ndcg_recall_and_mrr_match_a_hand_computation() -> None:
    means, per_query = evaluate_run(QRELS, {"q1": ["z", "b", "x", "a"], "q2": ["x", "c"]})
    # q1: gains 0, 1, 0, 2 at ranks 1..4; ideal 2, 1.
    dcg = 1 / math.log2(3) + 2 / math.log2(5)
    idcg = 2 + 1 / math.log2(3)
    assert per_query["ndcg@10"]["q1"] == pytest.approx(dcg / idcg)
    assert per_query["mrr@10"]["q1"] == pytest.approx(1 / 2)  # "z" (grade 0) is not relevant
    assert per_query["recall@100"]["q1"] == pytest.approx(1.0)  # 2 relevant, both found
    assert per_query["ndcg@10"]["q2"] == pytest.approx(1 / math.log2(3))
    assert means["mrr@10"] == pytest.approx((0.5 + 0.5) / 2)


def test_a_query_with_no_hits_counts_as_zero_in_the_mean() -> None:
    means, per_query = evaluate_run(QRELS, {"q1": ["a", "b"], "q2": []})
    assert per_query["ndcg@10"] == {"q1": pytest.approx(1.0), "q2": 0.0}
    assert means["ndcg@10"] == pytest.approx(0.5)
    assert means["recall@100"] == pytest.approx(0.5)


def test_a_query_missing_from_the_run_counts_as_zero() -> None:
    means, _ = evaluate_run(QRELS, {"q1": ["a", "b"]})
    assert means["mrr@10"] == pytest.approx(0.5)


def test_a_run_with_no_hits_at_all_scores_zero_instead_of_crashing_ranx() -> None:
    means, per_query = evaluate_run(QRELS, {"q1": [], "q2": []})
    assert means == {"ndcg@10": 0.0, "recall@100": 0.0, "mrr@10": 0.0}
    assert per_query["mrr@10"] == {"q1": 0.0, "q2": 0.0}


def test_rankings_keep_their_order_even_when_they_would_tie() -> None:
    assert ranking_to_scores(["b", "a", "b", "c"]) == {"b": 4.0, "a": 3.0, "c": 2.0}
    # A relevant document at rank 2 scores MRR 1/2 whatever its id sorts as.
    _, per_query = evaluate_run({"q": {"a": 1}}, {"q": ["zz", "a"]})
    assert per_query["mrr@10"]["q"] == pytest.approx(0.5)


def test_cutoffs_ignore_relevant_documents_ranked_below_them() -> None:
    ranking = [f"x{i}" for i in range(10)] + ["a"]  # "a" at rank 11
    _, per_query = evaluate_run({"q": {"a": 1}}, {"q": ranking})
    assert per_query["ndcg@10"]["q"] == 0.0
    assert per_query["mrr@10"]["q"] == 0.0
    assert per_query["recall@100"]["q"] == 1.0


def hit(doc: str, filename: str = "", metadata: dict[str, str] | None = None) -> dict[str, object]:
    return {"document_id": doc, "filename": filename, "metadata": metadata or {}}


def test_hits_map_to_every_beir_id_of_a_deduplicated_document() -> None:
    mapper = HitMapper({"doc-1": ["saturn", "saturn-copy"], "doc-2": ["moon"]})
    ranking = hits_to_ranking([hit("doc-2"), hit("doc-1")], mapper, exclude=None)
    assert ranking == ["moon", "saturn", "saturn-copy"]


def test_unknown_documents_fall_back_to_metadata_then_filename_stem() -> None:
    mapper = HitMapper({})
    hits = [hit("u1", "ignored.txt", {"beir_id": "from-meta"}), hit("u2", "123.45.txt"), hit("u3")]
    assert hits_to_ranking(hits, mapper, exclude=None) == ["from-meta", "123.45"]


def test_identical_ids_are_dropped_only_when_asked_and_chunks_collapse() -> None:
    mapper = HitMapper({"d1": ["q7"], "d2": ["other"]})
    hits = [hit("d1"), hit("d2"), hit("d1"), hit("d2")]  # chunk hits of two documents
    assert hits_to_ranking(hits, mapper, exclude=None) == ["q7", "other"]
    assert hits_to_ranking(hits, mapper, exclude="q7") == ["other"]


def test_search_body_uses_mode_and_grouping_only_when_the_api_has_them() -> None:
    full = SearchCapabilities(frozenset({"query", "mode", "group_by"}), ("hybrid", "vector"))
    body = build_body("q" * 5000, "hybrid", "c", 100, full)  # sent whole: the server's limit
    assert body == {"query": "q" * 5000, "k": 100, "collection": "c", "mode": "hybrid",
                    "group_by": "document"}  # fmt: skip
    bare = SearchCapabilities(frozenset({"query", "k", "collection"}), None)
    assert build_body("q", "vector", "c", 10, bare) == {"query": "q", "k": 10, "collection": "c"}
    from app.eval.client import ApiError

    with pytest.raises(ApiError, match="no search modes"):
        build_body("q", "lexical", "c", 10, bare)


def test_percentiles_interpolate_like_numpy_and_empty_latencies_are_null() -> None:
    values = [10.0, 20.0, 30.0, 40.0]
    assert percentile(values, 50) == pytest.approx(25.0)
    assert percentile(values, 95) == pytest.approx(38.5)
    assert percentile([7.0], 95) == 7.0
    assert latency_summary([]) == {"p50_ms": None, "p95_ms": None, "mean_ms": None}
    assert latency_summary(values)["mean_ms"] == 25.0
