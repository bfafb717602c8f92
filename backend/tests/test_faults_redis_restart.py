"""The threads pool (one process, several documents at once, one embed batcher) keeps
consuming across a Redis restart: a document uploaded before, one in flight during and one
after the restart all end `ready`, none stays `queued`.

A real worker process on `--pool threads` (as ./start.sh, compose and k8s run it: gossip,
mingle and heartbeat on) and a real API process, on their own Redis database; the restart is
the run's real Redis server stopping (state saved) and starting again on the same port.
"""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from redis.exceptions import ConnectionError as RedisConnectionError

from tests.fault_procs import Worker, is_final, upload_one, wait_for

pytest_plugins = ["tests.fault_fixtures"]  # log_dir, env, api, http

REDIS_DB = 6
# A visibility timeout well above these ingests (the run's 30 s would hand a long one out
# again while it runs on a loaded machine): what comes back here came back by the restart.
ENV_OVERRIDES = {"TASK_VISIBILITY_TIMEOUT_S": "900"}


@pytest.fixture(scope="module")
def threads_worker(env: dict[str, str], log_dir: Path) -> Iterator[Worker]:
    """One worker for the module: each test restarts Redis under it again."""
    worker = Worker("threads", env, log_dir, pool="threads", concurrency=4, quiet=False)
    try:
        worker.wait_ready()
        yield worker
    finally:
        worker.stop()


def upload(http: httpx.Client, text: str) -> str:
    content = f"{text} {uuid.uuid4().hex}".encode()
    return str(upload_one(http, "restart.txt", content, "restart")["id"])


def long_text(topic: str, paragraphs: int) -> str:
    """Distinct paragraphs (so many chunks): an ingest that takes a few seconds."""
    return "\n\n".join(
        f"Paragraph {i} on {topic}: "
        + " ".join(
            f"observation {i}.{j} notes that {topic} varies with season {j % 4} and site {i % 7}."
            for j in range(12)
        )
        for i in range(paragraphs)
    )


def wait_final(http: httpx.Client, doc_id: str, timeout_s: float, worker: Worker) -> Any:
    return wait_for(http, doc_id, is_final, timeout_s, poll_s=0.3,
                    detail=lambda: f"\n{worker.tail(4000)}")  # fmt: skip


def wait_stage(http: httpx.Client, doc_id: str, stages: tuple[str, ...], timeout_s: float) -> str:
    """The stage once it is one of `stages` (or the document is final)."""
    doc = wait_for(http, doc_id, lambda d: d["stage"] in stages or is_final(d), timeout_s,
                   poll_s=0.05)  # fmt: skip
    return str(doc["stage"])


def assert_survived(worker: Worker) -> None:
    worker.check_alive()
    assert "Unrecoverable error" not in worker.log(), worker.tail(4000)


def test_threads_worker_ingests_before_and_after_a_redis_restart(
    http: httpx.Client, services: Any, threads_worker: Worker
) -> None:
    before = upload(http, "Sea otters hold hands while they sleep.")
    assert wait_final(http, before, 120, threads_worker)["status"] == "ready"
    services.restart_redis(down_seconds=1)
    after = upload(http, "Octopuses have three hearts and blue blood.")
    doc = wait_final(http, after, 120, threads_worker)
    assert doc["status"] == "ready" and doc["chunk_count"] >= 1, doc
    assert_survived(threads_worker)


def test_a_document_in_flight_when_redis_restarts_ends_ready_and_the_worker_lives_on(
    http: httpx.Client, services: Any, threads_worker: Worker
) -> None:
    """The case that killed the worker: a task running (unacknowledged) and free slots (a
    BRPOP outstanding) when the connection drops."""
    busy = upload(http, long_text("kelp forests", 120))
    stage = wait_stage(http, busy, ("parsing", "chunking", "embedding", "writing"), 60)
    assert stage != "done", "the ingest finished before the restart: make the text longer"
    services.restart_redis(down_seconds=1)
    doc = wait_final(http, busy, 240, threads_worker)
    assert doc["status"] == "ready" and doc["chunk_count"] > 10, doc
    # Delivery is at least once (acks_late): Redis may hand the in-flight task out again after
    # the restart (a CI run saw attempts == 2). What must hold is that a second run wrote
    # nothing twice: every chunk once, as many as the document says.
    assert doc["attempts"] <= 2, doc
    page = http.get(f"/api/v1/documents/{busy}/chunks", params={"limit": 500}).json()
    ordinals = [c["ordinal"] for c in page["items"]]
    assert page["total"] == doc["chunk_count"] == len(ordinals) == len(set(ordinals)), page
    after = upload(http, "Tardigrades survive the vacuum of space.")
    assert wait_final(http, after, 120, threads_worker)["status"] == "ready"
    assert_survived(threads_worker)


def test_two_redis_restarts_in_a_row_leave_nothing_queued(
    http: httpx.Client, services: Any, threads_worker: Worker
) -> None:
    busy = upload(http, long_text("dune grasses", 60))
    wait_stage(http, busy, ("parsing", "chunking", "embedding", "writing"), 60)
    services.restart_redis(down_seconds=0)
    services.restart_redis(down_seconds=1)
    ids = [busy] + [upload(http, f"Restart survivor number {i}.") for i in range(3)]
    docs = [wait_final(http, doc_id, 240, threads_worker) for doc_id in ids]
    assert [d["status"] for d in docs] == ["ready"] * 4, docs
    assert_survived(threads_worker)


# --- the cause, at the transport: Celery 5.7's cleanup after a lost connection ----------------


@pytest.mark.parametrize(
    "transport", [None, "app.workers.broker:Transport"], ids=["kombu", "cairn"]
)
def test_closing_a_lost_connection_with_a_task_in_flight(
    transport: str | None, tmp_path: Path
) -> None:
    """What Consumer.on_connection_error_after_connected does when Redis dies while a message
    is unacknowledged and a BRPOP is outstanding: collect() (the consuming channel's close
    stops at the failed read; another channel's close fails too; the transport is detached),
    then close(). kombu's channel then raises AttributeError, which kills the worker; Cairn's
    raises a connection error, which Celery ignores before it reconnects."""
    from kombu import Connection, Exchange, Queue

    from app.core.embedded import free_port, start_redis

    port = free_port()
    redis = start_redis(tmp_path / "redis", port=port)
    url = f"redis://127.0.0.1:{port}/0"
    tasks = Queue("tasks", Exchange("tasks"), "tasks")
    control = Queue("control", Exchange("control", type="fanout"), auto_delete=True)
    conn = Connection(url, transport=transport)
    try:
        with Connection(url) as producer:
            producer.Producer().publish({"n": 1}, exchange=tasks.exchange, declare=[tasks],
                                        routing_key="tasks")  # fmt: skip
        received: list[Any] = []
        conn.Consumer([tasks], callbacks=[lambda _b, m: received.append(m)]).consume()
        conn.Consumer([control], channel=conn.channel(), callbacks=[lambda *_: None]).consume()
        deadline = time.monotonic() + 30
        while not received and time.monotonic() < deadline:
            with contextlib.suppress(TimeoutError):
                conn.drain_events(timeout=1)  # (an event of the control channel may come first)
        assert len(received) == 1  # in flight: delivered, not acknowledged
        conn.default_channel._brpop_start(timeout=30)  # the worker has a free slot
    finally:
        redis.stop()
    conn.collect(socket_timeout=2)
    if transport is None:
        with pytest.raises(AttributeError):
            conn.close()
        return
    conn.close()  # a connection error inside, ignored by kombu: nothing escapes
    with pytest.raises(RedisConnectionError):
        received[0].ack()  # a late ack is a connection error Celery logs, not a crash
