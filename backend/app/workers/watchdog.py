"""Time limits where Celery enforces none: the threads and solo pools.

Celery stops a task at its soft and hard time limits only in the prefork pool (a signal to
the pool child, then killing it). With `WORKER_POOL=threads` (or solo) a parser that never
returns would hold its thread, and its document would stay in `parsing`, for good. This
watchdog is a daemon thread of such a worker that holds the deadlines of each task run
inside `limited(...)`:

- at the soft limit it raises `SoftTimeLimitExceeded` in the task's thread
  (`PyThreadState_SetAsyncExc`), which the task handles as it handles prefork's soft limit
  (the ingest fails its document `timed_out`). Python code (a pure-Python parser in a loop)
  stops at its next bytecode;
- at the hard limit a task still running is stuck in C code, which nothing inside the
  process can stop: the task's `on_stuck` runs (the ingest fails its document), the worker
  stops taking work (SIGTERM: Celery's warm shutdown), and once every other running task has
  finished the process exits, for its supervisor (./start.sh's supervisord, compose's
  restart policy) to start a fresh one, as prefork replaces a killed child.

The exception can land only inside `limited(...)`: the watchdog sends it under a lock, and
leaving the block takes that lock and withdraws one not yet raised.
"""

from __future__ import annotations

import ctypes
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from typing import Any

from celery.exceptions import SoftTimeLimitExceeded

from app.core.logging import get_logger

log = get_logger(__name__)

EXIT_STUCK = 75  # EX_TEMPFAIL: the supervisor restarts the worker
# After the last task that was not stuck has finished, time for Celery to acknowledge it.
EXIT_GRACE_S = 2.0
# The longest a stuck task's on_stuck may take (a row lock the stuck thread holds would make
# it wait for good; the restart then releases the lock and the message comes back).
ON_STUCK_TIMEOUT_S = 30.0


def _raise_in(thread_id: int, exc: type[BaseException] | None) -> None:
    """Make `exc` raise at the thread's next bytecode (None withdraws a pending one)."""
    ctypes.pythonapi.PyThreadState_SetAsyncExc(
        ctypes.c_ulong(thread_id), ctypes.py_object(exc) if exc is not None else None
    )


def _warm_shutdown() -> None:
    os.kill(os.getpid(), signal.SIGTERM)


@dataclass
class _Run:
    key: str
    thread_id: int
    started: float
    soft_s: float
    hard_s: float
    on_stuck: Callable[[], None]
    soft_sent: bool = False
    stuck: bool = False


class Watchdog:
    """Deadlines of the limited tasks of one process; `check()` acts on them (the thread
    started by `start()` calls it every `interval_s`)."""

    def __init__(
        self, *, interval_s: float = 0.5, clock: Callable[[], float] = time.monotonic,
        shutdown: Callable[[], None] = _warm_shutdown,
        exit_process: Callable[[int], None] = os._exit,
    ) -> None:  # fmt: skip
        self.interval_s = interval_s
        self._clock = clock
        self._shutdown = shutdown
        self._exit = exit_process
        self._lock = threading.Lock()
        self._runs: dict[int, _Run] = {}  # by thread id: one task at a time per thread
        self._active = 0  # every task running in this worker, limited or not
        self._stopping = False
        self._only_stuck_since: float | None = None

    def start(self) -> None:
        threading.Thread(target=self._loop, name="cairn-watchdog", daemon=True).start()

    def _loop(self) -> None:
        while True:
            time.sleep(self.interval_s)
            try:
                self.check()
            except Exception as exc:  # the watchdog must outlive any one failure
                log.error("watchdog_check_failed", error=repr(exc))

    # --- what the worker's tasks tell it ----------------------------------------------------
    def task_started(self) -> None:
        with self._lock:
            self._active += 1

    def task_finished(self) -> None:
        with self._lock:
            self._active = max(0, self._active - 1)

    @contextmanager
    def limited(
        self, key: str, *, soft_s: float, hard_s: float, on_stuck: Callable[[], None]
    ) -> Iterator[None]:
        thread_id = threading.get_ident()
        run = _Run(key, thread_id, self._clock(), soft_s, hard_s, on_stuck)
        with self._lock:
            self._runs[thread_id] = run
        try:
            yield
        finally:
            with self._lock:
                self._runs.pop(thread_id, None)
                if run.soft_sent:
                    _raise_in(thread_id, None)  # not raised yet: it must not hit the caller

    # --- what it does about them ------------------------------------------------------------
    def check(self) -> None:
        now = self._clock()
        newly_stuck: list[_Run] = []
        with self._lock:
            for run in self._runs.values():
                elapsed = now - run.started
                if not run.soft_sent and elapsed >= run.soft_s:
                    run.soft_sent = True
                    _raise_in(run.thread_id, SoftTimeLimitExceeded)
                    log.warning("task_soft_time_limit", task=run.key, elapsed_s=round(elapsed))
                if not run.stuck and elapsed >= run.hard_s:
                    run.stuck = True
                    newly_stuck.append(run)
        for run in newly_stuck:  # outside the lock: on_stuck writes to the database
            log.error("task_stuck", task=run.key, hard_limit_s=run.hard_s,
                      action="failing it and restarting the worker")
            self._run_on_stuck(run)
            if not self._stopping:
                self._stopping = True
                self._shutdown()
        if self._stopping:
            self._exit_when_only_stuck_left(now)

    @staticmethod
    def _run_on_stuck(run: _Run) -> None:
        def call() -> None:
            try:
                run.on_stuck()
            except Exception as exc:
                log.error("task_stuck_handler_failed", task=run.key, error=repr(exc))

        helper = threading.Thread(target=call, name="cairn-watchdog-on-stuck", daemon=True)
        helper.start()
        helper.join(ON_STUCK_TIMEOUT_S)
        if helper.is_alive():
            log.error("task_stuck_handler_timed_out", task=run.key, after_s=ON_STUCK_TIMEOUT_S)

    def _exit_when_only_stuck_left(self, now: float) -> None:
        with self._lock:
            stuck = sum(1 for run in self._runs.values() if run.stuck)
            only_stuck = self._active <= stuck
        if not only_stuck:
            self._only_stuck_since = None
            return
        if self._only_stuck_since is None:
            self._only_stuck_since = now
        if now - self._only_stuck_since >= EXIT_GRACE_S:
            log.error("worker_exiting_stuck_tasks", stuck=stuck, exit_code=EXIT_STUCK)
            self._exit(EXIT_STUCK)


_watchdog: Watchdog | None = None


def enable() -> Watchdog:
    """Start this process's watchdog (once): a worker whose pool enforces no time limits."""
    global _watchdog
    if _watchdog is None:
        _watchdog = Watchdog()
        _watchdog.start()
    return _watchdog


def enabled() -> Watchdog | None:
    return _watchdog


def limited(
    key: str, *, soft_s: float, hard_s: float, on_stuck: Callable[[], None]
) -> AbstractContextManager[Any]:
    """The task's time limits by this process's watchdog; nothing where there is none (the
    prefork pool enforces them itself, and outside a worker nothing does)."""
    if _watchdog is None:
        return nullcontext()
    return _watchdog.limited(key, soft_s=soft_s, hard_s=hard_s, on_stuck=on_stuck)
