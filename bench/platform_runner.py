"""Start the whole platform for real in a temp dir, and tear it down again.

Embedded Postgres (pgvector) and Redis run inside this process (they stop when it exits);
`cairn migrate`, the API (uvicorn) and a Celery worker run as subprocesses in their own
process groups, so teardown reaches a prefork worker's children too. Everything listens on
127.0.0.1 only, on free ports.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, TextIO

import httpx

REPO = Path(__file__).resolve().parents[1]
BACKEND = REPO / "backend"
SHARED_MODELS = REPO / "data" / "models"  # the ONNX export start.sh also uses (git-ignored)


class PlatformError(RuntimeError):
    pass


def _env(extra: dict[str, str]) -> dict[str, str]:
    env = dict(os.environ)
    env.update(extra)
    env.setdefault("HF_HUB_OFFLINE", "1")
    env["PYTHONUNBUFFERED"] = "1"
    return env


def ensure_onnx_model() -> Path:
    """Export the bundled model to ONNX once, into the repo's data/models (start.sh's cache)."""
    subprocess.run(
        [sys.executable, "-m", "app.cli", "export-model"],
        cwd=BACKEND, env=_env({"DATA_DIR": str(REPO / "data")}), check=True,
        stdout=subprocess.DEVNULL, timeout=900,
    )
    return SHARED_MODELS


class Platform:
    """`with Platform() as p:` → p.api_url, p.worker_pid; restart_worker(pool, concurrency)."""

    def __init__(self, keep: bool = False) -> None:
        self.keep = keep
        self.root = Path(tempfile.mkdtemp(prefix="cbench-", dir="/tmp"))
        self.env: dict[str, str] = {}
        self.api_url = ""
        self.api_key = ""  # an API key of the bench admin, made once the API is up
        self.api: subprocess.Popen[bytes] | None = None
        self.worker: subprocess.Popen[bytes] | None = None
        self._pg: Any = None
        self._redis: Any = None
        self._logs: list[TextIO] = []

    # --- lifecycle -----------------------------------------------------------------------
    def __enter__(self) -> Platform:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *_: object) -> None:
        if exc_type is not None and exc_type is not KeyboardInterrupt:
            for name in sorted(p.stem for p in self.root.glob("*.log")):
                print(f"--- {name}.log (tail) ---\n{self.log_tail(name)}", file=sys.stderr)
        self.stop()

    def start(self) -> None:
        from app.core.embedded import free_port, start_postgres, start_redis

        models = ensure_onnx_model()
        data = self.root / "data"
        data.mkdir(parents=True)
        (data / "models").symlink_to(models, target_is_directory=True)
        self._pg = start_postgres(self.root / "pg")
        self._redis = start_redis(self.root / "redis")
        self.env = {
            "DATABASE_URL": self._pg.url,
            "REDIS_URL": self._redis.url,
            "DATA_DIR": str(data),
            "STORAGE_BACKEND": "local",
            "STORAGE_LOCAL_ROOT": str(self.root / "objects"),
            "LOG_LEVEL": "WARNING",
            "ENVIRONMENT": "development",
            # auth stays on (its cost is part of every request); the bench is the first admin
            "ADMIN_EMAIL": "bench@example.com",
            "ADMIN_PASSWORD": secrets.token_urlsafe(18),
            # the limiter stays on too (its Redis round trip is measured), but out of reach
            "RATE_LIMIT_SEARCH": "1000000/minute",
            "RATE_LIMIT_UPLOAD": "1000000/minute",
            "RATE_LIMIT_CHAT": "1000000/minute",
        }
        subprocess.run(
            [sys.executable, "-m", "app.cli", "migrate"], cwd=BACKEND, env=_env(self.env),
            check=True, stdout=subprocess.DEVNULL, stderr=self._log("migrate"), timeout=300,
        )
        port = free_port()
        self.api_url = f"http://127.0.0.1:{port}"
        self.api = self._spawn(
            "api",
            [sys.executable, "-m", "uvicorn", "app.main:app", "--host", "127.0.0.1",
             "--port", str(port), "--log-level", "warning", "--no-access-log"],
        )
        self._wait_for_api(timeout_s=120)
        self.api_key = self._make_api_key()

    def start_worker(self, pool: str, concurrency: int) -> int:
        self.stop_worker()
        self.worker = self._spawn(
            f"worker-{pool}{concurrency}",
            [sys.executable, "-m", "celery", "-A", "app.workers", "worker",
             "-Q", "ingest,maintenance", "--pool", pool, "-c", str(concurrency),
             "-n", f"bench-{pool}@%h", "--without-gossip", "--without-mingle",
             "--without-heartbeat", "--loglevel", "WARNING"],
        )
        return self.worker.pid

    def stop_worker(self) -> None:
        if self.worker is not None:
            _terminate(self.worker)
            self.worker = None

    def stop(self) -> None:
        self.stop_worker()
        if self.api is not None:
            _terminate(self.api)
            self.api = None
        for service in (self._redis, self._pg):
            if service is not None:
                with contextlib.suppress(Exception):
                    service.stop()
        self._redis = self._pg = None
        for log in self._logs:
            log.close()
        self._logs = []
        if self.keep:
            print(f"kept {self.root}", file=sys.stderr)
        else:
            shutil.rmtree(self.root, ignore_errors=True)

    # --- helpers -------------------------------------------------------------------------
    def _log(self, name: str) -> TextIO:
        handle = (self.root / f"{name}.log").open("a")
        self._logs.append(handle)
        return handle

    def log_tail(self, name: str, lines: int = 30) -> str:
        path = self.root / f"{name}.log"
        return "\n".join(path.read_text().splitlines()[-lines:]) if path.exists() else ""

    def _spawn(self, name: str, argv: list[str]) -> subprocess.Popen[bytes]:
        log = self._log(name)
        return subprocess.Popen(
            argv, cwd=BACKEND, env=_env(self.env), stdout=log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True,
        )

    def _make_api_key(self) -> str:
        login = httpx.post(
            f"{self.api_url}/api/v1/auth/login", timeout=30,
            json={"email": self.env["ADMIN_EMAIL"], "password": self.env["ADMIN_PASSWORD"]},
        )
        if login.status_code != 200:
            raise PlatformError(f"login answered {login.status_code}: {login.text[:300]}")
        created = httpx.post(
            f"{self.api_url}/api/v1/api-keys", json={"name": "bench"}, timeout=30,
            headers={"Authorization": f"Bearer {login.json()['access_token']}"},
        )
        if created.status_code != 201:
            raise PlatformError(f"api-key answered {created.status_code}: {created.text[:300]}")
        return str(created.json()["key"])

    def _wait_for_api(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.api is not None and self.api.poll() is not None:
                raise PlatformError("the API exited:\n" + self.log_tail("api"))
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.api_url}/api/health", timeout=2).status_code == 200:
                    return
            time.sleep(0.3)
        raise PlatformError("the API did not answer in time:\n" + self.log_tail("api"))


def _terminate(proc: subprocess.Popen[bytes], grace_s: float = 15) -> None:
    """SIGTERM the process group we created, then SIGKILL it if it lingers."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)
    # children (prefork pool) may outlive the parent briefly; the group kill covers them
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
