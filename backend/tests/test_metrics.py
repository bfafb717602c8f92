"""GET /metrics: request, ingest, embedder, queue, task and document metrics move after an
upload; off loopback they need the scrape token or an admin's credential (issue 12)."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import upload, wait_for_documents


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            found[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return found


def value(found: dict[Any, float], name: str, **labels: str) -> float:
    return found.get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.fixture
def off_loopback() -> Iterator[Any]:
    """The API as if it listened on every interface (the settings object is shared)."""
    from app.core.config import get_settings

    settings = get_settings()
    before = settings.api_host, settings.metrics_token
    settings.api_host = "0.0.0.0"
    yield settings
    settings.api_host, settings.metrics_token = before


def test_metrics_move_after_an_upload(client: Any, anon: Any, collection_name: str) -> None:
    before = samples(anon.get("/metrics").text)
    resp = upload(client, [(f"m-{uuid.uuid4().hex}.txt",
                            b"Metrics are counted. " * 40 + uuid.uuid4().hex.encode())],
                  collection=collection_name)
    assert resp.status_code == 202, resp.text
    wait_for_documents(client, [d["id"] for d in resp.json()["documents"]])
    page = anon.get("/metrics")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/plain")
    after = samples(page.text)
    for stage in ("fetch", "parse", "chunk", "embed", "write"):
        assert value(after, "cairn_ingest_stage_seconds_count", stage=stage) == \
            value(before, "cairn_ingest_stage_seconds_count", stage=stage) + 1, stage
    assert value(after, "cairn_embedder_texts_total") > value(before, "cairn_embedder_texts_total")
    assert value(after, "cairn_embedder_seconds_total") > value(before,
                                                                "cairn_embedder_seconds_total")
    assert value(after, "cairn_celery_tasks_total", task="documents.ingest", outcome="ready") \
        == value(before, "cairn_celery_tasks_total", task="documents.ingest",
                 outcome="ready") + 1
    post = {"handler": "/api/v1/documents", "method": "POST", "status": "202"}
    assert value(after, "http_requests_total", **post) == \
        value(before, "http_requests_total", **post) + 1
    get_one = {"handler": "/api/v1/documents/{document_id}", "method": "GET", "status": "200"}
    assert value(after, "http_request_duration_seconds_count", **get_one) > 0  # by template
    assert value(after, "cairn_documents", status="ready") >= 1
    assert ("cairn_queue_depth", (("queue", "ingest"),)) in after
    assert ("cairn_queue_depth", (("queue", "maintenance"),)) in after


def test_off_loopback_metrics_without_credentials_are_401(anon: Any,
                                                          off_loopback: Any) -> None:
    resp = anon.get("/metrics")
    assert resp.status_code == 401
    assert resp.json()["error"]["code"]
    assert "cairn_" not in resp.text


def test_off_loopback_a_wrong_token_is_401_and_a_member_is_403(
    anon: Any, client: Any, off_loopback: Any
) -> None:
    from pydantic import SecretStr

    off_loopback.metrics_token = SecretStr("scrape-" + uuid.uuid4().hex)
    assert anon.get("/metrics", headers={"Authorization": "Bearer nope"}).status_code == 401
    assert client.get("/metrics").status_code == 403  # the default test user is a member


def test_off_loopback_the_scrape_token_and_an_admin_work(
    anon: Any, off_loopback: Any, make_user: Any
) -> None:
    from pydantic import SecretStr

    token = "scrape-" + uuid.uuid4().hex
    off_loopback.metrics_token = SecretStr(token)
    resp = anon.get("/metrics", headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 200 and "cairn_documents" in resp.text
    _, admin = make_user("admin")
    assert admin.get("/metrics").status_code == 200


def test_the_worker_metrics_port_serves_task_outcomes(client: Any,
                                                      collection_name: str) -> None:
    from app.core.embedded import free_port
    from app.metrics.worker import serve_worker_metrics

    resp = upload(client, [(f"w-{uuid.uuid4().hex}.txt", b"worker metrics " * 30)],
                  collection=collection_name)
    wait_for_documents(client, [d["id"] for d in resp.json()["documents"]])
    port = free_port()
    server, thread = serve_worker_metrics(port, addr="127.0.0.1")
    try:
        text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
    finally:
        server.shutdown()
        thread.join(timeout=5)
    assert value(samples(text), "cairn_celery_tasks_total", task="documents.ingest",
                 outcome="ready") >= 1
    assert value(samples(text), "cairn_ingest_stage_seconds_count", stage="embed") >= 1


def test_multiprocess_mode_shows_a_worker_processes_samples_in_the_api_scrape(
    tmp_path: Path,
) -> None:
    """One host: a worker process records into PROMETHEUS_MULTIPROC_DIR (given as a setting),
    and another process's scrape registry (the API's /metrics) shows it."""
    env = {**os.environ, "LOG_LEVEL": "ERROR",
           "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "mp")}  # created by app.metrics
    record = ("from app.metrics.registry import record_ingest;"
              "record_ingest({'embed_ms': 250.0, 'parse_ms': 5.0}, chunks=7)")
    scrape = ("from prometheus_client import generate_latest;"
              "from app.metrics.registry import scrape_registry;"
              "print(generate_latest(scrape_registry()).decode())")
    for code in (record, record):
        subprocess.run([sys.executable, "-c", code], env=env, check=True, timeout=120)
    out = subprocess.run([sys.executable, "-c", scrape], env=env, check=True, timeout=120,
                         capture_output=True, text=True).stdout
    found = samples(out)
    assert value(found, "cairn_embedder_texts_total") == 14  # both processes, summed
    assert value(found, "cairn_ingest_stage_seconds_count", stage="embed") == 2
