"""Several documents ingested at once in one worker process: texts coalesced into shared model
calls (ingest/embed_batcher.py), chunks and postings written in bulk (search/bulk_index.py).

Each document still gets exactly one set of chunks, the BM25 statistics stay exactly what its
postings say, a document the model refuses fails alone, and one deleted mid-batch stops
without leaving anything behind while the others finish."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy import select, text

import app.ingest.pipeline as pipeline
from app.documents.models import Chunk, Document
from app.ingest.embed_batcher import EmbedBatcher
from app.providers.embeddings import EmbeddingError, get_embedder
from tests.conftest import upload_ready

WORDS = ["harbour", "lantern", "granite", "compass", "orchard", "glacier", "meadow", "ember"]


def _text(i: int, marker: str = "") -> bytes:
    body = " ".join(f"{WORDS[(i + k) % 8]} {WORDS[(i * k) % 8]} stone{k % 5}." for k in range(260))
    return f"Note {i} {marker}\n\n{body}\n{uuid.uuid4()}".encode()


def _chunks(db: Any, doc_id: str) -> list[tuple[int, int]]:
    db.rollback()
    rows = db.execute(select(Chunk.id, Chunk.ordinal).where(
        Chunk.document_id == uuid.UUID(doc_id)).order_by(Chunk.ordinal)).all()
    return [(r.id, r.ordinal) for r in rows]


def _assert_statistics_consistent(db: Any, collection: str) -> None:
    """Postings are exactly the to_tsvector of what each chunk was embedded from (a later
    chunk has its document's title in front); lengths, dfs and totals add up."""
    db.rollback()
    params = {"name": collection}
    col = db.execute(text("SELECT id, text_search_config AS cfg, chunk_count, total_terms "
                          "FROM collections WHERE name = :name"), params).one()
    p = {"col": col.id, "cfg": col.cfg}
    missing_or_extra = db.scalar(text("""
        WITH want AS (SELECT c.id, t.lexeme, COALESCE(array_length(t.positions, 1), 1) AS tf
                      FROM chunks c JOIN documents d ON d.id = c.document_id
                      CROSS JOIN LATERAL unnest(to_tsvector(CAST(:cfg AS regconfig),
                          CASE WHEN c.ordinal > 0 AND d.title <> ''
                               THEN d.title || E'\n' || c.text ELSE c.text END)) t
                      WHERE c.collection_id = :col AND c.granularity = 'chunk'),
             have AS (SELECT chunk_id AS id, term AS lexeme, tf FROM chunk_terms
                      WHERE collection_id = :col)
        SELECT count(*) FROM ((SELECT * FROM want EXCEPT SELECT * FROM have)
                              UNION ALL (SELECT * FROM have EXCEPT SELECT * FROM want)) d"""), p)
    assert missing_or_extra == 0
    bad_lengths = db.scalar(text("""
        SELECT count(*) FROM chunks c WHERE c.collection_id = :col AND c.lex_length <>
          (SELECT COALESCE(sum(tf), 0) FROM chunk_terms WHERE chunk_id = c.id)"""), p)
    assert bad_lengths == 0
    bad_df = db.scalar(text("""
        SELECT count(*) FROM collection_terms t FULL JOIN
          (SELECT term, count(*) AS n FROM chunk_terms WHERE collection_id = :col GROUP BY term) s
          ON s.term = t.term AND t.collection_id = :col
        WHERE (t.collection_id = :col OR t.collection_id IS NULL)
          AND (t.df IS DISTINCT FROM s.n)"""), p)
    assert bad_df == 0
    n, total = db.execute(text("SELECT count(*), COALESCE(sum(lex_length), 0) FROM chunks "
                               "WHERE collection_id = :col"), p).one()
    assert (col.chunk_count, col.total_terms) == (n, total)


def test_documents_ingested_at_once_get_one_set_of_chunks_and_exact_statistics(
    client: Any, db: Any, collection_name: str
) -> None:
    ids = upload_ready(client, [(f"n{i}.txt", _text(i)) for i in range(6)], collection_name,
                       timeout=240)  # fmt: skip
    first = {i: _chunks(db, i) for i in ids}
    # Every document run again at once, twice (a redelivery after a full run).
    for _ in range(2):
        with ThreadPoolExecutor(max_workers=6) as pool:
            outcomes = list(pool.map(lambda i: pipeline.run(uuid.UUID(i)), ids))
        assert {o.status for o in outcomes} == {"ready"}
    for doc_id in ids:
        rows = _chunks(db, doc_id)
        assert [o for _, o in rows] == list(range(len(first[doc_id]))), doc_id
        assert db.get(Document, uuid.UUID(doc_id)).chunk_count == len(rows)
    _assert_statistics_consistent(db, collection_name)
    # Deleting a document takes exactly its share out of the statistics.
    assert client.delete(f"/api/v1/documents/{ids[0]}").status_code == 204
    _assert_statistics_consistent(db, collection_name)


class _Refusing:
    """The real model, refusing any text with POISON in it (permanently, like a 400)."""

    def __init__(self, on_call: Any = None) -> None:
        self.inner = get_embedder()
        self.model_name = self.inner.model_name
        self.count_tokens = self.inner.count_tokens
        self.token_words = self.inner.token_words
        self.window_tokens = self.inner.window_tokens
        self.on_call = on_call

    def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        if self.on_call is not None:
            self.on_call(texts)
        if any("POISON" in t for t in texts):
            raise EmbeddingError("refused", transient=False)
        return self.inner.embed_documents(texts)

    embed_bulk = embed_documents  # what the worker's batcher calls


def test_a_refused_request_fails_alone_and_the_others_share_calls() -> None:
    model = _Refusing()
    gate = threading.Event()
    batcher = EmbedBatcher(max_texts=256)
    blocker = _Refusing(on_call=lambda _: gate.wait(30))  # holds the model: requests pile up
    with ThreadPoolExecutor(max_workers=6) as pool:
        held = pool.submit(batcher.embed, blocker, ["hold"])
        futures = [pool.submit(batcher.embed, model, [f"text {i}", f"more {i}"]) for i in range(4)]
        poisoned = pool.submit(batcher.embed, model, ["POISON here"])
        while len(batcher._waiting) < 5:  # all queued behind the blocker
            threading.Event().wait(0.01)
        gate.set()
        assert len(held.result(timeout=60)) == 1
        vectors = [f.result(timeout=60) for f in futures]
        with pytest.raises(EmbeddingError):
            poisoned.result(timeout=60)
    assert all(len(v) == 2 and len(v[0]) == len(vectors[0][0]) for v in vectors)
    # blocker, one combined call that failed, then one call per request to find the refusal
    assert batcher.calls == 1 + 1 + 5
    assert vectors[1] == model.inner.embed_documents(["text 1", "more 1"])


def test_an_empty_request_never_reaches_the_model() -> None:
    model = _Refusing(on_call=lambda _: pytest.fail("called"))
    assert EmbedBatcher(max_texts=8).embed(model, []) == []


def test_two_requests_waiting_at_once_run_on_two_runners_side_by_side() -> None:
    """Neither waits for the other's call: both calls are inside the model together (a
    barrier of two that a single runner could never pass)."""
    inside = threading.Barrier(2)
    model = _Refusing(on_call=lambda _: inside.wait(30))
    batcher = EmbedBatcher(max_texts=256, runners=2)
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = [pool.submit(batcher.embed, model, [f"text {i}", f"more {i}"]) for i in range(2)]
        vectors = [f.result(timeout=60) for f in futures]
    assert batcher.calls == 2
    assert vectors[1] == model.inner.embed_documents(["text 1", "more 1"])


def test_with_two_runners_a_refused_request_still_fails_alone() -> None:
    model = _Refusing()
    batcher = EmbedBatcher(max_texts=256, runners=2)
    texts = [[f"text {i}", f"more {i}"] for i in range(5)] + [["POISON here"]]
    with ThreadPoolExecutor(max_workers=6) as pool:
        futures = [pool.submit(batcher.embed, model, t) for t in texts]
        with pytest.raises(EmbeddingError):
            futures[-1].result(timeout=60)
        got = [f.result(timeout=60) for f in futures[:-1]]
    for t, vectors in zip(texts, got, strict=False):
        assert vectors == model.inner.embed_documents(t)


def test_a_runner_count_below_one_still_runs_one() -> None:
    batcher = EmbedBatcher(max_texts=8, runners=0)
    assert len(batcher._threads) == 1
    assert len(batcher.embed(_Refusing(), ["one text"])) == 1


def test_a_document_the_model_refuses_fails_alone_among_concurrent_ones(
    client: Any, db: Any, collection_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = [(f"ok{i}.txt", _text(i)) for i in range(3)] + [("bad.txt", _text(9, "POISON"))]
    ids = upload_ready(client, files, collection_name, timeout=240)
    refusing = _Refusing()  # one instance: the four documents' texts may share a call
    monkeypatch.setattr(pipeline, "get_embedder", lambda: refusing)

    def run(doc_id: str) -> str:
        try:
            return pipeline.run(uuid.UUID(doc_id)).status
        except pipeline.IngestFailure as exc:
            pipeline.mark_failed(uuid.UUID(doc_id), exc.code, exc.reason)
            return exc.code.value

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(run, ids))
    assert results == ["ready", "ready", "ready", "embedding_failed"]
    bad = client.get(f"/api/v1/documents/{ids[3]}").json()
    assert bad["status"] == "failed" and bad["error_code"] == "embedding_failed"
    assert _chunks(db, ids[3]) == []
    assert all(_chunks(db, i) for i in ids[:3])
    _assert_statistics_consistent(db, collection_name)


def test_a_document_deleted_while_batched_with_others_stops_cleanly(
    client: Any, db: Any, collection_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = upload_ready(client, [(f"d{i}.txt", _text(i, "VICTIM" if i == 0 else ""))
                                for i in range(3)], collection_name, timeout=240)  # fmt: skip
    victim = ids[0]

    def delete_victim(texts: Sequence[str]) -> None:
        if any("VICTIM" in t for t in texts) and _chunks(db, victim):
            assert client.delete(f"/api/v1/documents/{victim}").status_code == 204

    deleting = _Refusing(on_call=delete_victim)
    monkeypatch.setattr(pipeline, "get_embedder", lambda: deleting)

    def run(doc_id: str) -> str:
        try:
            return pipeline.run(uuid.UUID(doc_id)).status
        except pipeline.DocumentGone:
            return "gone"

    with ThreadPoolExecutor(max_workers=3) as pool:
        results = list(pool.map(run, ids))
    assert results == ["gone", "ready", "ready"]
    db.rollback()
    assert db.get(Document, uuid.UUID(victim)) is None and _chunks(db, victim) == []
    assert all(_chunks(db, i) for i in ids[1:])
    _assert_statistics_consistent(db, collection_name)
