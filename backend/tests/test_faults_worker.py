"""SIGKILL of real Celery worker processes (prefork, and the threads pool) mid-ingest.

The API and the workers run as subprocesses on their own Redis database (tests/fault_procs.py),
so the session's in-thread worker never takes these tasks. A killed pool child is replaced
and its task requeued at once (acks_late + reject_on_worker_lost); a killed worker's task is
restored by the next worker after the visibility timeout (30 s in tests). Either way the
document ends `ready` once, with no duplicate chunks or postings; a file that kills its worker
every time is dead-lettered after its attempts instead of poisoning the queue.
"""

from __future__ import annotations

import random
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from tests.fault_procs import Worker, is_final, isolated_env, upload_one, wait_for

pytest_plugins = ["tests.fault_fixtures"]  # log_dir, env, api, http

REDIS_DB = 3


def long_text(seed: int, chunks: int = 20) -> bytes:
    """About `chunks` chunks of varied words: a few seconds of embedding."""
    rng = random.Random(seed)
    words = [
        "alpine",
        "estuary",
        "sediment",
        "tributary",
        "aquifer",
        "moraine",
        "cirque",
        "delta",
        "floodplain",
        "meander",
        "watershed",
        "headwater",
        "oxbow",
        "levee",
    ]
    lines = [f"Long document {seed} {uuid.uuid4().hex}."]
    for _ in range(chunks * 9):
        lines.append(" ".join(rng.choice(words) for _ in range(18)) + ".")
    return "\n".join(lines).encode()


def upload(http: httpx.Client, name: str, content: bytes) -> str:
    return str(upload_one(http, name, content, "faults")["id"])


def assert_written_once(db: Any, doc_id: str, chunk_count: int) -> None:
    db.rollback()
    rows = (
        db.execute(
            text("SELECT ordinal FROM chunks WHERE document_id = :d ORDER BY ordinal"),
            {"d": doc_id},
        )
        .scalars()
        .all()
    )
    assert list(rows) == list(range(chunk_count)), "chunks missing or duplicated"
    drift = db.scalar(
        text(
            "SELECT k.chunk_count - (SELECT count(*) FROM chunks c WHERE c.collection_id = k.id) "
            "FROM collections k JOIN documents d ON d.collection_id = k.id WHERE d.id = :d"
        ),
        {"d": doc_id},
    )
    assert drift == 0, "the collection's statistics counted a redelivered write twice"
    chunks_without_postings = db.scalar(
        text(
            "SELECT count(*) FROM chunks c WHERE c.document_id = :d AND NOT EXISTS "
            "(SELECT 1 FROM chunk_terms ct WHERE ct.chunk_id = c.id)"
        ),
        {"d": doc_id},
    )
    assert chunks_without_postings == 0


def _embedding(doc: dict[str, Any]) -> bool:
    """Mid-ingest: the worker has taken the task (fetching, parsing, chunking or embedding)."""
    return bool(doc["status"] == "processing")


def test_killed_pool_child_mid_ingest_is_redelivered_and_ends_ready_once(
    http: httpx.Client, env: dict[str, str], log_dir: Path, db: Any
) -> None:
    worker = Worker("child-kill", env, log_dir)
    try:
        worker.wait_ready()
        doc_id = upload(http, "long.txt", long_text(1))
        wait_for(http, doc_id, _embedding, timeout_s=60)
        killed = worker.kill_pool_child()
        assert killed is not None
        started = time.monotonic()
        doc = wait_for(http, doc_id, is_final, timeout_s=80)
        assert doc["status"] == "ready", doc
        assert doc["attempts"] >= 2  # it really ran again
        assert time.monotonic() - started < 80
        assert worker.alive()  # the parent survived and replaced its child
        assert killed not in worker.pool_children()
        assert_written_once(db, doc_id, doc["chunk_count"])
    finally:
        worker.stop()


@pytest.mark.parametrize("pool", [("prefork", 1), ("threads", 4)], ids=["prefork", "threads"])
def test_killed_worker_mid_ingest_is_restored_to_the_next_worker_and_ends_ready_once(
    http: httpx.Client, env: dict[str, str], log_dir: Path, db: Any, pool: tuple[str, int]
) -> None:
    """The threads pool (the default) runs in the worker process itself: killing it is
    this case, and its tasks come back the same way."""
    first = Worker("whole-kill-1", env, log_dir, pool=pool[0], concurrency=pool[1])
    second: Worker | None = None
    try:
        first.wait_ready()
        doc_id = upload(http, "long.txt", long_text(2))
        wait_for(http, doc_id, _embedding, timeout_s=60)
        first.kill_group()
        assert not first.alive()
        killed_at = time.monotonic()
        assert http.get(f"/api/v1/documents/{doc_id}").json()["status"] == "processing"
        second = Worker("whole-kill-2", env, log_dir, pool=pool[0], concurrency=pool[1])
        second.wait_ready()
        # redelivery waits for the visibility timeout (30 s) and the next restore sweep (10 s)
        doc = wait_for(http, doc_id, is_final, timeout_s=85)
        assert doc["status"] == "ready", doc
        assert doc["attempts"] >= 2
        assert time.monotonic() - killed_at < 90
        assert_written_once(db, doc_id, doc["chunk_count"])
    finally:
        first.stop()
        if second is not None:
            second.stop()


def test_a_document_that_kills_its_worker_every_time_is_dead_lettered(
    http: httpx.Client, log_dir: Path, db: Any
) -> None:
    """Three attempts allowed (TASK_MAX_RETRIES=2): the child is killed three times, the
    fourth delivery fails the document with a reason, and the worker goes on ingesting."""
    env = isolated_env(REDIS_DB, TASK_MAX_RETRIES="2")
    worker = Worker("poison", env, log_dir)
    try:
        worker.wait_ready()
        doc_id = upload(http, "poison.txt", long_text(3))
        for attempt in range(1, 4):
            wait_for(
                http,
                doc_id,
                lambda d, a=attempt: _embedding(d) and d["attempts"] == a,
                timeout_s=60,
            )
            assert worker.kill_pool_child() is not None
        doc = wait_for(http, doc_id, is_final, timeout_s=60)
        assert doc["status"] == "failed", doc
        assert doc["error_code"] == "dead_lettered", doc
        assert doc["chunk_count"] == 0
        db.rollback()
        assert (
            db.scalar(text("SELECT count(*) FROM chunks WHERE document_id = :d"), {"d": doc_id})
            == 0
        )
        healthy = upload(http, "healthy.txt", b"A healthy file about sandpipers after the poison.")
        after = wait_for(http, healthy, is_final, timeout_s=60)
        assert after["status"] == "ready", after
    finally:
        worker.stop()
