"""The one launcher (app/launcher): nothing outside tests/ imports tests/, process groups are
torn down whole, the probes fail fast, pool children die with their worker, and the
supervisord.conf of ./start.sh carries the same argv as every other launch."""

from __future__ import annotations

import ast
import configparser
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest
import redis

from app.core.config import Settings
from app.core.embedded import free_port
from app.launcher import argv as cmd
from app.launcher.platform import Platform
from app.launcher.procs import LaunchError, Proc, wait_api_ready, wait_worker_ready
from app.launcher.supervisor import LocalStack, supervisor_config

REPO = Path(__file__).resolve().parents[2]
BACKEND = REPO / "backend"


# --- nothing under backend/app or bench/ imports tests/ ---------------------------------------


def imports_of_tests(source: str) -> list[str]:
    """The lines of `source` that import the `tests` package or put tests/ on sys.path."""
    found: list[str] = []
    for node in ast.walk(ast.parse(source)):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        elif (
            isinstance(node, ast.Call)
            and "sys.path" in ast.unparse(node.func)
            and "tests" in ast.unparse(node)
        ):
            found.append(ast.unparse(node))
        found += [n for n in names if n == "tests" or n.startswith("tests.")]
    return found


def test_no_module_under_app_or_bench_imports_tests() -> None:
    offenders = {
        str(path.relative_to(REPO)): hits
        for root in (BACKEND / "app", REPO / "bench")
        for path in sorted(root.rglob("*.py"))
        # not bench/.venv-compare (make bench-compare's LlamaIndex venv: other people's code)
        if not any(part.startswith(".") for part in path.relative_to(root).parts)
        and (hits := imports_of_tests(path.read_text()))
    }
    assert offenders == {}


@pytest.mark.parametrize(
    "source",
    ["from tests.fault_procs import Worker", "import tests.conftest as c",
     "if True:\n    from tests import fault_procs"],
)  # fmt: skip
def test_the_import_check_finds_an_import_of_tests(source: str) -> None:
    assert imports_of_tests(source)


def test_the_import_check_finds_tests_put_on_sys_path() -> None:
    source = 'import sys\nsys.path.insert(0, str(HERE.parent / "backend" / "tests"))'
    assert imports_of_tests(source)
    assert imports_of_tests("from testsuite import x\nimport app.tests_helpers") == []


# --- processes, probes, teardown --------------------------------------------------------------


def test_stop_ends_the_whole_process_group(tmp_path: Path) -> None:
    proc = Proc("group", ["sh", "-c", "sleep 300 & sleep 300"], os.environ, tmp_path)
    deadline = time.monotonic() + 10
    while not psutil.Process(proc.pid).children() and time.monotonic() < deadline:
        time.sleep(0.05)
    child = psutil.Process(proc.pid).children()[0]
    proc.stop(grace_s=5)
    assert not proc.alive()
    # the group's signal reaches the child at once, but a busy machine may take a moment to
    # end it; a child the stop missed would live on for its 300 s
    _, alive = psutil.wait_procs([child], timeout=5)
    assert all(p.status() == psutil.STATUS_ZOMBIE for p in alive), alive


def test_worker_probe_fails_at_once_when_the_process_exits(tmp_path: Path) -> None:
    proc = Proc("worker", [sys.executable, "-c", "print('boom'); raise SystemExit(3)"],
                os.environ, tmp_path)  # fmt: skip
    started = time.monotonic()
    with pytest.raises(LaunchError, match="exited \\(3\\)"):
        wait_worker_ready(proc, timeout_s=60)
    assert time.monotonic() - started < 10
    assert "boom" in proc.log()
    proc.stop()


def test_api_probe_gives_up_after_its_timeout(tmp_path: Path) -> None:
    started = time.monotonic()
    with pytest.raises(LaunchError, match="not ready after"):
        wait_api_ready(f"http://127.0.0.1:{free_port()}", None, timeout_s=1.5)
    assert time.monotonic() - started < 10


def test_worker_probe_waits_for_the_ready_line(tmp_path: Path) -> None:
    code = "import time; time.sleep(0.5); print('cairn-worker-ready', flush=True); time.sleep(60)"
    with Proc("worker", [sys.executable, "-c", code], os.environ, tmp_path) as proc:
        wait_worker_ready(proc, timeout_s=30)
        assert proc.alive()


def test_a_real_worker_is_seen_ready_even_when_log_level_hides_info(tmp_path: Path) -> None:
    """Celery's own "ready." line is INFO: with LOG_LEVEL=WARNING (as in the tests' env) the
    launcher still sees the worker ready, from its cairn-worker-ready line."""
    from app.launcher.platform import Platform

    with Platform({"LOG_LEVEL": "WARNING"}, export_model=False, ready_timeout_s=90) as platform:
        platform.start_services()
        proc = platform.start_worker(pool="solo")
        assert proc.alive() and "ready." not in proc.log()


# --- a worker's children die with it (no orphan after kill -9) ---------------------------------

FORKER = """
import os, sys, time
from app.workers import die_with_parent
pid = os.fork()
if pid == 0:
    if sys.argv[1] == "yes":
        die_with_parent()
    time.sleep(120)
    os._exit(0)
print(pid, flush=True)
time.sleep(120)
"""


def _orphan_after_parent_killed(die: str) -> bool:
    parent = subprocess.Popen([sys.executable, "-c", FORKER, die], cwd=BACKEND,
                              stdout=subprocess.PIPE, text=True)  # fmt: skip
    assert parent.stdout is not None
    child = psutil.Process(int(parent.stdout.readline()))
    time.sleep(1.0)  # the child has called prctl
    parent.kill()
    parent.wait()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        if not child.is_running() or child.status() == psutil.STATUS_ZOMBIE:
            return False
        time.sleep(0.1)
    child.kill()
    return True


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_a_pool_child_dies_when_its_worker_is_sigkilled() -> None:
    assert _orphan_after_parent_killed("yes") is False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_without_the_death_signal_the_child_is_orphaned() -> None:
    """The control: what a prefork pool child did before (and what the fix prevents)."""
    assert _orphan_after_parent_killed("no") is True


# --- supervisord.conf and envexec ---------------------------------------------------------------


def _conf(stack: LocalStack) -> configparser.RawConfigParser:
    parser = configparser.RawConfigParser()
    parser.read_string(supervisor_config(stack))
    return parser


def test_supervisor_config_supervises_every_program_as_a_group(tmp_path: Path) -> None:
    stack = LocalStack(tmp_path, api_port=8123, redis_port=6400, console_dir=tmp_path / "c")
    conf = _conf(stack)
    programs = [s.split(":", 1)[1] for s in conf.sections() if s.startswith("program:")]
    assert sorted(programs) == ["api", "console", "services", "worker"]
    for name in programs:
        section = conf[f"program:{name}"]
        assert section["stopasgroup"] == section["killasgroup"] == "true"
        assert section["autorestart"] == "true"
        assert int(section["startretries"]) > 0 and int(section["stopwaitsecs"]) > 0
        assert section["stdout_logfile"] == str(tmp_path / "logs" / f"{name}.log")
    assert conf["program:services"]["autostart"] == "true"
    assert all(conf[f"program:{n}"]["autostart"] == "false" for n in ("api", "worker"))
    # the databases stop last: supervisord stops the highest priority first
    prio = {n: int(conf[f"program:{n}"]["priority"]) for n in programs}
    assert prio["services"] < prio["worker"] < prio["api"] < prio["console"]
    assert 'CONSOLE_USE_SERVER_KEY="true"' in conf["program:console"]["environment"]
    # the stack's own default is the setting's (WORKER_CONCURRENCY), not a second number
    assert stack.worker_concurrency == Settings.model_fields["worker_concurrency"].default
    worker = cmd.worker_argv(hostname="cairn@%h", pool="threads", concurrency=3,
                             beat_schedule=stack.run_dir / "celerybeat-schedule")  # fmt: skip
    assert conf["program:worker"]["command"].endswith(" ".join(worker).replace("%", "%%"))
    assert "--port 8123" in conf["program:api"]["command"]


def test_the_worker_program_runs_the_configured_pool_and_concurrency(tmp_path: Path) -> None:
    stack = LocalStack(tmp_path, worker_pool="prefork", worker_concurrency=3)
    command = _conf(stack)["program:worker"]["command"]
    assert "--pool prefork -c 3 " in command and "threads" not in command


def test_the_console_gets_the_server_key_only_on_loopback(tmp_path: Path) -> None:
    stack = LocalStack(tmp_path, console_host="0.0.0.0", console_dir=tmp_path / "c")
    env = _conf(stack)["program:console"]["environment"]
    assert 'CONSOLE_USE_SERVER_KEY="false"' in env


def test_supervisor_config_without_a_console_has_no_console_program(tmp_path: Path) -> None:
    assert "program:console" not in _conf(LocalStack(tmp_path)).sections()


def test_a_long_data_dir_moves_the_socket_under_the_temp_dir(tmp_path: Path) -> None:
    stack = LocalStack(tmp_path / ("d" * 120))
    assert len(str(stack.socket)) <= 100
    assert f"file={stack.socket}" in supervisor_config(stack)


def _envexec(*args: str) -> subprocess.CompletedProcess[str]:
    argv = cmd.envexec_argv([sys.executable, "-c", "import os; print(os.environ.get('X'))"])
    head, tail = argv[:2], argv[2:]
    return subprocess.run([*head, *args, *tail], capture_output=True, text=True, timeout=30,
                          check=False)  # fmt: skip


def test_envexec_loads_the_file_it_waits_for(tmp_path: Path) -> None:
    env_file = tmp_path / "services.env"
    env_file.write_text("X='from the file'\n")
    done = _envexec("--wait-for", str(env_file))
    assert done.returncode == 0 and done.stdout.strip() == "from the file", done.stderr


def test_envexec_gives_up_when_the_file_never_appears(tmp_path: Path) -> None:
    done = _envexec("--wait-for", str(tmp_path / "never.env"), "--timeout", "0.5")
    assert done.returncode == 1
    assert "did not appear" in done.stderr


def test_envexec_skips_a_missing_optional_file(tmp_path: Path) -> None:
    done = _envexec("--optional", str(tmp_path / "credentials.env"))
    assert done.returncode == 0 and done.stdout.strip() == "None"


def test_killing_the_process_group_reaches_grandchildren(tmp_path: Path) -> None:
    script = textwrap.dedent("""
        import subprocess, sys, time
        subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"])
        time.sleep(300)
    """)
    proc = Proc("tree", [sys.executable, "-c", script], os.environ, tmp_path)
    deadline = time.monotonic() + 10
    while not psutil.Process(proc.pid).children() and time.monotonic() < deadline:
        time.sleep(0.05)
    grandchild = psutil.Process(proc.pid).children()[0]
    os.kill(proc.pid, signal.SIGKILL)  # the leader dies first; its child is still in the group
    proc.popen.wait(timeout=5)
    assert grandchild.is_running()
    proc.stop()
    deadline = time.monotonic() + 5
    while _running(grandchild) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _running(grandchild)


def _running(p: psutil.Process) -> bool:
    try:
        return p.is_running() and p.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def test_dev_config_runs_vite_against_the_api_and_stops_it_first(tmp_path: Path) -> None:
    app_dir = tmp_path / "react-app"
    conf = _conf(LocalStack(tmp_path, api_port=8123, web_dev_dir=app_dir, web_dev_port=5999))
    web = conf["program:web"]
    assert web["autostart"] == "false" and web["directory"] == str(app_dir)
    assert web["command"].endswith(f"{app_dir}/node_modules/vite/bin/vite.js --port 5999 "
                                   "--strictPort")  # fmt: skip
    assert 'CAIRN_API="http://127.0.0.1:8123"' in web["environment"]
    assert int(web["priority"]) > int(conf["program:api"]["priority"])  # stopped first


def test_without_dev_there_is_no_web_program(tmp_path: Path) -> None:
    assert "program:web" not in _conf(LocalStack(tmp_path, console_dir=tmp_path)).sections()


def test_build_web_without_node_says_so_and_only_dev_mode_fails(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("bash", "dirname", "find", "printf"):  # what build_web.sh needs, not node
        found = subprocess.run(["bash", "-c", f"command -v {tool}"], capture_output=True,
                               text=True, check=False).stdout.strip()  # fmt: skip
        if found.startswith("/"):
            (bin_dir / tool).symlink_to(found)
    env = {"PATH": str(bin_dir), "HOME": str(tmp_path)}
    script = str(REPO / "scripts" / "build_web.sh")
    build = subprocess.run([str(bin_dir / "bash"), script], env=env, capture_output=True,
                           text=True, timeout=30, check=False)  # fmt: skip
    dev = subprocess.run([str(bin_dir / "bash"), script, "--dev"], env=env,
                         capture_output=True, text=True, timeout=30, check=False)  # fmt: skip
    assert build.returncode == 0 and "node/npm not found" in build.stdout
    assert dev.returncode == 1 and "node/npm not found" in dev.stdout


# --- Redis stop/restart while Redis's own background save runs --------------------------------


def slow_background_save(client: Any) -> None:
    """Start a BGSAVE that takes seconds (its forked child keeps the delay; the parent resets
    it), as Redis's own save points do at random moments under a test's writes."""
    client.config_set("rdb-key-save-delay", 2_000_000)  # µs per key, read by the child
    client.bgsave()
    client.config_set("rdb-key-save-delay", 0)
    assert client.info("persistence")["rdb_bgsave_in_progress"] == 1


@pytest.fixture()
def redis_only() -> Iterator[Platform]:
    platform = Platform(prefix="cairn-redis-")
    platform.redis_port = free_port()
    platform.start_redis()
    try:
        yield platform
    finally:
        platform.stop()


def test_restart_redis_during_a_background_save_keeps_the_data(redis_only: Platform) -> None:
    assert redis_only.redis is not None
    redis_only.redis.server.set("queued", "message")
    slow_background_save(redis_only.redis.server)
    redis_only.restart_redis()
    assert redis_only.redis is not None
    assert redis_only.redis.server.get("queued") == b"message"


def test_stop_redis_during_a_background_save_stops_it(redis_only: Platform) -> None:
    assert redis_only.redis is not None
    server = redis_only.redis.server
    slow_background_save(server)
    redis_only.stop_redis()
    assert redis_only.redis is None
    with pytest.raises(redis.exceptions.ConnectionError):
        server.ping()


def test_stop_redis_twice_is_a_no_op(redis_only: Platform) -> None:
    redis_only.stop_redis()
    redis_only.stop_redis()
    assert redis_only.redis is None
