"""Chaos, bounded: 200 small uploads while the worker process is SIGKILLed (its pool child or
the whole worker) at random moments and restarted. At the end: 0 lost, 0 duplicated chunks,
0 stuck (the reconciler may be run once for documents whose message died with a worker).

Loopback only; a larger run is bench/chaos_test.py.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from app.launcher.chaos import run_chaos
from tests.fault_procs import Api, Worker, isolated_env, reconcile_in

REDIS_DB = 5


@pytest.mark.timeout(330)
def test_uploads_survive_random_worker_kills(tmp_path: Path) -> None:
    env = isolated_env(REDIS_DB)
    api = Api(env, tmp_path)
    workers = 0

    def start_worker() -> Worker:
        nonlocal workers
        workers += 1
        worker = Worker(f"chaos-{workers}", env, tmp_path)
        worker.wait_ready()
        return worker

    try:
        api.wait_ready()
        report = run_chaos(
            api.url,
            os.environ["DATABASE_URL"],
            start_worker=start_worker,
            reconcile=lambda: reconcile_in(env),
            uploads=200,
            seed=20261125,
            chaos_s=45,
            settle_cap_s=150,
        )
    finally:
        api.stop()
    print("\n" + report.line())
    assert report.accepted == report.uploads == 200
    assert report.kills_child + report.kills_worker >= 3, report
    assert report.lost == 0, report
    assert report.duplicated_chunks == 0, report
    assert report.count_mismatches == 0, report
    assert report.collection_count_drift == 0, report
    assert report.stuck == 0, report
