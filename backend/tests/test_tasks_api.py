"""GET /api/v1/tasks/{id}: the state of an ingest, read from the document row."""

from __future__ import annotations

import uuid
from typing import Any

from tests.conftest import assert_error, upload, wait_for_documents


def test_task_of_a_finished_ingest_is_success(client: Any, collection_name: str) -> None:
    resp = upload(
        client, [("task.txt", b"Otters hold hands while they sleep.")], collection=collection_name
    )
    assert resp.status_code == 202, resp.text
    uploaded = resp.json()["documents"][0]
    assert uploaded["task_id"]
    wait_for_documents(client, [uploaded["id"]])
    task = client.get(f"/api/v1/tasks/{uploaded['task_id']}")
    assert task.status_code == 200, task.text
    body = task.json()
    assert body["state"] == "SUCCESS"
    assert body["document_id"] == uploaded["id"]
    assert body["document_status"] == "ready"
    assert body["progress"] == 1.0
    assert body["error"] is None


def test_task_of_a_failed_ingest_is_failure_with_the_reason(
    client: Any, collection_name: str
) -> None:
    resp = upload(
        client,
        [("broken.pdf", b"%PDF-1.7\nthis is not really a pdf\n")],
        collection=collection_name,
    )
    uploaded = resp.json()["documents"][0]
    wait_for_documents(client, [uploaded["id"]])
    body = client.get(f"/api/v1/tasks/{uploaded['task_id']}").json()
    assert body["state"] == "FAILURE"
    assert body["document_status"] == "failed"
    assert body["error"]


def test_unknown_task_is_404(client: Any) -> None:
    assert_error(client.get(f"/api/v1/tasks/{uuid.uuid4()}"), 404, "not_found")


def test_overlong_task_id_is_422(client: Any) -> None:
    assert_error(client.get("/api/v1/tasks/" + "a" * 65), 422, "validation_error")
