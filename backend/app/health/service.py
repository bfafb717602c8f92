"""Liveness and readiness: /api/health answers while the process runs; /api/health/ready
checks the database, Redis and the object store and answers 503 naming what failed. The
Celery workers are checked too (a broadcast ping), for information only: with none answering
the API still serves reads and accepts uploads (they wait in the queue), so readiness stays
200 with status "degraded". The answer is public: each check gives ok, ms and a stable code
("unreachable", "timeout", "failed", "no_reply"); the exception itself goes to the log."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import redis
from kombu.exceptions import OperationalError as KombuOperationalError
from sqlalchemy import exc as sa_exc
from sqlalchemy import text

from app.core.config import get_settings
from app.core.db import get_engine
from app.core.logging import get_logger
from app.storage import get_store

log = get_logger(__name__)

WORKER_PING_TIMEOUT_S = 1.0


class NoReply(Exception):
    """No Celery worker answered the ping."""


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


def _celery() -> Any:
    from app.workers import celery_app

    return celery_app


def _check_workers() -> None:
    # limit=1: return at the first reply instead of waiting out the timeout. One retry on a
    # connection error: after a Redis restart the first use of a pooled broker connection fails
    # once ("Connection closed by server") and redis-py reconnects on the next; that is not a
    # missing worker. A broker that stays down fails the retry too.
    for attempt in (1, 2):
        try:
            replies = _celery().control.ping(timeout=WORKER_PING_TIMEOUT_S, limit=1)
            break
        except (redis.ConnectionError, ConnectionError, KombuOperationalError):
            if attempt == 2:
                raise
    if not replies:
        raise NoReply()


CHECKS: dict[str, Callable[[], None]] = {
    "database": _check_database,
    "redis": _check_redis,
    "storage": _check_storage,
}
INFORMATIONAL: dict[str, Callable[[], None]] = {"workers": _check_workers}


_UNREACHABLE = (redis.ConnectionError, sa_exc.OperationalError, sa_exc.InterfaceError)


def _chain(exc: BaseException) -> list[BaseException]:
    """The exception and what caused it (a StorageError wraps botocore's connect error)."""
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen and len(seen) < 10:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def error_code(exc: BaseException) -> str:
    """A stable, public code for a failed check (never the exception's text)."""
    if isinstance(exc, NoReply):
        return "no_reply"
    for e in _chain(exc):  # the outermost exception that says what happened wins
        name = type(e).__name__.lower()
        if "timeout" in name:
            return "timeout"
        if "connect" in name or isinstance(e, (OSError, *_UNREACHABLE)):
            return "unreachable"
    return "failed"


def _run(name: str, check: Callable[[], None]) -> dict[str, Any]:
    start = time.perf_counter()
    result: dict[str, Any]
    try:
        check()
        result = {"ok": True}
    except Exception as exc:
        result = {"ok": False, "code": error_code(exc)}
        log.warning("health_check_failed", check=name, code=result["code"],
                    error=f"{type(exc).__name__}: {exc}")  # fmt: skip
    result["ms"] = round((time.perf_counter() - start) * 1000, 1)
    return result


def liveness() -> dict[str, str]:
    if not get_settings().auth_enabled:
        return {"status": "ok", "auth": "disabled"}  # never silently open
    return {"status": "ok"}


def readiness() -> tuple[int, dict[str, Any]]:
    """(HTTP status, body) of the readiness answer."""
    results = {name: _run(name, check) for name, check in CHECKS.items()}
    failed = [name for name, r in results.items() if not r["ok"]]
    for name, check in INFORMATIONAL.items():
        if results["redis"]["ok"]:
            results[name] = _run(name, check)
        else:  # the ping goes through Redis: do not wait on a broker that is down
            results[name] = {"ok": False, "code": "unreachable", "ms": 0.0}
        results[name]["informational"] = True
    if failed:
        return 503, {
            "status": "unavailable",
            "checks": results,
            "error": {"code": "not_ready", "message": f"Unavailable: {', '.join(failed)}."},
        }
    down = [name for name in INFORMATIONAL if not results[name]["ok"]]
    if down:
        message = f"Ready, but no answer from: {', '.join(down)}."
        return 200, {"status": "degraded", "checks": results, "message": message}
    return 200, {"status": "ready", "checks": results}
