"""Real worker and API processes for the fault tests, and the chaos run they share with
bench/chaos_test.py. No pytest here (bench imports it too), and no import of conftest.

A "platform" here is an API (uvicorn) and Celery prefork workers started as subprocesses in
their own process groups, so a test can SIGKILL a worker's pool child, or the whole worker,
and start another. They use their own Redis database number so that the test session's
in-thread worker never takes their tasks.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import psutil

BACKEND = Path(__file__).resolve().parents[1]


def isolated_env(redis_db: int, **overrides: str) -> dict[str, str]:
    """The current environment on another Redis database, with auth and rate limits off."""
    env = dict(os.environ)
    base = env["REDIS_URL"].rsplit("/", 1)[0]
    env.update(
        {
            "REDIS_URL": f"{base}/{redis_db}",
            "AUTH_ENABLED": "false",
            "RATE_LIMIT_ENABLED": "false",
            "PYTHONUNBUFFERED": "1",
            "HF_HUB_OFFLINE": "1",
        }
    )
    env.update(overrides)
    return env


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    from app.core.embedded import free_port

    return int(free_port())


class Proc:
    """A subprocess in its own process group, logging to a file."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], log_dir: Path) -> None:
        self.name = name
        self.log_path = log_dir / f"{name}.log"
        self._log = self.log_path.open("ab")
        self.popen = subprocess.Popen(
            argv,
            cwd=BACKEND,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def log(self) -> str:
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_text(errors="replace")

    def kill_group(self) -> None:
        """SIGKILL the process and everything in its group (a prefork worker's children)."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.popen.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.popen.wait(timeout=10)

    def stop(self, grace_s: float = 10) -> None:
        if self.alive():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.popen.wait(timeout=grace_s)
        self.kill_group()
        self._log.close()


class Worker(Proc):
    """`celery -A app.workers worker --pool prefork -c 1` on the ingest and maintenance queues."""

    def __init__(self, name: str, env: dict[str, str], log_dir: Path) -> None:
        argv = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "app.workers",
            "worker",
            "-Q",
            "ingest,maintenance",
            "--pool",
            "prefork",
            "-c",
            "1",
            "-n",
            f"{name}-{uuid.uuid4().hex[:6]}@%h",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "--loglevel",
            "INFO",
        ]
        super().__init__(name, argv, env, log_dir)

    def wait_ready(self, timeout_s: float = 60) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if not self.alive():
                raise RuntimeError(f"worker {self.name} exited:\n{self.log()[-3000:]}")
            if " ready." in self.log():
                return
            time.sleep(0.2)
        raise RuntimeError(f"worker {self.name} not ready in {timeout_s}s:\n{self.log()[-3000:]}")

    def pool_children(self) -> list[int]:
        try:
            return [c.pid for c in psutil.Process(self.pid).children(recursive=True)]
        except psutil.NoSuchProcess:
            return []

    def kill_pool_child(self) -> int | None:
        """SIGKILL the pool process that runs tasks; the parent survives and replaces it."""
        children = self.pool_children()
        if not children:
            return None
        with contextlib.suppress(ProcessLookupError):
            os.kill(children[0], signal.SIGKILL)
        return children[0]


class Api(Proc):
    def __init__(self, env: dict[str, str], log_dir: Path) -> None:
        from app.core.embedded import free_port

        self.port = int(free_port())
        self.url = f"http://127.0.0.1:{self.port}"
        argv = [
            sys.executable,
            "-m",
            "uvicorn",
            "app.main:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--log-level",
            "warning",
            "--no-access-log",
        ]
        super().__init__("api", argv, env, log_dir)

    def wait_ready(self, timeout_s: float = 60) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if not self.alive():
                raise RuntimeError(f"API exited:\n{self.log()[-3000:]}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.url}/api/health", timeout=2).status_code == 200:
                    return
            time.sleep(0.2)
        raise RuntimeError(f"API not ready in {timeout_s}s:\n{self.log()[-3000:]}")


def run_python(env: dict[str, str], code: str, timeout_s: float = 120) -> str:
    """Run a snippet in a fresh interpreter with `env` (e.g. the reconciler on another Redis)."""
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=BACKEND,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"snippet failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return done.stdout


RECONCILE_NOW = """
import json
from datetime import UTC, datetime, timedelta
from app.core.config import get_settings
from app.documents.tasks import reconcile_documents
ahead = timedelta(seconds=get_settings().task_visibility_timeout_s + 61)
print(json.dumps(reconcile_documents(now=datetime.now(UTC) + ahead)))
"""


def reconcile_in(env: dict[str, str]) -> dict[str, int]:
    """The reconciler with its clock moved past the stall deadline: every unfinished
    document counts as stalled and is re-enqueued (or dead-lettered past its attempts)."""
    out: dict[str, int] = json.loads(run_python(env, RECONCILE_NOW).strip().splitlines()[-1])
    return out
