"""The chaos run shared by tests/test_faults_chaos.py and bench/chaos_test.py: uploads while
a worker is SIGKILLed at random, then counts of lost, duplicated and stuck documents; and the
helpers both need (a worker's pool children, the reconciler run in another environment).
No pytest here: bench/ imports it from the installed `app`, never from tests/."""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

import httpx
from sqlalchemy import create_engine, text

from app.launcher.procs import BACKEND


class ChaosWorker(Protocol):
    """What the chaos run does to a worker (tests/fault_procs.Worker, bench's PlatformWorker)."""

    def kill_pool_child(self) -> int | None: ...
    def kill_group(self) -> None: ...
    def stop(self) -> None: ...


def pool_children(pid: int) -> list[int]:
    """The pids of a worker's children (its prefork pool, an embedded beat)."""
    import psutil

    try:
        return [c.pid for c in psutil.Process(pid).children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def kill_pool_child(pid: int) -> int | None:
    """SIGKILL one pool process of the worker `pid`; the worker replaces it. Its pid, or None."""
    children = pool_children(pid)
    if not children:
        return None
    with contextlib.suppress(ProcessLookupError):
        os.kill(children[0], signal.SIGKILL)
    return children[0]


def run_python(env: Mapping[str, str], code: str, timeout_s: float = 120) -> str:
    """Run a snippet in a fresh interpreter with `env` (e.g. the reconciler on another Redis)."""
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=BACKEND, env=dict(env), capture_output=True,
        text=True, timeout=timeout_s, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"snippet failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return done.stdout


RECONCILE_NOW = """
import json
from datetime import UTC, datetime, timedelta
from app.core.config import get_settings
from app.documents.tasks import reconcile_documents
ahead = timedelta(seconds=get_settings().task_visibility_timeout_s + 61)
print(json.dumps(reconcile_documents(now=datetime.now(UTC) + ahead)))
"""


def reconcile_in(env: Mapping[str, str]) -> dict[str, int]:
    """The reconciler with its clock moved past the stall deadline: every unfinished
    document counts as stalled and is re-enqueued (or dead-lettered past its attempts)."""
    out: dict[str, int] = json.loads(run_python(env, RECONCILE_NOW).strip().splitlines()[-1])
    return out

# --- the chaos run -----------------------------------------------------------------------------


@dataclass
class ChaosReport:
    uploads: int = 0
    accepted: int = 0
    upload_errors: int = 0
    kills_child: int = 0
    kills_worker: int = 0
    ready: int = 0
    failed: int = 0
    lost: int = 0
    stuck_before_reconcile: int = 0
    stuck: int = 0
    duplicated_chunks: int = 0
    count_mismatches: int = 0
    collection_count_drift: int = 0
    reconciled: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    def line(self) -> str:
        return (
            f"chaos: uploads={self.uploads} accepted={self.accepted} ready={self.ready} "
            f"failed={self.failed} lost={self.lost} duplicated={self.duplicated_chunks} "
            f"stuck={self.stuck} (before reconcile {self.stuck_before_reconcile}) "
            f"kills: child={self.kills_child} worker={self.kills_worker} "
            f"reconciled={self.reconciled} in {self.seconds:.0f}s"
        )


def chaos_text(i: int, tag: str) -> bytes:
    rng = random.Random(i)
    words = [
        "river",
        "granite",
        "lichen",
        "harbor",
        "comet",
        "meadow",
        "ember",
        "quartz",
        "falcon",
        "delta",
        "tundra",
        "orchid",
        "basalt",
        "glacier",
        "monsoon",
        "pollen",
    ]
    body = " ".join(rng.choice(words) for _ in range(rng.randint(40, 400)))
    return f"Chaos document {i} {tag}. {body}\n".encode()


def run_chaos(
    api_url: str,
    database_url: str,
    *,
    start_worker: Callable[[], ChaosWorker],
    reconcile: Callable[[], dict[str, int]],
    uploads: int = 200,
    seed: int = 7,
    chaos_s: float = 45,
    kill_every_s: tuple[float, float] = (2.0, 6.0),
    settle_cap_s: float = 150,
    no_progress_s: float = 45,
    headers: dict[str, str] | None = None,
) -> ChaosReport:
    """Upload `uploads` small files (in a thread) while, for `chaos_s` seconds, the worker is
    SIGKILLed at random moments (its pool child, or all of it and then restarted). Then let
    it settle, reconcile once if anything is unfinished, and count lost, duplicated and stuck
    documents. `no_progress_s` must exceed the visibility timeout plus one restore sweep."""
    rng = random.Random(seed)
    report = ChaosReport(uploads=uploads)
    collection = f"chaos-{uuid.uuid4().hex[:8]}"
    tag = uuid.uuid4().hex
    started = time.monotonic()
    ids: list[str] = []
    errors: list[str] = []

    def uploader() -> None:
        with httpx.Client(base_url=api_url, headers=headers or {}, timeout=60) as up:
            for i in range(uploads):
                try:
                    resp = up.post(
                        "/api/v1/documents",
                        files=[("files", (f"chaos-{i}.txt", chaos_text(i, tag)))],
                        data={"collection": collection},
                    )
                except httpx.HTTPError as exc:
                    errors.append(repr(exc))
                    continue
                if resp.status_code == 202:
                    ids.append(resp.json()["documents"][0]["id"])
                else:
                    errors.append(f"{resp.status_code}: {resp.text[:200]}")
                time.sleep(rng.uniform(0, 0.1))

    thread = threading.Thread(target=uploader, name="chaos-uploader", daemon=True)
    worker = start_worker()
    thread.start()
    chaos_until = time.monotonic() + chaos_s
    statuses: dict[str, str] = {}
    try:
        while time.monotonic() < chaos_until:
            time.sleep(rng.uniform(*kill_every_s))
            if rng.random() < 0.5 and worker.kill_pool_child() is not None:
                report.kills_child += 1
            else:
                worker.kill_group()
                report.kills_worker += 1
                time.sleep(rng.uniform(0, 1.5))
                worker = start_worker()
        thread.join(timeout=300)
        report.accepted = len(ids)
        report.upload_errors = len(errors) + (uploads - len(ids) - len(errors))
        with httpx.Client(base_url=api_url, headers=headers or {}, timeout=60) as http:
            statuses = _settle(http, ids, settle_cap_s, no_progress_s)
            unfinished = [d for d, s in statuses.items() if s not in ("ready", "failed", "missing")]
            report.stuck_before_reconcile = len(unfinished)
            if unfinished:
                report.reconciled = reconcile()
                statuses = _settle(http, ids, settle_cap_s, no_progress_s)
    finally:
        worker.stop()
    report.ready = sum(1 for s in statuses.values() if s == "ready")
    report.failed = sum(1 for s in statuses.values() if s == "failed")
    report.stuck = sum(1 for s in statuses.values() if s not in ("ready", "failed", "missing"))
    report.lost = report.upload_errors + sum(
        1 for s in statuses.values() if s in ("failed", "missing")
    )
    _count_integrity(database_url, collection, report)
    report.seconds = time.monotonic() - started
    return report


def _settle(
    http: httpx.Client, ids: list[str], cap_s: float, no_progress_s: float
) -> dict[str, str]:
    """Poll until every document is final, or nothing progressed for `no_progress_s`."""
    deadline = time.monotonic() + cap_s
    last_progress = time.monotonic()
    statuses: dict[str, str] = {}
    pending = list(ids)
    while True:
        still: list[str] = []
        for doc_id in pending:
            resp = http.get(f"/api/v1/documents/{doc_id}")
            statuses[doc_id] = resp.json()["status"] if resp.status_code == 200 else "missing"
            if statuses[doc_id] not in ("ready", "failed", "missing"):
                still.append(doc_id)
        if len(still) < len(pending):
            last_progress = time.monotonic()
        pending = still
        now = time.monotonic()
        if not pending or now > deadline or now - last_progress > no_progress_s:
            return statuses
        time.sleep(1.0)


def _count_integrity(database_url: str, collection: str, report: ChaosReport) -> None:
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            params = {"c": collection}
            report.duplicated_chunks = int(
                conn.execute(
                    text(
                        "SELECT coalesce(sum(n - 1), 0) FROM (SELECT count(*) AS n FROM chunks c "
                        "JOIN collections k ON k.id = c.collection_id WHERE k.name = :c "
                        "GROUP BY c.document_id, c.ordinal, c.char_start) s"
                    ),
                    params,
                ).scalar_one()
            )
            report.count_mismatches = int(
                conn.execute(
                    text(
                        "SELECT count(*) FROM (SELECT d.id FROM documents d "
                        "JOIN collections k ON k.id = d.collection_id LEFT JOIN chunks c "
                        "ON c.document_id = d.id WHERE k.name = :c "
                        "GROUP BY d.id, d.chunk_count, d.status "
                        "HAVING (d.status = 'ready' AND d.chunk_count <> "
                        "count(c.id) FILTER (WHERE c.granularity = 'chunk')) "
                        "OR (d.status <> 'ready' AND count(c.id) > 0)) s"
                    ),
                    params,
                ).scalar_one()
            )
            report.collection_count_drift = int(
                conn.execute(
                    text(
                        "SELECT abs(k.chunk_count - (SELECT count(*) FROM chunks c "
                        "WHERE c.collection_id = k.id AND c.granularity = 'chunk')) "
                        "FROM collections k WHERE k.name = :c"
                    ),
                    params,
                ).scalar_one_or_none()
                or 0
            )
    finally:
        engine.dispose()
