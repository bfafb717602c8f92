"""What a search may see: readiness, filters under HNSW, and collections in other languages."""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from app.core.config import get_settings
from app.documents.models import DocumentStatus
from app.search.dense import _hnsw, _vec, dense_search
from app.search.filters import SearchScope
from tests.conftest import assert_error, upload, wait_for_documents
from tests.test_bm25_unit import add_document, make_collection


def unit(rng: random.Random) -> list[float]:
    v = [rng.gauss(0, 1) for _ in range(384)]
    norm = sum(x * x for x in v) ** 0.5
    return [x / norm for x in v]


@pytest.fixture
def hnsw_forced(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Make dense search take the HNSW path with a tiny ef_search."""
    monkeypatch.setenv("EXACT_SEARCH_MAX_CHUNKS", "10")
    monkeypatch.setenv("HNSW_EF_SEARCH", "10")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_selective_filter_under_hnsw_still_returns_every_matching_chunk(
    db: Session, hnsw_forced: None
) -> None:
    rng = random.Random(7)
    col = make_collection(db)
    rare: set[int] = set()
    for i in range(40):
        tag = "rare" if i in (5, 30) else "common"
        _, ids = add_document(db, col, [f"chunk {j}" for j in range(10)], metadata={"tag": tag},
                              vectors=[unit(rng) for _ in range(10)])
        if tag == "rare":
            rare.update(ids)
    # Make the planner walk the HNSW graph (as it does on a large table).
    db.execute(text("SET LOCAL enable_seqscan = off"))
    db.execute(text("SET LOCAL enable_sort = off"))
    db.execute(text("SET LOCAL enable_bitmapscan = off"))
    scope = SearchScope(collection_ids=[col.id], metadata={"tag": "rare"})
    query = unit(rng)
    where, params = scope.sql()
    alone = _hnsw(db, where, {**params, "qv": _vec(query), "limit": 15}, 15, 10)
    assert len(alone) < 15  # HNSW by itself would truncate: the fallback must fill in
    top = dense_search(db, query, scope, 15)
    assert len(top) == 15 and {cid for cid, _ in top} <= rare
    assert [s for _, s in top] == sorted((s for _, s in top), reverse=True)
    everything = dense_search(db, query, scope, 25)
    assert {cid for cid, _ in everything} == rare
    db.rollback()


def test_dense_search_never_returns_documents_that_are_not_ready(db: Session) -> None:
    rng = random.Random(3)
    col = make_collection(db)
    _, ready_ids = add_document(db, col, ["a", "b"], vectors=[unit(rng), unit(rng)])
    hidden: set[int] = set()
    for status in (DocumentStatus.queued, DocumentStatus.processing, DocumentStatus.failed):
        _, ids = add_document(db, col, ["c"], status=status, vectors=[unit(rng)])
        hidden.update(ids)
    found = {cid for cid, _ in dense_search(db, unit(rng), SearchScope([col.id]), 50)}
    assert found == set(ready_ids) and not found & hidden
    db.rollback()


def test_dense_search_of_an_empty_scope_is_empty(db: Session) -> None:
    col = make_collection(db)
    assert dense_search(db, [1.0] + [0.0] * 383, SearchScope([col.id]), 10) == []
    db.rollback()


def _language_collection(
    client: Any, name: str, config: str, files: list[tuple[str, bytes]]
) -> None:
    resp = client.post("/api/v1/collections", json={"name": name, "text_search_config": config})
    assert resp.status_code == 201, resp.text
    up = upload(client, files, collection=name)
    assert up.status_code == 202, up.text
    final = wait_for_documents(client, [d["id"] for d in up.json()["documents"]])
    assert all(d["status"] == "ready" for d in final.values()), final


def _lexical(client: Any, query: str, collections: list[str]) -> list[dict[str, Any]]:
    resp = client.post("/api/v1/search", json={"query": query, "collections": collections,
                                               "mode": "lexical", "highlights": True})
    assert resp.status_code == 200, resp.text
    return list(resp.json()["results"])


def test_german_russian_and_simple_collections_are_searchable_lexically(
    client: Any, collection_name: str
) -> None:
    de, ru, plain = f"{collection_name}-de", f"{collection_name}-ru", f"{collection_name}-s"
    _language_collection(client, de, "german",
                         [("de.txt", "Die Häuser am Fluss wurden gebaut.".encode())])
    _language_collection(client, ru, "russian",
                         [("ru.txt", "Мы читали новые книги в библиотеке.".encode())])
    _language_collection(client, plain, "simple",
                         [("fr.txt", "Un café crème à Zürich, très délicieux.".encode())])
    # Stemming as at indexing time: singular query, plural text.
    hits = _lexical(client, "Haus", [de])
    assert [h["filename"] for h in hits] == ["de.txt"]
    assert "<mark>Häuser</mark>" in " ".join(hits[0]["highlights"])
    assert [h["filename"] for h in _lexical(client, "книга", [ru])] == ["ru.txt"]
    assert [h["filename"] for h in _lexical(client, "Zürich café", [plain])] == ["fr.txt"]
    # Each collection stems the query with its own configuration, in one search.
    assert {h["filename"] for h in _lexical(client, "Haus книга café", [de, ru, plain])} == {
        "de.txt", "ru.txt", "fr.txt"}
    # 'simple' does not stem or unaccent: other forms do not match, and German stopwords
    # are stopwords only in the German collection.
    assert _lexical(client, "cafe", [plain]) == []
    assert _lexical(client, "Hauses die", [ru]) == []
    assert _lexical(client, "die am", [de]) == []


def test_search_of_a_collection_with_no_documents_is_empty_not_an_error(
    client: Any, collection_name: str
) -> None:
    resp = client.post("/api/v1/collections", json={"name": collection_name})
    assert resp.status_code == 201, resp.text
    for mode in ("hybrid", "vector", "lexical"):
        body = client.post("/api/v1/search", json={"query": "anything", "mode": mode,
                                                   "collection": collection_name}).json()
        assert body["results"] == [] and body["total_candidates"] == 0
    assert_error(client.post("/api/v1/search", json={"query": "x", "collection": ""}), 422)
