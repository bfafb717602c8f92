"""Dependencies down: the database under the API (503 JSON), the object store under a worker
(retries, then `failed` with the reason), the database under a worker (retries; the document
is not lost and the reconciler finishes it once the worker can reach the database again).

Worker-side outages use real worker processes pointed at a closed port, on their own Redis
database (tests/fault_procs.py); the rest of the run's services stay up.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine
from sqlalchemy.orm import Session, sessionmaker

from app.core.db import get_db
from tests.conftest import assert_error
from tests.fault_procs import (
    Worker,
    closed_port,
    is_final,
    isolated_env,
    reconcile_in,
    upload_one,
    wait_for,
)

pytest_plugins = ["tests.fault_fixtures"]  # log_dir, env, api, http

REDIS_DB = 4


def upload(http: httpx.Client, content: bytes) -> dict[str, Any]:
    return upload_one(http, "outage.txt", content + uuid.uuid4().hex.encode(), "outage")


def wait_final(http: httpx.Client, doc_id: str, timeout_s: float) -> dict[str, Any]:
    return wait_for(http, doc_id, is_final, timeout_s, poll_s=0.2)


# --- the database under the API ----------------------------------------------------------------


@pytest.fixture
def api_without_database(app: Any, client: Any) -> Iterator[TestClient]:
    """A fresh app whose sessions point at a closed port (the real app is not touched)."""
    from app.main import create_app

    broken = create_app()
    engine = create_engine(
        f"postgresql+psycopg://cairn:cairn@127.0.0.1:{closed_port()}/cairn",
        connect_args={"connect_timeout": 2},
    )
    factory = sessionmaker(bind=engine)

    def dead_db() -> Iterator[Session]:
        session = factory()
        try:
            yield session
        finally:
            session.close()

    broken.dependency_overrides[get_db] = dead_db
    auth = {k: v for k, v in client.headers.items() if k.lower() in ("authorization", "x-api-key")}
    with TestClient(broken, raise_server_exceptions=False, headers=auth) as test_client:
        yield test_client
    engine.dispose()


@pytest.mark.parametrize(
    ("method", "path", "kwargs"),
    [
        ("GET", "/api/v1/documents", {}),
        ("GET", f"/api/v1/documents/{uuid.uuid4()}", {}),
        ("POST", "/api/v1/search", {"json": {"query": "anything at all"}}),
        ("GET", "/api/v1/collections", {}),
        ("POST", "/api/v1/documents", {"files": [("files", ("a.txt", b"database is down"))]}),
    ],
    ids=["list", "get", "search", "collections", "upload"],
)
def test_database_down_is_503_json_not_500(
    api_without_database: TestClient, method: str, path: str, kwargs: dict[str, Any]
) -> None:
    resp = api_without_database.request(method, path, **kwargs)
    err = assert_error(resp, 503, "service_unavailable")
    assert "database" in err["message"].lower()
    assert resp.headers.get("retry-after")


def test_the_real_app_is_unaffected_by_the_broken_one(client: Any) -> None:
    assert client.get("/api/v1/documents", params={"limit": 1}).status_code == 200


# --- the object store under a worker -----------------------------------------------------------


def test_worker_with_store_down_retries_then_fails_visibly_and_reingest_recovers(
    http: httpx.Client, env: dict[str, str], log_dir: Path
) -> None:
    dead_store = isolated_env(
        REDIS_DB, S3_ENDPOINT_URL=f"http://127.0.0.1:{closed_port()}", TASK_MAX_RETRIES="2"
    )
    worker = Worker("store-down", dead_store, log_dir)
    try:
        worker.wait_ready()
        uploaded = upload(http, b"A file the worker cannot fetch: notes on kelp forests. ")
        doc = wait_final(http, uploaded["id"], timeout_s=80)
    finally:
        worker.stop()
    assert doc["status"] == "failed", doc
    assert doc["error_code"] == "gave_up" and "Gave up after 3 attempts" in doc["error"], doc
    # the raw storage error stays in the worker's log, not on the document
    assert "S3" not in doc["error"] and "S3" in worker.log(), doc["error"]
    assert doc["attempts"] == 3 and doc["chunk_count"] == 0
    assert worker.log().count("ingest_retry") >= 2
    task = http.get(f"/api/v1/tasks/{uploaded['task_id']}").json()
    assert task["state"] == "FAILURE" and task["error"] == doc["error"]

    healthy = Worker("store-back", env, log_dir)
    try:
        healthy.wait_ready()
        again = http.post(
            "/api/v1/documents",
            params={"reingest": "true"},
            files=[
                (
                    "files",
                    ("outage.txt", http.get(f"/api/v1/documents/{doc['id']}/download").content),
                )
            ],
            data={"collection": doc["collection"]},
        )
        assert again.status_code == 202, again.text
        assert wait_final(http, doc["id"], timeout_s=60)["status"] == "ready"
    finally:
        healthy.stop()


# --- the database under a worker ---------------------------------------------------------------


def test_worker_with_database_down_retries_and_the_document_is_not_lost(
    http: httpx.Client, env: dict[str, str], log_dir: Path
) -> None:
    dead_db = isolated_env(
        REDIS_DB,
        DATABASE_URL=f"postgresql+psycopg://cairn:cairn@127.0.0.1:{closed_port()}/cairn",
        TASK_MAX_RETRIES="1",
    )
    worker = Worker("db-down", dead_db, log_dir)
    try:
        worker.wait_ready()
        uploaded = upload(http, b"A file ingested while the database is away: on dune grasses. ")
        deadline = time.monotonic() + 60
        while worker.log().count("ingest_retry") < 1 and time.monotonic() < deadline:
            time.sleep(0.3)
        time.sleep(3)  # the retry runs and gives up (it cannot even record the failure)
    finally:
        worker.stop()
    assert worker.log().count("ingest_retry") >= 1, worker.log()[-2000:]
    doc = http.get(f"/api/v1/documents/{uploaded['id']}").json()
    assert doc["status"] == "queued", doc  # not lost, not falsely failed: still owed an ingest

    healthy = Worker("db-back", env, log_dir)
    try:
        healthy.wait_ready()
        counts = reconcile_in(env)
        # Owed an ingest, it gets one: from the reconciler, or (when the dead-database
        # worker had not yet given up its retry when it stopped) from the retry message the
        # broker hands the healthy worker first. Either way exactly one ingest ends ready.
        taken = http.get(f"/api/v1/documents/{uploaded['id']}").json()
        assert counts["enqueued"] >= 1 or taken["status"] in ("processing", "ready"), counts
        final = wait_final(http, uploaded["id"], timeout_s=60)
        assert final["status"] == "ready" and final["chunk_count"] == 1, final
    finally:
        healthy.stop()
