"""Hybrid search runs its dense SQL beside BM25 (search/space_routing.DenseAhead): the list
is the one the caller's own dense search gives, the caller never waits for a pool connection,
and errors on the thread reach the caller."""

from __future__ import annotations

import threading
import time
import uuid
from concurrent.futures import Future
from typing import Any

import pytest
from sqlalchemy import text

from tests.conftest import upload_ready

TEXTS = ["Glaciers retreat as the climate warms.", "River deltas flood each spring.",
         "Coral reefs bleach in hot water.", "Forests burn in dry summers."]  # fmt: skip


@pytest.fixture()
def searched(client: Any, db: Any, collection_name: str) -> tuple[Any, Any]:
    """A ready collection's scope and the query's SpaceQuery list (embedding under way)."""
    from app.search.filters import SearchScope
    from app.search.schemas import SearchRequest
    from app.search.space_routing import embed_async

    upload_ready(client, [(f"d{i}.txt", t.encode()) for i, t in enumerate(TEXTS)],
                 collection_name)  # fmt: skip
    cid = db.execute(text("SELECT id FROM collections WHERE name = :n"),
                     {"n": collection_name}).scalar_one()  # fmt: skip
    scope = SearchScope([uuid.UUID(str(cid))])
    request = SearchRequest(query="melting ice", collection=collection_name, mode="hybrid")
    queries = embed_async(db, request, scope)
    assert queries is not None
    return scope, queries


def _wait(pred: Any, timeout: float = 10.0) -> None:
    end = time.monotonic() + timeout
    while not pred():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.01)


def test_the_thread_runs_dense_and_its_list_is_the_callers_own(
    db: Any, searched: tuple[Any, Any]
) -> None:
    from app.search.space_routing import DenseAhead, dense

    scope, queries = searched
    ahead = DenseAhead(queries, scope, 10)
    _wait(lambda: ahead.ran_ahead)  # the caller is slow (a long BM25): the thread claimed it
    got = ahead.result(db)
    assert got == dense(db, queries, scope, 10)
    assert [s for _, s in got] == sorted((s for _, s in got), reverse=True) and len(got) == 4


def test_a_thread_stuck_on_the_pool_never_makes_the_caller_wait(
    db: Any, searched: tuple[Any, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every pool connection held (here: the checkout blocks): the caller takes the work
    back and runs it on its own session; the thread, once it gets one, runs nothing."""
    from app.core.db import get_sessionmaker
    from app.search import space_routing
    from app.search.space_routing import DenseAhead, dense

    release = threading.Event()
    checked_out = threading.Event()
    ran: list[str] = []

    class StuckSession:
        def __init__(self) -> None:
            self.real = get_sessionmaker()()

        def __enter__(self) -> StuckSession:
            return self

        def __exit__(self, *exc: Any) -> None:
            ran.append("close")
            self.real.close()

        def connection(self) -> Any:
            checked_out.set()
            release.wait(30)
            return self.real.connection()

        def __getattr__(self, name: str) -> Any:
            ran.append(name)
            return getattr(self.real, name)

    monkeypatch.setattr(space_routing, "get_sessionmaker", lambda: StuckSession)
    scope, queries = searched
    ahead = DenseAhead(queries, scope, 10)
    checked_out.wait(10)
    t0 = time.monotonic()
    got = ahead.result(db)
    assert time.monotonic() - t0 < 5  # not the pool's 30 s timeout
    assert got == dense(db, queries, scope, 10) and len(got) == 4
    assert not ahead.ran_ahead
    release.set()
    assert ahead._future.result(timeout=10) is None  # took the connection, ran no query
    assert "execute" not in ran and ran[-1] == "close"  # and gave the connection back


def test_an_embedding_error_reaches_the_caller(db: Any, searched: tuple[Any, Any]) -> None:
    from app.search.space_routing import DenseAhead, SpaceQuery

    scope, queries = searched
    broken: Future[list[float]] = Future()
    broken.set_exception(RuntimeError("embedder down"))
    ahead = DenseAhead([SpaceQuery(queries[0].source, [], broken)], scope, 10)
    with pytest.raises(RuntimeError, match="embedder down"):
        ahead.result(db)


def test_a_dense_error_on_the_thread_reaches_the_caller(
    db: Any, searched: tuple[Any, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.search import space_routing
    from app.search.space_routing import DenseAhead

    def failing(*_: Any) -> Any:
        raise TimeoutError("canceling statement due to statement timeout")

    monkeypatch.setattr(space_routing, "dense", failing)
    scope, queries = searched
    ahead = DenseAhead(queries, scope, 10)
    _wait(lambda: ahead.ran_ahead)
    with pytest.raises(TimeoutError, match="statement timeout"):
        ahead.result(db)


def test_a_hybrid_search_through_the_api_runs_dense_ahead(
    client: Any, collection_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The API path uses it, and its results are those of a vector and a lexical search
    fused (the first hit of each retriever is in the hybrid list)."""
    from app.search import space_routing

    made: list[Any] = []
    real = space_routing.DenseAhead

    def spy(*args: Any) -> Any:
        made.append(real(*args))
        return made[-1]

    monkeypatch.setattr("app.search.service.DenseAhead", spy)
    upload_ready(client, [(f"d{i}.txt", t.encode()) for i, t in enumerate(TEXTS)],
                 collection_name)  # fmt: skip
    body = {"query": "coral reefs in hot water", "collection": collection_name, "k": 4}
    hybrid = client.post("/api/v1/search", json={**body, "mode": "hybrid"})
    assert hybrid.status_code == 200, hybrid.text
    assert len(made) == 1 and made[0].limit >= 4
    ids = [h["chunk_id"] for h in hybrid.json()["results"]]
    for mode in ("vector", "lexical"):
        top = client.post("/api/v1/search", json={**body, "mode": mode}).json()["results"][0]
        assert top["chunk_id"] in ids, mode
    assert len(made) == 1  # single-retriever modes start no thread


def test_with_every_slot_taken_the_search_runs_dense_inline(
    db: Any, searched: tuple[Any, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Other searches hold the slots (the cores are busy): no thread starts, and the list
    is still the right one."""
    from app.search import space_routing
    from app.search.space_routing import DenseAhead, dense

    taken = threading.BoundedSemaphore(1)
    assert taken.acquire(blocking=False)
    monkeypatch.setattr(space_routing, "_SLOTS", taken)
    scope, queries = searched
    ahead = DenseAhead(queries, scope, 10)
    assert ahead._future is None and not ahead.ran_ahead
    assert ahead.result(db) == dense(db, queries, scope, 10)


def test_the_slot_comes_back_when_the_thread_ends_even_on_an_error(
    db: Any, searched: tuple[Any, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.search import space_routing
    from app.search.space_routing import DenseAhead

    slots = threading.BoundedSemaphore(1)
    monkeypatch.setattr(space_routing, "_SLOTS", slots)

    def failing(*_: Any) -> Any:
        raise RuntimeError("dense failed")

    monkeypatch.setattr(space_routing, "dense", failing)
    scope, queries = searched
    first = DenseAhead(queries, scope, 10)
    assert first._future is not None
    second = DenseAhead(queries, scope, 10)  # while the first holds the one slot
    assert second._future is None
    with pytest.raises(RuntimeError, match="dense failed"):
        first.result(db)
    _wait(lambda: first._future is not None and first._future.done())
    assert slots.acquire(blocking=False)  # given back
    slots.release()
    third = DenseAhead(queries, scope, 10)
    assert third._future is not None  # a later search runs ahead again
    with pytest.raises(RuntimeError):
        third.result(db)
