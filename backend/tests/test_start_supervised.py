"""The real ./start.sh under supervisord: a SIGKILLed worker or API is restarted while the API
keeps answering, the killed worker's pool child does not live on, and `./start.sh --stop`
leaves no process of the run behind.

One bounded run (about two minutes): its own DATA_DIR under /tmp (short, for the Postgres
socket), free ports, SKIP_INSTALL=1, the repo's exported ONNX model.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psutil
import pytest

from app.core.embedded import free_port

REPO = Path(__file__).resolve().parents[2]
VENV_BIN = REPO / ".venv" / "bin"

try:
    import supervisor  # noqa: F401
except ImportError:  # pragma: no cover - the pinned requirement installs it
    pytest.skip("supervisor is not installed (backend/requirements-embedded.txt)",
                allow_module_level=True)  # fmt: skip

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]


@dataclass
class Run:
    data_dir: Path
    env: dict[str, str]
    api_port: int
    redis_port: int
    console_port: int
    proc: subprocess.Popen[bytes]
    out: Path
    seen: set[int] = field(default_factory=set)  # every pid of the run we came across

    @property
    def api(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    def output(self) -> str:
        return self.out.read_text(errors="replace")

    def report(self) -> str:
        """start.sh's output and supervisord's log, for a failure message."""
        sup = self.data_dir / "logs" / "supervisord.log"
        log = sup.read_text(errors="replace") if sup.exists() else ""
        return f"{self.output()[-2500:]}\n--- supervisord.log ---\n{log[-2500:]}"

    def ctl(self, *args: str) -> str:
        done = subprocess.run(
            [str(VENV_BIN / "supervisorctl"), "-c", str(self.data_dir / "run" / "supervisord.conf"),
             *args], capture_output=True, text=True, timeout=30, check=False,
        )  # fmt: skip
        return done.stdout.strip()

    def pid(self, program: str) -> int:
        out = self.ctl("pid", program)
        return int(out) if out.isdigit() else 0

    def processes(self) -> list[psutil.Process]:
        """Processes of this run: start.sh's descendants, and the daemonized Postgres and
        Redis (found by their data dir and port)."""
        found: dict[int, psutil.Process] = {}
        with contextlib.suppress(psutil.Error):
            root = psutil.Process(self.proc.pid)
            found |= {p.pid: p for p in [root, *root.children(recursive=True)]}
        marks = (str(self.data_dir), f":{self.redis_port}", f"--port {self.api_port}")
        for p in psutil.process_iter(["cmdline"]):
            line = " ".join(p.info["cmdline"] or [])
            if any(m in line for m in marks) and "pytest" not in line:
                found[p.pid] = p
        self.seen |= set(found)
        return [p for p in found.values() if _running(p)]


def _running(p: psutil.Process) -> bool:
    try:
        return p.is_running() and p.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def _gone(pid: int) -> bool:
    try:
        return not _running(psutil.Process(pid))
    except psutil.NoSuchProcess:
        return True


def _until(what: str, check: Callable[[], bool], timeout_s: float, run: Run) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.3)
    raise AssertionError(f"{what} not within {timeout_s}s\n{run.report()}")


def _clean_env(**extra: str) -> dict[str, str]:
    """A user's environment: none of the test run's service settings."""
    keep = ("PATH", "HOME", "LANG", "LC_ALL", "TERM", "USER", "TMPDIR")
    env = {k: v for k, v in os.environ.items() if k in keep}
    return env | extra


@contextlib.contextmanager
def start_sh(
    *args: str, prefix: str = "cs-", path: Callable[[Path], str] | None = None, **extra: str
) -> Iterator[Run]:
    """A real `./start.sh *args` with its own DATA_DIR under /tmp (`prefix`), free ports,
    SKIP_INSTALL=1, the repo's models and `extra` in its environment (`path(data_dir)`, if
    given, is its PATH); then `--stop`, and whatever of the run is left is killed."""
    data_dir = Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))
    api_port, redis_port, console_port = free_port(), free_port(), free_port()
    env = _clean_env(
        DATA_DIR=str(data_dir), API_PORT=str(api_port), REDIS_PORT=str(redis_port),
        CONSOLE_PORT=str(console_port), SKIP_INSTALL="1", READY_TIMEOUT="150",
        MODELS_PATH=str(REPO / "data" / "models"), **extra,
    )  # fmt: skip
    if path is not None:
        env["PATH"] = path(data_dir)
    out = data_dir / "start.out"
    with out.open("wb") as sink:
        proc = subprocess.Popen(
            ["bash", str(REPO / "start.sh"), *args], cwd=REPO, env=env, stdout=sink,
            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
    started = Run(data_dir, env, api_port, redis_port, console_port, proc, out)
    try:
        yield started
    finally:
        if proc.poll() is None:
            subprocess.run(["bash", str(REPO / "start.sh"), "--stop"], env=env,
                           capture_output=True, timeout=200, check=False)  # fmt: skip
        for p in started.processes():  # only what this run started
            with contextlib.suppress(psutil.Error):
                p.kill()
        shutil.rmtree(data_dir, ignore_errors=True)


@pytest.fixture
def run() -> Iterator[Run]:
    with start_sh() as started:
        yield started


def _wait_ready(run: Run) -> None:
    _until("Cairn is ready", lambda: "Cairn is ready" in run.output() or
           run.proc.poll() is not None, 200, run)  # fmt: skip
    assert run.proc.poll() is None, run.report()


def _workers_answer(run: Run) -> bool:
    try:
        body = httpx.get(f"{run.api}/api/health/ready", timeout=5).json()
    except (httpx.HTTPError, ValueError):
        return False
    return bool(body["checks"]["workers"]["ok"])


class Poller(threading.Thread):
    """GET /api/health every 0.2 s; counts the answers that were not 200."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url = url
        self.ok = 0
        self.failures: list[str] = []
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.is_set():
            try:
                code = httpx.get(f"{self.url}/api/health", timeout=3).status_code
                self.ok += code == 200
                if code != 200:
                    self.failures.append(str(code))
            except httpx.HTTPError as exc:
                self.failures.append(repr(exc))
            time.sleep(0.2)


def test_killed_worker_and_api_come_back_and_stop_leaves_nothing(run: Run) -> None:
    _wait_ready(run)
    _until("a worker answering the ping", lambda: _workers_answer(run), 60, run)

    # --- kill -9 the worker (as the OOM killer would): restarted, the API answers throughout
    worker = run.pid("worker")
    children = [c.pid for c in psutil.Process(worker).children(recursive=True)]
    assert children, "a worker with embedded beat has children (beat is a process)"
    poller = Poller(run.api)
    poller.start()
    os.kill(worker, signal.SIGKILL)
    _until("the old pool child and beat gone", lambda: all(map(_gone, children)), 15, run)
    _until("a new worker", lambda: run.pid("worker") not in (0, worker), 60, run)
    _until("the new worker answering", lambda: _workers_answer(run), 90, run)
    poller.stopping.set()
    poller.join(timeout=10)
    assert poller.failures == [] and poller.ok > 5, poller.failures
    assert run.proc.poll() is None, "start.sh must not stop when the worker dies"

    # --- kill -9 the API: it comes back on the same port
    api = run.pid("api")
    os.kill(api, signal.SIGKILL)
    _until("a new API", lambda: run.pid("api") not in (0, api), 60, run)

    def api_ready() -> bool:
        try:
            return httpx.get(f"{run.api}/api/health/ready", timeout=5).status_code == 200
        except httpx.HTTPError:
            return False

    _until("the new API ready", api_ready, 90, run)
    assert run.ctl("status", "services").split()[1] == "RUNNING"

    # --- ./start.sh --stop from another terminal: every process of the run is gone
    before = run.processes()
    assert len(before) >= 6, [p.cmdline() for p in before]  # start.sh, supervisord, programs
    stop = subprocess.run(["bash", str(REPO / "start.sh"), "--stop"], env=run.env,
                          capture_output=True, text=True, timeout=200, check=False)  # fmt: skip
    assert stop.returncode == 0, stop.stdout + stop.stderr + run.report()
    assert run.proc.wait(timeout=30) is not None
    _until("every process of the run gone", lambda: all(map(_gone, run.seen)), 30, run)
    assert run.processes() == []
    assert not (run.data_dir / "run" / "start.pid").exists()


def test_stop_ends_everything_even_when_start_sh_itself_was_killed(run: Run) -> None:
    """start.sh SIGKILLed (no trap runs): supervisord and its programs live on, and
    `./start.sh --stop` finds them through data/run/supervisord.pid."""
    _wait_ready(run)
    before = run.processes()
    os.kill(run.proc.pid, signal.SIGKILL)
    run.proc.wait(timeout=10)
    assert httpx.get(f"{run.api}/api/health", timeout=5).status_code == 200
    stop = subprocess.run(["bash", str(REPO / "start.sh"), "--stop"], env=run.env,
                          capture_output=True, text=True, timeout=200, check=False)  # fmt: skip
    assert stop.returncode == 0, stop.stdout + stop.stderr + run.report()
    assert "stopping supervisord" in stop.stdout
    _until("every process of the run gone", lambda: all(_gone(p.pid) for p in before), 30, run)
    assert run.processes() == []
