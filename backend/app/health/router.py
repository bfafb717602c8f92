"""Liveness and readiness: /api/health answers while the process runs; /api/health/ready
checks the database, Redis and the object store and answers 503 naming what failed."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import redis
from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text

from app.core.config import get_settings
from app.core.db import get_engine
from app.storage import get_store

router = APIRouter(prefix="/api/health", tags=["health"])


def _check_database() -> None:
    with get_engine().connect() as conn:
        conn.execute(text("SELECT 1"))


def _check_redis() -> None:
    client = redis.Redis.from_url(
        get_settings().redis_url, socket_connect_timeout=2, socket_timeout=2
    )
    try:
        client.ping()
    finally:
        client.close()


def _check_storage() -> None:
    get_store().check()


CHECKS: dict[str, Callable[[], None]] = {
    "database": _check_database,
    "redis": _check_redis,
    "storage": _check_storage,
}


@router.get("")
def alive() -> dict[str, str]:
    if not get_settings().auth_enabled:
        return {"status": "ok", "auth": "disabled"}  # never silently open
    return {"status": "ok"}


@router.get("/ready", responses={503: {"description": "A dependency is down"}})
def ready() -> JSONResponse:
    results: dict[str, dict[str, Any]] = {}
    for name, check in CHECKS.items():
        start = time.perf_counter()
        try:
            check()
            results[name] = {"ok": True}
        except Exception as exc:
            results[name] = {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:300]}
        results[name]["ms"] = round((time.perf_counter() - start) * 1000, 1)
    failed = [name for name, r in results.items() if not r["ok"]]
    if failed:
        body = {
            "status": "unavailable",
            "checks": results,
            "error": {"code": "not_ready", "message": f"Unavailable: {', '.join(failed)}."},
        }
        return JSONResponse(body, status_code=503)
    return JSONResponse({"status": "ready", "checks": results})
