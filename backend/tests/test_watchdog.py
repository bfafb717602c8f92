"""The watchdog that gives the threads and solo pools their time limits (app/workers/
watchdog.py), on real threads with a clock the test moves: a Python loop past its soft
limit gets SoftTimeLimitExceeded in its own thread; a thread stuck in C past its hard limit
fails its task, asks the worker to stop and exits once the other tasks have finished."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest
from celery.exceptions import SoftTimeLimitExceeded
from pydantic import ValidationError

from app.core.config import Settings
from app.workers import watchdog as wd


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Harness:
    """A watchdog with a test clock that records its shutdown and exit calls."""

    def __init__(self) -> None:
        self.clock = Clock()
        self.shutdowns = 0
        self.exits: list[int] = []
        self.dog = wd.Watchdog(clock=self.clock, shutdown=self._shutdown,
                               exit_process=self.exits.append)

    def _shutdown(self) -> None:
        self.shutdowns += 1

    def task(self, body: Callable[[], None], *, soft_s: float = 10, hard_s: float = 20,
             on_stuck: Callable[[], None] = lambda: None) -> tuple[threading.Thread, list[str]]:
        """`body` inside `limited` in a new thread; the list gets what became of it."""
        outcome: list[str] = []
        entered = threading.Event()

        def run() -> None:
            self.dog.task_started()
            try:
                with self.dog.limited("t", soft_s=soft_s, hard_s=hard_s, on_stuck=on_stuck):
                    entered.set()
                    body()
                outcome.append("finished")
            except SoftTimeLimitExceeded:
                outcome.append("soft limit")
            finally:
                self.dog.task_finished()

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        assert entered.wait(5)
        return thread, outcome


def spin() -> None:
    while True:
        pass


def test_a_python_loop_past_its_soft_limit_is_stopped_in_its_own_thread() -> None:
    h = Harness()
    thread, outcome = h.task(spin, soft_s=10)
    h.clock.now += 10
    h.dog.check()
    thread.join(10)
    assert not thread.is_alive() and outcome == ["soft limit"]
    assert h.shutdowns == 0 and h.exits == []  # the worker carries on


def test_a_task_within_its_limits_is_left_alone() -> None:
    h = Harness()
    release = threading.Event()
    thread, outcome = h.task(lambda: release.wait(10), soft_s=10)
    h.clock.now += 9.9
    h.dog.check()
    release.set()
    thread.join(10)
    assert outcome == ["finished"]
    h.clock.now += 100  # a deadline of a task that has left counts for nothing
    h.dog.check()
    assert h.shutdowns == 0 and h.exits == []


def test_only_the_thread_past_its_limit_is_stopped() -> None:
    h = Harness()
    late, late_outcome = h.task(spin, soft_s=10)
    h.clock.now += 5
    release = threading.Event()
    other, other_outcome = h.task(lambda: release.wait(10), soft_s=10)
    h.clock.now += 5
    h.dog.check()
    late.join(10)
    assert late_outcome == ["soft limit"] and other.is_alive()
    release.set()
    other.join(10)
    assert other_outcome == ["finished"]


def test_a_task_stuck_past_its_hard_limit_is_failed_and_the_worker_exits_after_the_rest() -> None:
    h = Harness()
    stuck_release, other_release = threading.Event(), threading.Event()
    failed: list[str] = []
    # Event.wait blocks in C: the soft limit's exception cannot land until it returns.
    stuck, _ = h.task(lambda: stuck_release.wait(30), soft_s=10, hard_s=20,
                      on_stuck=lambda: failed.append("stuck"))
    h.clock.now += 15
    other, other_outcome = h.task(lambda: other_release.wait(30), soft_s=100, hard_s=200)
    h.clock.now += 5  # the first is at its hard limit, the second 5 s into its 100
    h.dog.check()
    assert failed == ["stuck"] and h.shutdowns == 1 and h.exits == []
    h.clock.now += 30
    h.dog.check()
    assert h.exits == []  # the second task is still running
    other_release.set()
    other.join(10)
    assert other_outcome == ["finished"]
    h.dog.check()
    assert h.exits == []  # the grace for its acknowledgement
    h.clock.now += wd.EXIT_GRACE_S
    h.dog.check()
    assert h.exits == [wd.EXIT_STUCK] and h.shutdowns == 1
    stuck_release.set()
    stuck.join(10)


def test_an_on_stuck_that_hangs_does_not_keep_the_worker_from_restarting(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(wd, "ON_STUCK_TIMEOUT_S", 0.2)
    h = Harness()
    release = threading.Event()
    thread, _ = h.task(lambda: release.wait(30), soft_s=1, hard_s=2,
                       on_stuck=lambda: time.sleep(5))  # e.g. waiting for a row lock
    h.clock.now += 2
    started = time.monotonic()
    h.dog.check()
    assert time.monotonic() - started < 3 and h.shutdowns == 1
    h.clock.now += wd.EXIT_GRACE_S
    h.dog.check()
    assert h.exits == [wd.EXIT_STUCK]
    release.set()
    thread.join(10)


def test_an_on_stuck_that_raises_still_restarts_the_worker() -> None:
    h = Harness()
    release = threading.Event()

    def broken() -> None:
        raise RuntimeError("database down")

    thread, _ = h.task(lambda: release.wait(30), soft_s=1, hard_s=2, on_stuck=broken)
    h.clock.now += 2
    h.dog.check()
    h.clock.now += wd.EXIT_GRACE_S
    h.dog.check()
    assert h.shutdowns == 1 and h.exits == [wd.EXIT_STUCK]
    release.set()
    thread.join(10)


def test_without_a_watchdog_limited_does_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(wd, "_watchdog", None)  # prefork, or outside a worker
    with wd.limited("t", soft_s=0, hard_s=0, on_stuck=lambda: None):
        time.sleep(0.01)


@pytest.mark.parametrize(("soft", "hard"), [(60, 60), (60, 30)])
def test_a_hard_limit_not_above_the_soft_limit_is_refused(soft: int, hard: int) -> None:
    with pytest.raises(ValidationError, match="INGEST_TIME_LIMIT_S"):
        Settings(ingest_soft_time_limit_s=soft, ingest_time_limit_s=hard)
