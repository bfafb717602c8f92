"""A throwaway Cairn in a temp dir: embedded Postgres + Redis (and optionally an S3 API) in
this process, `cairn migrate` / `export-model` once, and the API and Celery workers as
subprocesses (app/launcher/procs.py). `with Platform(...) as p:` stops everything (and removes
the temp dir unless `keep`) on exit. 127.0.0.1 only, free ports.

    with Platform(env={"AUTH_ENABLED": "false"}) as p:   # services + migrations + API
        p.start_worker()                                  # a prefork worker, waited for
        httpx.get(p.api_url + "/api/health/ready")

The test run uses only the services part (`start_services`), through tests/conftest.py.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

from app.core.embedded import EmbeddedPostgres, EmbeddedRedis, free_port
from app.launcher import argv as cmd
from app.launcher.procs import LaunchError, Proc, run_once, wait_api_ready, wait_worker_ready

S3_KEYS = {"S3_ACCESS_KEY_ID": "test", "S3_SECRET_ACCESS_KEY": "test"}


class Platform:
    """Services, migrations, API and workers of one throwaway Cairn.

    `env` is laid over os.environ for every process; `start()` adds DATABASE_URL, REDIS_URL
    (and the S3 settings with `s3=True`), DATA_DIR, and object storage on local disk unless
    `env` chooses a backend."""

    def __init__(
        self,
        env: Mapping[str, str] | None = None,
        *,
        keep: bool = False,
        s3: bool = False,
        prefix: str = "cairn-",
        ready_timeout_s: float = 180.0,
        export_model: bool = True,
    ) -> None:
        self.base = Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))  # short: socket paths
        self.keep = keep
        self.s3 = s3
        self.ready_timeout_s = ready_timeout_s
        self.export_model = export_model
        self.extra_env = dict(env or {})
        self.env: dict[str, str] = {}
        self.pg: EmbeddedPostgres | None = None
        self.redis: EmbeddedRedis | None = None
        self.redis_port = 0
        self.moto: Any = None
        self.s3_url = ""
        self.api: Proc | None = None
        self.api_url = ""
        self.workers: dict[str, Proc] = {}
        self.timings: dict[str, float] = {}

    # --- lifecycle -----------------------------------------------------------------------
    def __enter__(self) -> Platform:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:  # fmt: skip
        self.stop()

    def start(self) -> None:
        """Services, migrations (and the ONNX export), then the API, waited for."""
        t0 = time.perf_counter()
        self.start_services()
        self.timings["services_s"] = time.perf_counter() - t0
        self.timings["migrate_s"] = self.run_cli("migrate")
        if self.export_model:
            self.timings["export-model_s"] = self.run_cli("export-model")
        self.start_api()
        self.timings["platform_start_s"] = time.perf_counter() - t0

    def stop(self) -> None:
        """Workers, API, then the services; the temp dir goes unless `keep`."""
        for name in list(self.workers):
            self.stop_worker(name)
        if self.api is not None:
            self.api.stop()
            self.api = None
        for service in (self.moto, self.redis, self.pg):
            if service is not None:
                with contextlib.suppress(Exception):  # best effort: keep stopping the rest
                    service.stop()
        self.moto = self.redis = self.pg = None
        if self.keep:
            print(f"kept the platform's data in {self.base}", file=sys.stderr)
        else:
            shutil.rmtree(self.base, ignore_errors=True)

    # --- services ------------------------------------------------------------------------
    def start_services(self) -> dict[str, str]:
        """Embedded Postgres and Redis (and moto's S3 server with `s3=True`); sets and returns
        the environment every process of this platform gets."""
        from app.core.embedded import start_postgres

        self.pg = start_postgres(self.base / "pg")
        self.redis_port = free_port()
        self.start_redis()
        assert self.redis is not None
        env = {"DATABASE_URL": self.pg.url, "REDIS_URL": self.redis.url,
               "DATA_DIR": str(self.base / "data"), "HF_HUB_OFFLINE": "1"}  # fmt: skip
        if self.s3:
            from moto.server import ThreadedMotoServer

            port = free_port()
            self.moto = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
            self.moto.start()
            self.s3_url = f"http://127.0.0.1:{port}"
            env |= {"STORAGE_BACKEND": "s3", "S3_ENDPOINT_URL": self.s3_url, **S3_KEYS}
        else:
            env |= {"STORAGE_BACKEND": "local", "STORAGE_LOCAL_ROOT": str(self.base / "objects")}
        env |= self.extra_env
        self.env = {**os.environ, **env}
        return env

    def start_redis(self) -> None:
        """Start Redis on this platform's port (again); a no-op while it runs."""
        from app.core.embedded import start_redis

        if self.redis is None:
            self.redis = start_redis(self.base / "redis", port=self.redis_port or None)

    def stop_redis(self) -> None:
        """Save and stop Redis (queued messages survive in its rdb file).

        SHUTDOWN SAVE, not SAVE then SHUTDOWN: SAVE fails while Redis's own background
        save runs, whereas SHUTDOWN SAVE stops that child and saves in the foreground.
        """
        if self.redis is not None:
            self.redis.server.shutdown(save=True)
            self.redis = None

    def restart_redis(self, down_seconds: float = 0.0) -> None:
        self.stop_redis()
        time.sleep(down_seconds)
        self.start_redis()

    # --- processes -----------------------------------------------------------------------
    def run_cli(self, *args: str) -> float:
        """`cairn <args>` once (migrate, export-model); the seconds it took."""
        return run_once(args[0], cmd.cli_argv(*args), self.env, self.base / "logs")

    def start_api(self, *, access_log: bool = False) -> Proc:
        """The API on a free port, waited for (GET /api/health/ready == 200)."""
        if self.api is not None:
            self.api.stop()
        port = free_port()
        self.api_url = f"http://127.0.0.1:{port}"
        argv = cmd.api_argv("127.0.0.1", port, log_level="warning", access_log=access_log)
        self.api = Proc("api", argv, self.env, self.base / "logs")
        wait_api_ready(self.api_url, self.api, self.ready_timeout_s)
        return self.api

    def start_worker(
        self, name: str = "worker", *, pool: str = "prefork", concurrency: int = 1,
        wait: bool = True, env: Mapping[str, str] | None = None,
        queues: Sequence[str] = cmd.QUEUES,
    ) -> Proc:  # fmt: skip
        """A Celery worker (replacing one of the same name), waited for unless `wait=False`."""
        self.stop_worker(name)
        hostname = f"{name}-{uuid.uuid4().hex[:6]}@%h"
        argv = cmd.worker_argv(hostname=hostname, pool=pool, concurrency=concurrency,
                               queues=queues, quiet=True)
        proc = Proc(name, argv, {**self.env, **(env or {})}, self.base / "logs")
        self.workers[name] = proc
        if wait:
            wait_worker_ready(proc, self.ready_timeout_s)
        return proc

    def stop_worker(self, name: str = "worker") -> None:
        proc = self.workers.pop(name, None)
        if proc is not None:
            proc.stop()

    def tail(self, name: str, size: int = 3000) -> str:
        """The end of {name}.log (api, worker, migrate, ...)."""
        path = self.base / "logs" / f"{name}.log"
        return path.read_text(errors="replace")[-size:] if path.exists() else ""

    def check_alive(self) -> None:
        for proc in [*([self.api] if self.api else []), *self.workers.values()]:
            proc.check_alive()


__all__ = ["LaunchError", "Platform"]
