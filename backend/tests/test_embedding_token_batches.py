"""The local ONNX embedder groups texts by padded tokens (EMBEDDING_BATCH_TOKENS): every
batch within both limits, each text in exactly one batch, and vectors that do not depend on
how the texts were grouped (each batch pads to its own longest text, masked out)."""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import pytest
from pydantic import ValidationError

WORDS = [
    "protein", "cell", "tumour", "receptor", "binding", "expression", "mouse", "gene",
    "pathway", "signal", "dose", "trial", "patient", "outcome", "risk", "cohort",
]


def _embedder() -> Any:
    from app.providers.embeddings import get_embedder

    return get_embedder()


def _texts(n: int, seed: int = 7) -> list[str]:
    rnd = random.Random(seed)
    return [" ".join(rnd.choice(WORDS) for _ in range(rnd.choice([1, 3, 12, 40, 90, 300])))
            for _ in range(n)]


def _set(embedder: Any, batch_size: int, batch_tokens: int) -> tuple[int, int]:
    old = (embedder.batch_size, embedder.batch_tokens)
    embedder.batch_size, embedder.batch_tokens = batch_size, batch_tokens
    return old


@pytest.mark.parametrize(("batch_size", "batch_tokens"), [(32, 512), (4, 0), (32, 64), (1, 0)])
def test_batches_respect_both_limits_and_hold_every_text_once(
    batch_size: int, batch_tokens: int
) -> None:
    embedder = _embedder()
    old = _set(embedder, batch_size, batch_tokens)
    try:
        lengths = [random.Random(3).randint(1, 256) for _ in range(300)]
        lengths += [600, 5, 5, 256]
        batches = embedder.batches(lengths)
    finally:
        _set(embedder, *old)
    assert sorted(i for batch in batches for i in batch) == list(range(len(lengths)))
    for batch in batches:
        assert len(batch) <= batch_size
        if batch_tokens and len(batch) > 1:
            assert len(batch) * max(lengths[i] for i in batch) <= batch_tokens
    flat = [lengths[i] for batch in batches for i in batch]
    assert flat == sorted(flat)  # shortest first: a batch pads to lengths close to its own


def test_a_text_longer_than_the_token_budget_runs_alone() -> None:
    embedder = _embedder()
    old = _set(embedder, 32, 100)
    try:
        batches = embedder.batches([10, 200, 10, 60, 60])
    finally:
        _set(embedder, *old)
    # 10+10 pad to 20 tokens; a 60 beside them would pad 3 x 60 = 180 > 100, and two 60s 120;
    # the 200 is past the budget on its own and still runs
    assert batches == [[0, 2], [3], [4], [1]]


def test_vectors_do_not_depend_on_the_grouping() -> None:
    embedder = _embedder()
    texts = _texts(40)
    vectors = {}
    for limits in [(1, 0), (32, 0), (32, 512), (3, 128)]:
        old = _set(embedder, *limits)
        try:
            vectors[limits] = np.asarray(embedder.embed_documents(texts))
        finally:
            _set(embedder, *old)
    alone = vectors[(1, 0)]  # one text per call: no padding at all
    for limits, got in vectors.items():
        assert got.shape == (40, 384)
        assert np.abs(got - alone).max() < 1e-4, limits
    assert np.allclose(np.linalg.norm(alone, axis=1), 1.0, atol=1e-5)


def test_a_text_past_the_model_limit_is_truncated_not_refused() -> None:
    embedder = _embedder()
    long_text = " ".join(WORDS * 60)  # ~960 tokens, far past EMBEDDING_MAX_TOKENS
    ids = embedder._batch_tok.encode(long_text).ids
    assert len(ids) == embedder.max_tokens
    head = embedder.tokenizer.decode(ids[1:-1])
    got, expected = embedder.embed_documents([long_text, head])
    assert np.dot(got, expected) > 0.999


def test_no_texts_make_no_call_and_no_vectors() -> None:
    embedder = _embedder()
    assert embedder.embed_documents([]) == []
    assert embedder.batches([]) == []


@pytest.mark.parametrize("value", ["-1", "many", "1.5"])
def test_settings_refuse_a_batch_token_budget_that_is_not_a_count(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    from app.core.config import Settings

    monkeypatch.setenv("EMBEDDING_BATCH_TOKENS", value)
    with pytest.raises(ValidationError, match="embedding_batch_tokens"):
        Settings()
