"""Subprocesses in their own process groups, the readiness probes, and teardown.

One probe per kind of process:
  API     GET /api/health/ready answers 200 (every dependency reachable);
  worker  its log has Celery's "<hostname> ready." line (it consumes its queues).
Teardown is the same everywhere: SIGTERM the process group, wait, SIGKILL the group (a
prefork worker's pool children and an embedded beat are in it too).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType

BACKEND = Path(__file__).resolve().parents[2]
# Written by the worker when it consumes its queues (app.workers: worker_ready), whatever
# LOG_LEVEL lets through (Celery's own "ready." line is INFO, and LOG_LEVEL=WARNING drops it).
WORKER_READY_MARKER = "cairn-worker-ready"


class LaunchError(RuntimeError):
    """A process did not start or did not become ready."""


class Proc:
    """A subprocess in its own process group (session), its output appended to a log file."""

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        env: Mapping[str, str],
        log_dir: Path,
        *,
        cwd: Path = BACKEND,
    ) -> None:
        self.name = name
        self.argv = list(argv)
        self.log_path = Path(log_dir) / f"{name}.log"
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = self.log_path.open("ab")
        env = {**env, "PYTHONUNBUFFERED": "1"}
        self.popen = subprocess.Popen(
            self.argv, cwd=cwd, env=env, stdout=self._log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip

    def __enter__(self) -> Proc:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:  # fmt: skip
        self.stop()

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def log(self) -> str:
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def tail(self, size: int = 3000) -> str:
        return self.log()[-size:]

    def check_alive(self) -> None:
        if not self.alive():
            raise LaunchError(
                f"the {self.name} exited ({self.popen.returncode}):\n{self.tail()}"
            )

    def kill_group(self) -> None:
        """SIGKILL the process and everything in its group at once."""
        _signal_group(self.popen.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.popen.wait(timeout=10)

    def stop(self, grace_s: float = 15.0) -> None:
        """SIGTERM the group, wait up to `grace_s` for the leader, then SIGKILL the group (the
        leader's children may outlive it for a moment)."""
        if self.alive():
            _signal_group(self.popen.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.popen.wait(timeout=grace_s)
        self.kill_group()
        self._log.close()


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def wait_api_ready(url: str, proc: Proc | None = None, timeout_s: float = 120.0) -> None:
    """Until GET {url}/api/health/ready answers 200 (raises LaunchError after `timeout_s`, or
    as soon as `proc` exits)."""
    import httpx

    deadline = time.monotonic() + timeout_s
    last = "no answer"
    while time.monotonic() < deadline:
        if proc is not None:
            proc.check_alive()
        try:
            resp = httpx.get(f"{url}/api/health/ready", timeout=5)
            if resp.status_code == 200:
                return
            last = f"{resp.status_code}: {resp.text[:500]}"
        except httpx.HTTPError as exc:
            last = repr(exc)
        time.sleep(0.2)
    tail = f"\n{proc.tail()}" if proc is not None else ""
    raise LaunchError(f"the API at {url} was not ready after {timeout_s:.0f}s ({last}){tail}")


def wait_worker_ready(proc: Proc, timeout_s: float = 120.0) -> None:
    """Until the worker's log says it is ready (it consumes its queues)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        proc.check_alive()
        if WORKER_READY_MARKER in proc.log():
            return
        time.sleep(0.2)
    raise LaunchError(f"the {proc.name} was not ready after {timeout_s:.0f}s:\n{proc.tail()}")


def run_once(
    name: str, argv: Sequence[str], env: Mapping[str, str], log_dir: Path, timeout_s: float = 900
) -> float:
    """Run `argv` to completion (e.g. `cairn migrate`), output to {log_dir}/{name}.log; the
    seconds it took. LaunchError with the log's tail if it fails."""
    t0 = time.perf_counter()
    log_path = Path(log_dir) / f"{name}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as log:
        done = subprocess.run(
            list(argv), cwd=BACKEND, env={**env, "PYTHONUNBUFFERED": "1"}, stdout=log,
            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, timeout=timeout_s, check=False,
        )  # fmt: skip
    if done.returncode != 0:
        tail = log_path.read_text(errors="replace")[-2000:]
        raise LaunchError(f"`{' '.join(argv[1:])}` failed ({done.returncode}):\n{tail}")
    return time.perf_counter() - t0
