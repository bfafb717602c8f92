"""The reconciler (app.documents.tasks.reconcile_documents), the attempt budget, and a delete
that races an ingest — on the real database, bucket and in-thread worker.

- a document stalled in `processing` (its worker died, its message is gone) is enqueued again
  and ends `ready` with its chunks written once; a fresh one is left alone;
- past its attempts a stalled document is dead-lettered: `failed`, with the reason in the API;
- a task delivered to a document already past its attempts fails it instead of running;
- a document deleted while it is being ingested leaves no row, chunk, posting or object.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from typing import Any

from sqlalchemy import text

from app.core.config import get_settings
from app.documents.failures import FailureCode
from app.documents.models import Document, DocumentStatus
from app.documents.tasks import ingest, reconcile_documents
from app.storage import content_key
from tests.conftest import s3_keys, upload, wait_for_documents


def _stall(db: Any, doc_id: str, *, attempts: int, age_s: int) -> None:
    """Make the row look like a worker died mid-ingest `age_s` seconds ago."""
    db.rollback()
    db.execute(
        text(
            "UPDATE documents SET status = 'processing', stage = 'embedding', attempts = :a, "
            "updated_at = now() - make_interval(secs => :age) WHERE id = :d"
        ),
        {"a": attempts, "age": age_s, "d": doc_id},
    )
    db.commit()


def _chunk_ordinals(db: Any, doc_id: str) -> list[int]:
    db.rollback()
    rows = db.execute(
        text("SELECT ordinal FROM chunks WHERE document_id = :d ORDER BY ordinal"), {"d": doc_id}
    ).scalars()
    return list(rows)


def _ready_doc(client: Any, collection: str, body: bytes) -> dict[str, Any]:
    resp = upload(client, [("r.txt", body + uuid.uuid4().hex.encode())], collection=collection)
    assert resp.status_code == 202, resp.text
    doc_id = resp.json()["documents"][0]["id"]
    doc = wait_for_documents(client, [doc_id], timeout=90)[doc_id]
    assert doc["status"] == "ready", doc
    return doc


def _running(task_id: str) -> bool:
    from celery.worker import state as worker_state

    requests = [*worker_state.active_requests, *worker_state.reserved_requests]
    return any(r.id == task_id for r in requests)


def _stall_age() -> int:
    return get_settings().task_visibility_timeout_s + 120


def test_stalled_document_is_reenqueued_and_ends_ready_without_duplicates(
    client: Any, db: Any, collection_name: str
) -> None:
    doc = _ready_doc(client, collection_name, b"Stalled ingest text about basalt sea stacks. " * 40)
    _stall(db, doc["id"], attempts=1, age_s=_stall_age())

    counts = reconcile_documents()

    assert counts["enqueued"] >= 1, counts
    again = wait_for_documents(client, [doc["id"]], timeout=90)[doc["id"]]
    assert again["status"] == "ready", again
    assert again["attempts"] == 2
    assert _chunk_ordinals(db, doc["id"]) == list(range(doc["chunk_count"]))


def test_recently_active_document_is_left_alone(client: Any, db: Any, collection_name: str) -> None:
    doc = _ready_doc(client, collection_name, b"Busy ingest text about heron rookeries. " * 10)
    _stall(db, doc["id"], attempts=1, age_s=5)  # processing, but seconds ago: not stalled
    try:
        reconcile_documents()
        db.rollback()
        row = db.get(Document, uuid.UUID(doc["id"]))
        db.refresh(row)
        assert (row.status, row.stage, row.attempts) == (DocumentStatus.processing, "embedding", 1)
    finally:
        db.execute(
            text("UPDATE documents SET status = 'ready', stage = 'done' WHERE id = :d"),
            {"d": doc["id"]},
        )
        db.commit()


def test_stalled_document_past_its_attempts_is_dead_lettered_with_a_reason(
    client: Any, db: Any, collection_name: str
) -> None:
    doc = _ready_doc(client, collection_name, b"Doomed ingest text about salt marshes. " * 10)
    budget = get_settings().task_max_retries + 1
    _stall(db, doc["id"], attempts=budget, age_s=_stall_age())

    counts = reconcile_documents()

    assert counts["failed"] >= 1, counts
    shown = client.get(f"/api/v1/documents/{doc['id']}").json()
    assert shown["status"] == "failed"
    assert shown["error_code"] == "dead_lettered" and str(budget) in shown["error"]
    # the chunks of its earlier ingest are gone: a failed document is never searchable
    assert shown["chunk_count"] == 0
    assert client.get(f"/api/v1/documents/{doc['id']}/chunks").json()["total"] == 0
    listed = client.get(
        "/api/v1/documents", params={"collection": collection_name, "status": "failed"}
    )
    assert [d["id"] for d in listed.json()["items"]] == [doc["id"]]
    task = client.get(f"/api/v1/tasks/{shown['task_id']}").json()
    assert task["state"] == "FAILURE" and task["error_code"] == "dead_lettered"
    # and it stays failed: a second pass does not resurrect or re-fail it
    assert (
        reconcile_documents()["enqueued"] == 0
        or client.get(f"/api/v1/documents/{doc['id']}").json()["status"] == "failed"
    )


def test_dead_letter_skips_a_document_a_worker_finished_meanwhile(
    client: Any, db: Any, collection_name: str
) -> None:
    from app.documents.models import DocumentStatus
    from app.ingest.pipeline import mark_failed

    doc = _ready_doc(client, collection_name, b"Finished just in time: tidal flats. " * 10)
    failed = mark_failed(
        uuid.UUID(doc["id"]), FailureCode.dead_lettered, "late dead-letter",
        only_if=(DocumentStatus.queued, DocumentStatus.processing),
    )
    assert failed is False
    shown = client.get(f"/api/v1/documents/{doc['id']}").json()
    assert shown["status"] == "ready" and shown["chunk_count"] >= 1 and shown["error"] is None


def test_task_for_a_document_past_its_attempts_fails_it_instead_of_running(
    client: Any, db: Any, collection_name: str
) -> None:
    doc = _ready_doc(client, collection_name, b"Poisoned ingest text about cave swallows. " * 10)
    budget = get_settings().task_max_retries + 1
    db.rollback()
    db.execute(
        text(
            "UPDATE documents SET status = 'queued', stage = 'queued', attempts = :a WHERE id = :d"
        ),
        {"a": budget, "d": doc["id"]},
    )
    db.commit()

    result = ingest.apply(args=[doc["id"]], task_id=doc["task_id"]).get()

    assert result["status"] == "failed" and str(budget) in result["error"]
    shown = client.get(f"/api/v1/documents/{doc['id']}").json()
    assert shown["error_code"] == "dead_lettered"
    assert shown["status"] == "failed" and shown["attempts"] == budget  # it did not run again


def test_task_for_a_document_within_its_attempts_runs(
    client: Any, db: Any, collection_name: str
) -> None:
    doc = _ready_doc(client, collection_name, b"Retried ingest text about sea otters. " * 10)
    budget = get_settings().task_max_retries + 1
    db.rollback()
    db.execute(
        text(
            "UPDATE documents SET status = 'queued', stage = 'queued', attempts = :a WHERE id = :d"
        ),
        {"a": budget - 1, "d": doc["id"]},
    )
    db.commit()
    result = ingest.apply(args=[doc["id"]], task_id=doc["task_id"]).get()
    assert result["status"] == "ready", result


def test_delete_while_ingesting_leaves_nothing_behind(
    client: Any, db: Any, s3: Any, collection_name: str
) -> None:
    body = f"Deleted mid-ingest {uuid.uuid4().hex}. " + "Tidal bore surfing on river mouths. " * 15
    content = "\n".join([body] * 40).encode()
    resp = upload(client, [("doomed.txt", content)], collection=collection_name)
    assert resp.status_code == 202, resp.text
    doc_id, task_id = resp.json()["documents"][0]["id"], resp.json()["documents"][0]["task_id"]
    key = content_key(hashlib.sha256(content).hexdigest())

    deadline = time.monotonic() + 90
    while client.get(f"/api/v1/documents/{doc_id}").json()["status"] == "queued":
        assert time.monotonic() < deadline, "the worker never started the ingest"
        time.sleep(0.05)
    assert _running(task_id)  # deleted while the worker holds it
    assert client.delete(f"/api/v1/documents/{doc_id}").status_code == 204

    deadline = time.monotonic() + 150
    while _running(task_id):  # the in-thread worker's own bookkeeping of what it runs
        assert time.monotonic() < deadline, "the ingest task did not finish"
        time.sleep(0.2)
    assert client.get(f"/api/v1/documents/{doc_id}").status_code == 404
    db.rollback()
    assert db.scalar(text("SELECT count(*) FROM chunks WHERE document_id = :d"), {"d": doc_id}) == 0
    assert (
        db.scalar(
            text(
                "SELECT count(*) FROM chunk_terms ct WHERE NOT EXISTS "
                "(SELECT 1 FROM chunks c WHERE c.id = ct.chunk_id)"
            )
        )
        == 0
    )
    assert (
        db.scalar(
            text("SELECT chunk_count FROM collections WHERE name = :c"), {"c": collection_name}
        )
        == 0
    )
    assert key not in s3_keys(s3)
    search = client.post(
        "/api/v1/search", json={"query": "tidal bore surfing", "collection": collection_name}
    )
    assert search.status_code == 200 and search.json()["results"] == []
