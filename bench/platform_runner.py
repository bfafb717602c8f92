"""Start the whole platform for real in a temp dir, and tear it down again: the launcher's
Platform (app/launcher/platform.py) with the bench's settings.

Embedded Postgres (pgvector) and Redis run inside this process (they stop when it exits);
`cairn migrate`, the API (uvicorn) and Celery workers run as subprocesses in their own
process groups, so teardown reaches a prefork worker's children too. Everything listens on
127.0.0.1 only, on free ports. Auth and the rate limiter stay on (their cost is part of every
request); the bench signs in as the first admin and makes an API key.
"""

from __future__ import annotations

import secrets
import sys
from pathlib import Path

import httpx

from app.launcher.platform import Platform as _Platform
from app.launcher.procs import LaunchError as PlatformError

REPO = Path(__file__).resolve().parents[1]
SHARED_MODELS = REPO / "data" / "models"  # the ONNX export start.sh also uses (git-ignored)

__all__ = ["REPO", "Platform", "PlatformError"]


class Platform(_Platform):
    """`with Platform() as p:` → p.api_url, p.api_key; p.start_worker(pool=, concurrency=)."""

    def __init__(self, keep: bool = False) -> None:
        env = {
            "MODELS_PATH": str(SHARED_MODELS),  # exported once, reused by every run
            "LOG_LEVEL": "WARNING",
            "ENVIRONMENT": "development",
            "ADMIN_EMAIL": "bench@example.com",
            "ADMIN_PASSWORD": secrets.token_urlsafe(18),
            # the limiter stays on (its Redis round trip is measured), but out of reach
            "RATE_LIMIT_SEARCH": "1000000/minute",
            "RATE_LIMIT_UPLOAD": "1000000/minute",
            "RATE_LIMIT_CHAT": "1000000/minute",
            "SERVER_TIMING": "true",  # per-stage times in a header (bench/bench_query.py)
        }
        super().__init__(env, keep=keep, prefix="cbench-")
        self.api_key = ""

    def start(self) -> None:
        super().start()
        self.api_key = self._make_api_key()

    def __exit__(self, exc_type: type[BaseException] | None, *rest: object) -> None:
        if exc_type is not None and exc_type is not KeyboardInterrupt:
            for path in sorted((self.base / "logs").glob("*.log")):
                print(f"--- {path.name} (tail) ---\n{self.tail(path.stem)}", file=sys.stderr)
        self.stop()

    def _make_api_key(self) -> str:
        login = httpx.post(
            f"{self.api_url}/api/v1/auth/login", timeout=30,
            json={"email": self.env["ADMIN_EMAIL"], "password": self.env["ADMIN_PASSWORD"]},
        )  # fmt: skip
        if login.status_code != 200:
            raise PlatformError(f"login answered {login.status_code}: {login.text[:300]}")
        created = httpx.post(
            f"{self.api_url}/api/v1/api-keys", json={"name": "bench"}, timeout=30,
            headers={"Authorization": f"Bearer {login.json()['access_token']}"},
        )  # fmt: skip
        if created.status_code != 201:
            raise PlatformError(f"api-key answered {created.status_code}: {created.text[:300]}")
        return str(created.json()["key"])
