"""The command line of each Cairn process, defined once.

Every command runs the current interpreter (`sys.executable -m ...`), so a venv's Python runs
the venv's uvicorn and celery. Run them with the backend directory as the working directory
(or with the backend installed, as `pip install -e backend` does).
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Sequence
from pathlib import Path

QUEUES = ("ingest", "label", "maintenance")


def python() -> str:
    return sys.executable


def cli_argv(*args: str) -> list[str]:
    """`cairn <args>` (migrate, export-model, services, ...)."""
    return [python(), "-m", "app.cli", *args]


def services_argv(data_dir: Path, redis_port: int, env_file: Path) -> list[str]:
    """Embedded Postgres + Redis until SIGTERM; their URLs are written to `env_file`."""
    return cli_argv(
        "services", "--data-dir", str(data_dir), "--redis-port", str(redis_port),
        "--env-file", str(env_file),
    )  # fmt: skip


def api_argv(
    host: str, port: int, *, log_level: str = "info", access_log: bool = True
) -> list[str]:
    """The API: uvicorn serving app.main:app."""
    argv = [python(), "-m", "uvicorn", "app.main:app", "--host", host, "--port", str(port)]
    argv += ["--log-level", log_level]
    if not access_log:
        argv.append("--no-access-log")
    return argv


def worker_argv(
    *,
    hostname: str,
    pool: str = "prefork",
    concurrency: int = 1,
    queues: Sequence[str] = QUEUES,
    loglevel: str = "INFO",
    beat_schedule: Path | None = None,
    quiet: bool = False,
) -> list[str]:
    """A Celery worker on `queues`. `beat_schedule` embeds beat (-B) with that schedule file;
    `quiet` turns off gossip, mingle and heartbeat (throwaway workers that need none).
    Readiness is the worker's own "cairn-worker-ready" line (app.workers), at any log level."""
    argv = [python(), "-m", "celery", "-A", "app.workers", "worker", "-Q", ",".join(queues)]
    argv += ["--pool", pool, "-c", str(concurrency), "-n", hostname, "--loglevel", loglevel]
    if beat_schedule is not None:
        argv += ["-B", "-s", str(beat_schedule)]
    if quiet:
        argv += ["--without-gossip", "--without-mingle", "--without-heartbeat"]
    return argv


def console_argv(console_dir: Path) -> list[str]:
    """The Gradio console (frontend/gradio-interface/app.py)."""
    return [python(), str(console_dir / "app.py")]


def web_dev_argv(app_dir: Path, port: int) -> list[str]:
    """The Vite dev server of the web app (frontend/react-app), hot reload on 127.0.0.1:`port`;
    vite.config.ts proxies /api to CAIRN_API. Node runs Vite directly (no npm wrapper between
    supervisord and the server)."""
    node = shutil.which("node") or "node"
    vite = app_dir / "node_modules" / "vite" / "bin" / "vite.js"
    return [node, str(vite), "--port", str(port), "--strictPort"]


def envexec_argv(
    argv: Sequence[str], *, wait_for: Path | None = None, optional: Sequence[Path] = ()
) -> list[str]:
    """`argv` run after loading env files written at run time (see app/launcher/envexec.py).
    envexec runs by its path (standard library only): the console's directory has an app.py
    that would shadow the `app` package."""
    wrapped = [python(), str(Path(__file__).with_name("envexec.py"))]
    if wait_for is not None:
        wrapped += ["--wait-for", str(wait_for)]
    for path in optional:
        wrapped += ["--optional", str(path)]
    return [*wrapped, "--", *argv]
