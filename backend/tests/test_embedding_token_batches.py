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


def test_a_short_text_runs_alone_rather_than_padded_to_long_ones() -> None:
    # a document's short last chunk beside two full ones: padded into a run with one of
    # them it would cost 130 tokens of padding; a run of its own costs a few tokens' worth
    embedder = _embedder()
    old = _set(embedder, 32, 512)
    try:
        batches = embedder.batches([220, 90, 220])
    finally:
        _set(embedder, *old)
    assert batches == [[1], [0, 2]]


def test_texts_of_one_length_share_a_run_within_the_limits() -> None:
    embedder = _embedder()
    old = _set(embedder, 4, 512)
    try:
        batches = embedder.batches([100] * 6)
    finally:
        _set(embedder, *old)
    # two runs, not six (each run has its fixed cost), and even ones: a run's tokens cost
    # more as it grows (cache), so 3 + 3 beats the 4 + 2 that filling the first would give
    assert [len(b) for b in batches] == [3, 3]
    assert sorted(i for b in batches for i in b) == list(range(6))


def _cost(lengths: list[int], batches: list[list[int]]) -> float:
    from app.providers.embeddings.onnx import run_cost

    return sum(run_cost(len(b), max(lengths[i] for i in b)) for b in batches)


def _cheapest(widths: list[int], batch_size: int, batch_tokens: int) -> float:
    """The least cost over every cut of the sorted widths into consecutive groups within
    the limits, by trying them all (2^(n-1) cuts)."""
    from app.providers.embeddings.onnx import run_cost

    n, best = len(widths), float("inf")
    for mask in range(1 << (n - 1)):
        groups, start = [], 0
        for i in range(1, n + 1):
            if i == n or mask >> (i - 1) & 1:
                groups.append(widths[start:i])
                start = i
        if all(len(g) <= batch_size and (len(g) == 1 or len(g) * g[-1] <= batch_tokens)
               for g in groups):
            best = min(best, sum(run_cost(len(g), g[-1]) for g in groups))
    return best


@pytest.mark.parametrize("seed", range(6))
def test_the_batches_cost_no_more_than_any_other_cut(seed: int) -> None:
    embedder = _embedder()
    rnd = random.Random(seed)
    lengths = [rnd.choice([rnd.randint(3, 40), rnd.randint(100, 256)]) for _ in range(11)]
    old = _set(embedder, 4, 512)
    try:
        batches = embedder.batches(lengths)
    finally:
        _set(embedder, *old)
    assert _cost(lengths, batches) == pytest.approx(_cheapest(sorted(lengths), 4, 512))


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


# --- embed_bulk: the worker's calls, batches side by side on a one-thread session ----------


def _fresh(bulk_runs: int = 2) -> Any:
    """An embedder of its own (the cached one may already hold both sessions)."""
    from app.core.config import get_settings
    from app.providers.embeddings.onnx import OnnxEmbedder

    s = get_settings()
    return OnnxEmbedder(s.embedding_model, s.models_dir, batch_size=4,
                        max_tokens=s.embedding_max_tokens, batch_tokens=128, bulk_runs=bulk_runs)


def test_bulk_vectors_equal_embed_documents_in_the_callers_order() -> None:
    embedder = _fresh()
    texts = _texts(40, seed=11)
    assert len(embedder.batches([len(embedder._batch_tok.encode(t).ids) for t in texts])) > 4
    bulk = np.asarray(embedder.embed_bulk(texts))
    one_by_one = np.asarray(embedder.embed_documents(texts))
    assert bulk.shape == (40, 384)
    assert np.abs(bulk - one_by_one).max() < 1e-4


def test_bulk_calls_from_several_threads_each_get_their_own_vectors() -> None:
    from concurrent.futures import ThreadPoolExecutor

    embedder = _fresh()
    groups = [_texts(12, seed=s) for s in range(6)]
    expected = [np.asarray(embedder.embed_documents(g)) for g in groups]
    with ThreadPoolExecutor(max_workers=3) as pool:
        got = list(pool.map(lambda g: np.asarray(embedder.embed_bulk(g)), groups))
    for want, have in zip(expected, got, strict=True):
        assert np.abs(want - have).max() < 1e-4


def test_a_query_never_loads_the_bulk_session_nor_a_bulk_call_the_query_one() -> None:
    # each session holds its own copy of the graph (~110-150 MB): an API process that only
    # embeds queries, or a worker that only ingests, must hold one
    api, worker = _fresh(), _fresh()
    api.warm_up()
    api.embed_query("how do cells signal")
    worker.embed_bulk(_texts(10))
    assert set(api._sessions) == {0}
    assert set(worker._sessions) == {1}


def test_one_bulk_run_is_the_query_path_and_no_texts_load_nothing() -> None:
    embedder = _fresh(bulk_runs=1)
    assert embedder.embed_bulk([]) == []
    assert embedder._sessions == {}
    texts = _texts(9)
    assert np.abs(np.asarray(embedder.embed_bulk(texts))
                  - np.asarray(embedder.embed_documents(texts))).max() < 1e-6
    assert set(embedder._sessions) == {0}


@pytest.mark.parametrize("value", ["-1", "two", "65"])
def test_settings_refuse_a_bulk_run_count_out_of_range(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    from app.core.config import Settings

    monkeypatch.setenv("EMBEDDING_BULK_RUNS", value)
    with pytest.raises(ValidationError, match="embedding_bulk_runs"):
        Settings()


@pytest.mark.parametrize(("value", "cpus", "runs"), [("0", 3, 3), ("0", None, 1), ("2", 8, 2)])
def test_one_bulk_run_count_serves_the_batcher_and_the_model(
    monkeypatch: pytest.MonkeyPatch, value: str, cpus: int | None, runs: int
) -> None:
    """EMBEDDING_BULK_RUNS=0 is the CPU count (1 when unknown), resolved in one place that
    both the embed batcher's runners and the embedder's side-by-side runs read."""
    from app.core import config
    from app.providers.embeddings import _build

    monkeypatch.setenv("EMBEDDING_BULK_RUNS", value)
    monkeypatch.setattr(config.os, "cpu_count", lambda: cpus)
    settings = config.Settings()
    assert settings.bulk_runs == runs
    assert _build(settings).bulk_runs == runs  # type: ignore[attr-defined]
