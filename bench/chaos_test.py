"""Chaos run, larger than the test suite's (backend/tests/test_faults_chaos.py): uploads while
the Celery worker is SIGKILLed (its pool child, or the whole worker, then restarted) at random
moments; then counts lost, duplicated and stuck documents.

    python bench/chaos_test.py                      # 1000 uploads, 120 s of kills
    python bench/chaos_test.py --uploads 300 --chaos 60 --seed 3

Starts its own platform (bench/platform_runner.py) on 127.0.0.1 with a 30 s visibility
timeout so that a killed worker's task comes back quickly. Exit code 1 unless lost,
duplicated and stuck are all 0. Writes a JSON report (default bench/results/chaos.json).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import sys
import time
from dataclasses import asdict
from pathlib import Path

import psutil

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "backend"))

VISIBILITY_TIMEOUT_S = "30"


class PlatformWorker:
    """The platform's prefork worker, as tests/fault_procs.run_chaos drives it."""

    def __init__(self, plat: object) -> None:
        self.plat = plat
        self.pid = plat.start_worker("prefork", 1)  # type: ignore[attr-defined]
        deadline = time.monotonic() + 60
        while not self.pool_children() and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(1.0)

    def pool_children(self) -> list[int]:
        try:
            return [c.pid for c in psutil.Process(self.pid).children(recursive=True)]
        except psutil.NoSuchProcess:
            return []

    def kill_pool_child(self) -> int | None:
        children = self.pool_children()
        if not children:
            return None
        with contextlib.suppress(ProcessLookupError):
            os.kill(children[0], signal.SIGKILL)
        return children[0]

    def kill_group(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, signal.SIGKILL)
        self.plat.stop_worker()  # type: ignore[attr-defined]

    def stop(self) -> None:
        self.plat.stop_worker()  # type: ignore[attr-defined]


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
    from platform_runner import Platform

    from tests.fault_chaos import run_chaos
    from tests.fault_procs import reconcile_in

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
