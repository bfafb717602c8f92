"""The reranker factory: `none` by default, cross-encoder only from a local directory."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from app.core.config import Settings
from app.providers.rerank import NoReranker, RerankerConfigError, build_reranker


def test_default_reranker_is_none_and_keeps_order() -> None:
    reranker = build_reranker(Settings(reranker="none"))
    assert isinstance(reranker, NoReranker)
    assert reranker.rerank("q", ["a", "b", "c"]) == [0.0, 0.0, 0.0]
    assert reranker.rerank("q", []) == []


def test_cross_encoder_without_a_model_path_fails_with_a_clear_message() -> None:
    with pytest.raises(RerankerConfigError, match="RERANKER_MODEL"):
        build_reranker(Settings(reranker="cross-encoder", reranker_model=None))


def test_cross_encoder_with_a_model_name_instead_of_a_directory_fails(tmp_path: Path) -> None:
    with pytest.raises(RerankerConfigError, match="not a local directory"):
        build_reranker(Settings(reranker="cross-encoder",
                                reranker_model="cross-encoder/ms-marco-MiniLM-L-6-v2"))
    a_file = tmp_path / "model.bin"
    a_file.write_bytes(b"\0")
    with pytest.raises(RerankerConfigError, match="not a local directory"):
        build_reranker(Settings(reranker="cross-encoder", reranker_model=str(a_file)))


def test_cross_encoder_with_an_empty_directory_fails_to_load_without_downloading(
    tmp_path: Path,
) -> None:
    with pytest.raises(RerankerConfigError, match="could not be loaded"):
        build_reranker(Settings(reranker="cross-encoder", reranker_model=str(tmp_path)))


def test_unknown_reranker_kind_is_rejected_by_settings() -> None:
    with pytest.raises(ValueError):
        Settings(reranker="colbert")  # type: ignore[arg-type]


def test_rerank_stage_with_the_none_provider_keeps_order_and_cuts_to_top(db: Any) -> None:
    from app.search.service import rerank
    from tests.test_bm25_unit import add_document, make_collection

    col = make_collection(db)
    _, ids = add_document(db, col, ["one", "two", "three", "four"])
    ranked = [(ids[2], 0.9), (ids[0], 0.8), (-1, 0.7), (ids[3], 0.6), (ids[1], 0.5)]
    out = rerank(db, "q", ranked, top=4)
    # the missing chunk (-1) is dropped; the none reranker scores 0 and keeps the order
    assert out == [(ids[2], 0.0), (ids[0], 0.0), (ids[3], 0.0)]
    assert rerank(db, "q", [], top=4) == []
    db.rollback()
