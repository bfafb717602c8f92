"""GET /api/v1/events tells the readers of a collection when one of its documents is deleted
(event `deleted`), and nobody else; a refused delete tells nobody."""

from __future__ import annotations

import json
import threading
import time
import uuid
from typing import Any

import httpx

from tests.auth_fixtures import create_test_user


def _watch(url: str, headers: dict[str, str], seconds: float, out: list[tuple[str, Any]],
           started: threading.Event) -> None:
    """Collect (event name, data) for `seconds` into `out`. A stream silent for 10 s ends the
    read (httpx's read timeout): what arrived is already in `out`, never lost to the timeout,
    so a user who must hear nothing is checked on everything the stream sent."""
    deadline = time.monotonic() + seconds
    with httpx.stream("GET", f"{url}/api/v1/events", headers=headers, timeout=10) as resp:
        name = ""
        try:
            for line in resp.iter_lines():
                if line.startswith("event:"):
                    name = line.split(":", 1)[1].strip()
                elif line.startswith("data:"):
                    out.append((name, json.loads(line.split(":", 1)[1])))
                    started.set()
                if time.monotonic() > deadline or any(n == "deleted" for n, _ in out):
                    break
        except httpx.ReadTimeout:
            pass


def _watcher(url: str, headers: dict[str, str], seconds: float = 8.0,
             ) -> tuple[threading.Thread, list[tuple[str, Any]]]:
    seen: list[tuple[str, Any]] = []
    started = threading.Event()
    thread = threading.Thread(target=_watch, args=(url, headers, seconds, seen, started),
                              daemon=True)
    thread.start()
    assert started.wait(15), "the stream sent its ready event"
    return thread, seen


def _upload(url: str, headers: dict[str, str]) -> tuple[str, str]:
    name = f"del-{uuid.uuid4().hex[:8]}"
    resp = httpx.post(f"{url}/api/v1/documents", headers=headers, timeout=30,
                      files=[("files", ("gone.txt", f"Soon deleted {name}".encode()))],
                      data={"collection": name})
    assert resp.status_code == 202, resp.text
    doc = str(resp.json()["documents"][0]["id"])
    cols = httpx.get(f"{url}/api/v1/collections", headers=headers, timeout=10).json()
    return doc, next(str(c["id"]) for c in cols if c["name"] == name)


def _share(url: str, owner: Any, collection_id: str, email: str, permission: str) -> None:
    resp = httpx.post(f"{url}/api/v1/collections/{collection_id}/shares", headers=owner.headers,
                      json={"email": email, "permission": permission}, timeout=10)
    assert resp.status_code == 201, resp.text


def test_the_owner_and_a_reader_of_the_collection_hear_the_delete(api_url: str) -> None:
    owner, reader = create_test_user(), create_test_user()
    doc, cid = _upload(api_url, owner.headers)
    _share(api_url, owner, cid, reader.email, "read")
    watchers = [_watcher(api_url, u.headers) for u in (owner, reader)]
    resp = httpx.delete(f"{api_url}/api/v1/documents/{doc}", headers=owner.headers, timeout=30)
    assert resp.status_code == 204, resp.text
    for thread, seen in watchers:
        thread.join(timeout=20)
        deleted = [data for name, data in seen if name == "deleted"]
        assert deleted == [{"id": doc, "collection_id": cid, "deleted": True}], seen


def test_a_user_who_cannot_read_the_collection_hears_nothing(api_url: str) -> None:
    owner, stranger = create_test_user(), create_test_user()
    doc, _ = _upload(api_url, owner.headers)
    thread, seen = _watcher(api_url, stranger.headers, seconds=5)
    assert httpx.delete(f"{api_url}/api/v1/documents/{doc}", headers=owner.headers,
                        timeout=30).status_code == 204  # fmt: skip
    thread.join(timeout=20)
    assert not thread.is_alive(), "the watcher ended and read all it was sent"
    assert all(data.get("id") != doc for _, data in seen), seen


def test_a_refused_delete_is_not_announced(api_url: str) -> None:
    owner, reader = create_test_user(), create_test_user()
    doc, cid = _upload(api_url, owner.headers)
    _share(api_url, owner, cid, reader.email, "read")
    thread, seen = _watcher(api_url, owner.headers, seconds=5)
    refused = httpx.delete(f"{api_url}/api/v1/documents/{doc}", headers=reader.headers, timeout=30)
    assert refused.status_code == 403
    thread.join(timeout=20)
    assert not thread.is_alive(), "the watcher ended and read all it was sent"
    assert [d for n, d in seen if n == "deleted"] == []
    assert httpx.get(f"{api_url}/api/v1/documents/{doc}", headers=owner.headers,
                     timeout=10).status_code == 200  # fmt: skip
