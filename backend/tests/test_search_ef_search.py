"""HNSW's ef_search grows with the searched chunks (search/dense.ef_search_for): the
configured value up to 100k chunks, in proportion beyond, never above pgvector's 1,000 and
never below the number of rows asked for."""

from __future__ import annotations

import random

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from app.search.dense import EF_SEARCH_MAX, dense_search, ef_search_for
from app.search.filters import SearchScope
from tests.test_bm25_unit import add_document, make_collection
from tests.test_search_scope import unit


def test_the_configured_value_holds_up_to_the_reference_size() -> None:
    assert ef_search_for(0, 200, 10) == 200
    assert ef_search_for(5_000, 200, 10) == 200
    assert ef_search_for(100_000, 200, 10) == 200


def test_past_the_reference_size_it_grows_in_proportion() -> None:
    assert ef_search_for(300_000, 200, 10) == 600
    assert ef_search_for(450_000, 100, 10) == 450


def test_it_never_passes_pgvectors_limit() -> None:
    assert ef_search_for(1_000_000, 200, 10) == EF_SEARCH_MAX == 1000
    assert ef_search_for(50_000_000, 200, 10) == 1000
    assert ef_search_for(10, 5_000, 10) == 1000  # a configured value past the limit


def test_it_is_never_below_the_rows_asked_for() -> None:
    assert ef_search_for(10_000, 40, 100) == 100
    assert ef_search_for(10_000, 40, 5_000) == 1000  # and still within the limit


@pytest.mark.parametrize(("chunk_count", "expected"), [(50_000, "200"), (400_000, "800"),
                                                       (3_000_000, "1000")])  # fmt: skip
def test_a_dense_search_sets_the_ef_search_of_its_collections_size(
    db: Session, chunk_count: int, expected: str
) -> None:
    """The searched collections' chunk counts (kept by the lexical index) set it; the
    search still returns every chunk (the exact fallback fills what HNSW leaves out)."""
    rng = random.Random(3)
    col = make_collection(db)
    add_document(db, col, [f"chunk {i}" for i in range(5)], vectors=[unit(rng) for _ in range(5)])
    db.execute(text("UPDATE collections SET chunk_count = :n WHERE id = :c"),
               {"n": chunk_count, "c": col.id})  # fmt: skip
    db.execute(text("SET LOCAL hnsw.ef_search = 40"))
    top = dense_search(db, unit(rng), SearchScope([col.id]), 3)
    assert len(top) == 3
    assert db.execute(text("SHOW hnsw.ef_search")).scalar_one() == expected
    db.rollback()
