"""A threads-pool worker enforces an ingest's time limits (app/workers/watchdog.py): Celery
itself does so only in the prefork pool.

A real worker process on `--pool threads -c 2` with the limits at 3 s (soft) and 10 s (hard),
and a real API, on their own Redis database. The fault is injected into the worker at start:
its parser, for files named `spin-*`, loops in Python for good (what a pure-Python parser
caught in a loop does) and, for `stuck-*`, blocks in C for an hour with the soft-limit
signal blocked (what a native library that never returns to Python does). Every other file
is parsed for real.
"""

from __future__ import annotations

import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.launcher import argv as cmd
from app.launcher.procs import wait_worker_ready
from app.workers.watchdog import EXIT_STUCK
from tests.fault_procs import Proc, is_final, upload_one, wait_for

pytest_plugins = ["tests.fault_fixtures"]  # log_dir, env, api, http

REDIS_DB = 7
ENV_OVERRIDES = {"INGEST_SOFT_TIME_LIMIT_S": "3", "INGEST_TIME_LIMIT_S": "10",
                 "TASK_VISIBILITY_TIMEOUT_S": "900", "LOG_LEVEL": "INFO"}

# Runs before Celery's command line: the parser the pipeline calls, with the two faults.
HANGING_PARSER = """
import signal, sys, time
import app.ingest.pipeline as pipeline
real_parse = pipeline.parse
def parse(data, content_type, filename, *args, **kwargs):
    if filename.startswith("spin-"):
        while True:
            pass
    if filename.startswith("stuck-"):
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1})  # prefork's soft limit
        time.sleep(3600)
    return real_parse(data, content_type, filename, *args, **kwargs)
pipeline.parse = parse
from celery.__main__ import main
sys.argv = ["celery", *sys.argv[1:]]
sys.exit(main())
"""


def start_worker(name: str, env: dict[str, str], log_dir: Path, pool: str = "threads") -> Proc:
    """The worker ./start.sh runs (threads pool, 2 documents at once, unless `pool` is
    prefork: 1), through the hanging parser."""
    argv = cmd.worker_argv(hostname=f"{name}@%h", pool=pool,
                           concurrency=2 if pool == "threads" else 1, quiet=True)
    assert argv[1:3] == ["-m", "celery"]
    worker = Proc(name, [argv[0], "-c", HANGING_PARSER, *argv[3:]], env, log_dir)
    wait_worker_ready(worker, 60)
    return worker


@pytest.fixture
def worker(request: pytest.FixtureRequest, env: dict[str, str], log_dir: Path) -> Iterator[Proc]:
    pool = getattr(request, "param", "threads")
    proc = start_worker(f"limits-{pool}-{uuid.uuid4().hex[:4]}", env, log_dir, pool)
    try:
        yield proc
    finally:
        proc.stop()


def upload(http: httpx.Client, name: str) -> str:
    text = f"Field notes {uuid.uuid4().hex}: rainfall at the northern site rose in spring."
    return str(upload_one(http, name, text.encode(), "limits")["id"])


def final(http: httpx.Client, doc_id: str, worker: Proc, timeout_s: float = 60) -> dict[str, Any]:
    return wait_for(http, doc_id, is_final, timeout_s, detail=lambda: "\n" + worker.tail())


# Prefork enforces the soft limit by Celery's own signal: the same outcome in both pools.
@pytest.mark.parametrize("worker", ["threads", "prefork"], indirect=True)
def test_a_parse_looping_in_python_fails_timed_out_at_the_soft_limit_and_the_worker_carries_on(
    worker: Proc, http: httpx.Client,
) -> None:
    spinning, normal = upload(http, "spin-loop.txt"), upload(http, "notes.txt")
    doc = final(http, spinning, worker)
    assert doc["status"] == "failed" and doc["error_code"] == "timed_out", doc
    assert "longer than 3 s" in doc["error"]
    assert final(http, normal, worker)["status"] == "ready"
    # Its thread (or pool process) is free again: two more documents are ingested.
    later = [upload(http, "after-1.txt"), upload(http, "after-2.txt")]
    assert [final(http, d, worker)["status"] for d in later] == ["ready", "ready"]
    assert worker.alive()


def test_a_parse_stuck_in_native_code_fails_at_the_hard_limit_and_the_worker_restarts(
    worker: Proc, http: httpx.Client,
) -> None:
    stuck, normal = upload(http, "stuck-native.txt"), upload(http, "notes.txt")
    assert final(http, normal, worker)["status"] == "ready"  # the other thread works on
    doc = final(http, stuck, worker, timeout_s=40)
    assert doc["status"] == "failed" and doc["error_code"] == "timed_out", doc
    assert "did not stop within 10 s" in doc["error"] and "worker restarted" in doc["error"]
    try:
        code = worker.popen.wait(timeout=30)
    except subprocess.TimeoutExpired:
        pytest.fail("the worker did not exit after the stuck task:\n" + worker.tail())
    assert code == EXIT_STUCK, worker.tail()
    assert "worker_exiting_stuck_tasks" in worker.log()


@pytest.mark.parametrize("worker", ["prefork"], indirect=True)
def test_prefork_kills_a_parse_stuck_in_native_code_and_fails_its_document(
    worker: Proc, http: httpx.Client,
) -> None:
    """Celery kills the pool process at the hard limit; the worker's parent fails the
    document (IngestTask.on_failure), replaces the process and goes on."""
    stuck, normal = upload(http, "stuck-native.txt"), upload(http, "notes.txt")
    doc = final(http, stuck, worker, timeout_s=40)
    assert doc["status"] == "failed" and doc["error_code"] == "timed_out", doc
    assert "did not stop within 10 s" in doc["error"] and "process was killed" in doc["error"]
    assert final(http, normal, worker)["status"] == "ready"  # after it, in a new process
    assert worker.alive()


def test_a_stuck_parse_is_failed_once_and_stays_failed_after_the_restart(
    env: dict[str, str], log_dir: Path, http: httpx.Client,
) -> None:
    """The stuck task's message was never acknowledged: when it comes back to the next
    worker the document stays failed (not re-run, not stuck in `parsing`)."""
    short = {**env, "TASK_VISIBILITY_TIMEOUT_S": "15"}
    first = start_worker("limits-first", short, log_dir)
    try:
        stuck = upload(http, "stuck-again.txt")
        doc = final(http, stuck, first, timeout_s=40)
        assert doc["error_code"] == "timed_out"
        first.popen.wait(timeout=30)
    finally:
        first.stop()
    second = start_worker("limits-second", short, log_dir)
    try:
        # Past the visibility timeout Redis hands the message out again: the worker's log
        # names its task id when it runs it.
        deadline = time.monotonic() + 60
        while doc["task_id"] not in second.log():
            assert time.monotonic() < deadline, "not redelivered:\n" + second.tail()
            time.sleep(0.5)
        time.sleep(1)
        doc = http.get(f"/api/v1/documents/{stuck}").json()
        assert doc["status"] == "failed" and doc["error_code"] == "timed_out", doc
        assert doc["attempts"] == 1, doc
        fresh = upload(http, "fresh.txt")
        assert final(http, fresh, second)["status"] == "ready"
    finally:
        second.stop()
