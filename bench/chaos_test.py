"""Chaos run, larger than the test suite's (backend/tests/test_faults_chaos.py): uploads while
the Celery worker is SIGKILLed (its pool child, or the whole worker, then restarted) at random
moments; then counts lost, duplicated and stuck documents.

    python bench/chaos_test.py                      # 1000 uploads, 120 s of kills
    python bench/chaos_test.py --uploads 300 --chaos 60 --seed 3

Starts its own platform (bench/platform_runner.py, on app/launcher) on 127.0.0.1 with a 30 s
visibility timeout so that a killed worker's task comes back quickly. Exit code 1 unless lost,
duplicated and stuck are all 0. Writes a JSON report (default bench/results/chaos.json).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from dataclasses import asdict
from pathlib import Path

from platform_runner import Platform  # bench/ is on sys.path: this script's directory

from app.launcher.chaos import kill_pool_child, pool_children, reconcile_in, run_chaos

HERE = Path(__file__).resolve().parent

VISIBILITY_TIMEOUT_S = "30"


class PlatformWorker:
    """The platform's prefork worker, as app.launcher.chaos.run_chaos drives it."""

    def __init__(self, plat: Platform) -> None:
        self.plat = plat
        self.pid = plat.start_worker(pool="prefork", concurrency=1).pid
        deadline = time.monotonic() + 60
        while not pool_children(self.pid) and time.monotonic() < deadline:
            time.sleep(0.2)

    def kill_pool_child(self) -> int | None:
        return kill_pool_child(self.pid)

    def kill_group(self) -> None:
        worker = self.plat.workers.get("worker")
        if worker is not None:
            worker.kill_group()
        self.plat.stop_worker()

    def stop(self) -> None:
        self.plat.stop_worker()


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--uploads", type=int, default=1000)
    parser.add_argument("--chaos", type=float, default=120, help="seconds of random kills")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--settle", type=float, default=600, help="longest wait after the kills")
    parser.add_argument("--output", default=str(HERE / "results" / "chaos.json"))
    args = parser.parse_args()

    os.environ["TASK_VISIBILITY_TIMEOUT_S"] = VISIBILITY_TIMEOUT_S  # inherited by the platform
    with Platform() as plat:
        env = {**os.environ, **plat.env}
        report = run_chaos(
            plat.api_url,
            plat.env["DATABASE_URL"],
            start_worker=lambda: PlatformWorker(plat),
            reconcile=lambda: reconcile_in(env),
            uploads=args.uploads,
            seed=args.seed,
            chaos_s=args.chaos,
            settle_cap_s=args.settle,
            no_progress_s=60,
            headers={"X-API-Key": plat.api_key} if plat.api_key else {},
        )
    print(report.line())
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(
        json.dumps(asdict(report) | {"load_avg": os.getloadavg()}, indent=2)
    )
    bad = report.lost + report.duplicated_chunks + report.stuck + report.count_mismatches
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
