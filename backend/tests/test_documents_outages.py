"""Outages at upload time: object storage down (503, nothing recorded) and Redis down
(the upload is accepted and kept; the reconciler enqueues it once Redis is back)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from app.storage import get_store
from tests.conftest import (
    assert_error,
    count_documents,
    search,
    unreachable_store,
    upload,
    wait_for_documents,
)


@pytest.fixture
def storage_down(app: Any) -> Iterator[None]:
    """The API's object store points at a closed port on 127.0.0.1."""
    dead = unreachable_store()
    app.dependency_overrides[get_store] = lambda: dead
    try:
        yield
    finally:
        app.dependency_overrides.pop(get_store, None)


def test_storage_down_at_upload_is_503_and_leaves_no_document(
    client: Any, collection_name: str, db: Any, storage_down: None
) -> None:
    resp = upload(client, [("s.txt", b"Storage is down right now.")], collection=collection_name)
    assert_error(resp, 503, "storage_unavailable")
    assert count_documents(db, collection_name) == 0


def test_storage_down_at_download_is_503(client: Any, collection_name: str, app: Any) -> None:
    resp = upload(
        client, [("d.txt", b"Downloadable while storage is up.")], collection=collection_name
    )
    doc_id = resp.json()["documents"][0]["id"]
    wait_for_documents(client, [doc_id])
    dead = unreachable_store()
    app.dependency_overrides[get_store] = lambda: dead
    try:
        assert_error(client.get(f"/api/v1/documents/{doc_id}/download"), 503, "storage_unavailable")
    finally:
        app.dependency_overrides.pop(get_store, None)
    assert client.get(f"/api/v1/documents/{doc_id}/download").status_code == 200


def test_upload_succeeds_again_once_storage_is_back(
    client: Any, collection_name: str, app: Any
) -> None:
    assert get_store not in app.dependency_overrides
    resp = upload(client, [("back.txt", b"Storage came back online.")], collection=collection_name)
    assert resp.status_code == 202, resp.text


def test_redis_down_at_upload_keeps_the_document_until_the_reconciler_enqueues_it(
    client: Any, collection_name: str, services: Any
) -> None:
    from app.documents.tasks import reconcile_documents

    services.stop_redis()
    try:
        started = time.monotonic()
        resp = upload(
            client,
            [("queued.txt", b"Axolotls can regrow limbs, hearts and parts of their brains.")],
            collection=collection_name,
        )
        assert time.monotonic() - started < 30, "the upload waited too long for the broker"
        assert resp.status_code == 202, resp.text
        uploaded = resp.json()["documents"][0]
        assert uploaded["status"] == "queued"
        doc = client.get(f"/api/v1/documents/{uploaded['id']}").json()
        assert (doc["status"], doc["stage"]) == ("queued", "waiting_for_queue")
    finally:
        services.start_redis()
    counts = reconcile_documents()
    assert counts["enqueued"] >= 1
    doc = wait_for_documents(client, [uploaded["id"]], timeout=90)[uploaded["id"]]
    assert doc["status"] == "ready", doc
    hits = search(client, "which animal regrows its limbs", collection_name)
    assert hits[0]["document_id"] == uploaded["id"]


def test_worker_still_ingests_after_the_redis_restart(client: Any, collection_name: str) -> None:
    resp = upload(
        client, [("after.txt", b"Flamingos are pink from their diet.")], collection=collection_name
    )
    assert resp.status_code == 202, resp.text
    doc_id = resp.json()["documents"][0]["id"]
    assert wait_for_documents(client, [doc_id], timeout=90)[doc_id]["status"] == "ready"
