"""GET /api/v1/events: live document status over SSE, scoped to what the caller may read."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import httpx

from tests.auth_fixtures import create_test_user
from tests.conftest import make_pdf


def _collect(url: str, headers: dict[str, str], until: Any, timeout: float = 60.0,
             ) -> list[dict[str, Any]]:
    """Read `document` events until `until(events)` is true or the timeout passes. A stream
    silent for 10 s ends the read with what arrived (a user who may see nothing gets
    nothing: the events seen so far must still be returned, never lost to the timeout)."""
    events: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    with httpx.stream("GET", f"{url}/api/v1/events", headers=headers, timeout=10) as resp:
        assert resp.status_code == 200, resp.read()
        assert resp.headers["content-type"].startswith("text/event-stream")
        name = ""
        try:
            for line in resp.iter_lines():
                if line.startswith("event:"):
                    name = line.split(":", 1)[1].strip()
                elif line.startswith("data:") and name == "document":
                    events.append(json.loads(line.split(":", 1)[1]))
                    if until(events):
                        break
                if time.monotonic() > deadline:
                    break
        except httpx.ReadTimeout:
            pass
    return events


def _upload(url: str, headers: dict[str, str], name: str, text: str, collection: str) -> str:
    resp = httpx.post(f"{url}/api/v1/documents", headers=headers, timeout=30,
                      files=[("files", (name, make_pdf([text])))],
                      data={"collection": collection})
    assert resp.status_code == 202, resp.text
    return str(resp.json()["documents"][0]["id"])


def test_events_stream_a_documents_stages_to_ready_with_timings(
        api_url: str, collection_name: str) -> None:
    user = create_test_user()
    ids: list[str] = []

    def later() -> None:
        time.sleep(1.5)
        ids.append(_upload(api_url, user.headers, "a.pdf", "Basalt columns cool slowly.",
                           collection_name))

    threading.Thread(target=later, daemon=True).start()
    events = _collect(api_url, user.headers,
                      lambda evs: any(e["status"] == "ready" for e in evs))
    mine = [e for e in events if ids and e["id"] == ids[0]]
    assert mine and mine[-1]["status"] == "ready", events
    assert mine[-1]["chunk_count"] >= 1
    assert mine[-1]["timings"], "per-stage timings are sent"
    assert len({json.dumps(e, sort_keys=True) for e in mine}) == len(mine), "no repeats"


def test_events_of_one_user_never_reach_another(api_url: str, collection_name: str) -> None:
    owner, other = create_test_user(), create_test_user()
    seen_by_other: list[dict[str, Any]] = []

    def watch_other() -> None:
        seen_by_other.extend(_collect(api_url, other.headers, lambda evs: False, timeout=12))

    watcher = threading.Thread(target=watch_other, daemon=True)
    watcher.start()
    time.sleep(1.0)
    doc_id = _upload(api_url, owner.headers, "secret.pdf", "Private granite notes.",
                     collection_name)
    owner_events = _collect(api_url, owner.headers,
                            lambda evs: any(e["id"] == doc_id and e["status"] == "ready"
                                            for e in evs), timeout=60)
    watcher.join(timeout=30)
    assert not watcher.is_alive()  # it read to its end: seen_by_other is all it was sent
    assert any(e["id"] == doc_id for e in owner_events)
    assert all(e["id"] != doc_id for e in seen_by_other), seen_by_other


def test_events_without_credentials_are_401(api_url: str) -> None:
    resp = httpx.get(f"{api_url}/api/v1/events", timeout=10)
    assert resp.status_code == 401
    assert resp.json()["error"]["code"]


def test_events_with_a_bad_token_are_401(api_url: str) -> None:
    resp = httpx.get(f"{api_url}/api/v1/events", timeout=10,
                     headers={"Authorization": "Bearer not-a-token"})
    assert resp.status_code == 401


def test_events_stream_ends_when_the_client_disconnects(api_url: str) -> None:
    from app.events import service

    user = create_test_user()
    time.sleep(3)  # streams of earlier tests notice their disconnects
    before = len(service.ACTIVE)
    with httpx.stream("GET", f"{api_url}/api/v1/events", headers=user.headers,
                      timeout=10) as resp:
        assert resp.status_code == 200
        seen = []
        lines = resp.iter_lines()  # kept alive: closing the iterator closes the connection
        for line in lines:
            seen.append(line)
            if line.startswith("event: ready") or line.startswith("event:ready"):
                break
        assert any(line.startswith("event: ready") for line in seen), seen
        time.sleep(1.5)  # a poll or two later, the stream is still being served
        assert len(service.ACTIVE) == before + 1
    deadline = time.monotonic() + 10
    while len(service.ACTIVE) > before and time.monotonic() < deadline:
        time.sleep(0.2)
    assert len(service.ACTIVE) <= before, "the server stopped tailing after the disconnect"


def test_documents_updated_at_is_indexed_for_the_stream(db: Any) -> None:
    from sqlalchemy import text

    names = set(db.scalars(text("SELECT indexname FROM pg_indexes WHERE tablename = 'documents'")))
    assert "ix_documents_updated_at" in names
