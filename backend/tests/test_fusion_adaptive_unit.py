"""Adaptive fusion (per-query weights from each list's peak) and the method dispatch, against
hand-computed values (pure functions, no services)."""

from __future__ import annotations

import pytest

from app.search import fusion

VECTOR = [("a", 0.9), ("b", 0.8), ("c", 0.7)]  # min-max: a 1, b .5, c 0 -> peak 1 - .25 = .75
LEXICAL = [("d", 10.0), ("e", 1.0), ("f", 0.0)]  # min-max: d 1, e .1, f 0 -> peak .95


def test_peak_is_one_minus_the_runners_up_mean_normalised_score() -> None:
    assert fusion.peak(VECTOR) == pytest.approx(0.75)
    assert fusion.peak(LEXICAL) == pytest.approx(0.95)
    assert fusion.peak(LEXICAL, depth=2) == pytest.approx(0.9)  # runner-up e only


def test_peak_of_no_one_or_equal_candidates_is_zero_one_or_zero() -> None:
    assert fusion.peak([]) == 0.0
    assert fusion.peak([("a", 3.0)]) == 1.0
    assert fusion.peak([("a", 2.0), ("b", 2.0), ("c", 2.0)]) == 0.0


def test_peak_refuses_a_depth_without_runners_up() -> None:
    with pytest.raises(ValueError):
        fusion.peak(VECTOR, depth=1)


def test_adaptive_weights_follow_each_lists_peak() -> None:
    scored = {"vector": VECTOR, "lexical": LEXICAL}
    weights = fusion.adaptive_weights(scored, fusion.hybrid_weights(0.5))
    # raw .5 * .75 = .375 and .5 * .95 = .475, renormalised over .85
    assert weights == {"vector": pytest.approx(0.375 / 0.85),
                       "lexical": pytest.approx(0.475 / 0.85)}  # fmt: skip
    scores = fusion.adaptive(scored, fusion.hybrid_weights(0.5))
    wv, wl = 0.375 / 0.85, 0.475 / 0.85
    assert scores == {"a": pytest.approx(wv), "b": pytest.approx(wv * 0.5), "c": 0.0,
                      "d": pytest.approx(wl), "e": pytest.approx(wl * 0.1), "f": 0.0}  # fmt: skip
    assert [item for item, _ in fusion.ranked(scores)] == ["d", "a", "b", "e", "c", "f"]


def test_adaptive_with_one_list_empty_or_flat_gives_the_other_all_the_weight() -> None:
    empty = fusion.adaptive({"vector": VECTOR, "lexical": []}, fusion.hybrid_weights(0.5))
    assert empty == {"a": 1.0, "b": pytest.approx(0.5), "c": 0.0}
    flat = [("x", 4.0), ("a", 4.0)]  # all equal: no peak, so no weight
    scores = fusion.adaptive({"vector": VECTOR, "lexical": flat}, fusion.hybrid_weights(0.5))
    assert scores == {"a": 1.0, "b": pytest.approx(0.5), "c": 0.0, "x": 0.0}


def test_adaptive_without_any_peak_keeps_the_configured_weights_and_tie_order() -> None:
    assert fusion.adaptive({"vector": [], "lexical": []}, fusion.hybrid_weights(0.5)) == {}
    weights = fusion.hybrid_weights(0.7)
    flat = {"vector": [("a", 1.0), ("b", 1.0)], "lexical": [("b", 2.0), ("a", 2.0)]}
    assert fusion.adaptive_weights(flat, weights) == weights
    scores = fusion.adaptive(flat, weights)
    assert scores == {"a": pytest.approx(1.0), "b": pytest.approx(1.0)}
    assert [item for item, _ in fusion.ranked(scores)] == ["a", "b"]  # a tie: first seen


def test_combine_dispatches_every_configured_method() -> None:
    scored = {"vector": VECTOR, "lexical": LEXICAL}
    for method, expected in (
        ("weighted", fusion.weighted(scored, fusion.hybrid_weights(0.6))),
        ("zscore", fusion.weighted_z(scored, fusion.hybrid_weights(0.6))),
        ("adaptive", fusion.adaptive(scored, fusion.hybrid_weights(0.6))),
        ("rrf", fusion.rrf({"vector": ["a", "b", "c"], "lexical": ["d", "e", "f"]}, 20)),
    ):
        assert fusion.combine(scored, method, vector_weight=0.6, rrf_k=20) == expected


def test_combine_refuses_an_unknown_method() -> None:
    with pytest.raises(ValueError, match="unknown fusion method"):
        fusion.combine({"vector": VECTOR}, "borda", vector_weight=0.5, rrf_k=60)


def test_combine_of_no_lists_is_empty_for_every_method() -> None:
    for method in ("weighted", "zscore", "adaptive", "rrf"):
        assert fusion.combine({}, method, vector_weight=0.5, rrf_k=60) == {}


def test_length_factor_is_full_to_half_the_limit_then_falls_to_zero() -> None:
    assert [fusion.length_factor(n, 32) for n in (0, 16, 20, 24, 32, 80)] == [
        1.0, 1.0, pytest.approx(0.75), pytest.approx(0.5), 0.0, 0.0
    ]  # fmt: skip
    assert fusion.query_words("Does IL-6 raise CRP? (in mice)") == 7


def test_length_factor_off_or_odd_inputs_never_fade_or_go_negative() -> None:
    assert fusion.length_factor(10_000, 0) == 1.0  # 0 turns the fade off
    assert fusion.length_factor(10_000, -5) == 1.0
    assert fusion.length_factor(0, 1) == 1.0 and fusion.length_factor(5, 1) == 0.0
    assert fusion.query_words("") == 0 and fusion.query_words("?! ...") == 0


def test_a_long_query_fuses_on_the_dense_list_alone() -> None:
    scored = {"vector": VECTOR, "lexical": LEXICAL}
    long_query = " ".join(["word"] * 40)
    scores = fusion.combine(scored, "adaptive", vector_weight=0.5, rrf_k=60, query=long_query,
                            long_query_words=32)  # fmt: skip
    assert scores == {"a": 1.0, "b": pytest.approx(0.5), "c": 0.0, "d": 0.0, "e": 0.0, "f": 0.0}
    # a 24-word query keeps half the lexical weight before the peaks: .5*.75 vs .25*.95
    half = fusion.combine(scored, "adaptive", vector_weight=0.5, rrf_k=60,
                          query=" ".join(["word"] * 24), long_query_words=32)  # fmt: skip
    wl = 0.25 * 0.95 / (0.5 * 0.75 + 0.25 * 0.95)
    assert half["d"] == pytest.approx(wl) and half["a"] == pytest.approx(1 - wl)


def test_every_weighted_method_fuses_a_long_query_on_the_dense_list_alone() -> None:
    scored = {"vector": VECTOR, "lexical": LEXICAL}
    long_query = " ".join(["word"] * 40)
    dense_only = {"vector": 0.5, "lexical": 0.0}
    for method, expected in (("weighted", fusion.weighted(scored, dense_only)),
                             ("zscore", fusion.weighted_z(scored, dense_only))):  # fmt: skip
        got = fusion.combine(scored, method, vector_weight=0.5, rrf_k=60, query=long_query,
                             long_query_words=32)  # fmt: skip
        assert got == expected
        assert [item for item, _ in fusion.ranked(got)][:3] == ["a", "b", "c"]


def test_with_the_fade_off_a_long_query_keeps_its_lexical_weight() -> None:
    scored = {"vector": VECTOR, "lexical": LEXICAL}
    long_query = " ".join(["word"] * 400)
    for method in ("weighted", "zscore", "adaptive"):
        off = fusion.combine(scored, method, vector_weight=0.5, rrf_k=60, query=long_query,
                             long_query_words=0)  # fmt: skip
        short = fusion.combine(scored, method, vector_weight=0.5, rrf_k=60, query="a claim",
                               long_query_words=32)  # fmt: skip
        assert off == short and off["d"] > 0  # the lexical winner still scores


def test_rrf_has_no_weights_so_query_length_changes_nothing() -> None:
    scored = {"vector": VECTOR, "lexical": LEXICAL}
    long_query = " ".join(["word"] * 400)
    assert fusion.combine(scored, "rrf", vector_weight=0.5, rrf_k=60, query=long_query,
                          long_query_words=32) == fusion.combine(
        scored, "rrf", vector_weight=0.5, rrf_k=60)  # fmt: skip
