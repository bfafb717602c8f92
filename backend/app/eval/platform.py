"""Start a throwaway Cairn for one evaluation: the same API and worker path users take.

The launcher (app/launcher) does the work: embedded Postgres and Redis in this process,
migrations and the ONNX export once, the API (uvicorn) and one Celery worker as subprocesses
in their own process groups, objects on local disk in the temp dir. Everything stops, and the
temp dir goes, on exit.
"""

from __future__ import annotations

import time

from app.core.config import get_settings
from app.launcher.platform import Platform
from app.launcher.procs import LaunchError

PlatformError = LaunchError  # the name `cairn eval` reports


class LocalPlatform(Platform):
    """`with LocalPlatform() as p:` → p.api_url (auth and rate limits off), p.timings."""

    def __init__(self, keep: bool = False, ready_timeout_s: float = 180.0) -> None:
        env = {
            # The exported ONNX model is reused from the operator's usual place.
            "MODELS_PATH": str(get_settings().models_dir),
            "AUTH_ENABLED": "false",
            "RATE_LIMIT_ENABLED": "false",
            "LOG_JSON": "true",
        }
        super().__init__(env, keep=keep, prefix="cairn-ev-", ready_timeout_s=ready_timeout_s)

    def start(self) -> None:
        t0 = time.perf_counter()
        super().start()
        self.start_worker("worker", pool="solo")
        self.timings["platform_start_s"] = time.perf_counter() - t0


__all__ = ["LocalPlatform", "PlatformError"]
