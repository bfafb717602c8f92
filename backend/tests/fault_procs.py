"""Real worker and API processes for the fault tests, started by the launcher (app/launcher):
the same argv, process groups, readiness probes and teardown as every other Cairn launch.

A test can SIGKILL a worker's pool child, or the whole worker, and start another. They use
their own Redis database number so that the test session's in-thread worker never takes
their tasks. Also the API calls those tests share: upload one file, wait for a document's
state. No pytest here, and no import of conftest (the fixtures are tests/fault_fixtures.py).
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from app.core.embedded import free_port
from app.launcher import argv as cmd
from app.launcher.chaos import kill_pool_child, pool_children, reconcile_in, run_python
from app.launcher.procs import Proc, wait_api_ready, wait_worker_ready

__all__ = [
    "FINAL", "Api", "Proc", "Worker", "closed_port", "is_final", "isolated_env", "reconcile_in",
    "run_python", "upload_one", "wait_for",
]  # fmt: skip

FINAL = ("ready", "failed")


def isolated_env(redis_db: int, **overrides: str) -> dict[str, str]:
    """The current environment on another Redis database, with auth and rate limits off."""
    env = dict(os.environ)
    base = env["REDIS_URL"].rsplit("/", 1)[0]
    env.update(
        {
            "REDIS_URL": f"{base}/{redis_db}",
            "AUTH_ENABLED": "false",
            "RATE_LIMIT_ENABLED": "false",
            "HF_HUB_OFFLINE": "1",
        }
    )
    env.update(overrides)
    return env


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    return free_port()


class Worker(Proc):
    """`celery -A app.workers worker --pool prefork -c 1` (or the pool given) on the ingest,
    label and maintenance queues."""

    def __init__(
        self, name: str, env: dict[str, str], log_dir: Path, *, pool: str = "prefork",
        concurrency: int = 1, quiet: bool = True,
    ) -> None:  # fmt: skip
        hostname = f"{name}-{uuid.uuid4().hex[:6]}@%h"
        argv = cmd.worker_argv(hostname=hostname, pool=pool, concurrency=concurrency, quiet=quiet)
        super().__init__(name, argv, env, log_dir)

    def wait_ready(self, timeout_s: float = 60) -> None:
        wait_worker_ready(self, timeout_s)

    def pool_children(self) -> list[int]:
        return pool_children(self.pid)

    def kill_pool_child(self) -> int | None:
        """SIGKILL the pool process that runs tasks; the parent survives and replaces it."""
        return kill_pool_child(self.pid)


class Api(Proc):
    """The API (uvicorn) on a free loopback port."""

    def __init__(self, env: dict[str, str], log_dir: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        argv = cmd.api_argv("127.0.0.1", self.port, log_level="warning", access_log=False)
        super().__init__("api", argv, env, log_dir)

    def wait_ready(self, timeout_s: float = 60) -> None:
        wait_api_ready(self.url, self, timeout_s)


def upload_one(
    http: httpx.Client, filename: str, content: bytes, collection_prefix: str
) -> dict[str, Any]:
    """One file into a fresh collection (`<prefix>-<8 hex>`); the document as accepted (202)."""
    resp = http.post(
        "/api/v1/documents",
        files=[("files", (filename, content))],
        data={"collection": f"{collection_prefix}-{uuid.uuid4().hex[:8]}"},
    )
    assert resp.status_code == 202, resp.text
    return dict(resp.json()["documents"][0])


def is_final(doc: dict[str, Any]) -> bool:
    return doc["status"] in FINAL


def wait_for(
    http: httpx.Client,
    doc_id: str,
    pred: Callable[[dict[str, Any]], bool],
    timeout_s: float,
    *,
    poll_s: float = 0.1,
    detail: Callable[[], str] = lambda: "",
) -> dict[str, Any]:
    """The document once `pred` holds for it, polled every poll_s; after timeout_s an
    AssertionError with its last state (and `detail()`, e.g. a worker's log)."""
    deadline = time.monotonic() + timeout_s
    doc: dict[str, Any] = {}
    while time.monotonic() < deadline:
        doc = dict(http.get(f"/api/v1/documents/{doc_id}").json())
        if pred(doc):
            return doc
        time.sleep(poll_s)
    raise AssertionError(f"condition not met in {timeout_s}s: {doc}{detail()}")
