"""fusion.combine(heads=...): each list's head is fused exactly as if the lists had been that
long, and items found only deeper rank after all of them, so asking the retrievers for more
candidates (a deeper page, grouping by document) never reorders the first page."""

from __future__ import annotations

import pytest

from app.search import fusion

VECTOR = [("a", 0.9), ("b", 0.8), ("c", 0.7), ("x", 0.2), ("y", 0.1)]
LEXICAL = [("d", 9.0), ("b", 5.0), ("e", 4.0), ("y", 3.9), ("z", 0.5)]
METHODS = ("weighted", "zscore", "adaptive", "rrf")


def combine(scored: dict[str, list[tuple[str, float]]], method: str,
            heads: dict[str, int] | None = None) -> dict[str, float]:  # fmt: skip
    return fusion.combine(scored, method, vector_weight=0.5, rrf_k=60, heads=heads)


@pytest.mark.parametrize("method", METHODS)
def test_the_heads_fuse_as_if_the_lists_were_that_long(method: str) -> None:
    deep = combine({"vector": VECTOR, "lexical": LEXICAL}, method, {"vector": 3, "lexical": 3})
    shallow = combine({"vector": VECTOR[:3], "lexical": LEXICAL[:3]}, method)
    assert {item: deep[item] for item in shallow} == pytest.approx(shallow)
    order = [item for item, _ in fusion.ranked(deep)]
    assert order[: len(shallow)] == [item for item, _ in fusion.ranked(shallow)]
    assert set(order[len(shallow):]) == {"x", "y", "z"}  # only deeper: after every head item


@pytest.mark.parametrize("method", METHODS)
def test_heads_as_long_as_the_lists_change_nothing(method: str) -> None:
    scored = {"vector": VECTOR, "lexical": LEXICAL}
    assert combine(scored, method, {"vector": 50, "lexical": 5}) == combine(scored, method)


@pytest.mark.parametrize("method", METHODS)
def test_empty_heads_or_lists_leave_the_full_depth_order(method: str) -> None:
    scored = {"vector": VECTOR, "lexical": LEXICAL}
    assert combine(scored, method, {"vector": 0, "lexical": 0}) == combine(scored, method)
    assert combine({"vector": [], "lexical": []}, method, {"vector": 3, "lexical": 3}) == {}
