"""Rank fusion against hand-computed values (pure functions, no services)."""

from __future__ import annotations

import pytest

from app.search import fusion


def test_rrf_sums_reciprocal_ranks_across_retrievers() -> None:
    scores = fusion.rrf({"vector": ["a", "b", "c"], "lexical": ["c", "a"]}, k=60)
    # a: 1/61 + 1/62, b: 1/62, c: 1/63 + 1/61
    assert scores["a"] == pytest.approx(0.016393443 + 0.016129032)
    assert scores["b"] == pytest.approx(0.016129032)
    assert scores["c"] == pytest.approx(0.015873016 + 0.016393443)
    assert [item for item, _ in fusion.ranked(scores)] == ["a", "c", "b"]


def test_rrf_with_k_zero_is_plain_reciprocal_rank() -> None:
    scores = fusion.rrf({"x": [1, 2, 3]}, k=0)
    assert scores == {1: 1.0, 2: 0.5, 3: pytest.approx(1 / 3)}


def test_rrf_rejects_negative_k() -> None:
    with pytest.raises(ValueError):
        fusion.rrf({"x": [1]}, k=-1)


def test_rrf_of_no_rankings_is_empty() -> None:
    assert fusion.rrf({}, k=60) == {}
    assert fusion.rrf({"vector": [], "lexical": []}, k=60) == {}


def test_min_max_scales_to_unit_interval() -> None:
    assert fusion.min_max([("a", 10.0), ("b", 7.5), ("c", 5.0)]) == {"a": 1.0, "b": 0.5, "c": 0.0}


def test_min_max_of_equal_scores_gives_all_ones_not_division_by_zero() -> None:
    assert fusion.min_max([("a", 3.0), ("b", 3.0)]) == {"a": 1.0, "b": 1.0}
    assert fusion.min_max([]) == {}


def test_weighted_combines_normalised_scores_with_the_vector_weight() -> None:
    scored = {
        "vector": [("a", 0.9), ("b", 0.7), ("c", 0.5)],  # norm: a 1, b 0.5, c 0
        "lexical": [("c", 12.0), ("d", 4.0), ("a", 2.0)],  # norm: c 1, d 0.2, a 0
    }
    scores = fusion.weighted(scored, fusion.hybrid_weights(0.7))
    assert scores["a"] == pytest.approx(0.7 * 1.0 + 0.3 * 0.0)
    assert scores["b"] == pytest.approx(0.7 * 0.5)
    assert scores["c"] == pytest.approx(0.7 * 0.0 + 0.3 * 1.0)
    assert scores["d"] == pytest.approx(0.3 * 0.2)
    assert [item for item, _ in fusion.ranked(scores)] == ["a", "b", "c", "d"]


def test_weighted_ignores_retrievers_without_a_weight() -> None:
    scores = fusion.weighted({"vector": [("a", 1.0), ("b", 0.0)], "other": [("b", 5.0)]},
                             {"vector": 1.0})
    assert scores == {"a": 1.0, "b": 0.0}


def test_weighted_with_weight_one_keeps_the_vector_order() -> None:
    scored = {"vector": [("a", 0.9), ("b", 0.8)], "lexical": [("b", 9.0), ("a", 1.0)]}
    assert [i for i, _ in fusion.ranked(fusion.weighted(scored, fusion.hybrid_weights(1.0)))] == [
        "a",
        "b",
    ]


def test_ranked_is_best_first_and_stable_on_ties() -> None:
    assert fusion.ranked({"x": 1.0, "y": 2.0, "z": 1.0}) == [("y", 2.0), ("x", 1.0), ("z", 1.0)]


def test_z_scores_standardise_a_list_by_hand() -> None:
    z = fusion.z_scores([("a", 3.0), ("b", 1.0), ("c", 2.0)])
    std = (2 / 3) ** 0.5  # population std of 3, 1, 2
    assert z == {"a": pytest.approx(1 / std), "b": pytest.approx(-1 / std), "c": 0.0}


def test_weighted_z_gives_a_missed_candidate_the_lists_lowest_z_score() -> None:
    lists = {"vector": [("a", 0.9), ("b", 0.5)], "lexical": [("b", 12.0), ("c", 4.0)]}
    scores = fusion.weighted_z(lists, fusion.hybrid_weights(0.5))
    # each two-item list standardises to +1 / -1
    assert scores == {"a": pytest.approx(0.5 * 1 + 0.5 * -1), "b": pytest.approx(0.0),
                      "c": pytest.approx(0.5 * -1 + 0.5 * -1)}  # fmt: skip
    assert [item for item, _ in fusion.ranked(scores)] == ["a", "b", "c"]


def test_z_scores_of_equal_or_no_scores_are_zero_or_empty() -> None:
    assert fusion.z_scores([("a", 2.0), ("b", 2.0)]) == {"a": 0.0, "b": 0.0}
    assert fusion.z_scores([]) == {}
    assert fusion.weighted_z({}, {"vector": 1.0}) == {}
