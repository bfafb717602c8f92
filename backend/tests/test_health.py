"""Liveness answers while the process runs; readiness names the dependency that is down."""

from __future__ import annotations

from typing import Any

import pytest

import app.health.service as health
from app.core.config import get_settings
from app.core.embedded import free_port
from tests.conftest import unreachable_store


def test_liveness_is_200(client: Any) -> None:
    resp = client.get("/api/health")
    assert resp.status_code == 200
    assert resp.json() == {"status": "ok"}


def test_readiness_is_200_with_every_check_ok(client: Any) -> None:
    resp = client.get("/api/health/ready")  # `client` runs the session's Celery worker
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["status"] == "ready"
    assert set(body["checks"]) >= {"database", "redis", "storage"}
    assert all(check["ok"] for check in body["checks"].values()), body


def test_readiness_after_a_redis_restart_does_not_report_the_broker_unreachable(
    client: Any, services: Any
) -> None:
    """The API's pooled broker connection dies with the restart; the workers check's first
    use of it must not turn into a false "unreachable" (CI saw exactly that once)."""
    assert client.get("/api/health/ready").json()["checks"]["workers"]["ok"] is True
    services.restart_redis(down_seconds=0.5)
    body = client.get("/api/health/ready").json()
    assert body["checks"]["redis"]["ok"] is True
    assert body["checks"]["workers"].get("code") != "unreachable", body


def test_readiness_is_503_naming_storage_when_storage_is_down(
    client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = unreachable_store()
    monkeypatch.setattr(health, "get_store", lambda: store)
    resp = client.get("/api/health/ready")
    assert resp.status_code == 503
    body = resp.json()
    assert body["error"]["code"] == "not_ready"
    assert "storage" in body["error"]["message"]
    assert body["checks"]["storage"]["ok"] is False
    assert body["checks"]["storage"]["code"] == "unreachable"
    assert body["checks"]["database"]["ok"] is True


def test_readiness_is_503_naming_redis_when_redis_is_unreachable(
    client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(get_settings(), "redis_url", f"redis://127.0.0.1:{free_port()}/0")
    resp = client.get("/api/health/ready")
    assert resp.status_code == 503
    body = resp.json()
    assert "redis" in body["error"]["message"]
    assert "storage" not in body["error"]["message"]
    assert body["checks"]["redis"]["ok"] is False


def test_liveness_stays_200_while_a_dependency_is_down(
    client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = unreachable_store()
    monkeypatch.setattr(health, "get_store", lambda: store)
    assert client.get("/api/health").status_code == 200


# --- no internals in the public answer; the workers are informational ----------------------


def _assert_no_internals(text: str, port: int) -> None:
    assert str(port) not in text
    assert "127.0.0.1" not in text and "localhost" not in text
    for word in ("Error", "Exception", "refused", "Traceback", "errno", "http://", "redis://"):
        assert word not in text, (word, text)


def test_a_failing_check_gives_a_code_and_no_exception_text(
    client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = unreachable_store()
    port = int(str(store.client.meta.endpoint_url).rsplit(":", 1)[1])
    monkeypatch.setattr(health, "get_store", lambda: store)
    resp = client.get("/api/health/ready")
    assert resp.status_code == 503
    check = resp.json()["checks"]["storage"]
    assert set(check) == {"ok", "code", "ms"}
    assert check["code"] in ("unreachable", "timeout")
    _assert_no_internals(resp.text, port)


def test_redis_down_body_names_no_host_or_port_and_skips_the_worker_ping(
    client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = free_port()
    monkeypatch.setattr(get_settings(), "redis_url", f"redis://127.0.0.1:{port}/0")
    resp = client.get("/api/health/ready")
    assert resp.status_code == 503
    checks = resp.json()["checks"]
    assert checks["redis"] == {"ok": False, "code": "unreachable", "ms": checks["redis"]["ms"]}
    assert checks["workers"]["ok"] is False and checks["workers"]["informational"] is True
    _assert_no_internals(resp.text, port)


def test_readiness_reports_the_workers_that_answer(client: Any) -> None:
    body = client.get("/api/health/ready").json()
    assert body["checks"]["workers"]["ok"] is True, body
    assert body["checks"]["workers"]["informational"] is True


def test_no_worker_answering_is_degraded_but_still_200(
    client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Celery app on a Redis database no worker listens on: a real ping, no reply."""
    from celery import Celery

    base = get_settings().redis_url.rsplit("/", 1)[0]
    lonely = Celery("lonely", broker=f"{base}/11", backend=f"{base}/11")
    monkeypatch.setattr(health, "_celery", lambda: lonely)
    resp = client.get("/api/health/ready")
    assert resp.status_code == 200, resp.text  # compose's healthcheck must not fail on workers
    body = resp.json()
    assert body["status"] == "degraded"
    assert body["checks"]["workers"]["ok"] is False
    assert body["checks"]["workers"]["code"] == "no_reply"
    assert "workers" in body["message"]
    lonely.close()


def test_error_codes_are_stable_names() -> None:
    assert health.error_code(TimeoutError("x")) == "timeout"
    assert health.error_code(ConnectionRefusedError("x")) == "unreachable"
    assert health.error_code(health.NoReply()) == "no_reply"
    assert health.error_code(ValueError("secret detail")) == "failed"
