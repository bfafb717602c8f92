"""Liveness answers while the process runs; readiness names the dependency that is down."""

from __future__ import annotations

from typing import Any

import pytest

import app.health.router as health
from app.core.config import get_settings
from app.core.embedded import free_port
from app.storage.s3 import S3ObjectStore


def _unreachable_store() -> S3ObjectStore:
    return S3ObjectStore(
        bucket="cairn-test",
        endpoint_url=f"http://127.0.0.1:{free_port()}",
        region="us-east-1",
        access_key_id="test",
        secret_access_key="test",
    )


def test_liveness_is_200(client: Any) -> None:
    resp = client.get("/api/health")
    assert resp.status_code == 200
    assert resp.json() == {"status": "ok"}


def test_readiness_is_200_with_every_check_ok(client: Any) -> None:
    resp = client.get("/api/health/ready")
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["status"] == "ready"
    assert set(body["checks"]) >= {"database", "redis", "storage"}
    assert all(check["ok"] for check in body["checks"].values()), body


def test_readiness_is_503_naming_storage_when_storage_is_down(
    client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = _unreachable_store()
    monkeypatch.setattr(health, "get_store", lambda: store)
    resp = client.get("/api/health/ready")
    assert resp.status_code == 503
    body = resp.json()
    assert body["error"]["code"] == "not_ready"
    assert "storage" in body["error"]["message"]
    assert body["checks"]["storage"]["ok"] is False
    assert body["checks"]["storage"]["error"]
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
    store = _unreachable_store()
    monkeypatch.setattr(health, "get_store", lambda: store)
    assert client.get("/api/health").status_code == 200
