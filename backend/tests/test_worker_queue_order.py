"""A worker on several queues takes ingest work first, then labels, then maintenance
(app/workers: kombu's `queue_order_strategy=sorted` over the real Redis broker), whatever
order it lists its queues in, and labels still follow once ingest is empty."""

from __future__ import annotations

import time
import uuid
from typing import Any

from kombu import Exchange, Queue

from app.workers import celery_app

KINDS = ("ingest", "label", "maintenance")


def _queues(tag: str) -> dict[str, Queue]:
    return {k: Queue(f"{k}-{tag}", Exchange(f"{k}-{tag}", type="direct"),
                     routing_key=f"{k}-{tag}") for k in KINDS}  # fmt: skip


def _publish(queues: dict[str, Queue], kinds: list[str]) -> None:
    with celery_app.connection_for_write() as conn:
        producer = conn.Producer()
        for n, kind in enumerate(kinds):
            q = queues[kind]
            producer.publish({"kind": kind, "n": n}, exchange=q.exchange,
                             routing_key=q.routing_key, declare=[q])  # fmt: skip


def _consume(queues: list[Queue], count: int, then: Any = None) -> list[str]:
    """The kinds of the next `count` messages, in the order a consumer on `queues` gets them;
    `then(got)` runs after each one (to publish more in between)."""
    got: list[str] = []

    def on_message(body: dict[str, Any], message: Any) -> None:
        got.append(body["kind"])
        message.ack()
        if then is not None:
            then(got)

    with celery_app.connection_for_read() as conn, \
            conn.Consumer(queues, callbacks=[on_message], accept=["json"]):  # fmt: skip
        deadline = time.monotonic() + 20
        while len(got) < count and time.monotonic() < deadline:
            conn.drain_events(timeout=5)
    return got


def test_ingest_work_is_taken_before_labels_and_maintenance_queued_earlier() -> None:
    queues = _queues(uuid.uuid4().hex[:8])
    _publish(queues, ["maintenance"] * 2 + ["label"] * 3 + ["ingest"] * 3)
    assert _consume(list(queues.values()), 8) == (
        ["ingest"] * 3 + ["label"] * 3 + ["maintenance"] * 2)


def test_the_order_does_not_depend_on_the_order_the_worker_lists_its_queues() -> None:
    queues = _queues(uuid.uuid4().hex[:8])
    _publish(queues, ["label", "ingest", "maintenance", "ingest", "label"])
    reversed_listing = [queues[k] for k in reversed(KINDS)]
    assert _consume(reversed_listing, 5) == ["ingest", "ingest", "label", "label",
                                             "maintenance"]  # fmt: skip


def test_an_upload_arriving_while_labels_wait_goes_ahead_of_them() -> None:
    queues = _queues(uuid.uuid4().hex[:8])
    _publish(queues, ["label"] * 3)

    def upload_after_the_first_label(got: list[str]) -> None:
        if got == ["label"]:
            _publish(queues, ["ingest", "ingest"])

    got = _consume(list(queues.values()), 5, then=upload_after_the_first_label)
    assert got == ["label", "ingest", "ingest", "label", "label"]
