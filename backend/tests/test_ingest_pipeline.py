"""The pipeline run directly, as a redelivered or raced Celery task would run it."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import func, select

import app.ingest.pipeline as pipeline
from app.documents import tasks
from app.documents.models import Chunk, Document
from app.providers.embeddings import get_embedder
from app.search.models import ChunkTerm
from app.storage import content_key
from tests.conftest import s3_keys, search, upload, wait_for_documents

TEXT = (
    "Lighthouses guided ships past dangerous reefs with rotating lenses. " * 15
    + "\n\nKeepers trimmed the wicks and wound the clockwork every few hours. " * 15
).encode()


def _chunk_rows(db: Any, doc_id: uuid.UUID) -> list[tuple[int, int]]:
    db.rollback()
    rows = db.execute(
        select(Chunk.id, Chunk.ordinal).where(Chunk.document_id == doc_id).order_by(Chunk.ordinal)
    ).all()
    return [(r.id, r.ordinal) for r in rows]


def _terms(db: Any, doc_id: uuid.UUID) -> int:
    query = (
        select(func.count())
        .select_from(ChunkTerm)
        .join(Chunk, Chunk.id == ChunkTerm.chunk_id)
        .where(Chunk.document_id == doc_id)
    )
    return int(db.scalar(query) or 0)


def _ingest(client: Any, collection: str) -> dict[str, Any]:
    unique = TEXT + f"\n\nCopy {uuid.uuid4()}.".encode()  # its own object in the bucket
    resp = upload(client, [("lighthouse.txt", unique)], collection=collection)
    assert resp.status_code == 202, resp.text
    doc_id = resp.json()["documents"][0]["id"]
    doc = wait_for_documents(client, [doc_id])[doc_id]
    assert doc["status"] == "ready", doc
    return doc


@pytest.fixture(scope="module")
def shared_doc(client: Any) -> dict[str, Any]:
    """One ingested document for the tests that re-run the pipeline on it."""
    return _ingest(client, f"t-pipeline-{uuid.uuid4().hex[:8]}")


@pytest.fixture
def ready_doc(client: Any, collection_name: str) -> dict[str, Any]:
    """A document of its own, for the tests that delete it."""
    return _ingest(client, collection_name)


def test_running_the_pipeline_twice_does_not_duplicate_chunks(
    shared_doc: dict[str, Any], db: Any
) -> None:
    doc_id = uuid.UUID(shared_doc["id"])
    before = _chunk_rows(db, doc_id)
    terms_before = _terms(db, doc_id)
    assert len(before) == shared_doc["chunk_count"] > 1
    for _ in range(2):
        outcome = pipeline.run(doc_id)  # a redelivery without the task id: a full re-run
        assert outcome.status == "ready" and outcome.chunks == len(before)
    after = _chunk_rows(db, doc_id)
    assert [o for _, o in after] == list(range(len(before)))
    assert {i for i, _ in after}.isdisjoint({i for i, _ in before})  # replaced, not added
    assert _terms(db, doc_id) == terms_before
    doc = db.get(Document, doc_id)
    assert doc.status == "ready" and doc.chunk_count == len(before)


def test_stage_transitions_read_the_document_row_without_its_image(
    shared_doc: dict[str, Any],
) -> None:
    """Each of a run's five document reads used to load Document.image too (a second query
    each); only the write, which replaces the image, may read it now."""
    from sqlalchemy import event

    from app.core.db import get_engine

    image_reads: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "document_images" in statement:
            image_reads.append(statement)

    event.listen(get_engine(), "before_cursor_execute", seen)
    try:
        assert pipeline.run(uuid.UUID(shared_doc["id"])).status == "ready"
    finally:
        event.remove(get_engine(), "before_cursor_execute", seen)
    assert len(image_reads) <= 1, image_reads


def test_redelivery_of_a_finished_task_is_a_no_op(shared_doc: dict[str, Any], db: Any) -> None:
    doc_id = uuid.UUID(shared_doc["id"])
    before = _chunk_rows(db, doc_id)
    outcome = pipeline.run(doc_id, shared_doc["task_id"])
    assert (outcome.status, outcome.chunks) == ("ready", len(before))
    assert _chunk_rows(db, doc_id) == before  # same rows: nothing rewritten


def test_a_superseded_task_does_nothing(shared_doc: dict[str, Any], db: Any) -> None:
    doc_id = uuid.UUID(shared_doc["id"])
    before = _chunk_rows(db, doc_id)
    assert pipeline.run(doc_id, "an-old-task-id").status == "superseded"
    assert _chunk_rows(db, doc_id) == before


def test_a_task_for_a_deleted_document_reports_deleted(
    client: Any, ready_doc: dict[str, Any]
) -> None:
    assert client.delete(f"/api/v1/documents/{ready_doc['id']}").status_code == 204
    assert pipeline.run(uuid.UUID(ready_doc["id"])).status == "deleted"
    assert tasks.ingest.apply(args=[ready_doc["id"]]).get()["status"] == "deleted"


def test_delete_during_ingest_leaves_nothing_behind(
    client: Any, ready_doc: dict[str, Any], db: Any, s3: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The document is deleted through the API while the pipeline is embedding it."""
    doc_id = uuid.UUID(ready_doc["id"])
    embedder = get_embedder()

    class DeletingEmbedder:
        model_name = embedder.model_name
        count_tokens = staticmethod(embedder.count_tokens)
        token_words = staticmethod(embedder.token_words)
        window_tokens = embedder.window_tokens

        def embed_documents(self, texts: list[str]) -> list[list[float]]:
            vectors = embedder.embed_documents(texts)
            assert client.delete(f"/api/v1/documents/{doc_id}").status_code == 204
            return vectors

        embed_bulk = embed_documents  # what the worker's batcher calls

    monkeypatch.setattr(pipeline, "get_embedder", DeletingEmbedder)
    with pytest.raises(pipeline.DocumentGone):
        pipeline.run(doc_id)
    db.rollback()
    assert db.get(Document, doc_id) is None
    assert _chunk_rows(db, doc_id) == []
    assert content_key(ready_doc["sha256"]) not in s3_keys(s3)



def test_a_failed_reingest_leaves_no_stale_chunks_searchable(
    client: Any, ready_doc: dict[str, Any], db: Any, s3: Any
) -> None:
    """The original vanished from the bucket; a re-ingest fails, and the old chunks go too."""
    doc_id = uuid.UUID(ready_doc["id"])
    assert _chunk_rows(db, doc_id) and _terms(db, doc_id) > 0
    s3.delete_object(Bucket="cairn-test", Key=content_key(ready_doc["sha256"]))
    resp = client.post(f"/api/v1/documents/{doc_id}/reingest")
    assert resp.status_code == 202, resp.text
    assert resp.json()["stage"] in ("queued", "fetching", "failed")
    doc = wait_for_documents(client, [ready_doc["id"]])[ready_doc["id"]]
    assert doc["status"] == "failed", doc
    assert doc["error_code"] == "original_missing"
    assert "missing" in doc["error"]
    assert doc["chunk_count"] == 0
    assert _chunk_rows(db, doc_id) == []
    assert _terms(db, doc_id) == 0
    hits = search(client, "lighthouse keepers trimmed the wicks", ready_doc["collection"])
    assert all(h["document_id"] != ready_doc["id"] for h in hits)


def test_uploading_the_bytes_again_restores_a_vanished_original(
    client: Any, ready_doc: dict[str, Any], s3: Any
) -> None:
    original = client.get(f"/api/v1/documents/{ready_doc['id']}/download").content
    s3.delete_object(Bucket="cairn-test", Key=content_key(ready_doc["sha256"]))
    resp = upload(
        client, [("lighthouse.txt", original)], collection=ready_doc["collection"], reingest=True
    )
    assert resp.status_code == 202, resp.text
    assert resp.json()["documents"][0]["outcome"] == "reingested"
    doc = wait_for_documents(client, [ready_doc["id"]])[ready_doc["id"]]
    assert doc["status"] == "ready", doc
    assert content_key(ready_doc["sha256"]) in s3_keys(s3)


def test_reingest_of_an_unknown_or_unreadable_document_is_404(
    client: Any, ready_doc: dict[str, Any], make_user: Any
) -> None:
    assert client.post(f"/api/v1/documents/{uuid.uuid4()}/reingest").status_code == 404
    _, other = make_user()
    assert other.post(f"/api/v1/documents/{ready_doc['id']}/reingest").status_code == 404
