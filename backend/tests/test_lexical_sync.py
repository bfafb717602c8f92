"""The API's lexical sync thread (search/lexical_sync.py) in a running app: uploads reach a
collection's tantivy copy and a delete leaves it, another user's copy is never searched, the
thread lives while any app that started it runs, and a collection a search waits for goes
first. The copy itself: test_lexical_tantivy.py."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import delete, text
from sqlalchemy.orm import Session

from app.collections.models import Collection
from app.search import lexical_sync
from app.search.lexical_sync import Synced
from app.search.tantivy_index import Replica
from tests.test_bm25_unit import add_document, make_collection
from tests.test_lexical_tantivy import WORDS


def _collection_id(client: Any, name: str) -> uuid.UUID:
    found = [c for c in client.get("/api/v1/collections").json() if c["name"] == name]
    return uuid.UUID(found[0]["id"])


def _copy_reaches(db: Session, collection_id: uuid.UUID, timeout_s: float = 30) -> Replica:
    """The API's own thread brings the copy to the collection's version within the timeout."""
    deadline = time.monotonic() + timeout_s
    while True:
        db.expire_all()
        want = db.execute(text("SELECT lexical_version FROM collections WHERE id = :c"),
                          {"c": collection_id}).scalar_one()  # fmt: skip
        replica = lexical_sync.get_sync().replicas.get(collection_id)
        if replica is not None and replica.version() == want:
            return replica
        assert time.monotonic() < deadline, "the API did not bring the copy up to date"
        time.sleep(0.2)


def test_through_the_api_uploads_reach_the_copy_and_a_delete_leaves_it(
    client: Any, collection_name: str, db: Session
) -> None:
    from tests.conftest import upload_ready

    files = [(f"n{i}.txt", f"quokka note {i} about {WORDS[i]} and {WORDS[i + 1]}".encode())
             for i in range(4)]  # fmt: skip
    ids = upload_ready(client, files, collection_name)
    body = {"query": "quokka alpha", "collection": collection_name, "mode": "lexical", "k": 10}
    first = client.post("/api/v1/search", json=body)  # answered at once, copy or not
    assert first.status_code == 200 and first.json()["results"][0]["document_id"] == ids[0]
    replica = _copy_reaches(db, _collection_id(client, collection_name))
    served = client.post("/api/v1/search", json=body).json()["results"]
    assert [h["document_id"] for h in served][:1] == [ids[0]]
    assert {h["document_id"] for h in served} == set(ids)
    assert client.delete(f"/api/v1/documents/{ids[0]}").status_code in (200, 202, 204)
    gone = client.post("/api/v1/search", json=body).json()["results"]
    assert ids[0] not in {h["document_id"] for h in gone}  # at once, before any sync
    _copy_reaches(db, _collection_id(client, collection_name))
    idfs = {"quokka": 1.0}
    assert len(replica.search(idfs, 10)[1]) == 3  # replayed out of the copy


def test_through_the_api_another_users_copy_is_never_searched(
    client: Any, collection_name: str, db: Session, make_user: Any
) -> None:
    from tests.conftest import upload_ready

    _, other = make_user()
    upload_ready(client, [("mine.txt", b"wombat burrow notes")], collection_name)
    # the same collection name, their own collection, the same word far more often
    upload_ready(other, [("theirs.txt", b"wombat wombat wombat secret")], collection_name)
    _copy_reaches(db, _collection_id(client, collection_name))
    _copy_reaches(db, _collection_id(other, collection_name))
    for body in ({"query": "wombat", "mode": "lexical", "k": 50},
                 {"query": "wombat", "mode": "lexical", "k": 50, "collection": collection_name}):
        hits = client.post("/api/v1/search", json=body).json()["results"]
        assert "mine.txt" in {h["filename"] for h in hits}, body
        assert "theirs.txt" not in {h["filename"] for h in hits}, body
        theirs = other.post("/api/v1/search", json=body).json()["results"]
        assert {h["filename"] for h in theirs} == {"theirs.txt"}, body


def test_the_sync_thread_lives_while_any_app_that_started_it_runs() -> None:
    lexical_sync.start()
    sync = lexical_sync.get_sync()
    lexical_sync.start()  # a second app in this process (tests run several)
    lexical_sync.stop()  # ...shuts down: the first one still needs the thread
    try:
        assert sync._thread is not None and sync._thread.is_alive()
        assert lexical_sync.get_sync() is sync
    finally:
        lexical_sync.stop()


class _Recorder(lexical_sync.LexicalSync):
    """A sync whose copies are not written: which collections it visits, in order."""

    def __init__(self, root: Any, on_first: Callable[[], None]) -> None:
        super().__init__(lexical_sync.Replicas(root), 1.0)
        self.visited: list[uuid.UUID] = []
        self.on_first = on_first


@pytest.fixture
def three(db: Session) -> Iterator[list[Collection]]:
    """Three committed collections of one document each, deleted at the end."""
    made = []
    for _ in range(3):
        col = make_collection(db)
        add_document(db, col, ["alpha beta"])
        made.append(col)
    db.commit()
    yield made
    db.rollback()
    for col in made:
        db.execute(delete(Collection).where(Collection.id == col.id))
    db.commit()


def test_a_collection_a_search_waits_for_goes_first_and_interrupts_a_round(
    three: list[Collection], tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second, third = three
    sync = _Recorder(tmp_path, lambda: sync.nudge(third.id))

    def visit(replica: Any, collection_id: uuid.UUID) -> Synced:
        if not sync.visited:
            sync.on_first()  # a search finds `third` behind while the round runs
        sync.visited.append(collection_id)
        return Synced(0)

    monkeypatch.setattr(lexical_sync, "sync_collection", visit)
    monkeypatch.setattr(sync.replicas, "get", lambda collection_id, create=False: object())
    sync.nudge(second.id)
    sync.run_once()
    assert sync.visited == [second.id]  # the asked-for one, then it yields
    sync.visited.clear()
    sync.on_first = lambda: None
    sync.run_once()
    assert sync.visited[0] == third.id and first.id in sync.visited
